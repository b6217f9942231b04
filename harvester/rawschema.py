"""The pyarrow schemas of the raw landing tables, and `coerce` to build them from crawler rows.

Every raw Parquet file is written with exactly these schemas, so readers can open all files of a
table with one explicit schema (a column added later reads as null in older files). Conventions:

- ids are strings (GraphQL node ids; `database_id` is the only integer id);
- timestamps are `timestamp("us", tz="UTC")`; rows may carry ISO-8601 strings as GitHub sends
  them ("2025-01-02T03:04:05Z") or timezone-aware datetimes. Naive datetimes are refused: a
  time without a zone is a bug in the caller, and guessing would silently shift data;
- logins are stored as GraphQL gives them, `*_type` is the GraphQL `__typename`.

Validation happens row by row, before anything is buffered or written, so a bad value fails at
the call that produced it with the table, the row index and the column in the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
"""The one timestamp type of the raw tables."""


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


S = pa.string()
I64 = pa.int64()
B = pa.bool_()

THREADS = _schema(
    ("thread_id", S),
    ("org", S),
    ("repo", S),
    ("number", I64),
    ("kind", S),
    ("title", S),
    ("body", S),
    ("author_login", S),
    ("author_type", S),
    ("state", S),
    ("created_at", TS),
    ("updated_at", TS),
    ("url", S),
    ("crawled_at", TS),
    ("run_id", S),
)

COMMENTS = _schema(
    ("comment_id", S),
    ("thread_id", S),
    ("org", S),
    ("repo", S),
    ("kind", S),
    ("author_login", S),
    ("author_type", S),
    ("body", S),
    ("created_at", TS),
    ("updated_at", TS),
    ("last_edited_at", TS),
    ("editor_login", S),
    ("editor_type", S),
    ("includes_created_edit", B),
    ("is_minimized", B),
    ("minimized_reason", S),
    ("reply_to_id", S),
    ("review_id", S),
    ("path", S),
    ("diff_hunk", S),
    ("review_state", S),
    ("url", S),
    ("database_id", I64),
    ("is_bot_comment", B),
    ("bot_reason", S),
    ("crawled_at", TS),
    ("run_id", S),
)

REACTIONS = _schema(
    ("comment_id", S),
    ("content", S),
    ("reactor_login", S),
    ("reactor_type", S),
    ("reacted_at", TS),
    ("crawled_at", TS),
    ("run_id", S),
)

EDITS = _schema(
    ("comment_id", S),
    ("edit_id", S),
    ("edited_at", TS),
    ("editor_login", S),
    ("editor_type", S),
    ("body", S),
    ("deleted_at", TS),
    ("deleted_by_login", S),
    ("crawled_at", TS),
    ("run_id", S),
)

HYDRATIONS = _schema(
    ("comment_id", S),
    ("crawled_at", TS),
    ("run_id", S),
    ("reaction_count", I64),
    ("edit_count", I64),
    ("includes_created_edit", B),
    ("last_edited_at", TS),
    ("body", S),
    ("updated_at", TS),
    ("is_minimized", B),
    ("minimized_reason", S),
    ("is_deleted", B),  # a tombstone: the comment was gone (a null node) at crawled_at
)

RUNS = _schema(
    ("run_id", S),
    ("started_at", TS),
    ("finished_at", TS),
    ("status", S),
    ("points_used", I64),
    ("requests", I64),
    ("retries", I64),
    ("counts", S),
)

TABLES: dict[str, pa.Schema] = {
    "threads": THREADS,
    "comments": COMMENTS,
    "reactions": REACTIONS,
    "edits": EDITS,
    "hydrations": HYDRATIONS,
    "runs": RUNS,
}

REQUIRED: dict[str, frozenset[str]] = {
    "threads": frozenset({"thread_id", "org", "repo", "number", "kind", "crawled_at", "run_id"}),
    "comments": frozenset(
        {"comment_id", "thread_id", "org", "repo", "kind", "is_bot_comment", "crawled_at", "run_id"}
    ),
    "reactions": frozenset({"comment_id", "content", "crawled_at", "run_id"}),
    "edits": frozenset({"comment_id", "crawled_at", "run_id"}),
    "hydrations": frozenset({"comment_id", "crawled_at", "run_id", "reaction_count", "edit_count"}),
    "runs": frozenset({"run_id", "started_at", "status"}),
}
"""Columns that may not be null: without them a row cannot be placed or deduplicated."""

ALLOWED: dict[tuple[str, str], frozenset[str | None]] = {
    ("threads", "kind"): frozenset({"issue", "pull_request"}),
    ("comments", "kind"): frozenset({"issue_comment", "review", "review_comment"}),
    ("comments", "bot_reason"): frozenset({"author_type", "header", "configured", None}),
}
"""Closed vocabularies the warehouse branches on: a typo here would silently drop rows later."""


class RawSchemaError(ValueError):
    """A row does not fit its raw table; the message names table, row and column."""


def schema_of(table: str) -> pa.Schema:
    """The schema of a raw table, with an error that lists the known tables."""
    try:
        return TABLES[table]
    except KeyError:
        known = ", ".join(TABLES)
        raise RawSchemaError(f"unknown raw table {table!r}: expected one of {known}") from None


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or an aware datetime (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise TypeError(f"expected an ISO-8601 string or a datetime, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} has no timezone: give UTC, e.g. '...Z'")
    return parsed.astimezone(UTC)


def _as_int(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__} {value!r}")
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"{value} does not fit in int64")
    return value


def _as_bool(value: object) -> object:
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool, got {type(value).__name__} {value!r}")
    return value


def _as_str(value: object) -> object:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _as_json(value: object) -> object:
    """A JSON string column that also takes a mapping (stored as sorted JSON)."""
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)
    return _as_str(value)


_JSON_COLUMNS = frozenset({("runs", "counts")})


class _Column(NamedTuple):
    """A column's checks, precomputed: rows are validated one by one, so this is the hot path."""

    name: str
    convert: Callable[[object], object]
    required: bool
    allowed: frozenset[str | None] | None


def _converter(table: str, field: pa.Field) -> Callable[[object], object]:
    if (table, field.name) in _JSON_COLUMNS:
        return _as_json
    if field.type == TS:
        return parse_timestamp
    if field.type == I64:
        return _as_int
    if field.type == B:
        return _as_bool
    return _as_str


_COLUMNS: dict[str, tuple[_Column, ...]] = {
    table: tuple(
        _Column(
            f.name,
            _converter(table, f),
            f.name in REQUIRED[table],
            ALLOWED.get((table, f.name)),
        )
        for f in schema
    )
    for table, schema in TABLES.items()
}
_NAMES: dict[str, frozenset[str]] = {t: frozenset(s.names) for t, s in TABLES.items()}


def normalize_row(table: str, row: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    """A row checked against its table and normalised (missing optional columns become None).

    Unknown keys are refused: they are almost always a misspelt column that would otherwise be
    dropped without a trace. `runs.counts` also accepts a mapping, stored as sorted JSON.
    """
    schema_of(table)
    if not _NAMES[table].issuperset(row):
        unknown = sorted(set(row) - _NAMES[table])
        raise RawSchemaError(
            f"{table} row {index}: unknown column(s) {unknown}; "
            f"the {table} columns are {', '.join(TABLES[table].names)}"
        )
    out: dict[str, Any] = {}
    for column in _COLUMNS[table]:
        value = row.get(column.name)
        if value is not None:
            try:
                value = column.convert(value)
            except (TypeError, ValueError) as exc:
                raise RawSchemaError(f"{table} row {index}, column {column.name}: {exc}") from None
        elif column.required:
            raise RawSchemaError(f"{table} row {index}, column {column.name}: must not be null")
        if column.allowed is not None and value not in column.allowed:
            shown = sorted(repr(v) for v in column.allowed)
            raise RawSchemaError(
                f"{table} row {index}, column {column.name}: {value!r} is not one of "
                f"{', '.join(shown)}"
            )
        out[column.name] = value
    return out


def rows_to_table(table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """An Arrow table from rows already normalised by `normalize_row` (no checks repeated)."""
    schema = schema_of(table)
    arrays = [pa.array([r[f.name] for r in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def coerce(table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """An Arrow table with the table's exact schema from crawler rows (dicts).

    Raises `RawSchemaError` naming the table, the row index and the column on bad input.
    """
    normalized = [normalize_row(table, row, i) for i, row in enumerate(rows)]
    return rows_to_table(table, normalized)
