"""`harvester demo`: the job end to end on the built-in simulator (no token, no network)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from harvester.auth import StaticToken
from harvester.build import BuildOptions, build
from harvester.config import HarvesterConfig, config_from_mapping
from harvester.crawl import CrawlOptions, Source, run_crawl
from harvester.export import ExportOptions, partner_scope, run_export
from harvester.operator import bot_rules, crawl_progress
from harvester.simulator.server import Simulator, SimulatorSettings
from harvester.simulator.truth import export_truth, summary
from harvester.simulator.world import WorldSpec, generate_world

DEMO_TOKEN = "demo-token-not-a-secret"

_PROBE = """
query DemoProbe($org: String!) {
  rateLimit { cost limit remaining used resetAt nodeCount }
  organization(login: $org) {
    login
    repositories(first: 100) { totalCount nodes { nameWithOwner issues { totalCount } } }
  }
}
"""


async def _probe(url: str, org: str) -> tuple[dict[str, Any], dict[str, str]]:
    headers = {"Authorization": f"bearer {DEMO_TOKEN}"}
    payload = {"query": _PROBE, "variables": {"org": org}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=payload, headers=headers) as resp,
    ):
        body = await resp.json()
        rate_headers = {
            k.lower(): v for k, v in resp.headers.items() if k.lower().startswith("x-ratelimit")
        }
    if "errors" in body:
        raise RuntimeError(f"the simulator refused the demo probe: {body['errors']}")
    return body["data"], rate_headers


def demo_config(orgs: list[str]) -> HarvesterConfig:
    """Two demo partners, so the export shows its isolation: UbiquityOS's own orgs, the rest."""
    own = [o for o in orgs if o.startswith("ubiquity-os")]
    others = [o for o in orgs if o not in own]
    partners: dict[str, Any] = {}
    if own:
        partners["ubiquityos"] = {
            "orgs": own,
            "license": "mit",
            "system_prompt": "You are UbiquityOS, an assistant for open-source contributors.",
            "description": "Demo: UbiquityOS answers in its own organisations (simulated).",
        }
    if others:
        partners["community"] = {
            "orgs": others,
            "license": "cc-by-4.0",
            "description": "Demo: answers in the other organisations (simulated).",
        }
    return config_from_mapping({"partners": partners})


async def run_demo(
    data: Path, *, seed: int, scale: str, console: Console, quiet: bool = False
) -> dict[str, Any]:
    """Generate a world, serve it on loopback, crawl it like GitHub, compare with the truth."""
    started = time.perf_counter()
    spec = WorldSpec.preset(scale, seed)
    steps: dict[str, float] = {}
    with console.status(f"generating the {scale} world (seed {seed})...") if not quiet else _null():
        t0 = time.perf_counter()
        world = generate_world(spec)
        steps["generate_s"] = time.perf_counter() - t0
    truth_dir = data / "simulator" / "truth"
    tables = export_truth(world, truth_dir, "parquet")
    config = demo_config([o.login for o in world.orgs])
    async with Simulator(world, SimulatorSettings(seed=seed)) as sim:
        probed, rate_headers = await _probe(sim.url, world.orgs[0].login)
        options = CrawlOptions(
            data_dir=data,
            endpoint=sim.url,
            sources=[
                Source(
                    StaticToken(DEMO_TOKEN, "demo token"), orgs=tuple(o.login for o in world.orgs)
                )
            ],
            bots=bot_rules(config),
            parse_bots=config.bots,  # the build's own [bots]: it reuses what the crawl parsed
        )
        t0 = time.perf_counter()
        with crawl_progress(console, enabled=not quiet) as on_progress:
            options.on_progress = on_progress
            crawled = await run_crawl(options)
        steps["crawl_s"] = time.perf_counter() - t0
        stats = sim.stats.as_dict()
        url = sim.url
    with console.status("building the warehouse...") if not quiet else _null():
        t0 = time.perf_counter()
        built = build(BuildOptions(data, config))
        steps["build_s"] = time.perf_counter() - t0
    exports = {}
    with console.status("exporting training sets...") if not quiet else _null():
        t0 = time.perf_counter()
        for name in config.partners:
            done = run_export(ExportOptions(data, config, partner_scope(config, name)))
            exports[name] = {"out_dir": str(done.out_dir), **_export_summary(done.manifest)}
        steps["export_s"] = time.perf_counter() - t0
    org = probed["organization"]
    return {
        "seed": seed,
        "scale": scale,
        "data_dir": str(data),
        "world": summary(world),
        "simulator": {
            "url": url,
            "probe_org": org["login"],
            "probe_repositories": org["repositories"]["totalCount"],
            "probe_rate_limit": probed["rateLimit"],
            "rate_limit_headers": rate_headers,
            "stats": stats,
        },
        "crawl": crawled.as_dict(),
        "warehouse": {"path": str(built.warehouse), **built.marts},
        "exports": exports,
        "truth_dir": str(truth_dir),
        "truth_tables": tables,
        "timings_s": {k: round(v, 3) for k, v in steps.items()},
        "elapsed_s": round(time.perf_counter() - started, 3),
    }


def _export_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "orgs": manifest["orgs"],
        "examples": {s: v["total"] for s, v in manifest["subsets"].items()},
        "redacted": sum(manifest["redactions"]["by_kind"].values()),
        "review_tasks": manifest.get("labelstudio", {}).get("tasks", 0),
        "kto_label_balance": manifest.get("kto_label_balance", {}),
    }


@contextlib.contextmanager
def _null() -> Iterator[None]:
    yield


def render_summary(result: dict[str, Any], out: Console) -> None:
    world = result["world"]
    crawl = result["crawl"]
    counts = crawl["counts"]
    table = Table(
        title=f"Simulated GitHub (seed {result['seed']}, scale {result['scale']}) "
        "and what the crawl harvested"
    )
    table.add_column("")
    table.add_column("in the world", justify="right")
    table.add_column("harvested", justify="right")
    rows = (
        ("organisations", world.get("orgs"), None),
        (
            "repositories",
            world.get("repos"),
            counts.get("repos", 0) + counts.get("repos_unchanged", 0),
        ),
        ("threads (issues + PRs)", world.get("threads"), counts.get("threads")),
        ("bot comments", world.get("bot_comments"), counts.get("bot_comments")),
        (
            "reactions on bot comments",
            world.get("reactions_on_bot_comments"),
            counts.get("reactions"),
        ),
        ("revisions of bot comments", None, counts.get("edits")),
        ("human corrections", world.get("human_corrections"), None),
    )
    for label, have, got in rows:
        table.add_row(
            label, "-" if have is None else f"{have:,}", "-" if got is None else f"{got:,}"
        )
    out.print(table)
    out.print(
        f"Crawl {crawl['run_id']}: {crawl['status']}, {crawl['points']:,} rate-limit points in "
        f"{crawl['requests']:,} requests ({crawl['elapsed_s']:.1f} s). A second `harvester demo` "
        "on the same --data crawls incrementally and costs far less.",
        highlight=False,
    )
    data = result["data_dir"]
    out.print(
        f"Raw Parquet: {data}/raw/<table>/   ground truth: {result['truth_dir']}", highlight=False
    )
    wh = result["warehouse"]
    out.print(
        f"Warehouse: {wh['path']}: {wh['bot_comments']:,} bot comments, {wh['revisions']:,} "
        f"revisions, {wh['corrections']:,} corrections, {wh['phrase_weights']:,} phrase weights; "
        f'try `harvester sql --data {data} "select label, count(*) from feedback group by label"`',
        highlight=False,
    )
    for name, done in result["exports"].items():
        examples = done["examples"]
        out.print(
            f"Export {name} ({', '.join(done['orgs'])}): {examples['sft']:,} SFT demonstrations, "
            f"{examples['preference']:,} preference pairs, {examples['kto']:,} KTO examples, "
            f"{done['review_tasks']:,} review tasks, {done['redacted']:,} redactions -> "
            f"{done['out_dir']}/ (TRL and OpenAI files, a Hugging Face dataset in hf/, "
            "manifest.json)",
            highlight=False,
        )
    out.print(
        f"Next: `harvester status --data {data}` for runs and watermarks; "
        "`harvester simulate serve` to explore the API; `harvester crawl --org ORG` with "
        "GITHUB_TOKEN set for real data, then `harvester build` and "
        "`harvester export --partner NAME` (partners in harvester.toml, see "
        "harvester.example.toml).",
        highlight=False,
    )
