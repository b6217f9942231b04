"""The budget governor against a scripted stand-in for GitHubClient, on a FakeClock.

No network and no real sleeping: every wait is read back from `FakeClock.slept`, and the stub
records the variables and the clock time of every request it receives.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from graphql import parse

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
from harvester.clock import FakeClock
from harvester.governor import (
    RESET_SLACK_S,
    SECONDARY_MIN_WAIT_S,
    BudgetExhausted,
    Governor,
    PageSizes,
    RetriesExhausted,
)

DOC = parse("query Q { viewer { login } }")
T0 = FakeClock().now()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ok(
    *,
    remaining: int = 4_990,
    reset: float = T0 + 3_600,
    cost: int = 1,
    errors: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> Answer:
    """A 200 answer carrying its budget in both `rateLimit` and the headers, as GitHub's do."""
    rate = {
        "cost": cost,
        "remaining": remaining,
        "resetAt": _iso(reset),
        "used": 5_000 - remaining,
        "limit": 5_000,
    }
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset)),
    }
    return Answer(data={"rateLimit": rate, **(data or {})}, errors=errors or [], headers=headers)


def partial() -> Answer:
    return ok(
        data={"repository": None},
        errors=[{"type": "RESOURCE_LIMITS_EXCEEDED", "path": ["repository"], "message": "..."}],
    )


def rate_limited(reset: float | None) -> RateLimited:
    headers = {"x-ratelimit-remaining": "0"}
    if reset is not None:
        headers["x-ratelimit-reset"] = str(int(reset))
    return RateLimited("rate limit exhausted (RATE_LIMITED)", status=200, headers=headers)


def secondary(retry_after: str | None = None, **headers: str) -> SecondaryLimited:
    kept = {k.replace("_", "-"): v for k, v in headers.items()}
    if retry_after is not None:
        kept["retry-after"] = retry_after
    return SecondaryLimited("secondary rate limit (403)", status=403, headers=kept)


class ScriptedClient:
    """Answers (or raises) the scripted steps in order; an unscripted request fails the test."""

    def __init__(self, clock: FakeClock, *steps: Answer | GitHubError) -> None:
        self.clock = clock
        self.steps = list(steps)
        self.calls: list[dict[str, Any]] = []
        self.at: list[float] = []

    async def send(self, document: Any, variables: dict[str, Any] | None = None) -> Answer:
        self.calls.append(dict(variables or {}))
        self.at.append(self.clock.now())
        if not self.steps:
            raise AssertionError(f"unscripted request #{len(self.calls)}: {variables}")
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def governor(client: object, clock: FakeClock, **options: Any) -> Governor:
    return Governor(cast(GitHubClient, client), clock, **options)


# ---------- primary budget
async def test_rate_limited_waits_until_the_reset_then_retries() -> None:
    clock = FakeClock()
    reset = T0 + 1_800
    client = ScriptedClient(clock, rate_limited(reset), ok())
    gov = governor(client, clock)
    answer = await gov.send("q", DOC, {})
    assert answer.rate_limit is not None
    assert clock.slept == [reset - T0 + RESET_SLACK_S]
    assert client.at[1] >= reset  # not retried before x-ratelimit-reset
    assert gov.stats.rate_limited == 1 and gov.stats.retries == 0  # waiting is not a failed try


async def test_rate_limited_without_a_reset_header_waits_a_minute() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, rate_limited(None), ok())
    await governor(client, clock).send("q", DOC, {})
    assert clock.slept == [60.0 + RESET_SLACK_S]


async def test_rate_limited_waits_do_not_use_up_the_tries() -> None:
    clock = FakeClock()
    resets = [T0 + 600 * (i + 1) for i in range(5)]
    client = ScriptedClient(clock, *(rate_limited(r) for r in resets), ok())
    await governor(client, clock, max_tries=2).send("q", DOC, {})
    assert len(client.calls) == 6
    assert client.at[1:] == [r + RESET_SLACK_S for r in resets]


async def test_rate_limited_with_a_reset_already_past_still_waits() -> None:
    clock = FakeClock()
    stale = T0 - 5  # GitHub's clock is behind ours: the reset it names has passed here
    client = ScriptedClient(clock, rate_limited(stale), rate_limited(stale), ok())
    await governor(client, clock).send("q", DOC, {})
    assert clock.slept, "re-sent a RATE_LIMITED request without waiting"
    assert all(w >= 60.0 for w in clock.slept)


async def test_a_reset_beyond_the_allowed_wait_raises_budget_exhausted() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, rate_limited(T0 + 7_200))
    gov = governor(client, clock, max_reset_wait_s=3_900)
    with pytest.raises(BudgetExhausted, match=r"resets in 120 min.*rerun after the reset"):
        await gov.send("q", DOC, {})
    assert clock.slept == [] and len(client.calls) == 1


async def test_low_remaining_waits_for_the_reset_before_the_next_request() -> None:
    clock = FakeClock()
    reset = T0 + 900
    client = ScriptedClient(clock, ok(remaining=12, reset=reset), ok(remaining=5_000))
    gov = governor(client, clock, reserve_points=20)
    await gov.send("q", DOC, {})
    assert clock.slept == [] and gov.budget.remaining == 12 and gov.budget.reset_at == reset
    await gov.send("q", DOC, {})
    assert clock.slept == [reset - T0 + RESET_SLACK_S]
    assert client.at[1] > reset


async def test_remaining_above_the_reserve_does_not_wait() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ok(remaining=21), ok(remaining=20))
    gov = governor(client, clock, reserve_points=20)
    await gov.send("q", DOC, {})
    await gov.send("q", DOC, {})
    assert clock.slept == []


async def test_a_reset_that_has_passed_means_a_new_window() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ok(remaining=3, reset=T0 + 100), ok())
    gov = governor(client, clock)
    await gov.send("q", DOC, {})
    clock.advance(200)
    await gov.send("q", DOC, {})
    assert clock.slept == []


async def test_low_budget_with_a_far_reset_raises_budget_exhausted_before_sending() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ok(remaining=5, reset=T0 + 3_600))
    gov = governor(client, clock, max_reset_wait_s=600)
    await gov.send("q", DOC, {})
    with pytest.raises(BudgetExhausted, match=r"\(5 points left\)"):
        await gov.send("q", DOC, {})
    assert len(client.calls) == 1 and clock.slept == []


async def test_without_a_wait_limit_the_governor_waits_out_any_reset() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, rate_limited(T0 + 10_000), ok())
    await governor(client, clock, max_reset_wait_s=None).send("q", DOC, {})
    assert clock.slept == [10_000 + RESET_SLACK_S]


# ---------- secondary limits
async def test_secondary_limit_waits_retry_after() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, secondary("30"), ok())
    gov = governor(client, clock)
    await gov.send("q", DOC, {})
    assert clock.slept == [30.0]
    assert client.at[1] == T0 + 30
    assert gov.stats.secondary == 1 and gov.stats.retries == 1


async def test_secondary_limit_without_retry_after_waits_at_least_a_minute_and_grows() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, secondary(), secondary(), secondary(), ok())
    await governor(client, clock).send("q", DOC, {})
    first, second, third = clock.slept
    assert first == SECONDARY_MIN_WAIT_S
    assert 60.0 <= second < 120.0
    assert 120.0 <= third < 240.0


async def test_secondary_limit_with_no_points_left_also_waits_for_the_reset() -> None:
    clock = FakeClock()
    reset = T0 + 600
    step = secondary(x_ratelimit_remaining="0", x_ratelimit_reset=str(int(reset)))
    client = ScriptedClient(clock, step, ok())
    await governor(client, clock).send("q", DOC, {})
    assert clock.slept == [60.0, reset - (T0 + 60) + RESET_SLACK_S]
    assert client.at[1] > reset


async def test_secondary_limits_are_bounded_by_max_tries() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, *(secondary("5") for _ in range(3)))
    with pytest.raises(RetriesExhausted, match="gave up after 3 tries: secondary rate limit"):
        await governor(client, clock, max_tries=3).send("q", DOC, {})
    assert len(client.calls) == 3 and len(clock.slept) == 2


# ---------- backoff
async def test_backoff_is_exponential_with_jitter_and_bounded_by_max_tries() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, *(TransientError(f"boom {i}") for i in range(10)))
    gov = governor(client, clock, max_tries=4)
    with pytest.raises(RetriesExhausted, match=r"^gave up after 4 tries: boom 3$"):
        await gov.send("q", DOC, {})
    assert len(client.calls) == 4
    assert len(clock.slept) == 3
    for i, wait in enumerate(clock.slept):
        assert 2.0**i * 0.5 <= wait < 2.0**i, (i, wait)
    assert gov.stats.transient == 4 and gov.stats.retries == 3


async def test_jitter_is_seeded() -> None:
    async def waits(seed: int) -> list[float]:
        clock = FakeClock()
        client = ScriptedClient(clock, *(TransientError("x") for _ in range(5)), ok())
        await governor(client, clock, seed=seed).send("q", DOC, {})
        return clock.slept

    assert await waits(1) == await waits(1)
    assert await waits(1) != await waits(2)


async def test_backoff_is_capped_by_max_backoff_s() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, *(TransientError("x") for _ in range(9)), ok())
    await governor(client, clock, max_tries=10, max_backoff_s=3.0).send("q", DOC, {})
    assert len(clock.slept) == 9 and max(clock.slept) <= 3.0


async def test_any_other_github_error_is_retried_like_a_transient_one() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, GitHubError("odd", status=418), ok())
    gov = governor(client, clock)
    await gov.send("q", DOC, {})
    assert gov.stats.transient == 1 and len(clock.slept) == 1


@pytest.mark.parametrize(
    "failure",
    [
        AuthError("GitHub answered 401 Bad credentials", status=401),
        QueryRejected("GitHub rejected the query: nope", [{"message": "nope"}]),
    ],
    ids=["auth", "rejected"],
)
async def test_auth_errors_and_rejected_queries_are_not_retried(failure: GitHubError) -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, failure, ok())
    gov = governor(client, clock)
    with pytest.raises(type(failure)) as caught:
        await gov.send("q", DOC, {})
    assert caught.value is failure
    assert len(client.calls) == 1 and clock.slept == [] and gov.stats.retries == 0


# ---------- page sizes
async def test_a_single_timeout_is_retried_at_the_same_size() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ServerTimeout("502"), ok(), ok())
    pages = PageSizes(defaults={"first": 100})
    gov = governor(client, clock, page_sizes=pages)
    await gov.send("issues", DOC, {"owner": "o"}, page_vars=("first",))
    await gov.send("issues", DOC, {"owner": "o"}, page_vars=("first",))
    assert [c["first"] for c in client.calls] == [100, 100, 100]  # a one-off 502 costs nothing later


async def test_repeated_timeouts_halve_the_page_size_and_it_is_remembered() -> None:
    clock = FakeClock()
    client = ScriptedClient(
        clock, ServerTimeout("502"), ServerTimeout("502"), ServerTimeout("502"), ok(), ok(), ok()
    )
    pages = PageSizes(defaults={"first": 100})
    gov = governor(client, clock, page_sizes=pages)
    await gov.send("issues", DOC, {"owner": "o"}, page_vars=("first",))
    assert [c["first"] for c in client.calls] == [100, 100, 50, 25]
    assert client.calls[0]["owner"] == "o"
    assert gov.stats.timeouts == 3 and len(clock.slept) == 3
    await gov.send("issues", DOC, {"owner": "o"}, page_vars=("first",))
    assert client.calls[4]["first"] == 25  # later calls start small
    await gov.send("comments", DOC, {}, page_vars=("first",))
    assert client.calls[5]["first"] == 100  # per query
    assert pages.get("issues", "first") == 25  # the caller's PageSizes holds it
    again = governor(ScriptedClient(clock, ok()), clock, page_sizes=pages)
    assert again.pages.get("issues", "first") == 25


async def test_a_timeout_shrinks_the_largest_page_variable() -> None:
    clock = FakeClock()
    steps = [ServerTimeout("504") for _ in range(4)]
    client = ScriptedClient(clock, *steps, ok())
    pages = PageSizes(defaults={"first": 100, "reactors": 40})
    gov = governor(client, clock, page_sizes=pages)
    await gov.send("q", DOC, {"id": "X"}, page_vars=("first", "reactors"))
    sent = [(c["first"], c["reactors"], c["id"]) for c in client.calls]
    assert sent == [(100, 40, "X"), (100, 40, "X"), (50, 40, "X"), (25, 40, "X"), (25, 20, "X")]


async def test_the_retry_after_a_timeout_is_smaller_when_the_caller_fixed_the_batch() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ServerTimeout("502"), ServerTimeout("502"), ok())
    pages = PageSizes(defaults={"ids": 100, "reactors": 100, "edits": 100})
    gov = governor(client, clock, page_sizes=pages)
    batch = [f"IC_{i}" for i in range(pages.get("hydrate_comments", "ids"))]
    await gov.send("hydrate_comments", DOC, {"ids": batch}, page_vars=("ids", "reactors", "edits"))

    def size(call: dict[str, Any]) -> int:  # list items the query asks for
        return len(call["ids"]) * (int(call["reactors"]) + int(call["edits"]))

    assert size(client.calls[2]) < size(client.calls[1]) == size(client.calls[0])


def test_page_sizes_stop_shrinking_at_one() -> None:
    pages = PageSizes(defaults={"first": 3})
    assert pages.shrink("q", ("first",)) and pages.get("q", "first") == 1
    assert not pages.shrink("q", ("first",))
    assert pages.get("q", "first") == 1
    assert not pages.shrink("q", ())
    assert PageSizes().get("q", "anything") == 100


async def test_timeouts_at_the_smallest_page_still_give_up() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, *(ServerTimeout("502") for _ in range(5)))
    gov = governor(client, clock, max_tries=5, page_sizes=PageSizes(defaults={"first": 2}))
    with pytest.raises(RetriesExhausted, match="gave up after 5 tries"):
        await gov.send("q", DOC, {}, page_vars=("first",))
    assert [c["first"] for c in client.calls] == [2, 2, 1, 1, 1]


# ---------- partial answers
async def test_a_partial_answer_is_returned_with_accept_partial() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, partial())
    gov = governor(client, clock)
    answer = await gov.send("q", DOC, {}, accept_partial=True)
    assert answer.errors[0]["type"] == "RESOURCE_LIMITS_EXCEEDED"
    assert answer.data is not None and answer.data["repository"] is None
    assert clock.slept == [] and gov.stats.partial == 0


async def test_a_partial_answer_is_retried_whole_without_accept_partial() -> None:
    clock = FakeClock()
    full = ok(data={"repository": {"name": "r"}})
    client = ScriptedClient(clock, partial(), partial(), full)
    gov = governor(client, clock, page_sizes=PageSizes(defaults={"first": 100}))
    answer = await gov.send("q", DOC, {}, page_vars=("first",))
    assert answer is full
    assert gov.stats.partial == 2 and len(clock.slept) == 2
    assert [c["first"] for c in client.calls] == [100, 100, 50]  # less from the second on


async def test_partial_answers_forever_give_up() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, *(partial() for _ in range(3)))
    with pytest.raises(RetriesExhausted, match="gave up after 3 tries: partial answers"):
        await governor(client, clock, max_tries=3).send("q", DOC, {})


async def test_not_found_nodes_are_data_not_a_partial_answer() -> None:
    clock = FakeClock()
    gone = ok(
        data={"nodes": [{"id": "IC_1"}, None]},
        errors=[{"type": "NOT_FOUND", "path": ["nodes", 1], "message": "Could not resolve"}],
    )
    client = ScriptedClient(clock, gone)
    answer = await governor(client, clock).send("q", DOC, {})
    assert answer is gone and clock.slept == []


async def test_points_and_budget_come_from_the_answers() -> None:
    clock = FakeClock()
    client = ScriptedClient(clock, ok(cost=3, remaining=4_000), ok(cost=2, remaining=3_998))
    gov = governor(client, clock)
    await gov.send("q", DOC, {})
    await gov.send("q", DOC, {})
    assert gov.stats.points == 5 and gov.stats.requests == 2
    assert gov.budget.remaining == 3_998 and gov.budget.limit == 5_000


# ---------- concurrency
class GatedClient:
    """Holds every request until `gate` opens, counting how many are in flight at once."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.active = 0
        self.peak = 0
        self.started = 0

    async def send(self, document: Any, variables: dict[str, Any] | None = None) -> Answer:
        self.started += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await self.gate.wait()
        finally:
            self.active -= 1
        return ok()


@pytest.mark.parametrize("max_in_flight", [1, 3])
async def test_requests_in_flight_are_bounded(max_in_flight: int) -> None:
    clock = FakeClock()
    client = GatedClient()
    gov = governor(client, clock, max_in_flight=max_in_flight)
    tasks = [asyncio.create_task(gov.send("q", DOC, {"i": i})) for i in range(8)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert client.started == client.active == max_in_flight  # the rest queue in the governor
    client.gate.set()
    answers = await asyncio.gather(*tasks)
    assert len(answers) == 8 and client.started == 8
    assert client.peak == max_in_flight
    assert clock.slept == []
