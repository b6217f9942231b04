"""Append-only, crash-safe Parquet landing of the raw tables.

Layout (the data directory contract)::

    DATA/raw/<table>/run_id=<run_id>/part-<seq:05d>.parquet

Files are never modified once published. Each file is written to a temp name in the same
directory (``.part-<seq>-<random>.tmp``), flushed and fsynced, renamed to its final name with
``os.replace`` and the directory is fsynced, so a file either exists complete under its final
name or not at all. Temp leftovers of a killed process never match ``*.parquet`` (readers skip
them) and `sweep_temp` removes them when the next `Lander` starts (under the data lock).

Snapshot rule (the warehouse depends on it)
-------------------------------------------
Every hydration of a bot comment lands, stamped with one ``crawled_at`` and the ``run_id``:
all its current reactions, all its edits, and exactly one ``hydrations`` row, written even when
both sets are empty. `Lander.add_snapshot` buffers the three as one unit and every flush writes
the ``reactions`` and ``edits`` files first and the ``hydrations`` file last. Hence:

* a ``hydrations`` row exists only once the reactions and edits of the same snapshot are
  durable; reactions/edits without a matching ``hydrations`` row are leftovers of a crash and
  must be ignored;
* the latest snapshot of a comment is its ``hydrations`` row with the greatest ``crawled_at``
  (ties, which only a replayed clock can produce, go to the greatest ``run_id``);
* the comment's current reactions and edits are exactly the rows whose
  ``(comment_id, crawled_at, run_id)`` equal that row's. Matching on ``run_id`` too (not only
  ``crawled_at``) keeps an orphan of a crashed run out of a later run that happened to stamp the
  same time. A reaction missing from the latest snapshot was removed; a latest snapshot with no
  reactions means the comment has none now; a comment without any ``hydrations`` row was never
  hydrated.

A run must not hydrate one comment twice with the same ``crawled_at`` (its rows would merge into
one doubled snapshot): stamp each hydration when it is fetched. `add_snapshot` refuses such a
repeat within its unflushed buffer.

`latest_snapshots` implements this rule; the SQL models must implement the same.

One `Lander` is one writer for all tables of one run: the crawler owns it from a single task
(writes are synchronous). Buffers hold at most ``flush_rows`` rows in all; reaching it flushes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from harvester.rawschema import TABLES, normalize_row, parse_timestamp, rows_to_table, schema_of

log = logging.getLogger(__name__)

SNAPSHOT_TABLES = ("reactions", "edits", "hydrations")
"""Tables only `Lander.add_snapshot` writes: their rows are meaningful only as a unit."""

WRITE_ORDER = ("runs", "threads", "comments", "reactions", "edits", "hydrations")
"""Flush order: `hydrations` last, so its rows only ever follow durable reactions and edits."""

_PART_RE = re.compile(r"^part-(\d+)\.parquet$")
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TEMP_GLOB = ".part-*.tmp"


def validate_run_id(run_id: str) -> str:
    """The run id if it is safe as a path component (partition and run-log names), else raise."""
    if not _RUN_ID_RE.match(run_id):
        raise ValueError(
            f"run_id {run_id!r} is not usable in a path: use letters, digits, '.', '_', '-'"
        )
    return run_id


def raw_dir(data_dir: Path) -> Path:
    """`DATA/raw`."""
    return Path(data_dir) / "raw"


def table_dir(data_dir: Path, table: str) -> Path:
    """`DATA/raw/<table>`."""
    schema_of(table)
    return raw_dir(data_dir) / table


def partition_dir(data_dir: Path, table: str, run_id: str) -> Path:
    """`DATA/raw/<table>/run_id=<run_id>`: one hive partition per run."""
    return table_dir(data_dir, table) / f"run_id={run_id}"


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs_durable(path: Path) -> None:
    """Create `path` and its missing parents, fsyncing each parent that got a new entry."""
    missing: list[Path] = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
        fsync_dir(directory.parent)


def sweep_temp(data_dir: Path) -> int:
    """Remove temp files a killed writer left under `DATA/raw`; returns how many.

    Only safe while no other process writes to the directory: call it under the data lock.
    """
    root = raw_dir(data_dir)
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.rglob(_TEMP_GLOB):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
            log.info("removed a leftover temp file from an interrupted write: %s", path)
    return removed


def part_files(data_dir: Path, table: str) -> list[Path]:
    """The published Parquet files of a raw table, in a stable order."""
    root = table_dir(data_dir, table)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.parquet") if p.is_file())


def write_parquet_atomic(table: pa.Table, final: Path) -> int:
    """Publish `table` at `final` (which must not exist) atomically; returns the file size.

    Temp file in the same directory, fsync, rename, fsync of the directory: after a crash the
    file is either absent or complete.
    """
    directory = final.parent
    tmp = directory / f".{final.stem}-{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(directory)
    return final.stat().st_size


@dataclass
class TableStats:
    """What one `Lander` wrote to one table."""

    rows: int = 0
    files: int = 0
    bytes: int = 0


class Lander:
    """The one writer of a run's raw tables: buffers rows, publishes Parquet parts atomically.

    `add` takes rows of `threads`, `comments` and `runs`; `add_snapshot` takes one comment's
    complete hydration. Rows are validated when added (errors name table, row and column), and
    `run_id` is filled in when absent. Not thread-safe: use it from one task.

    `observer`, when given, is called after every flush with the rows it published, by table
    (the crawler parses bot bodies there: `caches.LandedParser`).
    """

    def __init__(
        self,
        data_dir: Path,
        run_id: str,
        *,
        flush_rows: int = 50_000,
        sweep: bool = True,
        observer: Callable[[Mapping[str, Sequence[Mapping[str, Any]]]], None] | None = None,
    ) -> None:
        validate_run_id(run_id)
        if flush_rows < 1:
            raise ValueError(f"flush_rows must be at least 1, got {flush_rows}")
        self.data_dir = Path(data_dir)
        self.run_id = run_id
        self.flush_rows = flush_rows
        self.observer = observer
        self._buffers: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self._buffered = 0
        self._next_seq: dict[str, int] = {}
        self._pending_snapshots: set[tuple[str, datetime]] = set()
        self._closed = False
        self.stats: dict[str, TableStats] = {t: TableStats() for t in TABLES}
        if sweep:
            sweep_temp(self.data_dir)

    # -- buffering -----------------------------------------------------------------------------

    @property
    def buffered_rows(self) -> int:
        """Rows held in memory, all tables together (never above `flush_rows` after a call)."""
        return self._buffered

    def add(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Buffer rows of `threads`, `comments` or `runs`; flushes whenever the buffer is full.

        All or nothing: every row is validated before any is buffered, so a caller that catches
        the `RawSchemaError` knows none of the batch was taken.
        """
        self._check_open()
        schema_of(table)
        if table in SNAPSHOT_TABLES:
            raise ValueError(
                f"{table} rows are part of a comment's snapshot: land them with add_snapshot()"
            )
        batch = [normalize_row(table, self._stamp(row), i) for i, row in enumerate(rows)]
        buffer = self._buffers[table]
        while batch:
            room = self.flush_rows - self._buffered
            buffer.extend(batch[:room])
            self._buffered += min(room, len(batch))
            del batch[:room]
            if self._buffered >= self.flush_rows:
                self.flush()

    def add_snapshot(
        self,
        comment_id: str,
        crawled_at: datetime | str,
        reactions: Sequence[Mapping[str, Any]],
        edits: Sequence[Mapping[str, Any]],
        hydration_row: Mapping[str, Any] | None = None,
    ) -> None:
        """Buffer one comment's complete hydration as one unit (see the module's snapshot rule).

        `reactions` and `edits` are the complete current sets (either may be empty);
        `comment_id`, `crawled_at` and `run_id` are filled into every row. `hydration_row` holds
        the other `hydrations` columns; `reaction_count`/`edit_count` default to the set sizes.
        The unit is never split across flushes, so a unit larger than `flush_rows` is written
        (in several files) on its own.
        """
        self._check_open()
        stamp = parse_timestamp(crawled_at)
        if stamp is None:
            raise ValueError(f"snapshot of {comment_id}: crawled_at must not be None")
        key = (comment_id, stamp)
        if key in self._pending_snapshots:
            raise ValueError(
                f"snapshot of {comment_id} at {stamp.isoformat()} was already added in this "
                "run: stamp each hydration with its own crawled_at, or its rows would double"
            )
        common = {"comment_id": comment_id, "crawled_at": stamp}
        unit_reactions = [
            normalize_row("reactions", self._stamp(r, common), i) for i, r in enumerate(reactions)
        ]
        unit_edits = [
            normalize_row("edits", self._stamp(e, common), i) for i, e in enumerate(edits)
        ]
        marker: dict[str, Any] = {
            "reaction_count": len(unit_reactions),
            "edit_count": len(unit_edits),
            **(hydration_row or {}),
        }
        unit_hydration = normalize_row("hydrations", self._stamp(marker, common))
        size = len(unit_reactions) + len(unit_edits) + 1
        if self._buffered and self._buffered + size > self.flush_rows:
            self.flush()
        self._buffers["reactions"].extend(unit_reactions)
        self._buffers["edits"].extend(unit_edits)
        self._buffers["hydrations"].append(unit_hydration)
        self._pending_snapshots.add(key)
        self._buffered += size
        if self._buffered >= self.flush_rows:
            self.flush()

    def _stamp(
        self, row: Mapping[str, Any], common: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The row with this run's id and the snapshot's common columns, refusing contradictions."""
        out = dict(row)
        for column, value in {**(common or {}), "run_id": self.run_id}.items():
            given = out.get(column)
            if given is None:
                out[column] = value
                continue
            if column == "crawled_at":
                given = parse_timestamp(given)
            if given != value:
                raise ValueError(f"row has {column}={given!r} but this unit is {value!r}")
        return out

    # -- writing -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Publish everything buffered; when it returns, the rows are durable on disk.

        Hydrations are written last (the snapshot rule). After a failure the buffers are kept,
        so a retry cannot publish a hydrations row before its reactions and edits.
        """
        published: dict[str, list[dict[str, Any]]] = {}
        try:
            for table in WRITE_ORDER:
                rows = self._buffers[table]
                while rows:
                    chunk = rows[: self.flush_rows]
                    self._write_part(table, chunk)
                    published.setdefault(table, []).extend(chunk)
                    # Drop rows only once published: after an exception the rest is still
                    # here, and nothing published is written twice by a retry.
                    del rows[: len(chunk)]
                    self._buffered -= len(chunk)
            self._pending_snapshots.clear()
        finally:
            if published and self.observer is not None:
                self.observer(published)

    def _write_part(self, table: str, rows: list[dict[str, Any]]) -> None:
        directory = partition_dir(self.data_dir, table, self.run_id)
        makedirs_durable(directory)
        final = self._next_part_path(table, directory)
        size = write_parquet_atomic(rows_to_table(table, rows), final)
        stats = self.stats[table]
        stats.rows += len(rows)
        stats.files += 1
        stats.bytes += size
        log.debug("landed %d %s rows in %s", len(rows), table, final)

    def _next_part_path(self, table: str, directory: Path) -> Path:
        """The next free `part-<seq>.parquet`; resumes after parts an earlier writer left."""
        seq = self._next_seq.get(table)
        if seq is None:
            seqs = [int(m.group(1)) for p in directory.iterdir() if (m := _PART_RE.match(p.name))]
            seq = max(seqs, default=-1) + 1
        while (path := directory / f"part-{seq:05d}.parquet").exists():
            seq += 1
        self._next_seq[table] = seq + 1
        return path

    def close(self) -> None:
        """Flush and refuse further rows (idempotent)."""
        if self._closed:
            return
        self.flush()
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this Lander is closed: create a new one to land more rows")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Flush on a clean exit only: after an error the caller decides what is consistent.

        The buffered units are whole, so flushing them would be safe, but a crawler that failed
        must not look as if it finished; it reruns and re-lands the work anyway.
        """
        if exc_type is None:
            self.close()
        else:
            self._closed = True


# -- readers -----------------------------------------------------------------------------------


def read_table(data_dir: Path, table: str) -> pa.Table | None:
    """Everything landed in a raw table, with its explicit schema; None when nothing landed.

    Meant for tests and `status`; the warehouse reads the files with DuckDB.
    """
    dataset = _dataset(data_dir, table)
    return None if dataset is None else dataset.to_table()


def _dataset(data_dir: Path, table: str) -> ds.Dataset | None:
    files = part_files(data_dir, table)
    if not files:
        return None
    return ds.dataset([str(p) for p in files], schema=schema_of(table), format="parquet")


def _to_arrow(relation: Any) -> pa.Table:
    """An Arrow table from a DuckDB relation, across DuckDB versions (the method was renamed)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    table: pa.Table = fetch()
    return table


_LATEST_HYDRATION = """
    SELECT * FROM hydrations
    QUALIFY row_number() OVER (
        PARTITION BY comment_id ORDER BY crawled_at DESC, run_id DESC
    ) = 1
"""


def latest_snapshots(data_dir: Path) -> dict[str, pa.Table]:
    """Each comment's latest snapshot: the `hydrations`, `reactions` and `edits` rows in force.

    Implements the module's snapshot rule with DuckDB over the Parquet files. Tables keep the
    raw schemas; comments never hydrated are absent from all three.
    """
    datasets = {t: _dataset(data_dir, t) for t in SNAPSHOT_TABLES}
    if datasets["hydrations"] is None:
        return {t: schema_of(t).empty_table() for t in SNAPSHOT_TABLES}
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table, dataset in datasets.items():
            con.register(table, dataset if dataset is not None else schema_of(table).empty_table())
        con.execute(f"CREATE TEMP TABLE latest AS {_LATEST_HYDRATION}")
        queries = {
            "hydrations": "SELECT * FROM latest ORDER BY comment_id",
            "reactions": _members("reactions", "reacted_at, content, reactor_login"),
            "edits": _members("edits", "edited_at, edit_id"),
        }
        return {t: _to_arrow(con.sql(q)).cast(schema_of(t)) for t, q in queries.items()}
    finally:
        con.close()


def _members(table: str, order: str) -> str:
    return f"""
        SELECT t.* FROM {table} AS t
        SEMI JOIN latest AS h
          ON t.comment_id = h.comment_id AND t.crawled_at = h.crawled_at AND t.run_id = h.run_id
        ORDER BY t.comment_id, {order}
    """
