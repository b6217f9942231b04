"""Benchmark of `harvester build`: raw tables at scale, then timed full builds.

Usage:
    .venv/bin/python bench/build.py --comments 1000000 --runs 1 [--data /tmp/bench_build]
    .venv/bin/python bench/build.py --comments 100000 --runs 3

1. Generates the raw landing tables directly with pyarrow (not through the simulator, which
   would take longer than the build): `--comments` bot comments in realistic shapes (SDK and
   legacy headers with JSON metadata, LLM answers with placeholders and human corrections,
   command responses, logs, header-less review bots), the human questions they answer, about
   5 reactions and 2 edit-history rows per bot comment, in two crawl runs (the second
   re-hydrates a tenth of the comments: its snapshots replace the first run's). Written once
   per `--data`/`--comments`/`--seed` and reused.
2. Lands the parses the crawler would have landed (`caches.LandedParser`, fed each run's rows
   in the crawler's flush size) and prints what that cost: the CPU a crawl spends parsing
   while it waits on GitHub. Redone when the parser's fingerprint changes.
3. Times full builds, each in a fresh process (so peak RSS is the build's, not the
   generator's): `cold` reuses nothing (every body parsed: a rebuild after a parser or
   `[bots]` change), `landed` is the first build after the crawl (no previous warehouse; the
   landed parses are reused), `warm` reuses the previous warehouse (a nightly build with
   nothing new). Prints the median wall time of `--runs` runs of each, their CPU time (the
   build process and its workers: steadier than wall time on a shared machine), the slowest
   models, and the peak RSS of the build process and of its largest worker process.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harvester.rawschema import TABLES

ORGS = [f"org-{i:02d}" for i in range(12)]
REPOS_PER_ORG = 15
USERS = [f"user{i:05d}" for i in range(6000)]
UBIQUITY_BOTS = ["ubiquity-os", "ubiquity-os-beta", "ubiquity-os-development"]
REVIEW_BOTS = ["coderabbitai", "copilot-pull-request-reviewer"]
T0 = datetime(2025, 1, 15, tzinfo=UTC)
CONTENTS = ["THUMBS_UP", "HEART", "ROCKET", "HOORAY", "THUMBS_DOWN", "CONFUSED", "LAUGH", "EYES"]
CONTENT_WEIGHTS = [40, 15, 10, 8, 10, 7, 5, 5]
PART_ROWS = 250_000

_WORD_TEXT = """
the a to of and is in it you that for on with as this be are config plugin worker deploy
command issue pull request review comment label price time estimate assign wallet permit
reward kernel repository organisation environment variable secret token webhook event handler
payload function return value error message log retry timeout request response cache database
query table column index migration schema type interface module package import export build
test coverage branch merge commit push release version tag changelog action workflow runner job
step matrix node deno cloudflare supabase github graphql rest api endpoint rate limit budget
points page cursor node edge connection field argument mutation subscription payload server
client browser extension setting option default override threshold priority weight score
contributor maintainer collaborator admin member role permission access check validate parse
serialize escape unescape header metadata block json yaml markdown link image file path folder
directory script shell bash typescript javascript python rust deno bun npm yarn pnpm lockfile
dependency upgrade downgrade patch fix bug feature refactor cleanup docs readme guide example
should could would will can may might must need needs make makes use uses run runs set sets
add adds remove removes update updates change changes create creates delete deletes open close
"""
_WORDS = _WORD_TEXT.split()
_ZIPF = [1.0 / (rank + 1) ** 0.9 for rank in range(len(_WORDS))]
_PLACEHOLDERS = ["Thinking...", "> [!TIP]\n> Thinking...", "UbiquityOS is thinking..."]
_LOG_LINES = [
    "! You do not have the adequate role to start this task (your role is: member). "
    "Allowed roles are: collaborator, admin.",
    "! This task does not reflect a business priority at the moment.",
    "! No price label is set to calculate the duration",
    "Passed the deadline and no activity is detected, removing assignees.",
    "! You have reached your max task limit. Please close out some tasks before assigning "
    "new ones.",
]


def _ts(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


class Generator:
    """Column buffers per raw table, flushed to Parquet parts."""

    def __init__(self, data: Path, seed: int) -> None:
        self.data = data
        self.rng = random.Random(seed)
        self.rows: dict[str, dict[str, list[Any]]] = {}
        self.parts: dict[tuple[str, str], int] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        for table in ("threads", "comments", "reactions", "edits", "hydrations"):
            self._reset(table)

    def _reset(self, table: str) -> None:
        self.rows[table] = {name: [] for name in TABLES[table].names}

    def add(self, table: str, **values: Any) -> None:
        columns = self.rows[table]
        for name, column in columns.items():
            column.append(values.get(name))
        if len(columns["run_id"]) >= PART_ROWS:
            self.flush(table)

    def flush(self, table: str) -> None:
        columns = self.rows[table]
        if not columns["run_id"]:
            return
        schema = TABLES[table]
        by_run: dict[str, list[int]] = {}
        for i, run in enumerate(columns["run_id"]):
            by_run.setdefault(run, []).append(i)
        for run, idx in by_run.items():
            arrays = []
            for f in schema:
                values = [columns[f.name][i] for i in idx]
                if pa.types.is_timestamp(f.type):
                    arrays.append(pa.array(values, pa.int64()).cast(f.type))
                else:
                    arrays.append(pa.array(values, f.type))
            folder = self.data / "raw" / table / f"run_id={run}"
            folder.mkdir(parents=True, exist_ok=True)
            seq = self.parts.get((table, run), 0)
            self.parts[(table, run)] = seq + 1
            pq.write_table(
                pa.Table.from_arrays(arrays, schema=schema),
                folder / f"part-{seq:05d}.parquet",
                compression="zstd",
            )
            self.counts[table] += len(idx)
        self._reset(table)

    # ---------- text
    def sentence(self) -> str:
        words = self.rng.choices(_WORDS, _ZIPF, k=self.rng.randint(7, 18))
        if self.rng.random() < 0.15:
            words[self.rng.randrange(len(words))] = f"`{self.rng.choice(_WORDS)}.ts`"
        return " ".join(words).capitalize() + "."

    def answer(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 8)))

    def correct(self, text: str) -> str:
        """One human round: fix a word, extend a sentence, or add one (like the simulator)."""
        roll = self.rng.random()
        words = text.split(" ")
        if roll < 0.4:
            words[self.rng.randrange(len(words))] = self.rng.choice(_WORDS)
            return " ".join(words)
        if roll < 0.7:
            i = self.rng.randrange(len(words))
            words[i] = words[i].rstrip(".") + ", as of the current release."
            return " ".join(words)
        return f"{text}\n\n{self.sentence()}"

    def sdk_block(self, caller: str, plugin: str, extra: dict[str, Any]) -> str:
        run = self.rng.randrange(10**9, 10**10)
        who = self.rng.choice(USERS)
        sha = f"{self.rng.getrandbits(160):040x}"
        payload = json.dumps({"caller": caller, **extra}, indent=2).replace("--", "&#45;&#45;")
        return (
            f"\n\n<!-- UbiquityOS - {caller} - {sha} - @{who} - "
            f"https://github.com/ubiquity-os-marketplace/{plugin}/actions/runs/{run}\n"
            f"{payload}\n-->"
        )

    def legacy_block(self, cls: str, caller: str) -> str:
        payload = json.dumps({"caller": caller, "revision": f"{self.rng.getrandbits(28):07x}"})
        return (
            f"\n<!-- Ubiquity - {cls} - {caller} - {self.rng.getrandbits(28):07x}\n{payload}\n-->"
        )


def generate(data: Path, comments: int, seed: int) -> dict[str, int]:
    g = Generator(data, seed)
    rng = g.rng
    run_a, run_b = "bench-a", "bench-b"
    crawled_a = T0 + timedelta(days=400)
    crawled_b = crawled_a + timedelta(days=1)
    repos = [(org, f"repo-{j:02d}") for org in ORGS for j in range(REPOS_PER_ORG)]
    thread_count = max(1, comments // 2)
    made = 0
    comment_seq = 0
    for t in range(thread_count):
        org, repo = repos[t % len(repos)]
        thread_id = f"I_{t:09d}"
        created = T0 + timedelta(minutes=t)
        g.add(
            "threads",
            thread_id=thread_id,
            org=org,
            repo=repo,
            number=t + 1,
            kind="issue",
            title=g.sentence(),
            body=g.answer(),
            author_login=rng.choice(USERS),
            author_type="User",
            state="OPEN",
            created_at=_ts(created),
            updated_at=_ts(created + timedelta(days=2)),
            url=f"https://github.com/{org}/{repo}/issues/{t + 1}",
            crawled_at=_ts(crawled_a),
            run_id=run_a,
        )
        per_thread = 2 if t < thread_count - 1 else comments - made
        at = created
        for _ in range(per_thread):
            if made >= comments:
                break
            made += 1
            at += timedelta(minutes=rng.randint(5, 600))
            kind = rng.random()
            asker = rng.choice(USERS)
            if kind < 0.45:
                comment_seq += 1
                g.add(
                    "comments",
                    comment_id=f"IC_{comment_seq:010d}",
                    thread_id=thread_id,
                    org=org,
                    repo=repo,
                    kind="issue_comment",
                    author_login=asker,
                    author_type="User",
                    body=f"/ask {g.sentence()}",
                    created_at=_ts(at),
                    updated_at=_ts(at),
                    is_minimized=False,
                    is_bot_comment=False,
                    crawled_at=_ts(crawled_a),
                    run_id=run_a,
                )
                at += timedelta(seconds=30)
            comment_seq += 1
            cid = f"IC_{comment_seq:010d}"
            author = rng.choice(UBIQUITY_BOTS)
            revisions: list[tuple[str | None, str | None, datetime]] = []
            if kind < 0.45:  # an /ask answer: placeholder, answer, sometimes human corrections
                text = g.answer()
                extra = {
                    "groundTruths": [g.sentence() for _ in range(2)],
                    "tokenUsage": {"input": rng.randint(500, 9000), "output": 300, "total": 0},
                }
                block = g.sdk_block("askQuestion", "command-ask", extra)
                body = text + block
                if rng.random() < 0.8:
                    placeholder = rng.choice(_PLACEHOLDERS)
                    if rng.random() < 0.5:  # half of them carry the SDK block already
                        placeholder += block
                    revisions.append((author, placeholder, at))
                    revisions.append((author, body, at + timedelta(seconds=40)))
                if rng.random() < 0.1:
                    if not revisions:
                        revisions.append((author, body, at))
                    when = at + timedelta(hours=3)
                    for _ in range(rng.randint(1, 3)):
                        text = g.correct(text)
                        body = text + block
                        revisions.append((rng.choice(USERS[:200]), body, when))
                        when += timedelta(hours=rng.randint(1, 30))
            elif kind < 0.70:  # a command response the bot keeps updating
                table = "\n".join(
                    f"| {rng.choice(USERS)} | {rng.randint(1, 99)} | {rng.choice(_WORDS)} |"
                    for _ in range(rng.randint(2, 6))
                )
                body = "| user | points | note |\n|---|---|---|\n" + table
                body += g.legacy_block("Assignment", "start")
                if rng.random() < 0.5:
                    for i in range(rng.randint(2, 4)):
                        revisions.append(
                            (author, body + f"\n\nUpdated {i}", at + timedelta(hours=i))
                        )
                    body = revisions[-1][1] or body
            elif kind < 0.85:  # a log line (few distinct texts)
                body = "```diff\n" + rng.choice(_LOG_LINES) + "\n```"
                if rng.random() < 0.5:
                    body += g.sdk_block("handler", "daemon-disqualifier", {})
            else:  # a header-less review bot
                author = rng.choice(REVIEW_BOTS)
                body = "**Actionable comments posted: %d**\n\n%s" % (rng.randint(1, 9), g.answer())
                if rng.random() < 0.6:
                    for i in range(rng.randint(2, 5)):
                        revisions.append(
                            (author, body + f"\n\nReview round {i}", at + timedelta(hours=i))
                        )
                    body = revisions[-1][1] or body
            author_type = "Bot"
            g.add(
                "comments",
                comment_id=cid,
                thread_id=thread_id,
                org=org,
                repo=repo,
                kind="issue_comment",
                author_login=author,
                author_type=author_type,
                body=body,
                created_at=_ts(at),
                updated_at=_ts(revisions[-1][2] if revisions else at),
                last_edited_at=_ts(revisions[-1][2]) if revisions else None,
                includes_created_edit=bool(revisions),
                is_minimized=False,
                is_bot_comment=True,
                bot_reason="author_type",
                url=f"https://github.com/{org}/{repo}/issues/{t + 1}#issuecomment-{comment_seq}",
                crawled_at=_ts(crawled_a),
                run_id=run_a,
            )
            # reactions: most comments get none, some get many (about 5 per comment overall)
            reactions: list[tuple[str, str, str]] = []
            if rng.random() < 0.4:
                n = min(40, int(rng.expovariate(1 / 12.5)) + 1)
                seen: set[tuple[str, str]] = set()
                for _ in range(n):
                    who = rng.choice(USERS) if rng.random() > 0.02 else rng.choice(UBIQUITY_BOTS)
                    content = rng.choices(CONTENTS, CONTENT_WEIGHTS)[0]
                    if (who, content) not in seen:
                        seen.add((who, content))
                        reactions.append((who, content, "Bot" if who in UBIQUITY_BOTS else "User"))
            runs = [(run_a, crawled_a)]
            if rng.random() < 0.1:
                runs.append((run_b, crawled_b))
            for run, crawled in runs:
                current = reactions if run == run_a else reactions[: len(reactions) // 2]
                for who, content, rtype in current:
                    g.add(
                        "reactions",
                        comment_id=cid,
                        content=content,
                        reactor_login=who,
                        reactor_type=rtype,
                        reacted_at=_ts(at + timedelta(hours=1)),
                        crawled_at=_ts(crawled),
                        run_id=run,
                    )
                for i, (editor, text, when) in enumerate(revisions):
                    g.add(
                        "edits",
                        comment_id=cid,
                        edit_id=f"UCE_{comment_seq:010d}_{i}",
                        edited_at=_ts(when),
                        editor_login=editor,
                        editor_type="User" if editor in USERS else "Bot",
                        body=text,
                        crawled_at=_ts(crawled),
                        run_id=run,
                    )
                g.add(
                    "hydrations",
                    comment_id=cid,
                    crawled_at=_ts(crawled),
                    run_id=run,
                    reaction_count=len(current),
                    edit_count=len(revisions),
                    includes_created_edit=bool(revisions),
                    last_edited_at=_ts(revisions[-1][2]) if revisions else None,
                    body=body,
                    updated_at=_ts(at),
                )
    for table in ("threads", "comments", "reactions", "edits", "hydrations"):
        g.flush(table)
    return g.counts


def bench_config() -> Any:
    from harvester.config import DEFAULT_BOT_LOGINS, config_from_mapping

    return config_from_mapping({"bots": {"logins": [*DEFAULT_BOT_LOGINS, *REVIEW_BOTS]}})


PRISTINE = "landed-parses"
"""Beside the raw tables: a copy of what the crawler landed, restored before each `landed` run
(builds add to and compact the parse cache)."""


def land_parses(data: Path) -> dict[str, Any]:
    """What the crawler's `LandedParser` lands for these runs; returns its cost."""
    from harvester.caches import LandedParser, cache_fingerprint, parsed_dir
    from harvester.crawl import LANDER_FLUSH_ROWS

    bots = bench_config().bots
    fingerprint = cache_fingerprint(bots)
    folder = parsed_dir(data, fingerprint)
    shutil.rmtree(folder, ignore_errors=True)
    started, cpu = time.perf_counter(), 0.0
    parsed = 0
    for run in ("bench-a", "bench-b"):
        parser = LandedParser(data, run, bots)
        for table in ("comments", "hydrations", "edits"):
            files = sorted((data / "raw" / table / f"run_id={run}").glob("*.parquet"))
            for path in files:
                for batch in pq.ParquetFile(path).iter_batches(LANDER_FLUSH_ROWS):
                    rows = batch.to_pylist()  # the crawler has these dicts already
                    t0 = time.process_time()
                    parser.observe({table: rows})
                    cpu += time.process_time() - t0
        parsed += parser.parsed
    shutil.rmtree(data / PRISTINE, ignore_errors=True)
    shutil.copytree(folder, data / PRISTINE)
    return {
        "fingerprint": fingerprint,
        "bodies": parsed,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_us_per_body": round(cpu / max(parsed, 1) * 1e6, 1),
    }


def run_once(
    data: Path, mode: str, workers: int | None, memory_limit: str | None = None
) -> dict[str, Any]:
    from harvester.build import BuildOptions, build, warehouse_path

    config = bench_config()
    if mode == "landed":  # the first build after the crawl: no warehouse, the crawl's parses
        from harvester.caches import cache_fingerprint, parsed_dir

        warehouse_path(data).unlink(missing_ok=True)
        folder = parsed_dir(data, cache_fingerprint(config.bots))
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(data / PRISTINE, folder)
    started = time.perf_counter()
    options = BuildOptions(data, config=config, reuse_cache=mode != "cold", workers=workers or 1)
    if memory_limit:
        options.memory_limit = None if memory_limit == "none" else memory_limit
    result = build(options)
    seconds = time.perf_counter() - started
    slowest = sorted(result.models, key=lambda m: -m.seconds)[:12]
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return {
        "seconds": seconds,
        "cpu_seconds": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "stages": result.stages,
        "marts": result.marts,
        "slowest": [(m.name, round(m.seconds, 2), m.rows) for m in slowest],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--only", choices=("cold", "landed", "warm", "all"), default="all")
    parser.add_argument(
        "--memory-limit",
        default=None,
        help="DuckDB memory_limit, e.g. 2GB; none for DuckDB's own (default: the build's, 3GB)",
    )
    parser.add_argument("--run-once", choices=("cold", "landed", "warm"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data or Path(f"/tmp/bench_build_{args.comments}_{args.seed}")
    if args.run_once:
        print(json.dumps(run_once(data, args.run_once, args.workers, args.memory_limit)))
        return
    print(f"Python {platform.python_version()} on {platform.machine()}, data {data}")
    marker = data / "bench.json"
    if marker.is_file():
        counts = json.loads(marker.read_text())
        print(f"reusing raw tables: {counts}")
    else:
        t0 = time.perf_counter()
        counts = generate(data, args.comments, args.seed)
        marker.write_text(json.dumps(counts))
        print(f"generated raw tables in {time.perf_counter() - t0:.1f} s: {counts}")
    from harvester.caches import cache_fingerprint

    landed = data / "landed.json"
    known = json.loads(landed.read_text()) if landed.is_file() else {}
    if known.get("fingerprint") != cache_fingerprint(bench_config().bots):
        known = land_parses(data)
        landed.write_text(json.dumps(known))
    print(f"parses landed as the crawler lands them: {known}")
    modes = ("cold", "landed", "warm") if args.only == "all" else (args.only,)
    for mode in modes:
        results = []
        for _ in range(args.runs):
            command = [sys.executable, __file__, "--data", str(data), "--run-once", mode]
            if args.workers:
                command += ["--workers", str(args.workers)]
            if args.memory_limit:
                command += ["--memory-limit", args.memory_limit]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        times = [r["seconds"] for r in results]
        cpu = [r["cpu_seconds"] for r in results]
        last = results[-1]
        print(
            f"{mode}: median {statistics.median(times):.1f} s over {len(times)} run(s) "
            f"({', '.join(f'{t:.1f}' for t in times)}); CPU (build and workers) median "
            f"{statistics.median(cpu):.0f} s; peak RSS {last['peak_rss_mb']:.0f} MB "
            f"(largest worker {last['worker_peak_rss_mb']:.0f} MB)"
        )
        print(f"  stages (keys reused / computed): {last['stages']}")
        print(f"  marts: {last['marts']}")
        print(f"  slowest models: {last['slowest']}")


if __name__ == "__main__":
    main()
