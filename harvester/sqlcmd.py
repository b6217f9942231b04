"""The terminal side of the warehouse commands: `harvester sql` (run one query against
DATA/warehouse.duckdb, print it or write Parquet) and the progress and summary of
`harvester build` (the runner itself is `harvester.build`).

The warehouse is opened read-only, so a query can never change it (a `create` or `insert`
fails with DuckDB's message). Times are shown in UTC.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

import duckdb
import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from harvester.build import MARTS, BuildResult, ModelEvent, warehouse_path

Format = Literal["table", "csv", "json"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json")


class SqlError(ValueError):
    """The query is not valid SQL for the warehouse; the message is DuckDB's."""


class NoWarehouse(FileNotFoundError):
    """DATA has no warehouse yet."""


@dataclass
class QueryResult:
    """A query's columns and rows (as an Arrow table)."""

    columns: list[str]
    table: pa.Table

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def open_warehouse(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to DATA/warehouse.duckdb, in UTC."""
    path = warehouse_path(data_dir)
    if not path.is_file():
        raise NoWarehouse(f"no warehouse at {path}: run `harvester build --data {data_dir}` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SqlError(f"cannot open {path}: {exc}") from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def run_query(data_dir: Path, query: str) -> QueryResult:
    """Run `query` against the warehouse; raises `SqlError` with DuckDB's message."""
    con = open_warehouse(data_dir)
    try:
        relation = con.sql(query)
        if relation is None:  # a statement without a result (SET, PRAGMA...)
            return QueryResult([], pa.table({}))
        table = relation.to_arrow_table()
    except duckdb.Error as exc:
        raise SqlError(str(exc).strip()) from None
    finally:
        con.close()
    return QueryResult(list(table.column_names), table)


def write_parquet(result: QueryResult, out: Path) -> None:
    """The result as one Parquet file (written next to `out`, then renamed into place)."""
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(result.table, tmp, compression="zstd")
    tmp.replace(out)


def _plain(value: Any) -> Any:
    """A JSON-friendly value: times as ISO-8601, decimals as floats."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _records(result: QueryResult) -> list[dict[str, Any]]:
    columns = [col.to_pylist() for col in result.table.columns]
    return [
        {name: _plain(col[i]) for name, col in zip(result.columns, columns, strict=True)}
        for i in range(result.rows)
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_result(
    result: QueryResult, fmt: Format, out: Console, stream: TextIO | None = None
) -> None:
    """Print the result as a table (rich), CSV (with a header) or a JSON array of objects."""
    records = _records(result)
    if fmt == "json":
        (stream or sys.stdout).write(json.dumps(records, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(stream or sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for record in records:
            writer.writerow([_cell(record[name]) for name in result.columns])
        return
    table = Table(show_lines=False)
    for name in result.columns:
        table.add_column(name, overflow="fold")
    for record in records:
        table.add_row(*(Text(_cell(record[name])) for name in result.columns))
    out.print(table)
    out.print(f"{result.rows:,} row{'s' if result.rows != 1 else ''}", highlight=False)


# ---------- harvester build
@contextlib.contextmanager
def build_progress(console: Console, enabled: bool) -> Iterator[Callable[[ModelEvent], None]]:
    """A progress bar over the models; yields the runner's `on_progress` callback."""
    progress = Progress(
        TextColumn("[bold]build[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("models · {task.fields[model]}"),
        console=console,
        transient=True,
        disable=not enabled,
    )
    task = progress.add_task("build", total=None, model="")

    def update(event: ModelEvent) -> None:
        progress.update(task, total=event.total, model=event.name)
        if event.done:
            progress.advance(task)

    with progress:
        yield update


def render_build(result: BuildResult, out: Console, data_dir: Path) -> None:
    """Every model with its layer, rows and time, then where the warehouse is."""
    table = Table(title=f"warehouse built in {result.seconds:.1f} s")
    table.add_column("layer")
    table.add_column("model")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for run in result.models:
        name = f"[bold]{run.name}[/]" if run.name in MARTS else run.name
        rows = "view" if run.rows is None else f"{run.rows:,}"
        table.add_row(run.layer, name, rows, f"{run.seconds:.2f}")
    out.print(table)
    for what, said in (
        ("reused", "reused from the previous build"),
        ("landed", "parsed by the crawler as it landed them"),
    ):
        counts = {k: v[what] for k, v in result.stages.items() if v.get(what)}
        if counts:
            listed = ", ".join(f"{v:,} {k}" for k, v in sorted(counts.items()))
            out.print(f"{said}: {listed}", highlight=False)
    out.print(
        f"Warehouse: {result.warehouse} (marts in bold). Query it with "
        f'`harvester sql --data {data_dir} "select label, count(*) from feedback group by label"`'
        " or any DuckDB client; docs/warehouse.md describes every column.",
        highlight=False,
    )
