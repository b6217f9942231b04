"""Search-based discovery against the in-process simulator: the threads it finds are exactly the
world's threads of the org where the bots' apps spoke, its bundles are the listing's, slicing
works under a tiny result cap, and every search string stays within GitHub's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from graphql import DocumentNode, GraphQLSchema, build_schema, validate

from harvester import search_discovery as sd
from harvester.client import Answer, GitHubClient
from harvester.clock import FakeClock
from harvester.crawl import DEFAULT_PAGE_SIZES
from harvester.discover import ThreadBundle, org_repos, walk_issues, walk_pulls
from harvester.governor import Governor, PageSizes
from harvester.packer import Packer
from harvester.simulator import search as simsearch
from harvester.simulator.cost import analyze
from harvester.simulator.model import Comment, Org, Thread, World
from harvester.simulator.schema import load_schema
from harvester.simulator.server import Simulator, SimulatorSettings
from harvester.simulator.truth import export_truth, thread_id
from harvester.simulator.world import WorldSpec, generate_world
from tests.simworld_fixtures import WorldBuilder, ts

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


class SpyGovernor(Governor):
    """A governor that records every search string and may act after each request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queries: list[str] = []
        self.after_send: Callable[[str], None] | None = None

    async def send(
        self, query: str, document: DocumentNode, variables: dict[str, Any], **kw: Any
    ) -> Answer:
        if query == "search_threads":
            self.queries += [v for k, v in variables.items() if k.startswith("query")]
        answer = await super().send(query, document, variables, **kw)
        if self.after_send:
            self.after_send(query)
        return answer


def _governor(client: GitHubClient, clock: FakeClock) -> SpyGovernor:
    pages = PageSizes(defaults=dict(DEFAULT_PAGE_SIZES))
    return SpyGovernor(client, clock, page_sizes=pages)


@asynccontextmanager
async def _session(world: World) -> AsyncIterator[tuple[GitHubClient, FakeClock]]:
    clock = FakeClock(start=world.now + 60)
    async with (
        Simulator(world, SimulatorSettings(seed=1), clock=clock) as sim,
        GitHubClient(sim.url, "search-token") as client,
    ):
        yield client, clock


@pytest.fixture
def world() -> World:
    return generate_world(WorldSpec.preset("small", 3))


@pytest.fixture
def tiny_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """GitHub's 1,000-result cap made 5, in the simulator and in the discovery alike."""
    monkeypatch.setattr(simsearch, "MAX_RESULTS", 5)
    monkeypatch.setattr(sd, "MAX_RESULTS", 5)
    return 5


def _now(clock: FakeClock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def _slugs(world: World) -> list[str]:
    return sorted(set(world.app_slugs.values()))


def _spoken(thread: Thread) -> list[Comment]:
    inline = [c for review in thread.reviews for c in review.review_comments]
    return [c for c in [*thread.comments, *thread.reviews, *inline] if not c.deleted]


def expected(
    world: World, org: Org, slugs: list[str], since: int | None = None, until: int | None = None
) -> set[str]:
    """Ground truth from the world's records: the org's threads updated in [since, until] with
    a live comment, review or inline comment by a Bot of one of the apps."""
    logins = {login.lower() for login, slug in world.app_slugs.items() if slug in slugs}
    return {
        thread_id(t)
        for repo in org.repos
        for t in repo.threads
        if (since is None or t.updated_at >= since)
        and (until is None or t.updated_at <= until)
        and any(
            c.author is not None and c.author.typename == "Bot" and c.author.login in logins
            for c in _spoken(t)
        )
    }


async def _search(
    gov: Governor,
    org: str,
    slugs: list[str],
    since: datetime | None,
    until: datetime,
    stats: sd.SearchStats | None = None,
) -> dict[str, sd.FoundBundle]:
    found: dict[str, sd.FoundBundle] = {}
    async with Packer(gov) as packer:
        async for bundle in sd.iter_search_threads(packer, org, slugs, since, until, stats=stats):
            assert bundle.thread["id"] not in found, "a thread was yielded twice"
            found[bundle.thread["id"]] = bundle
    return found


async def _listed(gov: Governor, org: str) -> dict[str, ThreadBundle]:
    listed: dict[str, ThreadBundle] = {}
    async with Packer(gov) as packer:
        for repo in await org_repos(packer, org):
            for walk in (walk_issues, walk_pulls):
                async for bundle in walk(packer, org, repo["name"], None):
                    listed[bundle.thread["id"]] = bundle
    return listed


async def _find(
    gov: Governor,
    org: str,
    slugs: list[str],
    since: datetime | None,
    until: datetime,
    stats: sd.SearchStats | None = None,
) -> set[str]:
    return set(await sd.find_threads(gov, org, slugs, since, until, stats=stats))


@pytest.mark.parametrize("cap", ["github", "tiny"])
async def test_finds_exactly_the_threads_where_the_apps_spoke(
    world: World, cap: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if cap == "tiny":
        request.getfixturevalue("tiny_cap")
    slugs = _slugs(world)
    export_truth(world, tmp_path)
    truth = pl.read_parquet(tmp_path / "threads.parquet").filter("has_bot_comment")
    async with _session(world) as (client, clock):
        for org in world.orgs:
            gov = _governor(client, clock)
            if cap == "tiny":  # small pages too, so that slices are also paged
                gov.pages.current[("search_threads", "first")] = 2
            stats = sd.SearchStats()
            found = await _find(gov, org.login, slugs, None, _now(clock), stats)
            want = expected(world, org, slugs)
            assert want and found == want
            assert want == set(truth.filter(pl.col("org") == org.login)["thread_id"])
            assert stats.threads == len(want)
            if cap == "tiny":
                assert stats.splits > 0 and stats.searches > stats.slices
            else:
                assert stats.splits == 0
                assert stats.search_requests == -(-2 * len(slugs) // sd.SEARCHES_PER_REQUEST)


async def test_bundles_are_the_listings_bundles_for_fewer_points(
    world: World, tiny_cap: int
) -> None:
    """Search and listing land the same rows for the threads search finds; with a few apps
    (most threads without them) search costs fewer points, slicing included."""
    org, slugs = world.orgs[0], ["ubiquity-os", "coderabbitai"]
    async with _session(world) as (client, clock):
        searching, listing = _governor(client, clock), _governor(client, clock)
        stats = sd.SearchStats()
        found = await _search(searching, org.login, slugs, None, _now(clock), stats)
        listed = await _listed(listing, org.login)
    assert set(found) == expected(world, org, slugs) and stats.splits > 0
    assert stats.gone == 0
    for tid, bundle in found.items():
        twin = listed[tid]
        assert bundle.thread == twin.thread
        assert bundle.comments == twin.comments  # same ids, fields, order and review ids
        assert bundle.repo.owner == org.login
        assert bundle.repo.name in {r.name for r in org.repos}
    kinds = {c["__typename"] for b in found.values() for c, _ in b.comments}
    assert {"IssueComment", "PullRequestReview", "PullRequestReviewComment"} <= kinds
    assert {b.thread["__typename"] for b in found.values()} == {"Issue", "PullRequest"}
    assert len(found) < len(listed)
    assert searching.stats.points < listing.stats.points, (
        searching.stats.points,
        listing.stats.points,
    )


async def test_one_app_in_a_window(world: World, tiny_cap: int) -> None:
    org = world.orgs[0]
    updated = sorted(t.updated_at for r in org.repos for t in r.threads)
    since, until = updated[len(updated) // 4], updated[3 * len(updated) // 4]
    async with _session(world) as (client, clock):
        for slug in ("ubiquity-os", "coderabbitai"):
            found = await _find(
                _governor(client, clock),
                org.login,
                [f"app/{slug}"],
                datetime.fromtimestamp(since, UTC),
                datetime.fromtimestamp(until, UTC),
            )
            want = expected(world, org, [slug], since, until)
            assert want and found == want


async def test_search_strings_stay_within_githubs_limits(world: World, tiny_cap: int) -> None:
    org = world.orgs[0]
    async with _session(world) as (client, clock):
        gov = _governor(client, clock)
        await _find(gov, org.login, _slugs(world), None, _now(clock))
    assert len(gov.queries) > 2 * len(_slugs(world))  # sliced
    for text in gov.queries:
        assert len(text) <= simsearch.MAX_QUERY_LENGTH, text
        assert text.startswith(f"org:{org.login} ")
        assert ("commenter:app/" in text) != ("reviewed-by:app/" in text)
    longest = sd.search_query("o" * 39, "reviewed-by:app/" + "s" * 34, 0, 2**31)
    assert len(longest) <= sd.MAX_QUERY_LENGTH
    with pytest.raises(ValueError, match="256"):
        sd.search_query("o" * 39, "reviewed-by:app/" + "s" * 200, 0, 1)
    for bad in ("evil org:other", "a b", "", "x\ny"):
        with pytest.raises(ValueError, match="slug"):
            sd.app_slug(bad)
    assert sd.app_slug("app/coderabbitai") == sd.app_slug("coderabbitai[bot]") == "coderabbitai"


def _bot_world(
    threads: int, *, updated: Callable[[int], int], org: str = "crowd"
) -> tuple[World, list[Thread]]:
    """One repository whose threads all carry a comment by the app `helper`."""
    b = WorldBuilder()
    b.actor("viewer")
    bot = b.actor("helper", "Bot")
    b.world.app_slugs["helper"] = "helper"
    repo = b.repo(b.org(org), "busy")
    made = []
    for i in range(threads):
        at = updated(i)
        thread = b.thread(repo, title=f"t{i}", created_at=at - 1000 + i, updated_at=at)
        b.comment(thread, bot, "hello", at - 500)
        made.append(thread)
    return b.world, made


async def test_a_slice_that_moves_while_paged_is_read_again() -> None:
    """A thread updated after `until` leaves its slice between two pages: the result count
    moves, so the slice is read again from its start and no thread shifts out of sight."""
    world, threads = _bot_world(4, updated=lambda i: ts("2025-03-01T12:00:00") + 60 * i)
    async with _session(world) as (client, clock):
        until = _now(clock)
        gov = _governor(client, clock)
        gov.pages.current[("search_threads", "first")] = 1

        def move_first(query: str) -> None:
            if query == "search_threads" and threads[0].updated_at < world.now:
                threads[0].updated_at = world.now + 3600  # past `until`
                world.version += 1

        gov.after_send = move_first
        stats = sd.SearchStats()
        found = await _find(gov, "crowd", ["helper"], None, until, stats)
    assert {thread_id(t) for t in threads[1:]} <= found
    assert stats.restarts == 1


async def test_a_crowded_second_is_refused_before_any_bundle(tiny_cap: int) -> None:
    world, _ = _bot_world(tiny_cap + 1, updated=lambda i: ts("2025-03-01T12:00:00"))
    handed: list[sd.FoundBundle] = []

    async def land(bundle: sd.FoundBundle) -> None:
        handed.append(bundle)

    async with _session(world) as (client, clock):
        with pytest.raises(sd.SearchOverflow, match="within one second") as caught:
            async with Packer(_governor(client, clock)) as packer:
                await sd.crawl_org_by_search(packer, "crowd", ["helper"], None, _now(clock), land)
    assert not handed
    assert caught.value.count == tiny_cap + 1 and "crowd" in str(caught.value)


async def test_crawl_org_by_search_hands_over_bundles_and_the_new_mark(world: World) -> None:
    org, slugs = world.orgs[1], _slugs(world)
    skipped_repo = org.repos[0].name
    async with _session(world) as (client, clock):
        until = _now(clock)
        handed: list[sd.FoundBundle] = []

        async def land(bundle: sd.FoundBundle) -> None:
            handed.append(bundle)

        async with Packer(_governor(client, clock)) as packer:
            result = await sd.crawl_org_by_search(
                packer,
                org.login,
                slugs,
                None,
                until,
                land,
                keep_repo=lambda repo: repo.name != skipped_repo,
                index_lag=timedelta(0),
            )
        want = expected(world, org, slugs)
        kept = {tid for tid in want if not any(thread_id(t) == tid for t in org.repos[0].threads)}
        assert {b.thread["id"] for b in handed} == kept
        assert result.stats.skipped == len(want) - len(kept) > 0
        assert result.scope == f"org:{org.login.lower()}:search"
        newest = max(t.updated_at for r in org.repos for t in r.threads if thread_id(t) in want)
        assert result.mark == datetime.fromtimestamp(newest, UTC)

        # The next run from that mark finds only the boundary thread(s), for 1 search request.
        again: list[sd.FoundBundle] = []

        async def land_again(bundle: sd.FoundBundle) -> None:
            again.append(bundle)

        async with Packer(_governor(client, clock)) as packer:
            second = await sd.crawl_org_by_search(
                packer, org.login, slugs, result.mark, until, land_again, index_lag=timedelta(0)
            )
        assert result.mark is not None
        assert {b.thread["updatedAt"] for b in again} == {
            result.mark.strftime("%Y-%m-%dT%H:%M:%SZ")
        }
        assert second.mark == result.mark
        assert second.stats.search_requests == -(-2 * len(slugs) // sd.SEARCHES_PER_REQUEST)


def test_the_watermark_rule() -> None:
    def ref(at: str) -> sd.ThreadRef:
        return sd.ThreadRef("I_1", "Issue", at, sd.RepoRef("o", "r"))

    until = datetime(2025, 6, 1, tzinfo=UTC)
    since = datetime(2025, 5, 1, tzinfo=UTC)
    lag = timedelta(minutes=10)
    assert sd.new_watermark([], since, until, lag) == since
    assert sd.new_watermark([], None, until, lag) is None
    old = ref("2025-05-20T00:00:00Z")
    assert sd.new_watermark([old], since, until, lag) == datetime(2025, 5, 20, tzinfo=UTC)
    fresh = ref("2025-05-31T23:55:00Z")  # inside the index lag: searched again next run
    assert sd.new_watermark([old, fresh], since, until, lag) == until - lag
    assert sd.new_watermark([fresh], until - timedelta(minutes=1), until, lag) == until - (
        timedelta(minutes=1)
    )


def test_the_search_document_is_valid_and_costs_one_point() -> None:
    schema = load_schema()
    cases: list[tuple[DocumentNode, dict[str, Any]]] = [
        (
            sd.search_document(sd.SEARCHES_PER_REQUEST),
            {"first": 100, **{f"query{i}": "org:acme" for i in range(sd.SEARCHES_PER_REQUEST)}},
        ),
    ]
    for document, variables in cases:
        assert not validate(schema, document)
        analysis = analyze(schema, document, variables, None)
        assert not analysis.errors and analysis.cost == 1, analysis


def _reference_schema() -> GraphQLSchema:
    path = REFERENCE / "github-schema.graphql"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared sits beside the project in CI only)")
    schema = build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)
    schema._validation_errors = []  # GitHub's own schema: see tests/test_queries.py
    return schema


def test_documents_are_valid_against_githubs_schema() -> None:
    schema = _reference_schema()
    assert not validate(schema, sd.search_document(3))
