"""Crawl state: the data lock, watermarks, the run log, run ids, atomic writes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harvester.land import read_table
from harvester.state import (
    DataLock,
    LockHeld,
    RunLog,
    WatermarkError,
    Watermarks,
    atomic_write_text,
    lock_is_held,
    new_run_id,
    repo_scope,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# -- lock --------------------------------------------------------------------------------------


def test_lock_held_twice_says_who_and_what_to_do(tmp_path: Path) -> None:
    with DataLock(tmp_path) as lock:
        assert lock.held and lock_is_held(tmp_path)
        with pytest.raises(LockHeld) as info:
            DataLock(tmp_path).acquire()
    message = str(info.value)
    assert f"pid {os.getpid()}" in message
    assert "since 20" in message
    assert "Wait for it to finish" in message
    assert f"remove {tmp_path / 'state' / 'lock'}" in message
    assert info.value.holder["pid"] == os.getpid()
    assert not lock_is_held(tmp_path)
    with DataLock(tmp_path):  # released: can be taken again
        pass


def test_lock_of_a_killed_process_does_not_block(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from harvester.state import DataLock
        DataLock(Path({str(tmp_path)!r})).acquire()
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "locked"
            with pytest.raises(LockHeld, match=f"pid {child.pid}"):
                DataLock(tmp_path).acquire()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
    assert (tmp_path / "state" / "lock").exists()  # the file stays; the lock died with it
    with DataLock(tmp_path):
        pass


# -- watermarks --------------------------------------------------------------------------------


def test_watermarks_commit_and_reload(tmp_path: Path) -> None:
    scope = repo_scope("ubiquity/pay", "issues")
    assert scope == "repo:ubiquity/pay:issues"
    marks = Watermarks(tmp_path)
    assert marks.get(scope) is None
    marks.set(scope, T0)
    assert Watermarks(tmp_path).get(scope) is None  # not committed yet
    marks.commit()
    assert Watermarks(tmp_path).get(scope) == T0
    doc = json.loads((tmp_path / "state" / "watermarks.json").read_text())
    assert doc["scopes"] == {scope: "2026-01-01T00:00:00Z"}


def test_watermarks_never_move_backwards_unless_reset(tmp_path: Path) -> None:
    scope = "repo:o/r:pull_requests"
    marks = Watermarks(tmp_path)
    marks.set(scope, T0)
    assert marks.set(scope, T0 - timedelta(days=1)) == T0
    assert marks.set(scope, T0 + timedelta(days=1)) == T0 + timedelta(days=1)
    marks.commit()
    reloaded = Watermarks(tmp_path)
    reloaded.set(scope, T0)
    assert reloaded.get(scope) == T0 + timedelta(days=1)
    reloaded.reset(scope, T0 - timedelta(days=5))
    assert reloaded.get(scope) == T0 - timedelta(days=5)
    reloaded.reset(scope)
    assert reloaded.get(scope) is None
    reloaded.commit()
    assert Watermarks(tmp_path).items() == {}
    with pytest.raises(ValueError, match="timezone"):
        reloaded.set(scope, datetime(2026, 1, 1))


def test_corrupt_watermarks_say_how_to_recover(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "state" / "watermarks.json", "{not json")
    with pytest.raises(WatermarkError, match="delete it to crawl everything again"):
        Watermarks(tmp_path)


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.txt"]


# -- run ids and the run log -------------------------------------------------------------------


def test_run_ids_sort_by_time() -> None:
    first = new_run_id(T0)
    assert re.fullmatch(r"20260101T000000Z-[0-9a-f]{6}", first)
    later = new_run_id(T0 + timedelta(seconds=1))
    assert sorted([later, first]) == [first, later]
    assert new_run_id(T0) != first
    with pytest.raises(ValueError, match="timezone"):
        new_run_id(datetime(2026, 1, 1))


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_run_log_start_finish_and_runs_row(tmp_path: Path) -> None:
    runs = RunLog(tmp_path)
    run_id = new_run_id(T0)
    runs.start(run_id, T0, {"org": ["ubiquity"], "since": T0})
    record = runs.get(run_id)
    assert record is not None and record.status == "running"
    assert record.args == {"org": ["ubiquity"], "since": "2026-01-01 00:00:00+00:00"}
    row = runs.finish(
        run_id, "ok", 120, 14, 2, {"comments": 40}, finished_at=T0 + timedelta(minutes=5)
    )
    assert row["counts"] == '{"comments": 40}'
    stored = runs.get(run_id)
    assert stored is not None
    assert stored.status == "ok"
    assert (stored.points_used, stored.requests, stored.retries) == (120, 14, 2)
    landed = read_table(tmp_path, "runs")
    assert landed is not None
    assert landed.to_pylist() == [
        {
            "run_id": run_id,
            "started_at": T0,
            "finished_at": T0 + timedelta(minutes=5),
            "status": "ok",
            "points_used": 120,
            "requests": 14,
            "retries": 2,
            "counts": '{"comments": 40}',
        }
    ]
    with pytest.raises(ValueError, match="final status"):
        runs.finish(run_id, "running", 0, 0, 0, {})
    with pytest.raises(ValueError, match="not usable in a path"):
        runs.start("../../etc/x", T0, {})


def test_run_log_lists_newest_first_and_detects_interrupted_runs(tmp_path: Path) -> None:
    runs = RunLog(tmp_path)
    assert runs.list_runs() == []
    old, dead, alive = (new_run_id(T0 + timedelta(hours=h)) for h in range(3))
    runs.start(old, T0, {})
    runs.finish(old, "ok", 1, 1, 0, {})
    runs.start(dead, T0 + timedelta(hours=1), {})
    record = runs.get(dead)
    assert record is not None
    record.pid = dead_pid()
    runs._write(record)  # as if the run had been started by a process that was killed since
    with DataLock(tmp_path):
        runs.start(alive, T0 + timedelta(hours=2), {})
        listed = runs.list_runs()
        assert [(r.run_id, r.status) for r in listed] == [
            (alive, "running"),
            (dead, "interrupted"),
            (old, "ok"),
        ]
        assert runs.mark_interrupted() == [dead]
        assert runs.mark_interrupted() == []
    # Without the lock no crawl can be running: a "running" record was interrupted.
    assert runs.list_runs()[0].status == "interrupted"
    landed = read_table(tmp_path, "runs")
    assert landed is not None
    assert sorted(zip(landed["run_id"].to_pylist(), landed["status"].to_pylist(), strict=True)) == [
        (old, "ok"),
        (dead, "interrupted"),
    ]


def test_unreadable_run_record_is_skipped(tmp_path: Path) -> None:
    runs = RunLog(tmp_path)
    runs.start(new_run_id(T0), T0, {})
    atomic_write_text(tmp_path / "state" / "runs" / "broken.json", "{}")
    assert len(runs.list_runs()) == 1
