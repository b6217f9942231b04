"""Seeded fault injection: which request gets a 502, a secondary limit, a reset, bad JSON...

A decision depends only on (seed, request body, how many times that body was seen), not on
arrival order, so a concurrent crawl meets the same faults run after run, and a retry of a
failed request is a fresh draw (as on GitHub) rather than the same fault forever.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

FAULT_KINDS: tuple[str, ...] = ("502", "504", "secondary", "reset", "badjson", "partial")


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultSpec:
    """Probabilities per fault kind, e.g. parsed from `502=0.05,secondary=0.03`."""

    rates: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.rates.values())

    def __str__(self) -> str:
        return ",".join(f"{kind}={rate:g}" for kind, rate in self.rates.items()) or "none"


def parse_fault_spec(spec: str | None) -> FaultSpec:
    """Parse `KIND=RATE[,KIND=RATE...]`; rates are probabilities per request."""
    if not spec or spec.strip().lower() in {"", "none", "0"}:
        return FaultSpec()
    rates: dict[str, float] = {}
    for part in spec.split(","):
        kind, sep, value = part.strip().partition("=")
        if not sep:
            raise FaultSpecError(f"fault spec {part!r}: expected KIND=RATE, e.g. 502=0.05")
        if kind not in FAULT_KINDS:
            raise FaultSpecError(
                f"fault spec {part!r}: unknown kind {kind!r}; allowed: {', '.join(FAULT_KINDS)}"
            )
        try:
            rate = float(value)
        except ValueError:
            raise FaultSpecError(f"fault spec {part!r}: {value!r} is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(f"fault spec {part!r}: rate must be between 0 and 1")
        rates[kind] = rate
    if sum(rates.values()) > 1.0:
        raise FaultSpecError(f"fault spec {spec!r}: rates add up to more than 1")
    return FaultSpec(rates)


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self._seen: Counter[str] = Counter()

    def draw(self, body: bytes) -> str | None:
        """The fault to serve for this request, or None."""
        if not self.spec.rates:
            return None
        key = hashlib.sha256(body).hexdigest()
        nth = self._seen[key]
        self._seen[key] += 1
        u = _uniform(self.seed, key, nth)
        edge = 0.0
        for kind, rate in self.spec.rates.items():
            edge += rate
            if u < edge:
                return kind
        return None

    def uniform(self, *parts: object) -> float:
        """A seeded draw for secondary choices (whether retry-after is sent, which node...)."""
        return _uniform(self.seed, *parts)
