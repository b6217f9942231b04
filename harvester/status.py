"""`harvester status`: runs, watermarks and landed row counts of a data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from harvester.land import table_dir
from harvester.rawschema import TABLES
from harvester.state import RunLog, Watermarks, lock_is_held


def _count(data_dir: Path, table: str) -> int:
    directory = table_dir(data_dir, table)
    if not any(directory.glob("*/*.parquet")):
        return 0
    con = duckdb.connect()
    try:
        row = con.execute(
            "select count(*) from read_parquet(?)", [str(directory / "*" / "*.parquet")]
        ).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def collect_status(data_dir: Path) -> dict[str, Any]:
    runs = RunLog(data_dir).list_runs()
    marks = Watermarks(data_dir).items() if (data_dir / "state").is_dir() else {}
    return {
        "data_dir": str(data_dir),
        "locked": lock_is_held(data_dir) if data_dir.is_dir() else False,
        "runs": [r.to_json() for r in runs],
        "watermarks": {scope: value.isoformat() for scope, value in sorted(marks.items())},
        "raw_rows": {table: _count(data_dir, table) for table in TABLES},
    }


def render_status(report: dict[str, Any], out: Console) -> None:
    out.print(
        f"data: {report['data_dir']}"
        + ("  [yellow](a crawl is running)[/]" if report["locked"] else ""),
        highlight=False,
    )
    runs = Table(title="runs (newest first)")
    for column in ("run", "status", "started", "finished", "points", "requests", "bot comments"):
        runs.add_column(column)
    for run in report["runs"][:15]:
        runs.add_row(
            run["run_id"],
            run["status"],
            str(run["started_at"]),
            str(run["finished_at"] or "-"),
            f"{run['points_used']:,}",
            f"{run['requests']:,}",
            f"{run['counts'].get('bot_comments', 0):,}",
        )
    out.print(runs)
    rows = Table(title="landed rows")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for table, n in report["raw_rows"].items():
        rows.add_row(table, f"{n:,}")
    out.print(rows)
    marks = report["watermarks"]
    if marks:
        wm = Table(title=f"watermarks ({len(marks)})")
        wm.add_column("scope")
        wm.add_column("threads updated up to")
        for scope, value in list(marks.items())[:30]:
            wm.add_row(scope, value)
        out.print(wm)
    if not report["runs"]:
        out.print("No crawl has run here yet: `harvester crawl --org ORG` or `harvester demo`.")
