"""The budget governor: one per token. Every request goes through it.

It keeps requests in flight bounded, waits for the primary budget's reset when it runs low,
honours secondary limits (`retry-after`, else >= 60 s, then exponential backoff with jitter),
shrinks page sizes after timeouts and remembers them, and gives up after a bounded number of
tries. All waiting goes through the injected clock. The policy is one loop rather than a retry
library because each wait depends on what GitHub said (reset time, `retry-after`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import DocumentNode

from harvester.client import (
    Answer,
    AuthError,
    GitHubClient,
    GitHubError,
    QueryRejected,
    RateLimited,
    SecondaryLimited,
    ServerTimeout,
    TransientError,
)
from harvester.clock import Clock

log = logging.getLogger(__name__)

SECONDARY_MIN_WAIT_S = 60.0  # github-graphql.md: without `retry-after`, wait at least a minute
RESET_SLACK_S = 2.0


class BudgetExhausted(RuntimeError):
    """The budget ran out and waiting for its reset was not allowed (or took too long)."""


class RetriesExhausted(RuntimeError):
    """A request kept failing after the bounded number of tries."""


@dataclass
class GovernorStats:
    requests: int = 0
    points: int = 0
    retries: int = 0
    timeouts: int = 0
    secondary: int = 0
    rate_limited: int = 0
    transient: int = 0
    partial: int = 0
    waited_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in vars(self).items()}


@dataclass
class PageSizes:
    """Page sizes per (query, variable), shrunk on timeouts and remembered for the run."""

    defaults: dict[str, int] = field(default_factory=dict)
    current: dict[tuple[str, str], int] = field(default_factory=dict)

    def get(self, query: str, var: str) -> int:
        return self.current.get((query, var), self.defaults.get(var, 100))

    def shrink(
        self, query: str, variables: tuple[str, ...], fixed: frozenset[str] = frozenset()
    ) -> bool:
        """Halve the largest page variable of a query; False when all are already 1.

        Variables the governor fills go first, so the retry itself is smaller; a `fixed` one
        (a batch the caller built, like `ids`) shrinks only the caller's next batches.
        """
        for group in (
            [v for v in variables if v not in fixed],
            [v for v in variables if v in fixed],
        ):
            sizes = {v: self.get(query, v) for v in group}
            biggest = max(sizes, key=lambda v: sizes[v], default=None)
            if biggest is not None and sizes[biggest] > 1:
                self.current[(query, biggest)] = max(1, sizes[biggest] // 2)
                return True
        return False


@dataclass
class BudgetView:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None

    def observe(self, headers: dict[str, str], rate: dict[str, Any] | None) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        limit = headers.get("x-ratelimit-limit")
        if rate:
            remaining = rate.get("remaining", remaining)
            limit = rate.get("limit", limit)
            if rate.get("resetAt"):
                reset = str(_parse_time(str(rate["resetAt"])))
        if remaining is not None:
            self.remaining = int(remaining)
        if limit is not None:
            self.limit = int(limit)
        if reset is not None:
            self.reset_at = float(reset)


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()


class Governor:
    """Sends requests for one token within its budget."""

    def __init__(
        self,
        client: GitHubClient,
        clock: Clock,
        *,
        max_in_flight: int = 4,
        max_tries: int = 6,
        reserve_points: int = 20,
        max_backoff_s: float = 300.0,
        max_reset_wait_s: float | None = 3900.0,
        page_sizes: PageSizes | None = None,
        seed: int = 0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.max_tries = max_tries
        self.reserve_points = reserve_points
        self.max_backoff_s = max_backoff_s
        self.max_reset_wait_s = max_reset_wait_s
        self.pages = page_sizes or PageSizes()
        self.stats = GovernorStats()
        self.budget = BudgetView()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._rng = random.Random(seed)
        self._pause_until = 0.0

    async def send(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any],
        *,
        page_vars: tuple[str, ...] = (),
        accept_partial: bool = False,
    ) -> Answer:
        """Send until GitHub gives usable data.

        Each variable named in `page_vars` and absent from `variables` is filled with the
        query's current page size, so a retry after a timeout goes out smaller.

        With `accept_partial`, an answer with data and errors comes back for the caller to keep
        what came and retry what is missing; otherwise partial answers are retried whole.
        """
        tries = 0
        strikes = 0  # timeouts and resource-limit answers of this request
        while True:
            await self._wait_for_budget()
            tries += 1
            try:
                async with self._slots:
                    self.stats.requests += 1
                    sized = {v: self.pages.get(query, v) for v in page_vars if v not in variables}
                    answer = await self.client.send(document, {**variables, **sized})
            except (AuthError, QueryRejected):
                raise
            except RateLimited as exc:
                self.stats.rate_limited += 1
                self._note_reset(exc)
                tries -= 1  # waiting for the reset is not a failed try
                continue
            except SecondaryLimited as exc:
                self.stats.secondary += 1
                await self._retry_wait(tries, exc, secondary=True)
                continue
            except ServerTimeout as exc:
                self.stats.timeouts += 1
                strikes += 1
                self._shrink_on_repeat(query, page_vars, variables, strikes)
                await self._retry_wait(tries, exc)
                continue
            except (TransientError, GitHubError) as exc:
                self.stats.transient += 1
                await self._retry_wait(tries, exc)
                continue
            self.budget.observe(answer.headers, answer.rate_limit)
            if answer.rate_limit and "cost" in answer.rate_limit:
                self.stats.points += int(answer.rate_limit["cost"])
            if answer.errors and not accept_partial and _has_resource_errors(answer):
                self.stats.partial += 1
                strikes += 1
                self._shrink_on_repeat(query, page_vars, variables, strikes)
                await self._retry_wait(tries, None)
                continue
            return answer

    def _shrink_on_repeat(
        self, query: str, page_vars: tuple[str, ...], variables: dict[str, Any], strikes: int
    ) -> None:
        """Shrink a query's pages from its second timeout on.

        One 502 is as often GitHub's bad moment as a page too big; shrinking at once would
        make every later page of the run cost more for a fault that does not come back.
        """
        if strikes < 2:
            return
        shrunk = self.pages.shrink(query, page_vars, frozenset(variables))
        log.info(
            "%s timed out again; page sizes now %s",
            query,
            {v: self.pages.get(query, v) for v in page_vars} if shrunk else "minimal",
        )

    async def _retry_wait(
        self, tries: int, exc: GitHubError | None, *, secondary: bool = False
    ) -> None:
        if tries >= self.max_tries:
            what = str(exc) if exc else "partial answers"
            raise RetriesExhausted(f"gave up after {tries} tries: {what}")
        self.stats.retries += 1
        backoff = min(self.max_backoff_s, 2.0 ** (tries - 1)) * (0.5 + self._rng.random() / 2)
        wait = backoff
        if secondary and exc is not None:
            retry_after = exc.headers.get("retry-after")
            if exc.headers.get("x-ratelimit-remaining") == "0":
                self._note_reset(exc)
            if retry_after and retry_after.isdigit():
                wait = max(float(retry_after), backoff)
            else:
                wait = max(SECONDARY_MIN_WAIT_S, backoff * SECONDARY_MIN_WAIT_S)
            # Secondary limits are per account: everything on this token pauses.
            self._pause_until = max(self._pause_until, self.clock.now() + wait)
            wait = 0.0
        await self._sleep(wait)

    def _note_reset(self, exc: GitHubError) -> None:
        self.budget.remaining = 0
        now = self.clock.now()
        reset = exc.headers.get("x-ratelimit-reset")
        if reset and reset.isdigit() and float(reset) > now:
            self.budget.reset_at = float(reset)
        elif self.budget.reset_at is None or self.budget.reset_at <= now:
            # A reset already past (clock skew, window not rolled yet): wait a minute anyway.
            self.budget.reset_at = now + 60.0

    async def _wait_for_budget(self) -> None:
        now = self.clock.now()
        if self._pause_until > now:
            await self._sleep(self._pause_until - now)
            now = self.clock.now()
        remaining, reset_at = self.budget.remaining, self.budget.reset_at
        if remaining is None or remaining > self.reserve_points or reset_at is None:
            return
        if reset_at <= now:
            self.budget.remaining = None  # a new window: trust the next answer
            return
        wait = reset_at - now + RESET_SLACK_S
        if self.max_reset_wait_s is not None and wait > self.max_reset_wait_s:
            raise BudgetExhausted(
                f"the rate-limit budget is spent ({remaining} points left) and resets in "
                f"{wait / 60:.0f} min, beyond the allowed wait; rerun after the reset"
            )
        log.info("budget low (%s left): waiting %.0f s for the reset", remaining, wait)
        await self._sleep(wait)
        self.budget.remaining = None

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_s += seconds
            await self.clock.sleep(seconds)


def _has_resource_errors(answer: Answer) -> bool:
    return any(e.get("type") != "NOT_FOUND" for e in answer.errors)
