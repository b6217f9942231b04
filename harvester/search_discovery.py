"""Search-based discovery: the threads of one organisation where a bot app spoke, via search.

The repo-listing strategy (discover.py) reads every thread updated since a repository's
watermark, in every repository. For an organisation with thousands of repositories and few bot
threads, search is far cheaper (docs/discovery.md has the arithmetic):

1. Find: `search(type: ISSUE)` with `org:ORG commenter:app/SLUG` and `org:ORG reviewed-by:app/SLUG`,
   restricted to `updated:A..B`. GitHub serves at most 1,000 results of a query string, so a date
   slice whose `issueCount` is larger is cut in halves, recursively, down to one second; a
   one-second slice with more than 1,000 results raises `SearchOverflow` (the crawler falls back
   to listing that organisation's repositories). The searches ask for ids only and go out up to
   `SEARCHES_PER_REQUEST` at a time under aliases: each is 1 request, so a request of 10 searches
   costs 1 point. Threads found by several slices, qualifiers or apps are deduplicated.
2. Fetch: the threads by id (`IssuesByIdUnit`, `PullsByIdUnit`: the listing's thread fields,
   100 threads per request), then the listing's own units for comments, reviews and inline comments
   (`discover.complete_thread`), all through the packer. A bundle is therefore the same
   `ThreadBundle` the listing yields, plus the repository it lives in (`FoundBundle.repo`,
   which the crawler needs for its `Stamp`).

Watermark: one per organisation, scope `org:ORG:search`, the newest `updatedAt` found, but never
later than `until - index_lag` (a thread updated just before `until` may not be indexed yet) and
never earlier than `since`. The next run searches from that mark, inclusive.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)

from harvester.client import load_query
from harvester.discover import ThreadBundle, _page_info, complete_thread
from harvester.governor import Governor
from harvester.packer import Packer, Unit

log = logging.getLogger(__name__)

MAX_RESULTS = 1_000  # GitHub serves at most the first 1,000 results of any search
MAX_QUERY_LENGTH = 256  # GitHub refuses longer search strings
SEARCHES_PER_REQUEST = 10  # aliased `search` fields per request: 10 requests = 1 point
FETCH_CHUNK = 1_000  # threads fetched at once (bounded memory)
BY_ID = {"Issue": "IssuesByIdUnit", "PullRequest": "PullsByIdUnit"}
MAX_RESTARTS = 2  # re-reads of a slice whose result count moved while it was paged
GITHUB_EPOCH = datetime(2008, 1, 1, tzinfo=UTC)  # nothing on GitHub is older
DEFAULT_INDEX_LAG = timedelta(minutes=10)  # not documented by GitHub: an assumption, see docs

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")


class SearchOverflow(RuntimeError):
    """A one-second slice still has more results than search serves: search cannot list them.

    Raised before any bundle is handed over, so the caller can fall back to repo listing for
    the organisation without having landed anything from search.
    """

    def __init__(self, org: str, query: str, count: int, cap: int) -> None:
        super().__init__(
            f"search {query!r} has {count} results within one second, more than the {cap} "
            f"GitHub serves: search cannot enumerate them; list {org}'s repositories instead"
        )
        self.org = org
        self.query = query
        self.count = count


@dataclass(frozen=True)
class RepoRef:
    """The repository a found thread lives in, with what the crawler filters repos on."""

    owner: str
    name: str
    is_fork: bool = False
    is_archived: bool = False

    @property
    def name_with_owner(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class ThreadRef:
    """A thread a search found: enough to fetch it and to move the watermark."""

    id: str
    typename: str  # Issue / PullRequest
    updated_at: str  # as GitHub writes it: 2025-01-02T03:04:05Z
    repo: RepoRef


@dataclass
class FoundBundle(ThreadBundle):
    """A `ThreadBundle` (thread and comments exactly as the listing gives them) and its repo."""

    repo: RepoRef = field(kw_only=True)


@dataclass
class SearchStats:
    """What a search discovery did (for logs, progress and the cost tests)."""

    search_requests: int = 0  # requests carrying aliased searches
    searches: int = 0  # search pages asked for (first pages and continuations)
    slices: int = 0  # date slices whose first page was read
    splits: int = 0  # slices cut in halves because they had more than MAX_RESULTS results
    restarts: int = 0  # slices read again because their result count moved while paging
    threads: int = 0  # distinct threads found
    fetch_requests: int = 0  # `nodes(ids:)` requests for the threads themselves
    gone: int = 0  # found by search, null by id (deleted or hidden since)
    skipped: int = 0  # in a repository the caller's filter rejected


@dataclass(frozen=True)
class _Slice:
    """One search: a qualifier over an inclusive range of epoch seconds, at a page cursor."""

    qualifier: str
    low: int
    high: int
    after: str | None = None
    count: int | None = None  # issueCount when its first page was read
    restarts: int = 0


def search_scope(org: str) -> str:
    """The watermark scope of an organisation's search discovery: `org:ORG:search`."""
    return f"org:{org.lower()}:search"


def app_slug(value: str) -> str:
    """`app/SLUG`, `SLUG[bot]` or `SLUG` -> `SLUG`; refuses what could smuggle in qualifiers."""
    slug = value.strip().removeprefix("app/").removesuffix("[bot]")
    if not _NAME.fullmatch(slug):
        raise ValueError(f"not a GitHub App slug: {value!r}")
    return slug


def _qualifiers(app_slugs: Sequence[str]) -> list[str]:
    out: list[str] = []
    for slug in dict.fromkeys(app_slug(s).lower() for s in app_slugs):
        out += [f"commenter:app/{slug}", f"reviewed-by:app/{slug}"]
    return out


def _stamp(epoch: int) -> str:
    """GitHub's search time syntax (date, `T`, time and a UTC offset)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def search_query(org: str, qualifier: str, low: int, high: int) -> str:
    """The search string of one slice; both ends are inclusive seconds.

    `sort:created-asc` keeps the order stable while a slice is paged (creation times never move).
    """
    text = f"org:{org} {qualifier} updated:{_stamp(low)}..{_stamp(high)} sort:created-asc"
    if len(text) > MAX_QUERY_LENGTH:
        raise ValueError(f"search string over {MAX_QUERY_LENGTH} characters: {text!r}")
    return text


def _epoch(value: datetime) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"times must be timezone-aware (UTC), got {value!r}")
    return int(value.timestamp())


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# ---------- documents


def _fields(selection_set: SelectionSetNode | None) -> dict[str, FieldNode]:
    selections = selection_set.selections if selection_set is not None else ()
    return {s.name.value: s for s in selections if isinstance(s, FieldNode)}


def _operation(doc: DocumentNode) -> OperationDefinitionNode:
    operation = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    return operation


@cache
def search_document(count: int) -> DocumentNode:
    """`search_threads` with its `search` field repeated `count` times, aliased `s0`, `s1`..."""
    operation = _operation(load_query("search_threads"))
    fields = _fields(operation.selection_set)
    search = print_ast(fields["search"])
    params = ["$first: Int!"]
    selections = [print_ast(fields["rateLimit"])]
    for i in range(count):
        params.append(f"$query{i}: String!, $after{i}: String")
        selections.append(f"s{i}: " + re.sub(r"\$(query|after)\b", rf"$\g<1>{i}", search))
    return parse(f"query SearchThreads({', '.join(params)}) {{\n" + "\n".join(selections) + "\n}")


# ---------- step 1: find


def _ref(node: dict[str, Any]) -> ThreadRef | None:
    if not node or not node.get("id"):
        return None
    repo = node.get("repository") or {}
    owner, _, name = str(repo.get("nameWithOwner") or "/").partition("/")
    return ThreadRef(
        id=str(node["id"]),
        typename=str(node.get("__typename") or ""),
        updated_at=str(node.get("updatedAt") or ""),
        repo=RepoRef(owner, name, bool(repo.get("isFork")), bool(repo.get("isArchived"))),
    )


async def find_threads(
    gov: Governor,
    org: str,
    app_slugs: Sequence[str],
    since: datetime | None,
    until: datetime,
    *,
    stats: SearchStats | None = None,
    searches_per_request: int = SEARCHES_PER_REQUEST,
) -> dict[str, ThreadRef]:
    """Every thread of `org` updated in [since, until] where one of the apps commented or
    reviewed, by id (deduplicated across slices and apps). Raises `SearchOverflow`."""
    stats = stats if stats is not None else SearchStats()
    if not _NAME.fullmatch(org):
        raise ValueError(f"not a GitHub organisation login: {org!r}")
    low = _epoch(since) if since is not None else _epoch(GITHUB_EPOCH)
    high = _epoch(until)
    found: dict[str, ThreadRef] = {}
    if low > high:
        return found
    queue = deque(_Slice(q, low, high) for q in _qualifiers(app_slugs))
    for s in queue:
        search_query(org, s.qualifier, s.low, s.high)  # refuse an overlong string up front
    while queue:
        batch = [queue.popleft() for _ in range(min(max(1, searches_per_request), len(queue)))]
        texts = [search_query(org, s.qualifier, s.low, s.high) for s in batch]
        variables: dict[str, Any] = {}
        for i, (s, text) in enumerate(zip(batch, texts, strict=True)):
            variables[f"query{i}"] = text
            variables[f"after{i}"] = s.after
        answer = await gov.send(
            "search_threads", search_document(len(batch)), variables, page_vars=("first",)
        )
        stats.search_requests += 1
        stats.searches += len(batch)
        data = answer.data or {}
        for i, (s, text) in enumerate(zip(batch, texts, strict=True)):
            conn = data.get(f"s{i}")
            if conn is None:
                raise RuntimeError(f"search {text!r} answered nothing: {answer.errors}")
            count = int(conn.get("issueCount") or 0)
            if s.after is None:
                stats.slices += 1
                if count > MAX_RESULTS:
                    if s.low >= s.high:
                        raise SearchOverflow(org, text, count, MAX_RESULTS)
                    mid = (s.low + s.high) // 2
                    queue.append(_Slice(s.qualifier, s.low, mid))
                    queue.append(_Slice(s.qualifier, mid + 1, s.high))
                    stats.splits += 1
                    continue
            restart = s.after is not None and count != s.count
            if restart and s.restarts >= MAX_RESTARTS:
                log.warning("search %r kept changing while paged; reading on", text)
                restart = False
            for node in conn.get("nodes") or []:
                ref = _ref(node)
                if ref is None:
                    continue
                known = found.get(ref.id)
                if known is None or ref.updated_at > known.updated_at:
                    found[ref.id] = ref
            more, cursor = _page_info(conn)
            if restart:
                # The result set moved under the cursor (a thread updated past `until`, or one
                # just indexed): pages may have shifted, so read the slice again from the start.
                queue.append(_Slice(s.qualifier, s.low, s.high, restarts=s.restarts + 1))
                stats.restarts += 1
            elif more and cursor:
                queue.append(replace(s, after=cursor, count=count))
    stats.threads = len(found)
    return found


# ---------- step 2: fetch


async def fetch_bundles(
    packer: Packer, refs: Iterable[ThreadRef], stats: SearchStats | None = None
) -> AsyncIterator[FoundBundle]:
    """Complete bundles of these threads, issues first, each kind oldest update first.

    Threads by id (100 a request), then the listing's own units for their comments, reviews
    and inline comments, all packed with whatever else the crawl is asking.
    """
    stats = stats if stats is not None else SearchStats()
    ordered = sorted(
        (r for r in refs if r.typename in BY_ID),
        key=lambda r: (r.typename != "Issue", r.updated_at, r.id),
    )
    for start in range(0, len(ordered), FETCH_CHUNK):
        chunk = ordered[start : start + FETCH_CHUNK]
        nodes = await asyncio.gather(
            *(
                packer.fetch(Unit.of(BY_ID[r.typename], id=r.id))
                for r in chunk
                if r.typename in BY_ID
            )
        )
        stats.fetch_requests += -(-len(chunk) // 100)
        present = [(r, n) for r, n in zip(chunk, nodes, strict=True) if n]
        stats.gone += len(chunk) - len(present)
        bundles = await asyncio.gather(*(complete_thread(packer, n) for _, n in present))
        for (ref, _), bundle in zip(present, bundles, strict=True):
            yield FoundBundle(bundle.thread, bundle.comments, repo=ref.repo)


async def iter_search_threads(
    packer: Packer,
    org: str,
    app_slugs: Sequence[str],
    since: datetime | None,
    until: datetime,
    *,
    stats: SearchStats | None = None,
    searches_per_request: int = SEARCHES_PER_REQUEST,
) -> AsyncIterator[FoundBundle]:
    """Threads of `org` updated in [since, until] where an app of `app_slugs` commented or
    reviewed, as complete bundles (the listing's fields, every comment, review and inline
    comment). Every search runs before the first bundle: `SearchOverflow` comes before any."""
    stats = stats if stats is not None else SearchStats()
    refs = await find_threads(
        packer.gov,
        org,
        app_slugs,
        since,
        until,
        stats=stats,
        searches_per_request=searches_per_request,
    )
    async for bundle in fetch_bundles(packer, refs.values(), stats):
        yield bundle


# ---------- the crawler's seam


def new_watermark(
    refs: Iterable[ThreadRef],
    since: datetime | None,
    until: datetime,
    index_lag: timedelta = DEFAULT_INDEX_LAG,
) -> datetime | None:
    """The newest `updatedAt` found, capped at `until - index_lag`, never before `since`.

    Nothing found: `since` (no evidence to move on; the next run searches the same window,
    which costs the same single request)."""
    newest = max((_parse(r.updated_at) for r in refs if r.updated_at), default=None)
    if newest is None:
        return since
    mark = min(newest, until - index_lag)
    return max(mark, since) if since is not None else mark


@dataclass
class OrgSearchResult:
    """What `crawl_org_by_search` did; `mark` goes to `scope` once the bundles are durable."""

    scope: str
    since: datetime | None
    until: datetime
    mark: datetime | None
    bundles: int
    stats: SearchStats


async def crawl_org_by_search(
    packer: Packer,
    org: str,
    app_slugs: Sequence[str],
    since: datetime | None,
    until: datetime,
    on_bundle: Callable[[FoundBundle], Awaitable[None]],
    *,
    keep_repo: Callable[[RepoRef], bool] | None = None,
    index_lag: timedelta = DEFAULT_INDEX_LAG,
    searches_per_request: int = SEARCHES_PER_REQUEST,
) -> OrgSearchResult:
    """One organisation's search discovery for the crawler.

    `since` is the stored mark of `search_scope(org)` (or the configured start); `until` is
    now. Every bundle goes to `on_bundle` (the crawler's `land_bundle` with a `Stamp` built
    from `bundle.repo`); threads in repositories `keep_repo` rejects (forks, archived,
    excluded) are not fetched at all. The returned `mark` may be stored under `scope` only
    after everything handed over is durable, like a repository's watermark.

    Raises `SearchOverflow` before the first `on_bundle` call: list the org's repos instead.
    """
    stats = SearchStats()
    refs = await find_threads(
        packer.gov,
        org,
        app_slugs,
        since,
        until,
        stats=stats,
        searches_per_request=searches_per_request,
    )
    mark = new_watermark(refs.values(), since, until, index_lag)
    kept = [r for r in refs.values() if keep_repo is None or keep_repo(r.repo)]
    stats.skipped = len(refs) - len(kept)
    handed = 0
    async for bundle in fetch_bundles(packer, kept, stats):
        await on_bundle(bundle)
        handed += 1
    return OrgSearchResult(search_scope(org), since, until, mark, handed, stats)
