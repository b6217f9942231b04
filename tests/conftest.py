"""Shared fixtures: small deterministic worlds and an in-process simulator on an ephemeral port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from harvester.clock import FakeClock
from harvester.simulator.model import World
from harvester.simulator.server import Simulator, SimulatorSettings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test where a fresh clone has no ../shared."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared sits beside the project in CI only)")
    return path


@pytest.fixture(scope="session")
def tiny_world_factory() -> Callable[[int], World]:
    from harvester.simulator.world import WorldSpec, generate_world

    cache: dict[int, World] = {}

    def make(seed: int = 1) -> World:
        if seed not in cache:
            cache[seed] = generate_world(WorldSpec.preset("tiny", seed))
        return cache[seed]

    return make


@pytest.fixture
def tiny_world() -> World:
    """A fresh tiny world per test (tests may mutate it)."""
    from harvester.simulator.world import WorldSpec, generate_world

    return generate_world(WorldSpec.preset("tiny", 1))


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def simulator(tiny_world: World, fake_clock: FakeClock) -> AsyncIterator[Simulator]:
    async with Simulator(tiny_world, SimulatorSettings(seed=1), clock=fake_clock) as sim:
        yield sim


class GraphQLCaller:
    """A bare HTTP client for asserting on raw GitHub-shaped answers."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = "test-token",
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Authorization": f"bearer {token}"} if token else {}
        if raw is not None:
            kwargs: dict[str, Any] = {"data": raw}
        else:
            kwargs = {"json": {"query": query, "variables": variables or {}}}
        async with self.session.post(self.url, headers=headers, **kwargs) as resp:
            text = await resp.text()
            try:
                import json

                body: Any = json.loads(text)
            except ValueError:
                body = text
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, body


@pytest.fixture
async def gh(simulator: Simulator) -> AsyncIterator[GraphQLCaller]:
    async with aiohttp.ClientSession() as session:
        yield GraphQLCaller(session, simulator.url)
