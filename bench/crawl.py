"""Benchmark the crawl (issue 3): points, faults, wall time and memory on a simulated world.

    python bench/crawl.py --preset 10k                       # everything, 3 timing repetitions
    python bench/crawl.py --preset 200k --parts ours,rss     # split big worlds over commands
    python bench/crawl.py --preset 10k --parts naive --naive-sweep

Parts (`--parts`, comma-separated; default all):
  ours    our crawler (run_crawl) against an in-process simulator on a FakeClock; the landed
          data is checked against the world's ground truth; points per query name.
  naive   bench/naive_crawler.py on the same world (one nested query per page of threads).
  faults  our crawler again with `--faults` injected; same truth check; extra points in %.
  wall    our crawler in a child process against a simulator served here with `--latency-ms`
          on the real clock, `--reps` times: median wall time against the latency bound.
  rss     our crawler in a child process, no latency: its peak RSS (VmHWM of the child).
The lower bound (see BENCHMARKS.md, "Crawl") is computed from the world itself and always shown.
Points are what the simulator charged (`stats.points_charged`), failed requests included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from graphql import DocumentNode, OperationDefinitionNode  # noqa: E402

from bench.naive_crawler import NaivePages, NaiveResult, naive_crawl  # noqa: E402
from harvester.auth import StaticToken  # noqa: E402
from harvester.clock import Clock, FakeClock, SystemClock  # noqa: E402
from harvester.config import default_config  # noqa: E402
from harvester.crawl import CrawlOptions, Source, run_crawl  # noqa: E402
from harvester.simulator.cost import QueryAnalysis  # noqa: E402
from harvester.simulator.faults import parse_fault_spec  # noqa: E402
from harvester.simulator.limits import Budget  # noqa: E402
from harvester.simulator.model import Comment, Thread, World  # noqa: E402
from harvester.simulator.server import Simulator, SimulatorSettings  # noqa: E402
from harvester.simulator.truth import export_truth, is_bot  # noqa: E402
from harvester.simulator.world import PRESETS, WorldSpec, generate_world  # noqa: E402
from tests.truthcheck import assert_matches_truth  # noqa: E402

TOKEN = "bench-token"
PAGE = 100  # most nodes per connection page (and ids per nodes(ids:))
UNITS_PER_POINT_MAX = 149  # max(1, round(r / 100)) is 1 point up to 149 requests
UNLIMITED = 10**9
DEFAULT_FAULTS = "502=0.03,secondary=0.02,reset=0.01,badjson=0.02,partial=0.02"
PARTS = ("ours", "naive", "faults", "wall", "rss")
NAIVE_SWEEP = ((1, 4, 4), (1, 3, 6), (1, 2, 10), (1, 3, 3), (1, 5, 5), (2, 4, 4), (10, 5, 5))

# Which stage of the crawl each packer unit belongs to (queries/packed/units.graphql).
STAGE_OF = {
    "OrgReposUnit": "repositories",
    "RepoChangesUnit": "repositories",
    "IssueListUnit": "threads and comments",
    "PullListUnit": "threads and comments",
    "ThreadCommentsUnit": "threads and comments",
    "MoreCommentsUnit": "threads and comments",
    "PullReviewsUnit": "threads and comments",
    "MoreReviewsUnit": "threads and comments",
    "IssuesByIdUnit": "threads and comments",
    "PullsByIdUnit": "threads and comments",
    "ReviewInlineUnit": "inline review comments",
    "MoreInlineUnit": "inline review comments",
    "HydrateReactorsUnit": "hydration",
    "HydrateEditsUnit": "hydration",
    "HydrateBothUnit": "hydration",
    "MoreReactorsUnit": "hydration",
    "MoreEditsUnit": "hydration",
    "CommentSummariesUnit": "hydration",
}
STAGES = ("repositories", "threads and comments", "inline review comments", "hydration")


# ---------------------------------------------------------------- the lower bound
def pages(n: int) -> int:
    """Connection pages (or 100-id batches) needed for n items."""
    return -(-n // PAGE)


def _live(comments: list[Comment]) -> list[Comment]:
    return [c for c in comments if not c.deleted]


def _root(c: Comment) -> Comment:
    seen = {c.index}
    while c.reply_to is not None and c.reply_to.index not in seen:
        c = c.reply_to
        seen.add(c.index)
    return c


def _by_review(pull: Thread) -> int:
    return sum(pages(len(_live(r.review_comments))) for r in pull.reviews)


def _by_review_thread(pull: Thread) -> int:
    threads: Counter[int] = Counter()
    for review in pull.reviews:
        for c in _live(review.review_comments):
            threads[_root(c).index] += 1
    return (pages(len(threads)) if threads else 0) + sum(map(pages, threads.values()))


def pull_units(pull: Thread) -> tuple[int, int]:
    """Fewest (review pages, inline comment pages) that list a PR's reviews and inline comments.

    Either `reviews` pages, then inline comments per review or per review thread, whichever is
    fewer; or, when every review has an inline comment, `reviewThreads` alone: each inline
    comment's `pullRequestReview` (a plain object field, no request) brings the review body.
    """
    reviews = _live(pull.reviews)
    inline = min(_by_review(pull), _by_review_thread(pull))
    routes = [(pages(len(reviews)), inline)]
    if reviews and all(_live(r.review_comments) for r in reviews):
        routes.append((0, _by_review_thread(pull)))
    return min(routes, key=sum)


def reactor_units(c: Comment) -> int:
    """`reactionGroups { reactors(first: 100) }` is 1 request per comment for all 8 groups;
    a group over 100 reactors needs more pages of its own."""
    groups = Counter(r.content for r in c.reactions if not r.deleted)
    return max(map(pages, groups.values()), default=0)


@dataclass
class WorldCounts:
    """Ground-truth counts and the request units any crawler must spend on them."""

    orgs: int = 0
    repos: int = 0
    threads: int = 0
    issues: int = 0
    pulls: int = 0
    comments: int = 0
    bot: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    @property
    def bot_comments(self) -> int:
        return self.bot["all"]

    @property
    def total_units(self) -> int:
        return sum(self.units.values())

    @property
    def strict_bound(self) -> int:
        return max(1, math.ceil(self.total_units / UNITS_PER_POINT_MAX))

    @property
    def nominal_bound(self) -> int:
        return max(1, math.ceil(self.total_units / 100))


def count_world(world: World) -> WorldCounts:
    w = WorldCounts(orgs=len(world.orgs), repos=len(world.repos), threads=len(world.threads))
    w.units["repositories"] = sum(max(1, pages(len(o.repos))) for o in world.orgs)
    # No term for listing threads: `repository { issueOrPullRequest(number:) }` is a plain field
    # (no request), so a crawler that guessed the numbers 1..n would never page `issues`.
    for t in world.threads:
        _count_thread(w, t)
    for c in world.comments:
        if not c.deleted:
            w.comments += 1
            if is_bot(c.author):
                _count_bot(w, c)
    return w


def _count_thread(w: WorldCounts, t: Thread) -> None:
    comments = _live(t.comments)
    w.units["comment pages"] += pages(len(comments))
    w.items["threads with comments"] += bool(comments)
    if t.kind == "issue":
        w.issues += 1
        return
    w.pulls += 1
    review_units, inline = pull_units(t)
    w.units["review pages"] += review_units
    w.units["inline comment pages"] += inline
    w.items["PRs with reviews"] += bool(_live(t.reviews))
    w.items["reviews with inline comments"] += sum(1 for r in t.reviews if _live(r.review_comments))


def _count_bot(w: WorldCounts, c: Comment) -> None:
    reacted, edited = reactor_units(c) > 0, bool(c.edits)
    w.bot["all"] += 1
    w.bot[
        {(1, 1): "both", (1, 0): "reactions only", (0, 1): "edits only"}.get(
            (int(reacted), int(edited)), "neither"
        )
    ] += 1
    w.units["reactor pages"] += reactor_units(c)
    w.units["edit pages"] += pages(len(c.edits))


UNIT_STAGE = {
    "repositories": "repositories",
    "comment pages": "threads and comments",
    "review pages": "threads and comments",
    "inline comment pages": "inline review comments",
    "reactor pages": "hydration",
    "edit pages": "hydration",
}


# ---------------------------------------------------------------- the metered simulator
class MeteredSimulator(Simulator):
    """The simulator, also counting requests and charged points per GraphQL operation name.

    The split is exact unless an oversized answer made the server sleep (stats.timeouts > 0):
    then a request served meanwhile may be attributed to the sleeping one.
    """

    def __init__(self, world: World, settings: SimulatorSettings, clock: Clock) -> None:
        super().__init__(world, settings, clock=clock)
        self.requests_by_op: Counter[str] = Counter()
        self.points_by_op: Counter[str] = Counter()

    async def _run(
        self,
        budget: Budget,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        operation_name: str | None,
        analysis: QueryAnalysis,
        fault: str | None,
        request: web.Request,
    ) -> web.StreamResponse:
        name = operation.name.value if operation.name else "(anonymous)"
        before = self.stats.points_charged
        try:
            return await super()._run(
                budget, document, operation, variables, operation_name, analysis, fault, request
            )
        finally:
            self.requests_by_op[name] += 1
            self.points_by_op[name] += self.stats.points_charged - before


def bench_settings(faults: str | None = None, latency_ms: float = 0.0) -> SimulatorSettings:
    """No hourly budget or per-minute limit: the FakeClock never lets a minute pass, and the
    naive crawler needs far more than 5,000 points. Faults still inject secondary limits."""
    return SimulatorSettings(
        seed=7,
        latency_ms=latency_ms,
        faults=parse_fault_spec(faults),
        points_per_hour=UNLIMITED,
        secondary_points_per_minute=UNLIMITED,
    )


# ---------------------------------------------------------------- our crawler, in process
@dataclass
class OursRun:
    status: str
    points: int
    requests: int
    retries: int
    bot_comments: int
    elapsed_s: float
    faults: dict[str, int]
    requests_by_op: Counter[str]
    points_by_op: Counter[str]
    errors: list[str]
    requests_by_unit: dict[str, int] = field(default_factory=dict)


async def crawl_in_process(world: World, data: Path, faults: str | None = None) -> OursRun:
    clock = FakeClock(start=world.now + 60)
    sim = MeteredSimulator(world, bench_settings(faults), clock)
    async with sim:
        options = CrawlOptions(
            data_dir=data,
            endpoint=sim.url,
            sources=[Source(StaticToken(TOKEN), orgs=tuple(o.login for o in world.orgs))],
            clock=clock,
            parse_bots=default_config().bots,  # as `harvester crawl`: parse bodies on landing
        )
        started = time.perf_counter()
        try:
            result = await run_crawl(options)
            status, retries, errors = result.status, result.retries, result.errors
            found = result.counts.get("bot_comments", 0)
            by_unit = result.requests_by_unit
        except Exception as exc:  # report a crashed crawl with what it spent, do not die with it
            status, retries, found, errors = "crashed", -1, -1, [f"{type(exc).__name__}: {exc}"]
            by_unit = {}
        elapsed = time.perf_counter() - started
        if sim.stats.timeouts:
            print(f"note: {sim.stats.timeouts} oversized answers; per-query split approximate")
        return OursRun(
            status,
            sim.stats.points_charged,
            sim.stats.graphql_requests,
            retries,
            found,
            elapsed,
            dict(sim.stats.faults),
            sim.requests_by_op,
            sim.points_by_op,
            errors,
            by_unit,
        )


# ---------------------------------------------------------------- the naive crawler
async def naive_in_process(world: World, naive_pages: NaivePages) -> tuple[NaiveResult, float]:
    clock = FakeClock(start=world.now + 60)
    sim = MeteredSimulator(world, bench_settings(), clock)
    async with sim:
        started = time.perf_counter()
        result = await naive_crawl(sim.url, TOKEN, [o.login for o in world.orgs], naive_pages)
        elapsed = time.perf_counter() - started
        if result.points != sim.stats.points_charged:
            print(
                f"note: naive read {result.points} points, simulator charged "
                f"{sim.stats.points_charged}"
            )
        result.points = sim.stats.points_charged
        return result, elapsed


# ---------------------------------------------------------------- our crawler, in a child
@dataclass
class ChildRun:
    status: str
    wall_s: float
    cpu_s: float
    server_cpu_s: float
    peak_rss_mb: float
    ru_maxrss_mb: float
    requests: int
    points: int
    max_in_flight: int


def _vm_hwm_mb() -> float:
    """Peak RSS of this process image (Linux VmHWM). `ru_maxrss` would not do in a child:
    Linux carries the parent's RSS at fork over exec into it (see BENCHMARKS.md)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _ru_maxrss_mb()


def _ru_maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


async def _child_crawl(endpoint: str, data: Path, orgs: tuple[str, ...]) -> dict[str, Any]:
    options = CrawlOptions(
        data_dir=data,
        endpoint=endpoint,
        sources=[Source(StaticToken(TOKEN), orgs=orgs)],
        parse_bots=default_config().bots,
    )
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = await run_crawl(options)
    return {
        "status": result.status,
        "errors": result.errors[:3],
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "points": result.points,
        "requests": result.requests,
        "max_in_flight": options.max_in_flight,
    }


def child_main(endpoint: str, data: Path, orgs: str) -> None:
    """Entry point of the child process: one crawl, then one JSON line on stdout."""
    out = asyncio.run(_child_crawl(endpoint, data, tuple(orgs.split(","))))
    out["peak_rss_mb"] = _vm_hwm_mb()
    out["ru_maxrss_mb"] = _ru_maxrss_mb()
    print(json.dumps(out))


async def crawl_in_child(world: World, data: Path, latency_ms: float) -> ChildRun:
    """Serve the world here (real clock, GitHub's default limits), crawl it from a child."""
    settings = SimulatorSettings(seed=7, latency_ms=latency_ms)
    sim = MeteredSimulator(world, settings, SystemClock())
    async with sim:
        cpu0 = time.process_time()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", sim.url, "--data", str(data),
            "--orgs", ",".join(o.login for o in world.orgs),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        server_cpu = time.process_time() - cpu0
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"crawler child failed ({proc.returncode}): {err.decode()[-2000:]}")
    got = json.loads(out.decode().strip().splitlines()[-1])
    if got["status"] != "ok":
        raise RuntimeError(f"crawler child ended {got['status']}: {got['errors']}")
    return ChildRun(
        got["status"], got["wall_s"], got["cpu_s"], server_cpu, got["peak_rss_mb"],
        got["ru_maxrss_mb"], sim.stats.graphql_requests, sim.stats.points_charged,
        got["max_in_flight"],
    )  # fmt: skip


# ---------------------------------------------------------------- reports
def per_1k(points: int, bot_comments: int) -> float:
    return 1000 * points / max(1, bot_comments)


def print_world(w: WorldCounts, preset: str, seed: int, gen_s: float) -> None:
    print(
        f"machine   {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    print(
        f"world     {preset} (seed {seed}), generated in {gen_s:.1f} s: {w.orgs} orgs, "
        f"{w.repos} repos, {w.threads:,} threads ({w.issues:,} issues, {w.pulls:,} PRs), "
        f"{w.comments:,} comments"
    )
    print(
        f"bot       {w.bot_comments:,} bot comments: "
        + ", ".join(f"{k} {v:,}" for k, v in w.bot.items() if k != "all")
    )
    print("          " + ", ".join(f"{k} {v:,}" for k, v in w.items.items()))


def print_bound(w: WorldCounts) -> None:
    print("\nlower bound: request units any crawler must pay (GHES coster), then points")
    for name, units in w.units.items():
        print(f"  {name:<22} {units:>8,}")
    total = w.total_units
    print(f"  {'total R':<22} {total:>8,}")
    print(
        f"  strict  ceil(R / 149) = {w.strict_bound:,} points "
        f"({per_1k(w.strict_bound, w.bot_comments):.1f} per 1,000 bot comments)"
    )
    print(
        f"  nominal ceil(R / 100) = {w.nominal_bound:,} points "
        f"({per_1k(w.nominal_bound, w.bot_comments):.1f} per 1,000 bot comments)"
    )


def print_ours(run: OursRun, w: WorldCounts, truth: str) -> None:
    print(
        f"\nours      {run.status}: {run.points:,} points, {run.requests:,} requests, "
        f"{run.retries} retries, {run.elapsed_s:.1f} s in process (FakeClock); "
        f"{run.bot_comments:,} bot comments found"
        f"\n          {truth}"
    )
    print(
        f"          {per_1k(run.points, w.bot_comments):.1f} points per 1,000 bot comments; "
        f"x{run.points / w.strict_bound:.2f} the strict bound, "
        f"x{run.points / w.nominal_bound:.2f} the nominal bound"
    )
    print_stages(run, w)


def print_stages(run: OursRun, w: WorldCounts) -> None:
    stage_units: Counter[str] = Counter()
    for name, units in w.units.items():
        stage_units[UNIT_STAGE[name]] += units
    print(f"\n  {'query':<22} {'requests':>8} {'points':>7}")
    for op, n in sorted(run.requests_by_op.items(), key=lambda kv: -run.points_by_op[kv[0]]):
        print(f"  {op:<22} {n:>8,} {run.points_by_op[op]:>7,}")
    # Packed queries mix stages: what each stage asked, in request units (the packer's pricing).
    print(f"\n  {'stage':<24} {'units R':>8} {'R/149':>7} {'R/100':>7} {'ours':>7} {'ours/149':>8}")
    for stage in STAGES:
        ours = sum(n for kind, n in run.requests_by_unit.items() if STAGE_OF.get(kind) == stage)
        units = stage_units[stage]
        print(
            f"  {stage:<24} {units:>8,} {units / 149:>7.1f} {units / 100:>7.1f} {ours:>7,} "
            f"{ours / 149:>8.1f}"
        )
    total = sum(run.requests_by_unit.values())
    print(
        f"  {'all':<24} {w.total_units:>8,} {w.total_units / 149:>7.1f} "
        f"{w.total_units / 100:>7.1f} {total:>7,} {total / 149:>8.1f}   "
        f"(mean fill {total / max(1, run.requests):.0f} requests per query)"
    )


def print_naive(result: NaiveResult, elapsed: float, w: WorldCounts, ours: OursRun | None) -> None:
    print(
        f"\nnaive     {result.pages}: {result.points:,} points, {result.requests:,} requests, "
        f"{elapsed:.1f} s; found {result.bot_comments:,} bot comments, "
        f"{result.reactions:,} reactions, {result.edits:,} edits on them"
    )
    line = f"          {per_1k(result.points, w.bot_comments):.1f} points per 1,000 bot comments"
    if ours is not None:
        line += f"; ours spends x{result.points / max(1, ours.points):.1f} fewer points"
    print(line)
    for op, n in result.by_query.most_common():
        print(f"  {op:<26} {n:>8,} requests {result.points_by_query[op]:>8,} points")


def print_faults(spec: str, run: OursRun, clean: OursRun | None, truth: str) -> None:
    print(
        f"\nfaults    {spec}: {run.status}, {run.points:,} points, {run.requests:,} requests, "
        f"{run.retries} retries, injected {run.faults}"
        f"\n          {truth}"
    )
    if clean is not None:
        extra = 100 * (run.points - clean.points) / max(1, clean.points)
        print(f"          {extra:+.1f}% points against the clean run ({clean.points:,})")
        for op in sorted(set(run.points_by_op) | set(clean.points_by_op)):
            delta = run.points_by_op[op] - clean.points_by_op[op]
            if delta:
                print(
                    f"  {op:<22} {delta:+6,} points "
                    f"({run.requests_by_op[op] - clean.requests_by_op[op]:+,} requests)"
                )


def print_wall(runs: list[ChildRun], latency_ms: float) -> None:
    """Median wall time against ceil(requests / in flight) x latency, and the CPU floors."""
    wall = statistics.median(r.wall_s for r in runs)
    requests = int(statistics.median(r.requests for r in runs))
    bound = math.ceil(requests / runs[0].max_in_flight) * latency_ms / 1000
    server = statistics.median(r.server_cpu_s for r in runs)
    print(
        f"\nwall      latency {latency_ms:g} ms, {len(runs)} runs: median {wall:.2f} s "
        f"(runs {', '.join(f'{r.wall_s:.2f}' for r in runs)}); {requests:,} requests at "
        f"{runs[0].max_in_flight} in flight: latency bound {bound:.2f} s, x{wall / bound:.1f}"
    )
    print(
        f"          median CPU: crawler {statistics.median(r.cpu_s for r in runs):.2f} s, "
        f"simulator {server:.2f} s (one event loop: requests are served one at a time); "
        f"wall / max(latency bound, simulator CPU) = x{wall / max(bound, server):.2f}"
    )
    print(f"          points per run: {', '.join(str(r.points) for r in runs)}")


def print_rss(run: ChildRun, preset: str) -> None:
    print(
        f"\nrss       {preset}: crawler child peak RSS {run.peak_rss_mb:,.0f} MB (VmHWM; "
        f"ru_maxrss {run.ru_maxrss_mb:,.0f} MB incl. the parent's at fork), "
        f"{run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU, {run.points:,} points"
    )


# ---------------------------------------------------------------- driver
def truth_verdict(data: Path, truth: Path) -> str:
    """`tests/truthcheck.py` on what a crawl landed: a one-line pass or FAIL."""
    try:
        sizes = assert_matches_truth(data, truth)
    except AssertionError as exc:
        return f"truth check FAILED: {str(exc)[:300]}"
    return "truth check passed " + ", ".join(f"{k} {v:,}" for k, v in sizes.items())


@dataclass
class Bench:
    world: World
    counts: WorldCounts
    work: Path
    truth_dir: Path | None = None
    ours: OursRun | None = None

    def truth(self) -> Path:
        if self.truth_dir is None:
            self.truth_dir = self.work / "truth"
            export_truth(self.world, self.truth_dir)
        return self.truth_dir

    async def run_ours(self, faults: str | None = None) -> tuple[OursRun, str]:
        data = self.work / ("faulty" if faults else "clean")
        run = await crawl_in_process(self.world, data, faults)
        if run.status != "ok":
            return run, f"no truth check: the crawl ended {run.status}: {run.errors[:3]}"
        return run, truth_verdict(data, self.truth())


async def run_parts(args: argparse.Namespace, bench: Bench, parts: set[str]) -> None:
    w = bench.counts
    if "ours" in parts:
        bench.ours, truth = await bench.run_ours()
        print_ours(bench.ours, w, truth)
    if "naive" in parts:
        choices = [NaivePages(*p) for p in NAIVE_SWEEP] if args.naive_sweep else [args.naive]
        for naive_pages in choices:
            result, elapsed = await naive_in_process(bench.world, naive_pages)
            print_naive(result, elapsed, w, bench.ours)
    if "faults" in parts:
        run, truth = await bench.run_ours(args.faults)
        print_faults(args.faults, run, bench.ours, truth)
    if "wall" in parts and args.latency_ms > 0:
        runs = [
            await crawl_in_child(bench.world, bench.work / f"wall{i}", args.latency_ms)
            for i in range(args.reps)
        ]
        print_wall(runs, args.latency_ms)
    if "rss" in parts:
        print_rss(await crawl_in_child(bench.world, bench.work / "rss", 0.0), args.preset)


def _naive_pages(text: str) -> NaivePages:
    threads, reviews, review_comments = (int(x) for x in text.split(","))
    return NaivePages(threads, reviews, review_comments)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--preset", choices=list(PRESETS), default="10k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", default=",".join(PARTS), help=", ".join(PARTS))
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the wall-time run")
    parser.add_argument(
        "--naive",
        type=_naive_pages,
        default=NaivePages(),
        help="naive page sizes THREADS,REVIEWS,REVIEW_COMMENTS (default 1,4,4)",
    )
    parser.add_argument(
        "--naive-sweep", action="store_true", help="run the naive crawler over a grid of page sizes"
    )
    parser.add_argument("--child", metavar="ENDPOINT", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--orgs", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.child:
        child_main(args.child, args.data, args.orgs)
        return
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    started = time.perf_counter()
    world = generate_world(WorldSpec.preset(args.preset, args.seed))
    counts = count_world(world)
    print_world(counts, args.preset, args.seed, time.perf_counter() - started)
    print_bound(counts)
    with tempfile.TemporaryDirectory(prefix="bench_crawl_") as work:
        asyncio.run(run_parts(args, Bench(world, counts, Path(work)), parts))


if __name__ == "__main__":
    main()
