"""`harvester demo`: the job end to end on the built-in simulator (no token, no network)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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


async def run_demo(
    data: Path, *, seed: int, scale: str, console: Console, quiet: bool = False
) -> dict[str, Any]:
    """Generate a world, serve it, probe it like a client, and export its ground truth."""
    started = time.perf_counter()
    spec = WorldSpec.preset(scale, seed)
    steps: dict[str, float] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task(f"generating the {scale} world (seed {seed})", total=3)
        t0 = time.perf_counter()
        world = generate_world(spec)
        steps["generate_s"] = time.perf_counter() - t0
        progress.update(task, advance=1, description="serving it on loopback and probing")
        t0 = time.perf_counter()
        async with Simulator(world, SimulatorSettings(seed=seed)) as sim:
            probed, rate_headers = await _probe(sim.url, world.orgs[0].login)
            stats = sim.stats.as_dict()
            url = sim.url
        steps["probe_s"] = time.perf_counter() - t0
        progress.update(task, advance=1, description="writing the world's ground truth")
        t0 = time.perf_counter()
        truth_dir = data / "simulator" / "truth"
        tables = export_truth(world, truth_dir, "parquet")
        steps["truth_s"] = time.perf_counter() - t0
        progress.update(task, advance=1)
    org = probed["organization"]
    return {
        "seed": seed,
        "scale": scale,
        "world": summary(world),
        "simulator": {
            "url": url,
            "probe_org": org["login"],
            "probe_repositories": org["repositories"]["totalCount"],
            "probe_rate_limit": probed["rateLimit"],
            "rate_limit_headers": rate_headers,
            "stats": stats,
        },
        "truth_dir": str(truth_dir),
        "truth_tables": tables,
        "timings_s": {k: round(v, 3) for k, v in steps.items()},
        "elapsed_s": round(time.perf_counter() - started, 3),
    }


def render_summary(result: dict[str, Any], out: Console) -> None:
    world = result["world"]
    table = Table(title=f"Simulated GitHub world (seed {result['seed']}, scale {result['scale']})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in world.items():
        if isinstance(value, int):
            table.add_row(key.replace("_", " "), f"{value:,}")
    out.print(table)
    sim = result["simulator"]
    rate = sim["probe_rate_limit"]
    out.print(
        f"Probed {sim['url']} like a GitHub client: org [bold]{sim['probe_org']}[/] has "
        f"{sim['probe_repositories']} repositories; the query cost {rate['cost']} point(s), "
        f"{rate['remaining']:,}/{rate['limit']:,} left.",
        highlight=False,
    )
    out.print(
        f"Ground truth: {result['truth_dir']} ({', '.join(result['truth_tables'])})",
        highlight=False,
    )
    out.print(
        "Next: `harvester simulate serve --seed 1` to explore the API yourself, "
        "`harvester config check` to validate a harvester.toml.",
        highlight=False,
    )
