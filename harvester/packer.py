"""The packer: many small units of work, from every repository at once, in full queries.

GitHub prices a query by the connection pages it could return (github-graphql.md): 1 point
buys up to 149 requests, and no query costs less than 1. One query per repository page wastes
most of that (a repository with 30 updated issues pays for 100). The crawler instead asks for
*units*, each one connection page of one object (an organisation's repositories, a
repository's issues, one thread's comments, one comment's reactors...), and awaits the answer.
The packer puts queued units, of any kind and from any repository, under aliases of one query
until it holds 149 requests, and sends it; a partly filled query goes out only when nothing
is in flight (so no answer could still bring more units to fill it).

The unit texts live in `queries/packed/units.graphql`; this module only copies, renames and
routes. Answers are routed back by alias (and list index for `nodes(ids:)` units). A null node
with NOT_FOUND is a `None` answer (a deleted object: the caller counts a skip); any other
error on a unit sends that unit again in a later query, and an error without a path sends all
of them again, at most `MAX_TRIES` times each.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, parse, print_ast, visit
from graphql.language import Visitor

from harvester.client import QUERIES_DIR
from harvester.governor import Governor

log = logging.getLogger(__name__)
UNITS_FILE = QUERIES_DIR / "packed" / "units.graphql"
CAPACITY = 149  # requests: round(149 / 100) = 1 point
IDS_PER_LIST = 100  # `nodes(ids:)` takes at most 100 ids
MAX_TRIES = 4
SETTLE_TICKS = 3
QUERY_NAME = "packed"

# Per-unit variables (renamed per alias) and shared page sizes, with their GraphQL types.
UNIT_VARS = {
    "id": "ID!",
    "ids": "[ID!]!",
    "after": "String",
    "login": "String!",
    "owner": "String!",
    "name": "String!",
    "since": "DateTime",
}
PAGE_VARS = {
    "repos": "Int!",
    "threads": "Int!",
    "comments": "Int!",
    "reviews": "Int!",
    "inline": "Int!",
    "reactors": "Int!",
    "edits": "Int!",
}
RATE_LIMIT = "rateLimit { cost remaining resetAt used limit nodeCount }"


class UnitFailed(RuntimeError):
    """A unit kept coming back incomplete."""


@dataclass(frozen=True)
class Kind:
    """One unit fragment of units.graphql, ready to be copied under aliases."""

    name: str
    field_text: str  # the fragment's root field
    unit_vars: tuple[str, ...]
    page_vars: tuple[str, ...]
    fragments: tuple[str, ...]  # shared fragments it needs (transitively)
    per_id: int  # requests per id (nodes lists) or per unit (single root fields)

    @property
    def is_list(self) -> bool:
        return "ids" in self.unit_vars


@dataclass(frozen=True)
class Unit:
    """One connection page of one object: `kind` names a `...Unit` fragment."""

    kind: str
    args: tuple[tuple[str, Any], ...]  # per-unit variables (for list kinds: just ("id", ...))

    @classmethod
    def of(cls, kind: str, **args: Any) -> Unit:
        return cls(kind, tuple(sorted(args.items())))

    def arg(self, name: str) -> Any:
        return dict(self.args).get(name)


# Which units go first when more are queued than one query holds: the deepest work first
# (hydration, then the pages of threads already listed, then new listings), so what is in
# memory is finished and landed before more is read. Lower goes first.
PRIORITY = {
    "HydrateReactorsUnit": 0,
    "HydrateEditsUnit": 0,
    "HydrateBothUnit": 0,
    "MoreReactorsUnit": 0,
    "MoreEditsUnit": 0,
    "CommentSummariesUnit": 1,
    "MoreCommentsUnit": 1,
    "MoreReviewsUnit": 1,
    "MoreInlineUnit": 1,
    "ReviewInlineUnit": 1,
    "ThreadCommentsUnit": 2,
    "PullReviewsUnit": 2,
    "IssuesByIdUnit": 3,
    "PullsByIdUnit": 3,
    "IssueListUnit": 4,
    "PullListUnit": 4,
    "RepoChangesUnit": 5,
    "OrgReposUnit": 5,
}


@dataclass
class _Entry:
    unit: Unit
    future: asyncio.Future[Any]
    tries: int = 0


@dataclass
class PackerStats:
    queries: int = 0
    units: int = 0
    requests: int = 0  # as this module prices them (the server's figure is in the governor)
    resent: int = 0
    missing: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # units
    requests_by_kind: dict[str, int] = field(default_factory=dict)
    fills: list[int] = field(default_factory=list)  # requests of each query sent

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


# ---------------------------------------------------------------- the unit texts (pure)
def _spreads(node: Any) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.add(spread.name.value)

    visit(node, Spreads())
    return names


def _variables(text: str) -> set[str]:
    return set(re.findall(r"\$([A-Za-z_]\w*)", text))


@cache
def load_kinds(path: Path = UNITS_FILE) -> tuple[dict[str, Kind], dict[str, str]]:
    """The unit kinds (fragments `XUnit on Query`) and the shared fragments' texts."""
    document = parse(path.read_text(encoding="utf-8"))
    defs = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    shared = {name: print_ast(d) for name, d in defs.items() if not name.endswith("Unit")}

    def needs(name: str, seen: set[str]) -> None:
        for dep in _spreads(defs[name]):
            if dep not in seen:
                seen.add(dep)
                needs(dep, seen)

    kinds: dict[str, Kind] = {}
    for name, d in defs.items():
        if not name.endswith("Unit"):
            continue
        (root,) = d.selection_set.selections
        assert isinstance(root, FieldNode)
        deps: set[str] = set()
        needs(name, deps)
        text = print_ast(root)
        used = _variables(text) | {v for f in deps for v in _variables(shared[f])}
        kinds[name] = Kind(
            name=name,
            field_text=text,
            unit_vars=tuple(sorted(v for v in used if v in UNIT_VARS)),
            page_vars=tuple(sorted(v for v in used if v in PAGE_VARS)),
            fragments=tuple(sorted(deps)),
            per_id=_requests_per_unit(name),
        )
    return kinds, shared


# Requests per id (or per single unit) where it is not the usual one connection page.
REQUESTS_PER_UNIT = {
    "HydrateBothUnit": 2,
    "IssuesByIdUnit": 0,
    "PullsByIdUnit": 0,
    "CommentSummariesUnit": 0,
}


def _requests_per_unit(name: str) -> int:
    return REQUESTS_PER_UNIT.get(name, 1)


@dataclass
class Section:
    """One alias of a packed query: a single unit, or up to 100 ids of one list kind."""

    kind: Kind
    entries: list[_Entry]

    @property
    def requests(self) -> int:
        overhead = 1 if self.kind.is_list else 0  # a root `nodes(ids:)` counts 1 itself
        return overhead + self.kind.per_id * len(self.entries)


def unit_cost(kind: Kind, opens_list: bool) -> int:
    return kind.per_id + (1 if opens_list else 0)


def build_query(sections: list[Section], shared: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The text and variables of one packed query (aliases s0, s1, ...)."""
    params: dict[str, str] = {}
    variables: dict[str, Any] = {}
    fields = [RATE_LIMIT]
    fragments: set[str] = set()
    for i, section in enumerate(sections):
        kind = section.kind
        text = kind.field_text
        for var in kind.unit_vars:
            text = re.sub(rf"\${var}\b", f"${var}{i}", text)
            params[f"{var}{i}"] = UNIT_VARS[var]
        if kind.is_list:
            variables[f"ids{i}"] = [e.unit.arg("id") for e in section.entries]
        else:
            (entry,) = section.entries
            for var in kind.unit_vars:
                variables[f"{var}{i}"] = entry.unit.arg(var)
        for var in kind.page_vars:
            params[var] = PAGE_VARS[var]
        fields.append(f"s{i}: {text}")
        fragments.update(kind.fragments)
    declared = ", ".join(f"${k}: {v}" for k, v in params.items())
    body = "\n".join(fields)
    head = f"query Packed({declared})" if declared else "query Packed"
    texts = [shared[f] for f in sorted(fragments)]
    return "\n".join([f"{head} {{\n{body}\n}}", *texts]), variables


def route_errors(
    errors: Iterable[dict[str, Any]], sections: list[Section]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(missing, broken) entries as (section, index) pairs, from an answer's errors."""
    missing: set[tuple[int, int]] = set()
    broken: set[tuple[int, int]] = set()
    every = {(s, j) for s, section in enumerate(sections) for j in range(len(section.entries))}
    for error in errors:
        path = error.get("path") or []
        alias = str(path[0]) if path else ""
        if not alias.startswith("s") or not alias[1:].isdigit() or int(alias[1:]) >= len(sections):
            broken |= every
            continue
        s = int(alias[1:])
        section = sections[s]
        if section.kind.is_list:
            if len(path) < 2 or not isinstance(path[1], int):
                broken |= {(s, j) for j in range(len(section.entries))}
                continue
            key, depth = (s, path[1]), 2
        else:
            key, depth = (s, 0), 1
        if error.get("type") == "NOT_FOUND" and len(path) == depth:
            missing.add(key)
        else:
            broken.add(key)
    return missing, broken - missing


# ---------------------------------------------------------------- the dispatcher (I/O)
class Packer:
    """Queues units, sends them packed, answers each unit's awaiter.

    Use as `async with Packer(gov) as packer: data = await packer.fetch(unit)`.
    """

    def __init__(
        self, gov: Governor, capacity: int = CAPACITY, ids_per_list: int = IDS_PER_LIST
    ) -> None:
        self.gov = gov
        self.capacity = max(2, capacity)
        self.ids_per_list = max(1, min(IDS_PER_LIST, ids_per_list))
        self.kinds, self.shared = load_kinds()
        self.stats = PackerStats()
        self._queue: list[_Entry] = []
        self._in_flight = 0
        self._sending: set[asyncio.Task[None]] = set()
        self._kick = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Packer:
        self._loop_task = asyncio.create_task(self._dispatch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        for entry in self._queue:
            if not entry.future.done():
                entry.future.cancel()

    async def fetch(self, unit: Unit) -> Any:
        """The unit's answer: the aliased field's data, or the list element; None if gone."""
        if unit.kind not in self.kinds:
            raise KeyError(f"no unit fragment {unit.kind!r} in {UNITS_FILE}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Entry(unit, future))
        self._kick.set()
        return await future

    # The loop: full queries at once; a partial one only when nothing is in flight and the
    # tasks that could still queue units have had their turn.
    async def _dispatch(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            while self._queued_requests() >= self.capacity:
                self._launch(self._take())
            if self._queue and self._in_flight == 0:
                await self._settle()
                if self._in_flight == 0 and self._queue:
                    self._launch(self._take())
                    self._kick.set()  # more may be queued than one query holds

    async def _settle(self) -> None:
        """Let ready tasks run until the queue stops growing for a few loop turns."""
        still, size = 0, len(self._queue)
        for _ in range(200):
            await asyncio.sleep(0)
            if len(self._queue) == size:
                still += 1
                if still >= SETTLE_TICKS:
                    return
            else:
                still, size = 0, len(self._queue)
            if self._queued_requests() >= self.capacity:
                return

    def _queued_requests(self) -> int:
        total, lists = 0, set()
        for entry in self._queue:
            kind = self.kinds[entry.unit.kind]
            total += kind.per_id
            if kind.is_list:
                lists.add(kind.name)
        return total + len(lists)

    def _take(self) -> list[Section]:
        """Queued units, oldest first, into sections that fit one query's capacity."""
        sections: list[Section] = []
        open_lists: dict[str, Section] = {}
        used, keep = 0, []
        self._queue.sort(key=lambda e: PRIORITY.get(e.unit.kind, 9))  # stable: FIFO within
        for entry in self._queue:
            kind = self.kinds[entry.unit.kind]
            current = open_lists.get(kind.name)
            opens = kind.is_list and (current is None or len(current.entries) >= self.ids_per_list)
            cost = unit_cost(kind, opens)
            if used + cost > self.capacity:
                keep.append(entry)
                continue
            used += cost
            if kind.is_list and not opens and current is not None:
                current.entries.append(entry)
            else:
                section = Section(kind, [entry])
                sections.append(section)
                if kind.is_list:
                    open_lists[kind.name] = section
        self._queue = keep
        return sections

    def _launch(self, sections: list[Section]) -> None:
        if not sections:
            return
        self._in_flight += 1
        task = asyncio.create_task(self._send(sections))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, sections: list[Section]) -> None:
        try:
            await self._exchange(sections)
        except BaseException as exc:  # the governor gave up (auth, budget, retries): tell all
            for section in sections:
                for entry in section.entries:
                    if not entry.future.done():
                        if isinstance(exc, asyncio.CancelledError):
                            entry.future.cancel()
                        else:
                            entry.future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._in_flight -= 1
            self._kick.set()

    async def _exchange(self, sections: list[Section]) -> None:
        text, variables = build_query(sections, self.shared)
        page_vars = tuple(sorted({v for s in sections for v in s.kind.page_vars}))
        self.stats.queries += 1
        self.stats.requests += sum(s.requests for s in sections)
        self.stats.fills.append(sum(s.requests for s in sections))
        log.debug(
            "packed %d requests: %s",
            self.stats.fills[-1],
            {s.kind.name: len(s.entries) for s in sections},
        )
        for section in sections:
            self.stats.units += len(section.entries)
            name = section.kind.name
            self.stats.by_kind[name] = self.stats.by_kind.get(name, 0) + len(section.entries)
            self.stats.requests_by_kind[name] = (
                self.stats.requests_by_kind.get(name, 0) + section.requests
            )
        answer = await self.gov.send(
            QUERY_NAME, _parsed(text), variables, page_vars=page_vars, accept_partial=True
        )
        data = answer.data or {}
        missing, broken = route_errors(answer.errors, sections)
        again: list[_Entry] = []
        for s, section in enumerate(sections):
            value = data.get(f"s{s}")
            for j, entry in enumerate(section.entries):
                if entry.future.done():
                    continue
                if section.kind.is_list:
                    item = value[j] if isinstance(value, list) and j < len(value) else None
                else:
                    item = value
                if (s, j) in missing:
                    self.stats.missing += 1
                    entry.future.set_result(None)
                elif (s, j) in broken or (item is None and not _may_be_null(section, value)):
                    again.append(entry)
                else:
                    entry.future.set_result(item)
        for entry in again:
            entry.tries += 1
            if entry.tries >= MAX_TRIES:
                entry.future.set_exception(
                    UnitFailed(
                        f"{entry.unit.kind} {dict(entry.unit.args)} kept coming back "
                        f"incomplete after {entry.tries} tries; rerun the crawl"
                    )
                )
            else:
                self.stats.resent += 1
                self._queue.append(entry)


def _may_be_null(section: Section, value: Any) -> bool:
    """A single root field answered null without an error (a repository one cannot see)."""
    return not section.kind.is_list and value is None


def _parsed(text: str) -> Any:
    return parse(text)  # not cached: a packed query's text rarely comes twice
