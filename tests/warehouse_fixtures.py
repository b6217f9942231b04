"""Hand-built raw tables for warehouse tests: write them with `harvester.land.Lander`, build.

    raw = RawData(tmp_path)
    raw.thread("T1")
    raw.comment("C1", body="Thinking...")
    raw.snapshot("C1", edits=[edit("ubiquity-os", "Bot", "Thinking...", minute=0), ...])
    con = raw.build()          # a read-only connection to the built warehouse

Times are minutes after `T0`; every helper has defaults so a test states only what it is
about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from harvester.build import BuildOptions, BuildResult, build
from harvester.caches import LandedParser
from harvester.config import HarvesterConfig, config_from_mapping
from harvester.land import Lander, makedirs_durable, partition_dir, write_parquet_atomic
from harvester.rawschema import coerce

T0 = datetime(2025, 3, 1, tzinfo=UTC)
BOT = "ubiquity-os"
SDK_BLOCK = (
    "\n\n<!-- UbiquityOS - askQuestion - 1a2b3c4 - @alice - "
    "https://github.com/ubiquity-os-marketplace/command-ask/actions/runs/1\n"
    '{\n  "caller": "askQuestion",\n  "tokenUsage": {"input": 10, "output": 5, "total": 15}\n}\n-->'
)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def answer(text: str) -> str:
    """An /ask answer as the SDK posts it: the text, then its metadata block."""
    return text + SDK_BLOCK


def edit(
    editor: str | None,
    editor_type: str | None,
    body: str | None,
    minute: float,
    *,
    deleted: bool = False,
    edit_id: str | None = None,
) -> dict[str, Any]:
    """One UserContentEdit row (`body` None with deleted=False: a pre-2018 revision)."""
    return {
        "edit_id": edit_id or f"E{minute:g}",
        "edited_at": at(minute),
        "editor_login": editor,
        "editor_type": editor_type,
        "body": None if deleted else body,
        "deleted_at": at(minute + 1) if deleted else None,
        "deleted_by_login": "admin" if deleted else None,
    }


def reaction(
    login: str | None, content: str, minute: float = 5, kind: str = "User"
) -> dict[str, Any]:
    return {
        "content": content,
        "reactor_login": login,
        "reactor_type": kind if login is not None else None,
        "reacted_at": at(minute),
    }


@dataclass
class RawData:
    """Raw rows per run, landed by `land()` with one `Lander` per run."""

    data_dir: Path
    runs: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    config: HarvesterConfig = field(default_factory=lambda: config_from_mapping({}))
    land_parses: bool = False  # parse bot bodies on landing, as the crawler does

    def _run(self, run_id: str) -> dict[str, list[Any]]:
        return self.runs.setdefault(run_id, {"threads": [], "comments": [], "snapshots": []})

    def thread(
        self,
        thread_id: str = "T1",
        *,
        org: str = "acme",
        repo: str = "app",
        title: str = "Payouts fail",
        body: str = "The payout job fails since Monday.",
        run_id: str = "r1",
        crawled: float = 10_000,
    ) -> None:
        self._run(run_id)["threads"].append(
            {
                "thread_id": thread_id,
                "org": org,
                "repo": repo,
                "number": int("".join(ch for ch in thread_id if ch.isdigit()) or 1),
                "kind": "issue",
                "title": title,
                "body": body,
                "author_login": "alice",
                "author_type": "User",
                "created_at": at(-60),
                "updated_at": at(0),
                "url": f"https://github.com/{org}/{repo}/issues/1",
                "crawled_at": at(crawled),
            }
        )

    def comment(
        self,
        comment_id: str,
        *,
        thread_id: str = "T1",
        org: str = "acme",
        repo: str = "app",
        author: str | None = BOT,
        author_type: str | None = "Bot",
        body: str = "An answer.",
        minute: float = 0,
        is_bot: bool | None = None,
        kind: str = "issue_comment",
        includes_created_edit: bool | None = None,
        last_edited: float | None = None,
        run_id: str = "r1",
        crawled: float = 10_000,
        **extra: Any,
    ) -> None:
        bot = author_type == "Bot" if is_bot is None else is_bot
        self._run(run_id)["comments"].append(
            {
                "comment_id": comment_id,
                "thread_id": thread_id,
                "org": org,
                "repo": repo,
                "kind": kind,
                "author_login": author,
                "author_type": author_type,
                "body": body,
                "created_at": at(minute),
                "updated_at": at(minute),
                "last_edited_at": None if last_edited is None else at(last_edited),
                "includes_created_edit": includes_created_edit,
                "is_minimized": False,
                "is_bot_comment": bot,
                "bot_reason": "author_type" if bot else None,
                "url": f"https://github.com/{org}/{repo}/issues/1#{comment_id}",
                "crawled_at": at(crawled),
                **extra,
            }
        )

    def snapshot(
        self,
        comment_id: str,
        *,
        reactions: Sequence[Mapping[str, Any]] = (),
        edits: Sequence[Mapping[str, Any]] = (),
        body: str | None = None,
        includes_created_edit: bool | None = None,
        run_id: str = "r1",
        crawled: float = 10_000,
        updated: float | None = None,
        **hydration: Any,
    ) -> None:
        """One hydration of a comment: its complete reaction and edit sets (`hydration`: more
        `hydrations` columns, e.g. `is_deleted=True` for a tombstone)."""
        if includes_created_edit is None:
            includes_created_edit = bool(edits)
        newest = max((e["edited_at"] for e in edits), default=None)
        self._run(run_id)["snapshots"].append(
            (
                comment_id,
                at(crawled),
                list(reactions),
                list(edits),
                {
                    "includes_created_edit": includes_created_edit,
                    "last_edited_at": newest,
                    "body": body,
                    "updated_at": None if updated is None else at(updated),
                    **hydration,
                },
            )
        )

    def orphan_reactions(
        self,
        comment_id: str,
        reactions: Sequence[Mapping[str, Any]],
        *,
        run_id: str,
        crawled: float,
    ) -> None:
        """Reactions a crashed run landed without their hydrations row (never in force)."""
        rows = [
            {**r, "comment_id": comment_id, "crawled_at": at(crawled), "run_id": run_id}
            for r in reactions
        ]
        folder = partition_dir(self.data_dir, "reactions", run_id)
        makedirs_durable(folder)
        write_parquet_atomic(coerce("reactions", rows), folder / "part-09999.parquet")

    def land(self) -> None:
        for run_id, tables in sorted(self.runs.items()):
            parser = LandedParser(self.data_dir, run_id, self.config.bots)
            observer = parser.observe if self.land_parses else None
            with Lander(self.data_dir, run_id, observer=observer) as lander:
                lander.add("threads", tables["threads"])
                lander.add("comments", tables["comments"])
                for cid, crawled, reactions, edits, row in tables["snapshots"]:
                    lander.add_snapshot(cid, crawled, reactions, edits, row)
        self.runs.clear()

    def build(self, **options: Any) -> duckdb.DuckDBPyConnection:
        self.result = self.build_result(**options)
        return connect(self.data_dir)

    def build_result(self, **options: Any) -> BuildResult:
        self.land()
        options.setdefault("config", self.config)
        options.setdefault("phrase_min_support", 1)
        return build(BuildOptions(self.data_dir, **options))


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def rows(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Query results as dicts (through Arrow: no pytz needed for TIMESTAMPTZ)."""
    table = con.sql(query, params=list(params)).to_arrow_table()
    return table.to_pylist()


def one(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    found = rows(con, query, params)
    assert len(found) == 1, found
    return found[0]


def dump_marts(data_dir: Path, *, ordered: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every mart's rows, as stored (the build's row order) or `ordered` by all columns."""
    from harvester.build import MARTS

    con = connect(data_dir)
    try:
        suffix = " order by all" if ordered else ""
        return {mart: rows(con, f"select * from {mart}{suffix}") for mart in MARTS}
    finally:
        con.close()
