"""Benchmark of `harvester export` on the warehouse `bench/build.py` builds.

Usage:
    .venv/bin/python bench/build.py --comments 1000000 --only cold --data /tmp/bench_build
    .venv/bin/python bench/export.py --data /tmp/bench_build --runs 3

One partner holds every org of the bench world (the whole warehouse: the worst case), or the
first `--orgs N` of them. Each run is a fresh process (peak RSS is the export's own) writing
every format; the median wall time, the time per step, the rows per subset and the peak RSS
are printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.build import ORGS  # noqa: E402
from harvester.config import config_from_mapping  # noqa: E402
from harvester.export import ExportOptions, partner_scope, run_export  # noqa: E402


def run_once(data: Path, orgs: int, out: Path, workers: int) -> dict[str, Any]:
    config = config_from_mapping(
        {"partners": {"bench": {"orgs": ORGS[:orgs], "system_prompt": "You are a bot."}}}
    )
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    last = [t0]

    def on_progress(stage: str, done: int) -> None:
        now = time.perf_counter()
        steps[stage] = steps.get(stage, 0.0) + now - last[0]
        last[0] = now

    options = ExportOptions(
        data,
        config,
        partner_scope(config, "bench"),
        out_dir=out,
        on_progress=on_progress,
        workers=workers,
    )
    result = run_export(options)
    seconds = time.perf_counter() - t0
    manifest = result.manifest
    return {
        "seconds": seconds,
        "steps": {k: round(v, 2) for k, v in steps.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "subsets": {s: (v["total"], v["dropped"]) for s, v in manifest["subsets"].items()},
        "labelstudio": manifest["labelstudio"]["tasks"],
        "prompt_kits": manifest["prompt-kit"]["repositories"],
        "redactions": sum(manifest["redactions"]["by_kind"].values()),
        "bytes": sum(f["bytes"] for f in manifest["files"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a bench/build.py data dir")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orgs", type=int, default=len(ORGS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--run-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = args.data / "exports" / "bench"
    if args.run_once:
        print(json.dumps(run_once(args.data, args.orgs, out, args.workers)))
        return
    if not (args.data / "warehouse.duckdb").is_file():
        sys.exit(f"no warehouse in {args.data}: run bench/build.py --data {args.data} first")
    bench = json.loads((args.data / "bench.json").read_text())
    print(f"Python {platform.python_version()} on {platform.machine()}, data {args.data}: {bench}")
    results = []
    for _ in range(args.runs):
        command = [sys.executable, __file__, "--data", str(args.data), "--orgs", str(args.orgs)]
        command += ["--workers", str(args.workers)]
        done = subprocess.run([*command, "--run-once"], check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    times = [r["seconds"] for r in results]
    last = results[-1]
    print(
        f"export of {args.orgs} orgs, every format, {args.workers} worker(s): median "
        f"{statistics.median(times):.1f} s over "
        f"{len(times)} run(s) ({', '.join(f'{t:.1f}' for t in times)}); peak RSS "
        f"{max(r['peak_rss_mb'] for r in results):.0f} MB; {last['bytes'] / 1e6:.0f} MB written"
    )
    print(f"  time per step (s, last run): {last['steps']}")
    print(f"  examples (kept, dropped): {last['subsets']}")
    print(
        f"  review tasks {last['labelstudio']:,}, prompt kits {last['prompt_kits']:,}, "
        f"redactions {last['redactions']:,}"
    )


if __name__ == "__main__":
    main()
