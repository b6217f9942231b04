"""Files an export writes: Parquet and JSON Lines sinks that stream in batches, file
checksums, and the swap that replaces a previous export in one step.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 5_000


class ParquetSink:
    """Rows of one schema into one Parquet file; no file at all when no row comes."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._buffer: list[dict[str, Any]] = []
        self._writer: pq.ParquetWriter | None = None

    def write(self, record: dict[str, Any]) -> None:
        self._buffer.append(record)
        self.rows += 1
        if len(self._buffer) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_pylist(self._buffer, schema=self.schema))
        self._buffer = []

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


class JsonlSink:
    """One JSON object per line (UTF-8, no ASCII escaping); no file when no row comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._file: TextIO | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8", newline="\n")
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


Sink = ParquetSink | JsonlSink


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(root: Path, rows: dict[Path, int]) -> list[dict[str, Any]]:
    """`path` (relative, `/`-separated), `bytes`, `sha256` and `rows` of every file."""
    entries = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        entry: dict[str, Any] = {
            "path": path.relative_to(root).as_posix(),
            "bytes": path.stat().st_size,
            "sha256": sha256_of(path),
        }
        if path in rows:
            entry["rows"] = rows[path]
        entries.append(entry)
    return entries


class StagingDir:
    """A fresh folder beside `target`; on success it replaces `target` (the old one is
    renamed away first, then removed), on failure it is removed and `target` is untouched."""

    def __init__(self, target: Path) -> None:
        self.target = target
        tag = uuid.uuid4().hex[:8]
        self.path = target.parent / f".{target.name}.export-{tag}.tmp"
        self._old = target.parent / f".{target.name}.old-{tag}"

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in self.target.parent.glob(f".{self.target.name}.*-*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)  # a killed export's staging folder
        for leftover in self.target.parent.glob(f".{self.target.name}.old-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        self.path.mkdir()
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        if self.target.exists():
            os.replace(self.target, self._old)
        os.replace(self.path, self.target)
        shutil.rmtree(self._old, ignore_errors=True)
