"""Crawl state under `DATA/state/`: the data lock, the watermarks and the run log.

- `DataLock` (`DATA/state/lock`): one crawl at a time per data directory. It is an `fcntl.flock`
  lock, which the kernel drops when its process dies, so a killed crawl never blocks the next.
  The file also names its holder (pid, host, since when) for the error message.
- `Watermarks` (`DATA/state/watermarks.json`): per scope, the time up to which the crawl is
  complete. The crawler calls `commit()` only after `Lander.flush()` returned, so a watermark
  never covers data that is not durable; a crash between the two only means re-crawling a little.
- `RunLog` (`DATA/state/runs/<run_id>.json`): one record per run; `finish` also lands the run's
  row in the `runs` raw table itself (see `RunLog.finish`).

Every file here is replaced atomically (`atomic_write_text`): after a crash it holds either the
old or the new content, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from harvester.land import Lander, fsync_dir, makedirs_durable, validate_run_id
from harvester.rawschema import parse_timestamp

log = logging.getLogger(__name__)


def state_dir(data_dir: Path) -> Path:
    """`DATA/state`."""
    return Path(data_dir) / "state"


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically and durably (temp file, fsync, rename, fsync dir)."""
    path = Path(path)
    makedirs_durable(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    """A UTC ISO-8601 string with a trailing Z, as GitHub writes them."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got {value!r}")
    return value.astimezone(UTC)


def new_run_id(now: datetime) -> str:
    """A run id that sorts by start time: `20260101T000000Z-<6 hex random>`."""
    return f"{_aware(now, 'now'):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 probes without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- lock --------------------------------------------------------------------------------------


class LockHeld(RuntimeError):
    """Another process holds the data lock; the message says who and what to do."""

    def __init__(self, path: Path, holder: Mapping[str, Any]) -> None:
        self.path = path
        self.holder = dict(holder)
        pid = holder.get("pid", "unknown")
        host = holder.get("hostname", "unknown host")
        since = holder.get("started_at", "an unknown time")
        super().__init__(
            f"another crawl holds the data directory lock {path}: pid {pid} on {host} since "
            f"{since}. Wait for it to finish, or if no crawl is running remove {path}"
        )


class DataLock:
    """Exclusive, non-blocking lock on a data directory (`DATA/state/lock`).

    The lock file is never deleted on release (another process may already have it open, and
    deleting would let two processes lock two different files); it is emptied instead.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = state_dir(data_dir) / "lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, now: datetime | None = None) -> None:
        """Take the lock or raise `LockHeld` at once (no waiting)."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this DataLock")
        makedirs_durable(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        holder = {
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started_at": _iso(now or utc_now()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_is_held(data_dir: Path) -> bool:
    """Whether any open file description holds the data lock (this process's included)."""
    path = state_dir(data_dir) / "lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own shared lock
    return False


def _read_holder(fd: int) -> dict[str, Any]:
    """The holder's note in the lock file; empty while it is being written or if unreadable."""
    try:
        raw = os.pread(fd, 4096, 0)
        holder = json.loads(raw.decode()) if raw else {}
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


# -- watermarks --------------------------------------------------------------------------------


def repo_scope(repo: str, what: str) -> str:
    """The watermark scope of one listing of a repository: `repo:ORG/NAME:issues`."""
    return f"repo:{repo}:{what}"


class WatermarkError(ValueError):
    """The watermark file cannot be read; the message says how to recover."""


class Watermarks:
    """Per-scope high-water marks, loaded from and committed to `DATA/state/watermarks.json`.

    `set` only ever moves a mark forward (an older value is ignored), because a crawl that
    finishes a slice out of order must not make the next run skip or redo more than needed;
    `reset` is the only way back. Changes stay in memory until `commit()`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = state_dir(data_dir) / "watermarks.json"
        self._marks: dict[str, datetime] = self._load()

    def _load(self) -> dict[str, datetime]:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            marks = doc["scopes"]
            parsed = {str(k): parse_timestamp(v) for k, v in marks.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WatermarkError(
                f"{self.path} is unreadable ({exc}). Restore it from a backup, or delete it to "
                "crawl everything again (landing is append-only, the warehouse deduplicates)"
            ) from None
        return {k: v for k, v in parsed.items() if v is not None}

    def get(self, scope: str) -> datetime | None:
        """The scope's mark, or None when it was never crawled (or was reset)."""
        return self._marks.get(scope)

    def set(self, scope: str, value: datetime) -> datetime:
        """Move the scope's mark forward to `value` (in memory); returns the mark in force."""
        value = _aware(value, f"watermark {scope}")
        current = self._marks.get(scope)
        if current is not None and value < current:
            log.debug("watermark %s stays at %s (not moved back to %s)", scope, current, value)
            return current
        self._marks[scope] = value
        return value

    def reset(self, scope: str, value: datetime | None = None) -> None:
        """Forget the scope's mark, or set it to `value` even if older (in memory)."""
        if value is None:
            self._marks.pop(scope, None)
        else:
            self._marks[scope] = _aware(value, f"watermark {scope}")

    def items(self) -> dict[str, datetime]:
        """All marks, by scope."""
        return dict(self._marks)

    def commit(self) -> None:
        """Persist all marks atomically. Call only after the data they cover is flushed."""
        doc = {"version": 1, "scopes": {k: _iso(v) for k, v in sorted(self._marks.items())}}
        atomic_write_text(self.path, json.dumps(doc, indent=2) + "\n")


# -- run log -----------------------------------------------------------------------------------

RUNNING = "running"
INTERRUPTED = "interrupted"


@dataclass
class RunRecord:
    """One run as the run log knows it (`status` already says "interrupted" for dead runs)."""

    run_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    pid: int | None = None
    hostname: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    points_used: int = 0
    requests: int = 0
    retries: int = 0
    counts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "finished_at": None if self.finished_at is None else _iso(self.finished_at),
            "pid": self.pid,
            "hostname": self.hostname,
            "args": self.args,
            "points_used": self.points_used,
            "requests": self.requests,
            "retries": self.retries,
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RunRecord:
        started = parse_timestamp(doc["started_at"])
        if started is None:
            raise ValueError("started_at is null")
        return cls(
            run_id=str(doc["run_id"]),
            status=str(doc["status"]),
            started_at=started,
            finished_at=parse_timestamp(doc.get("finished_at")),
            pid=doc.get("pid"),
            hostname=doc.get("hostname"),
            args=dict(doc.get("args") or {}),
            points_used=int(doc.get("points_used") or 0),
            requests=int(doc.get("requests") or 0),
            retries=int(doc.get("retries") or 0),
            counts=dict(doc.get("counts") or {}),
        )

    def runs_row(self) -> dict[str, Any]:
        """The row of the `runs` raw table."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "points_used": self.points_used,
            "requests": self.requests,
            "retries": self.retries,
            "counts": json.dumps(self.counts, sort_keys=True, default=str),
        }


class RunLog:
    """The run records under `DATA/state/runs/`, one JSON file per run."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.dir = state_dir(data_dir) / "runs"

    def _path(self, run_id: str) -> Path:
        return self.dir / f"{validate_run_id(run_id)}.json"

    def _write(self, record: RunRecord) -> None:
        atomic_write_text(self._path(record.run_id), json.dumps(record.to_json(), indent=2) + "\n")

    def start(self, run_id: str, started_at: datetime, args: Mapping[str, Any]) -> RunRecord:
        """Record a run as "running" by this process; `args` must be JSON-able (else str())."""
        record = RunRecord(
            run_id=run_id,
            status=RUNNING,
            started_at=_aware(started_at, "started_at"),
            pid=os.getpid(),
            hostname=socket.gethostname(),
            args=json.loads(json.dumps(dict(args), default=str)),
        )
        self._write(record)
        return record

    def get(self, run_id: str) -> RunRecord | None:
        """The stored record as written (no interrupted detection), or None."""
        path = self._path(run_id)
        if not path.exists():
            return None
        return RunRecord.from_json(json.loads(path.read_text(encoding="utf-8")))

    def finish(
        self,
        run_id: str,
        status: str,
        points_used: int,
        requests: int,
        retries: int,
        counts: Mapping[str, Any],
        *,
        finished_at: datetime | None = None,
        land: bool = True,
    ) -> dict[str, Any]:
        """Close the run's record and land its row in the `runs` raw table; returns the row.

        The row is landed here (through a short-lived `Lander` for this run id, after the
        record is rewritten), not by the crawler: the crawler has closed its own `Lander` by
        then, and the runs table then always agrees with the run log. `land=False` only
        rewrites the record, for a caller that lands the returned row itself.
        """
        if status == RUNNING:
            raise ValueError('finish() needs a final status, not "running"')
        record = self.get(run_id)
        end = _aware(finished_at or utc_now(), "finished_at")
        if record is None:
            log.warning("run %s has no start record; recording it as started at its end", run_id)
            record = RunRecord(run_id=run_id, status=status, started_at=end)
        record.status = status
        record.finished_at = end
        record.points_used = points_used
        record.requests = requests
        record.retries = retries
        record.counts = json.loads(json.dumps(dict(counts), default=str))
        self._write(record)
        row = record.runs_row()
        if land:
            with Lander(self.data_dir, run_id, sweep=False) as lander:
                lander.add("runs", [row])
        return row

    def _effective(self, record: RunRecord, lock_held: bool) -> RunRecord:
        """The record with "running" turned into "interrupted" when that run cannot be alive.

        Crawls run under the data lock, so a free lock means nothing runs; otherwise a pid that
        no longer exists on this host means its run died.
        """
        if record.status != RUNNING:
            return record
        dead = not lock_held or (
            record.hostname == socket.gethostname()
            and record.pid is not None
            and not pid_alive(record.pid)
        )
        if dead:
            record.status = INTERRUPTED
        return record

    def list_runs(self) -> list[RunRecord]:
        """All runs, newest first; a "running" run that cannot be alive reads "interrupted"."""
        if not self.dir.is_dir():
            return []
        held = lock_is_held(self.data_dir)
        records: list[RunRecord] = []
        for path in self.dir.glob("*.json"):
            try:
                records.append(RunRecord.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable run record %s: %s", path, exc)
        records.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        return [self._effective(r, held) for r in records]

    def mark_interrupted(self) -> list[str]:
        """Close every run that died while "running" as "interrupted" (record and runs row).

        For the next crawl to call after taking the lock, so that crashed runs appear in the
        `runs` table too. Returns the run ids it closed.
        """
        closed: list[str] = []
        for record in self.list_runs():
            if record.status == INTERRUPTED and record.finished_at is None:
                self.finish(
                    record.run_id,
                    INTERRUPTED,
                    record.points_used,
                    record.requests,
                    record.retries,
                    record.counts,
                )
                closed.append(record.run_id)
        return closed
