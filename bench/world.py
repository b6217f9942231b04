"""Benchmark the simulator's world generator (and optionally its ground-truth export).

    python bench/world.py --preset 1m
    python bench/world.py --preset 200k --export /tmp/truth --check

Prints the world's size, wall time, peak RSS and generation rate; the figures go in
BENCHMARKS.md. Peak RSS is the process maximum (`ru_maxrss`), so it includes the interpreter.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvester.simulator.truth import export_truth
from harvester.simulator.world import PRESETS, WorldSpec, check_invariants, generate_world


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KiB on Linux, B on macOS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--preset", choices=list(PRESETS), default="10k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--export", type=Path, help="also export the ground truth (Parquet) here")
    parser.add_argument("--check", action="store_true", help="also run check_invariants")
    args = parser.parse_args()

    started = time.perf_counter()
    world = generate_world(WorldSpec.preset(args.preset, args.seed))
    generate_s = time.perf_counter() - started
    rss_after_generate = _peak_rss_mb()
    live = sum(1 for c in world.comments if not c.deleted)
    print(
        f"machine        {platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )
    print(f"preset         {args.preset} (seed {args.seed})")
    print(f"threads        {len(world.threads):,}")
    print(f"comments       {len(world.comments):,} ({live:,} not deleted)")
    print(f"reactions      {len(world.reactions):,}")
    print(f"edits          {len(world.edits):,}")
    print(f"generate       {generate_s:.1f} s ({len(world.comments) / generate_s:,.0f} comments/s)")
    print(f"peak RSS       {rss_after_generate:,.0f} MB after generation")
    if args.check:
        t0 = time.perf_counter()
        check_invariants(world)
        print(f"invariants     ok in {time.perf_counter() - t0:.1f} s")
    if args.export:
        t0 = time.perf_counter()
        counts = export_truth(world, args.export)
        export_s = time.perf_counter() - t0
        print(f"truth export   {export_s:.1f} s, rows {counts}")
        print(f"peak RSS       {_peak_rss_mb():,.0f} MB after export")


if __name__ == "__main__":
    main()
