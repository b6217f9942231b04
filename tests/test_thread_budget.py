"""The thread budget: listings wait for room, learn page sizes, and always give room back."""

from __future__ import annotations

import asyncio

import pytest

from harvester.discover import ThreadBudget


async def _turns(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_listing_waits_until_landed_threads_free_room() -> None:
    budget = ThreadBudget(100, first=60)
    entered: list[str] = []

    async def listing(name: str, gate: asyncio.Event) -> None:
        async with budget.reserve() as held:
            entered.append(name)
            await held.keep(60)
            await gate.wait()

    release_a, release_b = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(listing("a", release_a))
    b = asyncio.create_task(listing("b", release_b))
    await _turns()
    assert entered == ["a"] and budget.used == 60  # b would need 60 more: over 100
    release_a.set()
    await _turns()
    assert entered == ["a", "b"]
    release_b.set()
    await asyncio.gather(a, b)
    assert budget.used == 0 and budget.peak == 60


async def test_reservations_follow_the_mean_page_size_within_floor_and_page() -> None:
    budget = ThreadBudget(1_000, floor=20, first=50)
    assert budget.estimate() == 50
    for size in (4, 6):
        async with budget.reserve() as held:
            await held.keep(size)
    assert budget.estimate() == 20  # mean 5, but never under the floor
    for _ in range(8):
        async with budget.reserve() as held:
            await held.keep(100)
    assert budget.estimate() == 81  # ceil(810 / 10)
    assert ThreadBudget(30).estimate() == 30  # never more than the whole budget


async def test_a_page_larger_than_reserved_is_held_without_waiting() -> None:
    budget = ThreadBudget(10, first=10)
    async with budget.reserve() as held:
        await asyncio.wait_for(held.keep(40), timeout=1)  # already in memory: take it
        assert budget.used == 40 and budget.peak == 40
        for left in range(39, -1, -1):
            await held.keep(left)  # each landed thread gives its place back
        assert budget.used == 0


async def test_room_comes_back_when_a_listing_fails() -> None:
    budget = ThreadBudget(50)
    with pytest.raises(RuntimeError):
        async with budget.reserve():
            raise RuntimeError("the repository went away")  # before its page came
    assert budget.used == 0
    async with budget.reserve():
        assert budget.used == 50  # a failed listing is not counted as a small page
    with pytest.raises(RuntimeError):
        async with budget.reserve() as held:
            await held.keep(30)
            await held.keep(29)
            raise RuntimeError("landing failed")  # with threads still held
    assert budget.used == 0


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ThreadBudget(0)
