"""What a build may reuse instead of computing: the caches' fingerprint, and the parse cache.

Every Python stage of the build keys its rows by content and copies the rows of keys computed
before, when their `cache_fingerprint` is its own: from the previous warehouse's tables
(`build.Stage`), except for the dialect parser, whose cache is a folder of Parquet files,
`DATA/cache/parsed/<fingerprint>/`, with rows of `udfs.PARSED_SCHEMA`:

- `<run_id>-<seq>.parquet`: **landed parses**. The crawler parses each bot body as it lands it
  (`LandedParser`, the `land.Lander`'s observer), spending CPU while it waits on GitHub, so
  even the first build after a crawl parses only what the crawler could not: the revisions of
  comments discovered in an earlier run (their author, part of the parse key, is not among the
  run's rows);
- `build-*.parquet`: the bodies a build parsed itself; `compact-*.parquet`: a build's rewrite
  of the folder once it piles up (`build.CACHE_COMPACT_FILES`).

A build after a parser or `[bots]` change finds nothing under its fingerprint and parses
everything; it removes the folders of other fingerprints.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from harvester import udfs
from harvester.config import BotsConfig
from harvester.land import write_parquet_atomic

log = logging.getLogger(__name__)

CACHE_SOURCES = ("dialects/*.py", "questions.py", "udfs.py")
"""The code whose output the caches hold: a change to any of it empties every cache."""

PARSED_DIR = Path("cache") / "parsed"
"""The parse cache, under the data directory: one folder per fingerprint."""
CACHE_OWN_PREFIXES = ("build-", "compact-")
"""File names of the parse cache that builds write; crawls write `<run_id>-<seq>.parquet`."""


def cache_fingerprint(bots: BotsConfig) -> str:
    """Changes whenever a Python stage's output could: its code, [bots], the versions of DuckDB
    and of RE2 (which matches the custom dialects)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for pattern in CACHE_SOURCES:
        for path in sorted(package.glob(pattern)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(bots.model_dump_json(by_alias=True).encode())
    digest.update(duckdb.__version__.encode())
    digest.update(importlib.metadata.version("google-re2").encode())
    return digest.hexdigest()[:32]


def parsed_dir(data_dir: Path, fingerprint: str) -> Path:
    return Path(data_dir) / PARSED_DIR / fingerprint


def landed_parse_files(data_dir: Path, fingerprint: str) -> list[Path]:
    """The published landed-parse files of one fingerprint, in a stable order."""
    folder = parsed_dir(data_dir, fingerprint)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.parquet") if path.is_file())


def remove_stale_parses(data_dir: Path, fingerprint: str) -> int:
    """Delete the landed-parse folders of other fingerprints (no build can read them again);
    returns how many."""
    root = Path(data_dir) / PARSED_DIR
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.name != fingerprint:
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed landed parses of an older parser or [bots]: %s", folder)
            removed += 1
    return removed


def parse_keys(rows: Sequence[tuple[str | None, str | None, str | None]]) -> list[int]:
    """`parse_key(author_login, author_type, body)` of `warehouse/macros/parse_key.sql`,
    computed by DuckDB itself so that the build's keys match exactly."""
    logins, types, bodies = (pa.array(column, pa.string()) for column in zip(*rows, strict=True))
    table = pa.table({"author_login": logins, "author_type": types, "body": bodies})
    con = duckdb.connect()
    try:
        con.register("bodies", table)
        keys = con.sql(
            "SELECT hash(coalesce(author_login, ''), coalesce(author_type, ''), "
            "coalesce(body, '')) FROM bodies"
        ).fetchall()
    finally:
        con.close()
    return [int(key) for (key,) in keys]


class LandedParser:
    """Parses the bot bodies of one crawl run as the `Lander` publishes them (`observe` is
    its `observer`).

    Bodies are those the build's parse stage reads (`int_bodies_to_parse`): the body of every
    bot comment row, and the bodies of the hydrations and edits of comments whose row this run
    landed (the parse key needs the comment's author). Each body is parsed once per run.
    Failures are logged, never raised: the raw rows are already durable and the build parses
    whatever is missing here.
    """

    def __init__(self, data_dir: Path, run_id: str, bots: BotsConfig) -> None:
        self.bots = bots
        self.folder = parsed_dir(data_dir, cache_fingerprint(bots))
        self.run_id = run_id
        self.parsed = 0
        self._authors: dict[str, tuple[str | None, str | None]] = {}
        self._seen: set[int] = set()
        self._seq = 0

    def observe(self, published: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Parse the new bodies among rows just published, by table name."""
        try:
            self._land(self._bodies(published))
        except Exception as exc:  # the crawl must go on; the build will parse these
            log.warning("could not land parses (the build will parse these bodies): %s", exc)

    def _bodies(
        self, published: Mapping[str, Sequence[Mapping[str, Any]]]
    ) -> list[tuple[str | None, str | None, str | None]]:
        found: list[tuple[str | None, str | None, str | None]] = []
        for row in published.get("comments", ()):
            if not row.get("is_bot_comment"):
                continue
            author = (row.get("author_login"), row.get("author_type"))
            self._authors[row["comment_id"]] = author
            if row.get("body") is not None:
                found.append((*author, row["body"]))
        for table in ("hydrations", "edits"):
            for row in published.get(table, ()):
                known = self._authors.get(row["comment_id"])
                if known is not None and row.get("body") is not None:
                    found.append((*known, row["body"]))
        return found

    def _land(self, bodies: list[tuple[str | None, str | None, str | None]]) -> None:
        if not bodies:
            return
        todo: dict[int, tuple[str | None, str | None, str | None]] = {}
        for key, body in zip(parse_keys(bodies), bodies, strict=True):
            if key not in self._seen:
                todo.setdefault(key, body)
        if not todo:
            return
        rows = [(key, body, login, kind) for key, (login, kind, body) in todo.items()]
        with udfs.fewer_gc_passes():
            table = udfs.parse_rows(rows, self.bots)
        self.folder.mkdir(parents=True, exist_ok=True)
        while (path := self.folder / f"{self.run_id}-{self._seq:05d}.parquet").exists():
            self._seq += 1
        write_parquet_atomic(table, path)
        self._seq += 1
        self._seen.update(todo)
        self.parsed += len(rows)
