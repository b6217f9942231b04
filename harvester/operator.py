"""What `harvester crawl` and `harvester status` do around the crawler: credentials from the
configuration, progress on screen, the summary table, and exit codes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from harvester.auth import AppInstallationToken, StaticToken, TokenProvider
from harvester.clock import Clock, SystemClock
from harvester.config import HarvesterConfig, normalise_login
from harvester.crawl import CrawlOptions, CrawlResult, Source, looks_like_header
from harvester.discover import BotRules
from harvester.exitcodes import ExitCode

EXIT_BY_STATUS = {
    "ok": ExitCode.OK,
    "partial": ExitCode.PARTIAL,
    "auth_error": ExitCode.AUTH,
    "budget_exhausted": ExitCode.BUDGET,
}


class SetupError(Exception):
    """Something the operator must fix before a crawl can start; carries the exit code."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Scope:
    orgs: tuple[str, ...]
    repos: tuple[str, ...]


def crawl_scope(cfg: HarvesterConfig, orgs: Sequence[str], repos: Sequence[str]) -> Scope:
    """`--org`/`--repo` when given, else everything the configuration names."""
    if orgs or repos:
        bad = [r for r in repos if r.count("/") != 1 or not all(r.split("/"))]
        if bad:
            raise SetupError(f"--repo {bad[0]!r}: expected OWNER/NAME", ExitCode.USAGE)
        return Scope(tuple(orgs), tuple(repos))
    scope = Scope(tuple(cfg.crawl_orgs), tuple(cfg.crawl_repos))
    if not scope.orgs and not scope.repos:
        raise SetupError(
            "nothing to crawl: pass --org ORG or --repo OWNER/NAME, or list sources.orgs in "
            "harvester.toml (see harvester.example.toml)",
            ExitCode.USAGE,
        )
    return scope


def build_sources(cfg: HarvesterConfig, scope: Scope, endpoint: str, clock: Clock) -> list[Source]:
    """One source per token (orgs dealt round-robin), or one App installation per org."""
    app = cfg.auth.app
    if app is not None:
        key = app.read_private_key().get_secret_value()
        rest = _rest_url(endpoint)
        sources = [
            Source(
                AppInstallationToken(
                    app_id=app.app_id,
                    private_key=key,
                    org=org,
                    rest_url=rest,
                    clock=clock,
                    installation_id=app.installation_ids.get(org),
                ),
                orgs=(org,),
            )
            for org in scope.orgs
        ]
        for repo in scope.repos:
            owner = repo.split("/")[0]
            sources.append(
                Source(
                    AppInstallationToken(
                        app_id=app.app_id,
                        private_key=key,
                        org=owner,
                        rest_url=rest,
                        clock=clock,
                        installation_id=app.installation_ids.get(owner),
                    ),
                    repos=(repo,),
                )
            )
        return sources
    tokens = cfg.auth.read_tokens()
    if not tokens:
        names = ", ".join(cfg.auth.token_env_names())
        raise SetupError(
            f"no GitHub token: set the environment variable {names} (a token that can read the "
            "repositories), or configure [auth.app] in harvester.toml",
            ExitCode.USAGE,  # nothing was sent: a configuration problem, as `config check` says
        )
    providers: list[TokenProvider] = [
        StaticToken(t.get_secret_value(), f"token {i + 1}") for i, t in enumerate(tokens)
    ]
    buckets: list[tuple[list[str], list[str]]] = [([], []) for _ in providers]
    for i, org in enumerate(scope.orgs):
        buckets[i % len(buckets)][0].append(org)
    for i, repo in enumerate(scope.repos):
        buckets[(len(scope.orgs) + i) % len(buckets)][1].append(repo)
    return [
        Source(p, tuple(o), tuple(r))
        for p, (o, r) in zip(providers, buckets, strict=True)
        if o or r
    ]


def _rest_url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    if base.endswith("/api/graphql"):
        return base.removesuffix("/graphql") + "/v3"
    return base.removesuffix("/graphql")


def bot_rules(cfg: HarvesterConfig) -> BotRules:
    logins = frozenset(normalise_login(login) for login in cfg.bots.logins)
    try:
        from harvester.dialects import is_bot_candidate
        from harvester.dialects.registry import has_custom_header

        bots = cfg.bots

        def custom(body: str, login: str | None) -> bool:
            return has_custom_header(body, bots, author_login=login)

        return BotRules(
            logins=logins,
            has_header=is_bot_candidate,
            has_custom_header=custom if bots.custom_dialects else None,
        )
    except ImportError:  # pragma: no cover - the dialect parser ships with the package
        return BotRules(logins=logins, has_header=looks_like_header)


def crawl_options(
    cfg: HarvesterConfig,
    *,
    data_dir: Path,
    endpoint: str,
    sources: list[Source],
    full_refresh: bool,
    rehydrate_days: int | None,
    clock: Clock | None = None,
    discovery: str | None = None,
) -> CrawlOptions:
    sizes = cfg.github.page_sizes
    page_sizes = {
        key: value
        for key, value in {
            "threads": sizes.threads,
            "comments": sizes.comments,
            "reviews": sizes.comments,
            "inline": sizes.comments,
            "ids": sizes.nodes,
            "first": sizes.search,
            "reactors": sizes.reactors,
            "edits": sizes.edits,
        }.items()
        if value is not None
    }
    return CrawlOptions(
        data_dir=data_dir,
        endpoint=endpoint,
        sources=sources,
        bots=bot_rules(cfg),
        parse_bots=cfg.bots,
        full_refresh=full_refresh,
        rehydrate_days=cfg.sources.rehydrate_days if rehydrate_days is None else rehydrate_days,
        max_in_flight=cfg.github.max_in_flight,
        max_retries=cfg.github.max_retries,
        timeout_s=cfg.github.timeout_s,
        thread_budget=cfg.github.thread_budget,
        include_forks=cfg.sources.include_forks,
        include_archived=cfg.sources.include_archived,
        is_excluded=cfg.sources.is_excluded,
        page_sizes=page_sizes,
        clock=clock or SystemClock(),
        since=cfg.sources.since,
        sweep_known=cfg.sources.sweep_known,
        discovery=discovery or cfg.sources.discovery,
        app_slugs=tuple(cfg.bots.app_slugs),
    )


@contextlib.contextmanager
def crawl_progress(console: Console, enabled: bool) -> Iterator[Any]:
    """A progress bar over repositories with live counts; yields the crawler's callback."""
    progress = Progress(
        TextColumn("[bold]crawl[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "repos · {task.fields[threads]:,} threads · {task.fields[bots]:,} bot comments"
            " · {task.fields[points]:,} points"
        ),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )
    task = progress.add_task("crawl", total=None, threads=0, bots=0, points=0)

    def update(event: str, counts: dict[str, Any]) -> None:
        if event == "repos":
            total = (progress.tasks[0].total or 0) + int(counts.get("total_repos", 0))
            progress.update(task, total=total)
        if event == "repo":
            progress.advance(task)
        progress.update(
            task,
            threads=counts.get("threads", 0),
            bots=counts.get("bot_comments", 0),
            points=counts.get("points", 0),
        )

    with progress:
        yield update


def render_crawl(result: CrawlResult, out: Console, data_dir: Path) -> None:
    counts = result.counts
    table = Table(title=f"crawl {result.run_id}: {result.status}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, label in (
        ("repos", "repositories"),
        ("threads", "threads seen"),
        ("comments", "comments landed (threads with a bot comment)"),
        ("bot_comments", "bot comments found"),
        ("rehydrated", "recent bot comments re-read"),
        ("snapshots", "hydration snapshots"),
        ("reactions", "reactions"),
        ("edits", "revisions"),
        ("missing", "deleted (skipped)"),
        ("repos_missing", "repositories not found (skipped)"),
    ):
        table.add_row(label, f"{counts.get(key, 0):,}")
    table.add_row("points spent", f"{result.points:,}")
    table.add_row("requests / retries", f"{result.requests:,} / {result.retries:,}")
    out.print(table)
    for error in result.errors[:10]:
        out.print(f"[red]error:[/] {escape(error)}", highlight=False)
    if len(result.errors) > 10:
        out.print(f"... and {len(result.errors) - 10} more", highlight=False)
    out.print(
        f"Landed under {data_dir / 'raw'}; `harvester status --data {data_dir}` shows runs "
        "and watermarks.",
        highlight=False,
    )
