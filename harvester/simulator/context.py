"""What one GraphQL request hands the resolvers besides the world."""

from __future__ import annotations

from dataclasses import dataclass

from harvester.simulator.model import Actor, World


@dataclass(slots=True)
class RateLimitView:
    """The figures `rateLimit { ... }` reports for this request (after charging it)."""

    cost: int
    limit: int
    node_count: int
    remaining: int
    used: int
    reset_at: int  # epoch seconds


@dataclass(slots=True)
class RequestContext:
    world: World
    viewer: Actor  # the token's own user (`viewer`)
    now: int  # server clock, epoch seconds
    rate_limit: RateLimitView  # what a normal `rateLimit` answers
    dry_run_rate_limit: RateLimitView  # what `rateLimit(dryRun: true)` answers (nothing charged)
