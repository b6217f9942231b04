"""The packer: its documents are valid and priced as it prices them, it fills queries to 149
requests, sends a partial query only when nothing is in flight, and routes answers and
errors back to the right unit."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from graphql import DocumentNode, parse, validate
from simworld_fixtures import run, small_world
from test_queries import reference_schema

from harvester.client import Answer
from harvester.governor import Governor
from harvester.packer import (
    CAPACITY,
    IDS_PER_LIST,
    Packer,
    Section,
    Unit,
    UnitFailed,
    _Entry,
    build_query,
    load_kinds,
    route_errors,
)
from harvester.simulator.cost import analyze, points_for
from harvester.simulator.resolvers import github_error, node_id
from harvester.simulator.schema import load_schema

KINDS, SHARED = load_kinds()
PAGES = {"repos": 100, "threads": 100, "comments": 100, "reviews": 100, "inline": 100,
         "reactors": 100, "edits": 100}


def _unit(kind: str, i: int = 0) -> Unit:
    k = KINDS[kind]
    if k.is_list:
        return Unit.of(kind, id=f"N{i}")
    args = {"id": f"N{i}", "after": None, "login": "acme", "owner": "acme", "name": f"r{i}",
            "since": "2026-01-01T00:00:00Z"}
    return Unit.of(kind, **{v: args[v] for v in k.unit_vars})


def _entry(unit: Unit) -> _Entry:
    return _Entry(unit, cast(asyncio.Future[Any], None))


def _sections(kind: str, count: int) -> list[Section]:
    k = KINDS[kind]
    if k.is_list:
        return [Section(k, [_entry(_unit(kind, i)) for i in range(count)])]
    return [Section(k, [_entry(_unit(kind, i))]) for i in range(count)]


def test_there_is_a_unit_for_every_page_the_crawler_asks() -> None:
    assert {
        "OrgReposUnit", "IssueListUnit", "PullListUnit", "RepoChangesUnit",
        "ThreadCommentsUnit", "MoreCommentsUnit", "PullReviewsUnit", "MoreReviewsUnit",
        "ReviewInlineUnit", "MoreInlineUnit", "HydrateReactorsUnit", "HydrateEditsUnit",
        "HydrateBothUnit", "MoreReactorsUnit", "MoreEditsUnit", "IssuesByIdUnit",
        "PullsByIdUnit", "CommentSummariesUnit",
    } <= set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_unit_is_valid_and_priced_as_the_packer_prices_it(kind: str) -> None:
    """The simulator's GHES coster agrees with the packer's own count, one and many units."""
    schema = load_schema()
    count = IDS_PER_LIST if KINDS[kind].is_list else 5
    for n in (1, count):
        sections = _sections(kind, n)
        text, variables = build_query(sections, SHARED)
        document = parse(text)
        assert not validate(schema, document), (kind, validate(schema, document))
        analysis = analyze(schema, document, {**variables, **PAGES})
        assert not analysis.errors, analysis.errors
        assert analysis.requests == sum(s.requests for s in sections), (kind, n)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_unit_is_valid_against_githubs_schema(kind: str) -> None:
    text, _ = build_query(_sections(kind, 2), SHARED)
    assert not validate(reference_schema(), parse(text))


def test_a_mixed_query_of_149_requests_costs_one_point() -> None:
    sections = [
        *_sections("OrgReposUnit", 2),
        *_sections("IssueListUnit", 3),
        Section(KINDS["ThreadCommentsUnit"], [_entry(_unit("ThreadCommentsUnit", i)) for i in range(60)]),
        Section(KINDS["HydrateBothUnit"], [_entry(_unit("HydrateBothUnit", i)) for i in range(40)]),
        *_sections("MoreEditsUnit", 1),
    ]
    requests = sum(s.requests for s in sections)
    assert requests == 2 + 3 + 61 + 81 + 1 == 148
    text, variables = build_query(sections, SHARED)
    analysis = analyze(load_schema(), parse(text), {**variables, **PAGES})
    assert analysis.requests == requests and points_for(requests) == 1 == analysis.cost


def test_errors_are_routed_to_their_unit() -> None:
    sections = [*_sections("ThreadCommentsUnit", 3), *_sections("MoreCommentsUnit", 2)]
    missing, broken = route_errors(
        [
            {"type": "NOT_FOUND", "path": ["s0", 1]},
            {"type": "RESOURCE_LIMITS", "path": ["s0", 2, "comments", "nodes", 0]},
            {"type": "NOT_FOUND", "path": ["s2"]},
            {"type": "SERVICE_UNAVAILABLE", "path": ["s1", "comments"]},
        ],
        sections,
    )
    assert missing == {(0, 1), (2, 0)}
    assert broken == {(0, 2), (1, 0)}
    _, everything = route_errors([{"message": "something went wrong"}], sections)
    assert everything == {(0, 0), (0, 1), (0, 2), (1, 0), (2, 0)}


class FakeGovernor:
    """Answers packed queries from a table of node ids; records what each query held."""

    def __init__(self, gone: set[str] = frozenset(), flaky: dict[str, int] | None = None,
                 fail: Exception | None = None) -> None:
        self.sent: list[int] = []
        self.gone = set(gone)
        self.flaky = dict(flaky or {})
        self.fail = fail
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, query: str, document: DocumentNode, variables: dict[str, Any],
                   **_: Any) -> Answer:
        await self.gate.wait()
        if self.fail:
            raise self.fail
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        ids = 0
        for key, value in variables.items():
            if key.startswith("ids"):
                alias = "s" + key[3:]
                data[alias] = []
                for j, nid in enumerate(value):
                    ids += 1
                    if nid in self.gone:
                        data[alias].append(None)
                        errors.append({"type": "NOT_FOUND", "path": [alias, j]})
                    elif self.flaky.get(nid, 0) > 0:
                        self.flaky[nid] -= 1
                        data[alias].append({"id": nid, "comments": None})
                        errors.append({"type": "RESOURCE_LIMITS", "path": [alias, j, "comments"]})
                    else:
                        data[alias].append({"id": nid})
        self.sent.append(ids)
        return Answer(data=data, errors=errors, headers={})


def _packer(gov: FakeGovernor, capacity: int = CAPACITY) -> Packer:
    return Packer(cast(Governor, gov), capacity)


async def test_full_queries_go_at_once_and_the_rest_when_idle() -> None:
    gov = FakeGovernor()
    async with _packer(gov, capacity=51) as packer:  # 1 list + 50 ids
        answers = await asyncio.gather(
            *(packer.fetch(Unit.of("ThreadCommentsUnit", id=f"I{i}")) for i in range(120))
        )
    assert [a["id"] for a in answers] == [f"I{i}" for i in range(120)]
    assert gov.sent == [50, 50, 20]


async def test_a_partial_query_waits_while_another_is_in_flight() -> None:
    gov = FakeGovernor()
    gov.gate.clear()
    async with _packer(gov, capacity=11) as packer:
        first = asyncio.gather(*(packer.fetch(Unit.of("HydrateEditsUnit", id=f"A{i}"))
                                 for i in range(10)))
        await asyncio.sleep(0)
        for _ in range(10):
            await asyncio.sleep(0)
        late = asyncio.gather(*(packer.fetch(Unit.of("HydrateEditsUnit", id=f"B{i}"))
                                for i in range(3)))
        for _ in range(10):
            await asyncio.sleep(0)
        assert packer.stats.queries == 1  # the 3 late units wait: an answer may bring more
        gov.gate.set()
        await first
        await late
    assert gov.sent == [10, 3]


async def test_gone_nodes_answer_none_and_incomplete_ones_are_asked_again() -> None:
    gov = FakeGovernor(gone={"I1"}, flaky={"I2": 2})
    async with _packer(gov) as packer:
        answers = await asyncio.gather(
            *(packer.fetch(Unit.of("ThreadCommentsUnit", id=f"I{i}")) for i in range(3))
        )
    assert answers[0] == {"id": "I0"} and answers[1] is None and answers[2] == {"id": "I2"}
    assert packer.stats.missing == 1 and packer.stats.resent == 2 and len(gov.sent) == 3


async def test_a_unit_that_never_completes_fails_with_a_clear_error() -> None:
    gov = FakeGovernor(flaky={"I0": 99})
    async with _packer(gov) as packer:
        with pytest.raises(UnitFailed, match="rerun the crawl"):
            await packer.fetch(Unit.of("ThreadCommentsUnit", id="I0"))


async def test_a_governor_failure_reaches_every_waiting_unit() -> None:
    gov = FakeGovernor(fail=RuntimeError("gave up after 6 tries"))
    async with _packer(gov) as packer:
        results = await asyncio.gather(
            *(packer.fetch(Unit.of("HydrateReactorsUnit", id=f"C{i}")) for i in range(5)),
            return_exceptions=True,
        )
    assert all(isinstance(r, RuntimeError) and "6 tries" in str(r) for r in results)


async def test_an_unknown_unit_kind_is_refused() -> None:
    async with _packer(FakeGovernor()) as packer:
        with pytest.raises(KeyError, match="NoSuchUnit"):
            await packer.fetch(Unit.of("NoSuchUnit", id="x"))


def test_one_query_of_every_kind_runs_on_the_simulator() -> None:
    sw = small_world()
    ids = {"issue": node_id(sw.issue), "pull": node_id(sw.pull), "review": node_id(sw.review),
           "answer": node_id(sw.answer), "inline": node_id(sw.inline)}
    target = {
        "ThreadCommentsUnit": ids["issue"], "MoreCommentsUnit": ids["issue"],
        "PullReviewsUnit": ids["pull"], "MoreReviewsUnit": ids["pull"],
        "ReviewInlineUnit": ids["review"], "MoreInlineUnit": ids["review"],
        "IssuesByIdUnit": ids["issue"], "PullsByIdUnit": ids["pull"],
    }
    sections = []
    for name, kind in sorted(KINDS.items()):
        args = {"id": target.get(name, ids["answer"]), "after": None, "login": "acme",
                "owner": "acme", "name": "widgets", "since": None}
        unit = Unit.of(name, **{v: args[v] for v in kind.unit_vars if v != "ids"})
        if kind.is_list:
            unit = Unit.of(name, id=args["id"])
        sections.append(Section(kind, [_entry(unit)]))
    text, variables = build_query(sections, SHARED)
    result = run(sw.world, text, {**variables, **PAGES})
    assert not result.errors, [github_error(e) for e in result.errors]
    assert result.data is not None
    for i, section in enumerate(sections):
        value = result.data[f"s{i}"]
        assert value is not None and (not section.kind.is_list or value[0] is not None), (
            section.kind.name
        )
    assert result.data["s%d" % sorted(KINDS).index("ThreadCommentsUnit")][0]["comments"]["nodes"]
