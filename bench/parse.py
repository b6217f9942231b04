"""Benchmark of the metadata parser (`harvester.dialects`): throughput and adversarial bodies.

Usage: .venv/bin/python bench/parse.py [--preset 10k] [--seed 1] [--runs 7] [--adversarial-mb 1]

1. Realistic corpus: every comment body of a simulator world (current bodies and every stored
   revision), parsed with `parse_comment` as the crawler would (author login and type given);
   then `is_bot_candidate` over the same bodies. Prints the median of `--runs` runs in MB/s
   (UTF-8 bytes) and comments/s.
2. Adversarial bodies of about `--adversarial-mb` MB each (unterminated `<!--`, thousands of
   blocks, nested markers, an unterminated JSON string, deep nesting, lone surrogates...):
   median time per body and the scanner's steps per character (linear-time evidence).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable, Iterator

from harvester.dialects import is_bot_candidate, parse_comment, parse_with_steps
from harvester.simulator.world import WorldSpec, generate_world

Body = tuple[str, str | None, str | None]  # body, author login, author type


def world_bodies(preset: str, seed: int) -> list[Body]:
    world = generate_world(WorldSpec.preset(preset, seed))
    out: list[Body] = []
    for comment in world.comments:
        if comment.deleted:
            continue
        login = comment.author.login if comment.author else None
        kind = comment.author.typename if comment.author else None
        out.append((comment.body, login, kind))
        for edit in comment.edits[:-1]:  # the newest revision is the current body
            if edit.diff is not None:
                out.append((edit.diff, login, kind))
    return out


def _median_seconds(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process over `runs` runs.

    On a shared machine the CPU time is the steadier figure: it leaves out the time spent
    waiting for a core that another process holds.
    """
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def bench_corpus(bodies: list[Body], runs: int) -> None:
    size_mb = sum(len(body.encode("utf-8", "surrogatepass")) for body, _, _ in bodies) / 1e6

    def parse_all() -> None:
        for body, login, kind in bodies:
            parse_comment(body, author_login=login, author_type=kind)

    def check_all() -> None:
        for body, _, _ in bodies:
            is_bot_candidate(body)

    print(f"corpus: {len(bodies):,} bodies, {size_mb:.2f} MB (UTF-8)")
    for name, run in (("parse_comment", parse_all), ("is_bot_candidate", check_all)):
        wall, cpu = _median_seconds(run, runs)
        print(
            f"{name:17s} wall {wall * 1000:5.0f} ms = {size_mb / wall:6.1f} MB/s, "
            f"{len(bodies) / wall:9,.0f} comments/s | CPU {cpu * 1000:5.0f} ms = "
            f"{size_mb / cpu:6.1f} MB/s, {len(bodies) / cpu:9,.0f} comments/s"
        )


def adversarial(size: int) -> Iterator[tuple[str, str]]:
    block = (
        "<!-- UbiquityOS - handler - 1234 - @bob - http://localhost\n"
        '{\n  "caller": "handler"\n}\n-->\n'
    )
    yield "unterminated <!-- repeated", "<!--" * (size // 4)
    yield "unterminated header + {", "<!-- Ubiquity - a - b - c\n{" * (size // 27)
    yield "valid SDK blocks", block * (size // len(block))
    yield "header without newline", "<!-- UbiquityOS - " * (size // 18)
    yield "token-usage opens <!--[1,", "<!--[1," * (size // 7)
    yield "nested markers", "<!-- daemon-task-matcher " * (size // 25)
    yield "legacy string full of -->", '<!-- Ubiquity - a - b - c\n{"s": "' + "-->" * (size // 3)
    yield "unterminated JSON string", '<!--{"a": "' + "--><!--[1," * (size // 10)
    yield "deep nesting", "<!-- Ubiquity - a - b - c\n" + "[" * size
    yield "lone surrogates", "\ud800<!-- Ubiquity - a - b - c\n\udfff" * (size // 30)
    yield "one-line headers", "<!-- Ubiquity - x -->" * (size // 21)
    yield "closed invalid JSON <!--[1,-->", "<!--[1,-->" * (size // 10)
    yield "closed invalid header JSON", "<!-- Ubiquity - a - b - c\n{-->\n" * (size // 31)


def bench_adversarial(size: int, runs: int) -> None:
    for name, body in adversarial(size):

        def run(body: str = body) -> object:
            return parse_with_steps(body, author_login="ubiquity-os", author_type="Bot")

        wall, cpu = _median_seconds(run, runs)
        steps = parse_with_steps(body, author_login="ubiquity-os", author_type="Bot")[1]
        print(
            f"{name:28s} {len(body) / 1e6:.2f} M chars: wall {wall * 1000:6.1f} ms, "
            f"CPU {cpu * 1000:6.1f} ms, {steps / len(body):.2f} steps/char"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="10k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--adversarial-mb", type=float, default=1.0)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}")
    bodies = world_bodies(args.preset, args.seed)
    bench_corpus(bodies, args.runs)
    bench_adversarial(int(args.adversarial_mb * 1_000_000), max(3, args.runs // 2))


if __name__ == "__main__":
    main()
