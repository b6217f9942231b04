"""`harvester crawl`: discover, hydrate and land, incrementally and crash-safely.

Order of durability: rows are buffered by the `Lander`; a repository's watermark is set only
once every bot comment it found is hydrated, and committed only after the flush that made those
rows durable. A crawl killed at any moment therefore re-reads, on the next run, everything whose
watermark had not moved, and the warehouse's latest-snapshot rule absorbs the repeats.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from harvester.auth import TokenProvider
from harvester.caches import LandedParser
from harvester.client import AuthError, GitHubClient
from harvester.clock import Clock, SystemClock
from harvester.config import BotsConfig
from harvester.discover import (
    BotRules,
    RepoMarks,
    RepoNotFound,
    Stamp,
    ThreadBudget,
    ThreadBundle,
    bot_comment,
    changed_repos,
    comment_row,
    org_repos,
    thread_row,
    walk_issues,
    walk_pulls,
)
from harvester.governor import BudgetExhausted, Governor, PageSizes
from harvester.hydrate import Hydrator, Snapshot, tombstone
from harvester.land import Lander, table_dir
from harvester.packer import QUERY_NAME as PACKED_QUERY
from harvester.packer import Packer, Unit
from harvester.search_discovery import (
    FoundBundle,
    RepoRef,
    SearchOverflow,
    crawl_org_by_search,
    search_scope,
)
from harvester.state import DataLock, RunLog, Watermarks, new_run_id, repo_scope

log = logging.getLogger(__name__)
FATAL = (AuthError, BudgetExhausted)
"""Failures that end the whole run; any other failure of one org, repo or comment is an error
of the run (status `partial`) and the rest goes on."""

# Page sizes to start from (`first` of every connection the packer asks; `ids` per `nodes`
# list; `first` of searches). A page's size does not change its price, only its nodes; the
# governor halves them on timeouts.
DEFAULT_PAGE_SIZES = {
    "repos": 100,
    "threads": 100,
    "comments": 100,
    "reviews": 100,
    "inline": 100,
    "reactors": 100,
    "edits": 100,
    "ids": 100,
    "first": 100,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REHYDRATE_CHUNK = 2_000  # summaries asked at once (bounded memory)
LANDER_FLUSH_ROWS = 10_000  # rows buffered before a Parquet part is written (bounded memory)

_HEADER = re.compile(r"<!--\s*(?:Ubiquity(?:OS)?\s+-|ubiquity-os-llm-response)|--!>")


def looks_like_header(body: str) -> bool:
    """A cheap check for a UbiquityOS metadata block (the full parser lives in dialects)."""
    return _HEADER.search(body) is not None


@dataclass
class Source:
    """One crawl unit of credentials: a token (or App installation) and what it crawls."""

    auth: TokenProvider
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()


@dataclass
class CrawlOptions:
    data_dir: Path
    endpoint: str
    sources: Sequence[Source]
    bots: BotRules = field(default_factory=lambda: BotRules(has_header=looks_like_header))
    # With [bots], bot bodies are parsed as they land (caches.LandedParser): builds skip them.
    parse_bots: BotsConfig | None = None
    full_refresh: bool = False
    rehydrate_days: int = 30
    sweep_known: bool = True  # also re-check older bot comments, re-reading only changed ones
    discovery: str = "list"  # or "search": threads where one of `app_slugs` commented/reviewed
    app_slugs: tuple[str, ...] = ("ubiquity-os",)
    max_in_flight: int = 4
    repo_concurrency: int = 64
    # Threads listed but not yet landed, all repositories together: bounds memory (see
    # discover.ThreadBudget). 2,000 keeps 200k comments under 300 MB and queries full.
    thread_budget: int = 2_000
    max_retries: int = 6
    timeout_s: float = 60.0
    include_forks: bool = False
    include_archived: bool = True
    is_excluded: Callable[[str], bool] = lambda repo: False
    page_sizes: dict[str, int] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    max_reset_wait_s: float | None = 3900.0
    since: datetime | None = None
    on_progress: Callable[[str, dict[str, Any]], None] | None = None


@dataclass
class CrawlResult:
    run_id: str
    status: str  # ok / partial / auth_error / budget_exhausted / failed
    counts: dict[str, int]
    points: int
    requests: int
    retries: int
    errors: list[str]
    started_at: datetime
    finished_at: datetime
    requests_by_unit: dict[str, int] = field(default_factory=dict)  # as the packer priced them

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "counts": self.counts,
            "points": self.points,
            "requests": self.requests,
            "retries": self.retries,
            "errors": self.errors,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "elapsed_s": round((self.finished_at - self.started_at).total_seconds(), 3),
            "requests_by_unit": self.requests_by_unit,
        }


@dataclass
class _Pending:
    scope: str
    mark: datetime | None
    covered_below: int  # the repo's bot comments all have a hydrator sequence number below this


class _Crawl:
    """One token's share of a run."""

    def __init__(
        self,
        options: CrawlOptions,
        source: Source,
        run_id: str,
        lander: Lander,
        marks: Watermarks,
        gov: Governor,
    ) -> None:
        self.o = options
        self.source = source
        self.run_id = run_id
        self.lander = lander
        self.marks = marks
        self.gov = gov
        self.counts: dict[str, int] = {
            "repos": 0,
            "threads": 0,
            "comments": 0,
            "bot_comments": 0,
            "rehydrated": 0,
            "reactions": 0,
            "edits": 0,
            "snapshots": 0,
            "unchanged": 0,
            "threads_unchanged": 0,
            "repos_unchanged": 0,
            "deleted": 0,
            "repos_missing": 0,
        }
        self.errors: list[str] = []
        self.packer = Packer(gov, ids_per_list=gov.pages.get(PACKED_QUERY, "ids"))
        self.hydrator = Hydrator(self.packer, self._land_snapshot, self._now, fatal=FATAL)
        self.budget = ThreadBudget(options.thread_budget)
        self.pending: list[_Pending] = []
        self.known: dict[str, KnownComment] = {}
        self.known_threads: dict[str, datetime] = {}
        self.scope = (
            tuple(o.lower() for o in source.orgs),
            tuple(r.lower() for r in source.repos),
        )
        self.recent_from = datetime.min.replace(tzinfo=UTC)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.o.clock.now(), UTC)

    def _land_snapshot(self, snap: Snapshot, at: datetime) -> None:
        self.lander.add_snapshot(snap.comment_id, at, snap.reactions, snap.edits, snap.hydration)
        self.counts["snapshots"] += 1
        self.counts["reactions"] += len(snap.reactions)
        self.counts["edits"] += len(snap.edits)

    def _progress(self, what: str, **extra: Any) -> None:
        if self.o.on_progress:
            self.o.on_progress(what, {**self.counts, "points": self.gov.stats.points, **extra})

    async def _org_repos(self, org: str) -> list[dict[str, Any]]:
        """An org's repositories; none (and an error: the run ends partial) when listing them
        kept failing, so that the other orgs are still crawled."""
        try:
            return await org_repos(self.packer, org)
        except FATAL:
            raise
        except Exception as exc:
            self._fail(f"org {org}: listing its repositories failed: {exc}")
            return []

    def _fail(self, message: str) -> None:
        self.errors.append(message)
        log.warning("%s", message)

    async def repos(self) -> list[tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        listed = await asyncio.gather(*(self._org_repos(org) for org in self.source.orgs))
        for org, nodes in zip(self.source.orgs, listed, strict=True):
            for node in nodes:
                nwo = str(node.get("nameWithOwner") or f"{org}/{node['name']}")
                if node.get("isFork") and not self.o.include_forks:
                    continue
                if node.get("isArchived") and not self.o.include_archived:
                    continue
                if self.o.is_excluded(nwo):
                    continue
                found[nwo.lower()] = (nwo.split("/")[0], str(node["name"]))
        for nwo in self.source.repos:
            owner, _, name = nwo.partition("/")
            if not self.o.is_excluded(nwo):
                found.setdefault(nwo.lower(), (owner, name))
        return sorted(found.values())

    def load_known(self) -> None:
        """What earlier runs landed: skip unchanged threads, re-read only changed comments."""
        if self.o.full_refresh:
            return
        self.known = known_bot_comments(self.o.data_dir, self.source_scope())
        self.known_threads = known_threads(self.o.data_dir, self.source_scope())
        if self.known:
            anchor = min(self._now(), max(k.activity for k in self.known.values()))
            self.recent_from = anchor - timedelta(days=self.o.rehydrate_days)

    def is_recent(self, state: KnownComment) -> bool:
        return self.o.rehydrate_days > 0 and state.created_at >= self.recent_from

    def needs_hydration(self, node: dict[str, Any]) -> bool:
        """New, recent, or with a summary unlike its latest snapshot's."""
        state = self.known.get(node["id"])
        if state is None or self.is_recent(state):
            return True
        return state.fingerprint != summary_fingerprint(node)

    async def land_bundle(self, bundle: ThreadBundle, stamp: Stamp) -> None:
        thread = bundle.thread
        if self.known_threads.get(thread["id"]) == _parse(thread.get("updatedAt")):
            # Listed again only because `since` is inclusive: nothing changed since it landed.
            self.counts["threads_unchanged"] += 1
            return
        self.lander.add("threads", [thread_row(thread, stamp)])
        self.counts["threads"] += 1
        reasons = [self.o.bots.reason(c.get("author"), c.get("body")) for c, _ in bundle.comments]
        if not any(reasons):
            return
        rows = [
            comment_row(c, thread["id"], stamp, reason, review_id)
            for (c, review_id), reason in zip(bundle.comments, reasons, strict=True)
        ]
        self.lander.add("comments", rows)
        self.counts["comments"] += len(rows)
        for (node, _), reason in zip(bundle.comments, reasons, strict=True):
            if reason is None:
                continue
            self.counts["bot_comments"] += 1
            if self.needs_hydration(node):
                await self.hydrator.add(bot_comment(node))
            else:
                self.counts["unchanged"] += 1

    async def crawl_repo(self, owner: str, name: str) -> None:
        nwo = f"{owner}/{name}"
        outcomes = await asyncio.gather(
            self._crawl_scope(owner, name, "issues", walk_issues),
            self._crawl_scope(owner, name, "pull_requests", walk_pulls),
            return_exceptions=True,
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed and all(isinstance(o, RepoNotFound) for o in failed):
            # a skip, not a failure (docs/operations.md); no watermark is set for it
            self.counts["repos_missing"] += 1
            log.warning("%s: repository not found, or this token cannot see it: skipped", nwo)
            return
        for outcome in failed:
            if not isinstance(outcome, RepoNotFound):
                raise outcome
        self.counts["repos"] += 1
        self._progress("repo", repo=nwo)

    async def _crawl_scope(self, owner: str, name: str, what: str, walk: Any) -> None:
        scope = repo_scope(f"{owner}/{name}", what)
        since = None if self.o.full_refresh else (self.marks.get(scope) or self.o.since)
        stamp = Stamp(owner, name, self._now(), self.run_id)
        mark = since
        async with aclosing(walk(self.packer, owner, name, since, self.budget)) as bundles:
            async for bundle in bundles:
                await self.land_bundle(bundle, stamp)
                updated = _parse(bundle.thread.get("updatedAt"))
                if updated and (mark is None or updated > mark):
                    mark = updated
        # An empty scope still gets a watermark, so the change probe can skip it next time.
        self.pending.append(_Pending(scope, mark or EPOCH, self.hydrator.seq + 1))

    async def checkpoint(self, force: bool = False) -> None:
        """Make landed rows durable, then move the watermarks they cover.

        Hydration runs in the background (packed with discovery); a repository's watermarks
        move at the first checkpoint after its last bot comment landed. `force` (the end of
        a run) waits for every hydration first.
        """
        if force:
            await self.hydrator.finish(drain=True)
        unfinished = self.hydrator.unfinished_from()
        done = [p for p in self.pending if p.covered_below <= unfinished]
        if not done:
            return
        self.lander.flush()
        for p in done:
            if p.mark is not None:
                self.marks.set(p.scope, p.mark)
        self.marks.commit()
        self.pending = [p for p in self.pending if p not in done]

    def keep_repo(self, repo: RepoRef) -> bool:
        if repo.is_fork and not self.o.include_forks:
            return False
        if repo.is_archived and not self.o.include_archived:
            return False
        return not self.o.is_excluded(f"{repo.owner}/{repo.name}")

    async def crawl_org_search(self, org: str) -> bool:
        """Search discovery for one org; False when search cannot cover it (list it instead)."""
        scope = search_scope(org)
        since = None if self.o.full_refresh else (self.marks.get(scope) or self.o.since)

        async def land(bundle: FoundBundle) -> None:
            stamp = Stamp(bundle.repo.owner, bundle.repo.name, self._now(), self.run_id)
            await self.land_bundle(bundle, stamp)

        try:
            result = await crawl_org_by_search(
                self.packer,
                org,
                self.o.app_slugs,
                since,
                self._now(),
                land,
                keep_repo=self.keep_repo,
            )
        except SearchOverflow as exc:
            log.warning("search cannot cover %s (%s): listing its repositories instead", org, exc)
            return False
        except FATAL:
            raise
        except Exception as exc:  # its watermark stays: the next run searches it again
            self._fail(f"org {org}: search discovery failed: {exc}")
            return True
        self.pending.append(_Pending(scope, result.mark or since or EPOCH, self.hydrator.seq + 1))
        self._progress("org", org=org)
        return True

    async def run(self) -> None:
        async with self.packer:
            try:
                await self._run()
            finally:
                await self.hydrator.aclose()

    async def _run(self) -> None:
        self.load_known()
        # Known comments' summaries ride in the first queries, beside the repository listing.
        rehydrate = asyncio.create_task(self.rehydrate_known())
        try:
            await self._discover()
        except BaseException:
            rehydrate.cancel()
            await asyncio.gather(rehydrate, return_exceptions=True)
            raise
        await rehydrate
        await self.checkpoint(force=True)
        self.errors.extend(self.hydrator.failures)

    async def _discover(self) -> None:
        if self.o.discovery == "search":
            listed = [org for org in self.source.orgs if not await self.crawl_org_search(org)]
            self.source = Source(self.source.auth, tuple(listed), self.source.repos)
        repos = await self.repos()
        if not self.o.full_refresh:
            marks = [
                RepoMarks(
                    o,
                    n,
                    self.marks.get(repo_scope(f"{o}/{n}", "issues")),
                    self.marks.get(repo_scope(f"{o}/{n}", "pull_requests")),
                )
                for o, n in repos
            ]
            try:
                changed = await changed_repos(self.packer, marks)
            except FATAL:
                raise
            except Exception as exc:  # crawl them all: each repo's own failure is its own
                self._fail(f"probing {len(marks)} repositories for changes failed: {exc}")
                changed = set(repos)
            self.counts["repos_unchanged"] += len(repos) - len(changed)
            repos = [r for r in repos if r in changed]
        self._progress("repos", total_repos=len(repos))
        slots = asyncio.Semaphore(self.o.repo_concurrency)
        failures: list[str] = []

        async def one(owner: str, name: str) -> None:
            async with slots:
                try:
                    await self.crawl_repo(owner, name)
                except FATAL:
                    raise
                except Exception as exc:  # a repo's failure must not stop the others
                    failures.append(f"{owner}/{name}: {exc}")
                    log.warning("repo %s/%s failed: %s", owner, name, exc)
                await self.checkpoint()

        await asyncio.gather(*(one(o, n) for o, n in repos))
        self.errors.extend(failures)

    async def rehydrate_known(self) -> None:
        """Re-read bot comments landed by earlier runs: reactions and edits arrive late and do
        not bump `updatedAt`.

        A cheap summary (1 request per 100 comments, packed with other units) gives each
        comment's reaction counts per kind and `lastEditedAt`. Comments of the last N days are
        re-hydrated in full every run; older ones (with `sweep_known`) only when their summary
        differs from the latest snapshot. The window ends at the newest activity landed, so a
        world whose clock differs from ours still gets its recent comments re-read.
        """
        known = self.known
        todo = [cid for cid, k in known.items() if self.is_recent(k) or self.o.sweep_known]
        for start in range(0, len(todo), REHYDRATE_CHUNK):
            batch = todo[start : start + REHYDRATE_CHUNK]
            try:
                nodes = await asyncio.gather(
                    *(self.packer.fetch(Unit.of("CommentSummariesUnit", id=cid)) for cid in batch)
                )
            except FATAL:
                raise
            except Exception as exc:  # these keep their last snapshot; the next run re-reads
                self._fail(f"re-reading {len(batch)} known bot comments failed: {exc}")
                continue
            for cid, node in zip(batch, nodes, strict=True):
                if not node:  # deleted since (or no longer visible): a tombstone ends it
                    self.counts["deleted"] += 1
                    self._land_snapshot(tombstone(cid), self._now())
                    continue
                if not self.needs_hydration(node):
                    self.counts["unchanged"] += 1
                    continue
                self.counts["rehydrated"] += 1
                await self.hydrator.add(bot_comment(node))
            self._progress("rehydrate")

    def source_scope(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.scope


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def known_threads(
    data_dir: Path, scope: tuple[tuple[str, ...], tuple[str, ...]]
) -> dict[str, datetime]:
    """Each landed thread's newest `updatedAt`, within a source's scope."""
    threads = _glob(data_dir, "threads")
    if threads is None:
        return {}
    orgs, repos = scope
    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            select thread_id, epoch(max(updated_at)) from read_parquet(?)
            where lower(org) in (select unnest(?::varchar[]))
               or lower(org || '/' || repo) in (select unnest(?::varchar[]))
            group by thread_id
            """,
            [threads, list(orgs), list(repos)],
        ).fetchall()
    finally:
        con.close()
    return {tid: _utc(ts) for tid, ts in rows if ts is not None}


@dataclass(frozen=True)
class KnownComment:
    created_at: datetime
    activity: datetime  # the newest of created/updated/last edited
    fingerprint: tuple[str | None, tuple[tuple[str, int], ...]]


def summary_fingerprint(node: dict[str, Any]) -> tuple[str | None, tuple[tuple[str, int], ...]]:
    """What a cheap summary says about a comment: last edit time, reaction counts per kind."""
    counts = tuple(
        sorted(
            (str(g["content"]), int((g.get("reactors") or {}).get("totalCount") or 0))
            for g in node.get("reactionGroups") or []
            if int((g.get("reactors") or {}).get("totalCount") or 0) > 0
        )
    )
    edited = _parse(node.get("lastEditedAt"))
    return (edited.isoformat() if edited else None, counts)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _glob(data_dir: Path, table: str) -> str | None:
    directory = table_dir(data_dir, table)
    return str(directory / "*" / "*.parquet") if any(directory.glob("*/*.parquet")) else None


def known_bot_comments(
    data_dir: Path, scope: tuple[tuple[str, ...], tuple[str, ...]]
) -> dict[str, KnownComment]:
    """Bot comments landed by earlier runs within a source's scope, with their latest state
    (those whose latest snapshot is a tombstone are gone: not asked about again)."""
    comments, hydrations = _glob(data_dir, "comments"), _glob(data_dir, "hydrations")
    if comments is None or hydrations is None:
        return {}
    reactions = _glob(data_dir, "reactions")
    orgs, repos = scope
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            """
            create temp table bot as
            select comment_id, max(created_at) as created_at, max(crawled_at) as listed_at,
                   greatest(max(created_at), max(coalesce(updated_at, created_at)),
                            max(coalesce(last_edited_at, created_at))) as activity
            from read_parquet(?)
            where is_bot_comment
              and (lower(org) in (select unnest(?::varchar[]))
                   or lower(org || '/' || repo) in (select unnest(?::varchar[])))
            group by comment_id
            """,
            [comments, list(orgs), list(repos)],
        )
        columns = {
            str(row[0])
            for row in con.execute(
                "describe select * from read_parquet(?, union_by_name = true)", [hydrations]
            ).fetchall()
        }
        deleted = "coalesce(is_deleted, false)" if "is_deleted" in columns else "false"
        con.execute(
            f"""
            create temp table latest as
            select comment_id, crawled_at, run_id, last_edited_at, {deleted} as is_deleted
            from read_parquet(?, union_by_name = true)
            qualify row_number() over (partition by comment_id
                                       order by crawled_at desc, run_id desc) = 1
            """,
            [hydrations],
        )
        counts: dict[str, list[tuple[str, int]]] = {}
        if reactions is not None:
            rows = con.execute(
                """
                select r.comment_id, r.content, count(*) from read_parquet(?) r
                join latest h on r.comment_id = h.comment_id and r.crawled_at = h.crawled_at
                     and r.run_id = h.run_id
                group by all
                """,
                [reactions],
            ).fetchall()
            for cid, content, n in rows:
                counts.setdefault(cid, []).append((content, int(n)))
        out: dict[str, KnownComment] = {}
        for cid, created, activity, edited in con.execute(
            "select b.comment_id, epoch(b.created_at), epoch(b.activity), epoch(h.last_edited_at) "
            "from bot b left join latest h using (comment_id) "
            # gone, unless a listing saw it after the tombstone (as the warehouse reads it)
            "where not coalesce(h.is_deleted and h.crawled_at >= b.listed_at, false) "
            "order by b.comment_id"
        ).fetchall():
            fingerprint = (
                _utc(edited).isoformat() if edited is not None else None,
                tuple(sorted(counts.get(cid, []))),
            )
            out[cid] = KnownComment(_utc(created), _utc(activity), fingerprint)
        return out
    finally:
        con.close()


async def run_crawl(options: CrawlOptions) -> CrawlResult:
    """One crawl run over every source, under the data directory's lock."""
    data = options.data_dir
    started = datetime.fromtimestamp(options.clock.now(), UTC)
    with DataLock(data):
        runs = RunLog(data)
        runs.mark_interrupted()
        run_id = new_run_id(started)
        runs.start(
            run_id, started, {"endpoint": options.endpoint, "full_refresh": options.full_refresh}
        )
        marks = Watermarks(data)
        status, errors = "ok", []
        crawls: list[_Crawl] = []
        parser = LandedParser(data, run_id, options.parse_bots) if options.parse_bots else None
        observer = parser.observe if parser else None
        with Lander(data, run_id, flush_rows=LANDER_FLUSH_ROWS, observer=observer) as lander:
            try:
                await _run_sources(options, run_id, lander, marks, crawls)
            except AuthError as exc:
                status, errors = "auth_error", [str(exc)]
            except BudgetExhausted as exc:
                status, errors = "budget_exhausted", [str(exc)]
            lander.flush()
        for crawl in crawls:
            errors.extend(crawl.errors)
        if status == "ok" and errors:
            status = "partial"
        counts = _sum_counts(crawls)
        points = sum(c.gov.stats.points for c in crawls)
        requests = sum(c.gov.stats.requests for c in crawls)
        retries = sum(c.gov.stats.retries for c in crawls)
        finished = datetime.fromtimestamp(options.clock.now(), UTC)
        runs.finish(run_id, status, points, requests, retries, counts, finished_at=finished)
    by_unit: dict[str, int] = {}
    for crawl in crawls:
        for kind, n in crawl.packer.stats.requests_by_kind.items():
            by_unit[kind] = by_unit.get(kind, 0) + n
    return CrawlResult(
        run_id, status, counts, points, requests, retries, errors, started, finished, by_unit
    )


async def _run_sources(
    options: CrawlOptions, run_id: str, lander: Lander, marks: Watermarks, crawls: list[_Crawl]
) -> None:
    async def one(source: Source) -> None:
        async with GitHubClient(
            options.endpoint, source.auth, timeout_s=options.timeout_s
        ) as client:
            pages = PageSizes(defaults={**DEFAULT_PAGE_SIZES, **options.page_sizes})
            gov = Governor(
                client,
                options.clock,
                max_in_flight=options.max_in_flight,
                max_tries=options.max_retries,
                page_sizes=pages,
                max_reset_wait_s=options.max_reset_wait_s,
            )
            crawl = _Crawl(options, source, run_id, lander, marks, gov)
            crawls.append(crawl)
            await crawl.run()

    await asyncio.gather(*(one(s) for s in options.sources))


def _sum_counts(crawls: list[_Crawl]) -> dict[str, int]:
    total: dict[str, int] = {}
    for crawl in crawls:
        for key, value in {**crawl.counts, **crawl.hydrator.stats.as_dict()}.items():
            total[key] = total.get(key, 0) + value
        pack = crawl.packer.stats
        for key, value in {
            "queries": pack.queries,
            "units": pack.units,
            "requests": pack.requests,
        }.items():
            total[f"pack_{key}"] = total.get(f"pack_{key}", 0) + value
        # Most threads held at once (listed, not yet landed), summed over tokens.
        total["threads_held_peak"] = total.get("threads_held_peak", 0) + crawl.budget.peak
        for key, value in crawl.gov.stats.as_dict().items():
            if isinstance(value, int):
                total[f"gov_{key}"] = total.get(f"gov_{key}", 0) + value
    return total
