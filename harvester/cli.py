"""The `harvester` command line. Each command's help is a small manual with examples."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from harvester import __version__
from harvester.exitcodes import ExitCode

app = typer.Typer(
    name="harvester",
    help=(
        "Harvest human feedback (reactions, edits) on LLM bot comments from GitHub.\n\n"
        "Examples:\n\n"
        "  harvester demo                      # the whole job on the built-in simulator\n\n"
        "  harvester config check              # validate ./harvester.toml\n\n"
        "  harvester simulate serve --port 8765 --seed 7 --faults 502=0.05\n\n"
        "  harvester simulate world --scale small --out world/"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
simulate_app = typer.Typer(
    help=(
        "The built-in GitHub GraphQL simulator: serve it, or export a world's ground truth.\n\n"
        "Examples:\n\n"
        "  harvester simulate serve --port 8765 --seed 1 --scale small\n\n"
        "  harvester simulate world --seed 1 --scale 10k --out truth/ --format json"
    ),
    no_args_is_help=True,
)
config_app = typer.Typer(
    help=(
        "Inspect and validate harvester.toml.\n\n"
        "Example:\n\n  harvester config check --config harvester.toml"
    ),
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")
app.add_typer(config_app, name="config")

console = Console(stderr=True)
out = Console()

DataOpt = Annotated[
    Path, typer.Option("--data", help="Data directory (raw Parquet, state, warehouse).")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Configuration file (default ./harvester.toml if present)."),
]
ConfigDataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory (default: storage.data_dir, ./data)."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print a machine-readable JSON summary on stdout.")
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="World and fault seed: same seed, same world.")
]
ScaleOpt = Annotated[
    str, typer.Option("--scale", help="World size preset: tiny, small, 10k, 200k or 1m (comments).")
]


def _fail(message: str, code: ExitCode) -> typer.Exit:
    # escape: rich would read `[partners.NAME]` or `[auth.app]` in a message as markup
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(int(code))


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"harvester {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Harvest human feedback on LLM bot comments from GitHub."""


# ---------- config
@config_app.command("check")
def config_check(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Load and validate the configuration; list anything that will fail later.

    Exits 2 when the file is invalid or something will fail at crawl time (an unset token
    variable, a missing private key, nothing to crawl), with one line per problem naming the key.

    Examples:

      harvester config check

      harvester config check --config ops/harvester.toml --json
    """
    from harvester.config import ConfigError, check_config, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    problems = check_config(cfg)
    source = str(cfg.source_path) if cfg.source_path else "(built-in defaults)"
    if json_out:
        out.print_json(json.dumps({"config": source, "ok": not problems, "problems": problems}))
    elif problems:
        for line in problems:
            out.print(f"[yellow]problem:[/] {escape(line)}", highlight=False)
    else:
        out.print(f"{escape(source)}: [green]ok[/], ready to crawl", highlight=False)
    if problems:
        raise typer.Exit(int(ExitCode.USAGE))


# ---------- simulate
def _world(seed: int, scale: str) -> Any:
    from harvester.simulator.world import WorldSpec, generate_world

    try:
        spec = WorldSpec.preset(scale, seed)
    except (KeyError, ValueError) as exc:
        raise _fail(f"unknown --scale {scale!r}: {exc}", ExitCode.USAGE) from None
    with console.status(f"generating the {scale} world (seed {seed})..."):
        return generate_world(spec)


@simulate_app.command("serve")
def simulate_serve(
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; keep it on loopback.")
    ] = "127.0.0.1",
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Fault rates, e.g. 502=0.05,secondary=0.03,reset=0.01,badjson=0.01,partial=0.02",
        ),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Added latency per request.")
    ] = 0.0,
    points_per_hour: Annotated[
        int, typer.Option("--points-per-hour", help="Primary budget per token.")
    ] = 5000,
    per_minute: Annotated[
        int, typer.Option("--secondary-per-minute", help="Secondary points per token per minute.")
    ] = 2000,
    timeout_nodes: Annotated[
        int,
        typer.Option(
            "--timeout-nodes", help="Answers with more list items than this time out (502)."
        ),
    ] = 30_000,
    timeout_delay: Annotated[
        float, typer.Option("--timeout-delay-s", help="How long before that 502.")
    ] = 10.0,
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="GitHub App id accepted in JWTs.")
    ] = None,
    app_public_key: Annotated[
        Path | None,
        typer.Option("--app-public-key", help="PEM public key that verifies the App's JWTs."),
    ] = None,
) -> None:
    """Serve the simulated GitHub GraphQL API (POST /graphql and /api/graphql) until Ctrl-C.

    Any non-empty bearer token works and names its own points budget; counters are at
    GET /_stats. With --app-id and --app-public-key, GET /orgs/ORG/installation and
    POST /app/installations/ID/access_tokens accept RS256 JWTs and issue expiring tokens.

    Examples:

      harvester simulate serve --port 8765 --seed 7

      harvester simulate serve --scale 10k --faults 502=0.05,secondary=0.03 --latency-ms 50

      curl -s -H 'Authorization: bearer any' -d '{"query":"{ rateLimit { cost remaining } }"}' http://127.0.0.1:8765/graphql
    """
    from harvester.simulator.faults import FaultSpecError, parse_fault_spec
    from harvester.simulator.server import Simulator, SimulatorSettings

    try:
        fault_spec = parse_fault_spec(faults)
    except FaultSpecError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    public_key = None
    if app_public_key is not None:
        if not app_public_key.is_file():
            raise _fail(f"--app-public-key {app_public_key}: no such file", ExitCode.USAGE)
        public_key = app_public_key.read_text()
    if (app_id is None) != (public_key is None):
        raise _fail("--app-id and --app-public-key go together", ExitCode.USAGE)
    world = _world(seed, scale)
    settings = SimulatorSettings(
        seed=seed,
        latency_ms=latency_ms,
        faults=fault_spec,
        points_per_hour=points_per_hour,
        secondary_points_per_minute=per_minute,
        timeout_node_count=timeout_nodes,
        timeout_delay_s=timeout_delay,
        app_id=app_id,
        app_public_key=public_key,
    )

    async def serve() -> None:
        async with Simulator(world, settings, host=host, port=port) as sim:
            console.print(
                f"simulated GitHub at [bold]{sim.url}[/] (also {sim.base_url}/api/graphql); "
                f"seed {seed}, scale {scale}, faults {fault_spec}; stats at {sim.base_url}/_stats",
                highlight=False,
            )
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        console.print("stopped")
    except OSError as exc:
        raise _fail(
            f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port", ExitCode.USAGE
        ) from None


@simulate_app.command("world")
def simulate_world(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the ground-truth tables.")],
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    fmt: Annotated[str, typer.Option("--format", help="parquet or json (JSON Lines).")] = "parquet",
    json_out: JsonOpt = False,
) -> None:
    """Generate a world and export its ground truth (threads, comments, reactions, edits).

    Tests and benchmarks compare what a crawl landed with these tables.

    Examples:

      harvester simulate world --seed 3 --scale small --out truth/

      harvester simulate world --scale 10k --out truth/ --format json --json
    """
    from harvester.simulator.truth import export_truth, summary

    if fmt not in {"parquet", "json"}:
        raise _fail(f"--format {fmt!r}: use parquet or json", ExitCode.USAGE)
    world = _world(seed, scale)
    with console.status(f"writing ground truth to {out_dir}..."):
        counts = export_truth(world, out_dir, fmt)  # type: ignore[arg-type]
    result = {"out": str(out_dir), "format": fmt, "tables": counts, "summary": summary(world)}
    if json_out:
        out.print_json(json.dumps(result))
    else:
        for table, n in counts.items():
            out.print(f"{table:>20}: {n:,} rows", highlight=False)
        out.print(f"written to {out_dir}", highlight=False)


# ---------- crawl and status
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint", help="GraphQL URL: api.github.com (default), GHES, or the simulator."
    ),
]


@app.command("crawl")
def crawl(
    data: ConfigDataOpt = None,
    config: ConfigOpt = None,
    endpoint: EndpointOpt = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Crawl this org (repeatable).")
    ] = None,
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Crawl this OWNER/NAME (repeatable).")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Ignore watermarks and re-read everything.")
    ] = False,
    rehydrate_days: Annotated[
        int | None,
        typer.Option(
            "--rehydrate-days", help="Re-read bot comments of the last N days (default 30)."
        ),
    ] = None,
    discovery: Annotated[
        str | None,
        typer.Option(
            "--discovery",
            help="list (every repo's threads) or search (threads where the bot app spoke; "
            "cheaper for big orgs). Default: sources.discovery.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Harvest bot comments with every reaction and revision into DATA/raw (incremental).

    Reads the token from GITHUB_TOKEN (or the variables / GitHub App in harvester.toml).
    Threads updated since the last run are re-read; bot comments of the last N days are
    re-hydrated every run because reactions do not bump `updatedAt`.

    Exit codes: 0 ok, 2 usage/config, 3 credentials refused, 4 budget exhausted,
    5 finished with failures (rerun), 6 another crawl holds DATA's lock.

    Examples:

      GITHUB_TOKEN=ghp_... harvester crawl --org ubiquity --org ubiquity-os-marketplace

      harvester crawl --config harvester.toml --data /srv/harvest --json

      harvester crawl --repo ubiquity-os/command-ask --full-refresh

      harvester crawl --org big-org --discovery search   # only threads the bot app spoke in

      harvester crawl --endpoint http://127.0.0.1:8765/graphql --org ubiquity   # the simulator
    """
    from harvester.clock import SystemClock
    from harvester.config import ConfigError, load_config
    from harvester.crawl import run_crawl
    from harvester.operator import (
        EXIT_BY_STATUS,
        SetupError,
        build_sources,
        crawl_options,
        crawl_progress,
        crawl_scope,
        render_crawl,
    )
    from harvester.state import LockHeld

    try:
        cfg = load_config(config)
        url = endpoint or cfg.github.endpoint
        scope = crawl_scope(cfg, org or [], repo or [])
        clock = SystemClock()
        sources = build_sources(cfg, scope, url, clock)
        data_dir = data or Path(cfg.storage.data_dir)
        options = crawl_options(
            cfg,
            data_dir=data_dir,
            endpoint=url,
            sources=sources,
            full_refresh=full_refresh,
            rehydrate_days=rehydrate_days,
            clock=clock,
            discovery=discovery,
        )
        if discovery not in (None, "list", "search"):
            raise SetupError(f"--discovery {discovery!r}: use list or search", ExitCode.USAGE)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    except SetupError as exc:
        raise _fail(str(exc), exc.code) from None
    try:
        with crawl_progress(console, enabled=not json_out) as on_progress:
            options.on_progress = on_progress
            result = asyncio.run(run_crawl(options))
    except LockHeld as exc:
        raise _fail(str(exc), ExitCode.LOCKED) from None
    if json_out:
        out.print_json(json.dumps(result.as_dict()))
    else:
        render_crawl(result, out, data_dir)
    raise typer.Exit(int(EXIT_BY_STATUS.get(result.status, ExitCode.FAILURE)))


@app.command("status")
def status(data: DataOpt = Path("data"), json_out: JsonOpt = False) -> None:
    """Show crawl runs, watermarks and what has landed in DATA.

    Examples:

      harvester status

      harvester status --data /srv/harvest --json
    """
    from harvester.status import collect_status, render_status

    report = collect_status(data)
    if json_out:
        out.print_json(json.dumps(report, default=str))
    else:
        render_status(report, out)


# ---------- warehouse
@app.command("build")
def build(
    data: ConfigDataOpt = None,
    config: ConfigOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes for the Python stages (parsing, question links, diffs, phrases); "
            "default: one per CPU core (at most 8). Stages with few rows run in the build "
            "process.",
        ),
    ] = None,
    memory_limit: Annotated[
        str,
        typer.Option(
            "--memory-limit",
            help="DuckDB's memory limit (it spills to disk beyond it), e.g. 3GB; 'none' for "
            "DuckDB's own (80% of RAM).",
        ),
    ] = "3GB",
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Reuse nothing from the previous warehouse or the crawl's parses: parse, link "
            "and diff every text again.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Build DATA/warehouse.duckdb from DATA/raw: the SQL models of warehouse/, in order.

    Staging, intermediate, then the marts analysts query: bot_comments, threads, revisions,
    reactions, corrections, feedback, phrase_weights (docs/warehouse.md). The new warehouse
    replaces the old one in one rename; parses, question links and diffs of unchanged texts
    are reused from it, and the parses the crawl landed in DATA/cache/parsed/ (so a build
    parses only what neither holds). Weights come from [feedback] in harvester.toml.

    Exit codes: 0 ok, 1 a model failed (the message names it), 2 bad configuration,
    6 another build holds DATA.

    Examples:

      harvester build

      harvester build --data /srv/harvest --config harvester.toml --json

      harvester build --workers 1 --memory-limit 6GB

      harvester build --no-cache
    """
    from harvester.build import BuildLocked, BuildOptions, ModelError, default_workers
    from harvester.build import build as run_build
    from harvester.config import ConfigError, load_config
    from harvester.sqlcmd import build_progress, render_build

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    if memory_limit.lower() != "none":
        import duckdb

        try:
            duckdb.connect().execute("SET memory_limit = ?", [memory_limit])
        except duckdb.Error:
            raise _fail(
                f"--memory-limit {memory_limit!r}: give a size such as 3GB or 500MB, or none",
                ExitCode.USAGE,
            ) from None
    data_dir = data or Path(cfg.storage.data_dir)
    try:
        with build_progress(console, enabled=not json_out) as on_progress:
            options = BuildOptions(
                data_dir,
                cfg,
                workers=workers or default_workers(),
                reuse_cache=not no_cache,
                memory_limit=None if memory_limit.lower() == "none" else memory_limit,
                on_progress=on_progress,
            )
            result = run_build(options)
    except BuildLocked as exc:
        raise _fail(str(exc), ExitCode.LOCKED) from None
    except ModelError as exc:
        raise _fail(str(exc), ExitCode.FAILURE) from None
    if json_out:
        out.print_json(json.dumps(result.as_dict()))
    else:
        render_build(result, out, data_dir)


@app.command("sql")
def sql(
    query: Annotated[str, typer.Argument(help="One SQL query (DuckDB dialect).")],
    data: DataOpt = Path("data"),
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the result to this Parquet file.")
    ] = None,
) -> None:
    """Query DATA/warehouse.duckdb (read-only) and print the result or write Parquet.

    Exit code 2 for SQL DuckDB refuses (its message is shown) or a missing warehouse.

    Examples:

      harvester sql "select label, count(*) from feedback group by label"

      harvester sql "select * from phrase_weights order by weight desc limit 20" --format csv

      harvester sql "select * from corrections" --out corrections.parquet --data /srv/harvest
    """
    from harvester.sqlcmd import (
        FORMATS,
        NoWarehouse,
        SqlError,
        print_result,
        run_query,
        write_parquet,
    )

    if fmt not in FORMATS:
        raise _fail(f"--format {fmt!r}: use table, csv or json", ExitCode.USAGE)
    try:
        result = run_query(data, query)
    except (SqlError, NoWarehouse) as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    if out_file is not None:
        write_parquet(result, out_file)
        console.print(f"{result.rows:,} rows written to {out_file}", highlight=False)
    else:
        print_result(result, fmt, out)


# ---------- exports
@app.command("export")
def export(
    partner: Annotated[
        list[str] | None,
        typer.Option("--partner", help="A [partners.NAME] of harvester.toml (repeatable)."),
    ] = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Export these orgs ad hoc (repeatable).")
    ] = None,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Export this OWNER/NAME ad hoc (repeatable)."),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="trl-sft, trl-preference, trl-kto, openai-sft, openai-dpo, hf, labelstudio, "
            "prompt-kit (repeatable; default: all).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write here instead of DATA/exports/<partner>/."),
    ] = None,
    data: ConfigDataOpt = None,
    config: ConfigOpt = None,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Processes that build and redact examples."),
    ] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Write a partner's training sets from DATA/warehouse.duckdb (run `harvester build` first).

    Each export holds only the rows of its partner's orgs and repos: SFT demonstrations,
    preference pairs and KTO labels (TRL Parquet, OpenAI JSONL, a Hugging Face dataset folder
    with its card), Label Studio review tasks for doubtful pairs, and a prompt kit (phrase
    weights and corrected examples per repository). Secrets and e-mail addresses are
    redacted; threads never span two splits; manifest.json has counts, label balance,
    redactions, run ids and checksums. Selection rules: docs/exports.md.

    With neither --partner nor --org, every configured partner is exported.

    Exit codes: 0 ok, 1 a bug (an invalid record: please report it), 2 bad configuration,
    unknown partner or format, or no warehouse.

    Examples:

      harvester export --partner ubiquityos

      harvester export --partner acme --format trl-preference --format hf --out /srv/acme

      harvester export --org ubiquity-os-marketplace --format openai-sft --json

      harvester export --partner ubiquityos --workers 2
    """
    from harvester.config import ConfigError, load_config
    from harvester.export import (
        FORMATS,
        ExportError,
        ExportOptions,
        UnknownPartner,
        adhoc_scope,
        partner_scope,
        run_export,
    )
    from harvester.export.report import render_export
    from harvester.export.validate import InvalidRecord

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    formats = tuple(fmt or FORMATS)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise _fail(f"--format {bad[0]!r}: choose from {', '.join(FORMATS)}", ExitCode.USAGE)
    bad_repos = [r for r in repo or [] if r.count("/") != 1]
    if bad_repos:
        raise _fail(f"--repo {bad_repos[0]!r}: write it as OWNER/NAME", ExitCode.USAGE)
    try:
        if org or repo:
            scopes = [adhoc_scope(tuple(org or ()), tuple(repo or ()))]
        else:
            names = partner or list(cfg.partners)
            if not names:
                raise UnknownPartner(
                    "no partners in the configuration: add [partners.NAME] tables to "
                    "harvester.toml, or export ad hoc with --org ORG"
                )
            scopes = [partner_scope(cfg, name) for name in names]
    except UnknownPartner as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    if out_dir is not None and len(scopes) > 1:
        raise _fail("--out takes one partner: name it with --partner", ExitCode.USAGE)
    data_dir = data or Path(cfg.storage.data_dir)
    results = []
    for scope in scopes:
        options = ExportOptions(
            data_dir, cfg, scope, formats=formats, out_dir=out_dir, workers=workers
        )
        try:
            status = console.status(f"exporting {scope.name}...")
            with status if not json_out else contextlib.nullcontext():
                results.append(run_export(options))
        except ExportError as exc:
            raise _fail(str(exc), ExitCode.USAGE) from None
        except InvalidRecord as exc:
            raise _fail(f"{exc} (a bug: please report it)", ExitCode.FAILURE) from None
    if json_out:
        out.print_json(json.dumps([r.as_dict() for r in results]))
    else:
        for result in results:
            render_export(result, out)


# ---------- demo
@app.command("demo")
def demo(
    data: DataOpt = Path("data"),
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    json_out: JsonOpt = False,
) -> None:
    """Run the job end to end on the built-in GitHub simulator: no token, no network.

    Generates a world, serves it on loopback, crawls it like GitHub, builds the warehouse,
    exports two demo partners, and prints what was found next to what exists (the world's
    ground truth is written under DATA/simulator/truth/).

    Examples:

      harvester demo

      harvester demo --scale tiny --data /tmp/demo --json
    """
    from harvester.demo import run_demo

    try:
        result = asyncio.run(
            run_demo(data, seed=seed, scale=scale, console=console, quiet=json_out)
        )
    except KeyError as exc:
        raise _fail(f"unknown --scale {scale!r}: {exc}", ExitCode.USAGE) from None
    if json_out:
        out.print_json(json.dumps(result))
    else:
        from harvester.demo import render_summary

        render_summary(result, out)


def run() -> None:  # pragma: no cover - console entry for `python -m harvester`
    sys.exit(app())
