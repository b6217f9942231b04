"""Per-token budgets: primary points per hour and secondary limits, as github-graphql.md says.

Pure bookkeeping over an injected `now`, so the HTTP layer stays thin and tests need no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

WINDOW_S = 3600
SECONDARY_WINDOW_S = 60


def token_key(token: str) -> str:
    """A stable, non-secret name for a token (budgets and stats never hold the token itself)."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:12]


def installation_limit(repo_count: int, user_count: int = 0) -> int:
    """App installation budget: 5,000 + 50 per repo over 20 + 50 per user over 20, <= 12,500."""
    return min(12_500, 5_000 + 50 * max(0, repo_count - 20) + 50 * max(0, user_count - 20))


@dataclass
class Budget:
    limit: int
    window_start: float
    used: int = 0
    # Secondary limits: secondary points in the current minute, requests in flight.
    minute_start: float = 0.0
    minute_points: int = 0
    in_flight: int = 0
    user_id: int = 0

    def roll(self, now: float) -> None:
        if now >= self.window_start + WINDOW_S:
            self.window_start = now
            self.used = 0
        if now >= self.minute_start + SECONDARY_WINDOW_S:
            self.minute_start = now
            self.minute_points = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_at(self) -> int:
        return int(self.window_start + WINDOW_S)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "graphql",
        }


@dataclass
class Budgets:
    default_limit: int = 5_000
    by_key: dict[str, Budget] = field(default_factory=dict)

    def get(self, key: str, now: float, limit: int | None = None) -> Budget:
        budget = self.by_key.get(key)
        if budget is None:
            user_id = int(hashlib.sha256(key.encode()).hexdigest()[:7], 16)
            budget = Budget(
                limit=limit or self.default_limit,
                window_start=now,
                minute_start=now,
                user_id=user_id,
            )
            self.by_key[key] = budget
        budget.roll(now)
        return budget
