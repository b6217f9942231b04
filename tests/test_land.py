"""Landing: raw schemas, atomic partitioned Parquet parts, the snapshot rule, bounded buffers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harvester.land import Lander, latest_snapshots, part_files, read_table, sweep_temp
from harvester.rawschema import TABLES, RawSchemaError, coerce

RUN = "20260101T000000Z-abc123"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

SAMPLE_ROWS: dict[str, dict[str, Any]] = {
    "threads": {
        "thread_id": "I_1",
        "org": "ubiquity",
        "repo": "ubiquity/pay",
        "number": 7,
        "kind": "issue",
        "title": "Fix payouts",
        "body": None,
        "author_login": "alice",
        "author_type": "User",
        "state": "OPEN",
        "created_at": "2025-01-02T03:04:05Z",
        "updated_at": datetime(2025, 1, 3, tzinfo=UTC),
        "url": "https://github.com/ubiquity/pay/issues/7",
        "crawled_at": "2026-01-01T00:00:00Z",
    },
    "comments": {
        "comment_id": "IC_1",
        "thread_id": "I_1",
        "org": "ubiquity",
        "repo": "ubiquity/pay",
        "kind": "issue_comment",
        "author_login": "ubiquity-os",
        "author_type": "Bot",
        "body": "Answer",
        "created_at": "2025-01-02T03:04:05.123456Z",
        "last_edited_at": None,
        "includes_created_edit": False,
        "is_minimized": False,
        "database_id": 123456789012,
        "is_bot_comment": True,
        "bot_reason": "author_type",
        "crawled_at": "2026-01-01T00:00:00Z",
    },
    "reactions": {
        "comment_id": "IC_1",
        "content": "THUMBS_UP",
        "reactor_login": None,
        "reactor_type": None,
        "reacted_at": "2025-01-04T00:00:00+02:00",
        "crawled_at": "2026-01-01T00:00:00Z",
    },
    "edits": {
        "comment_id": "IC_1",
        "edit_id": "UCE_1",
        "edited_at": "2025-01-05T00:00:00Z",
        "editor_login": "bob",
        "editor_type": "User",
        "body": None,
        "deleted_at": "2025-01-06T00:00:00Z",
        "deleted_by_login": "bob",
        "crawled_at": "2026-01-01T00:00:00Z",
    },
    "hydrations": {
        "comment_id": "IC_1",
        "crawled_at": "2026-01-01T00:00:00Z",
        "reaction_count": 1,
        "edit_count": 1,
        "includes_created_edit": True,
        "body": "Answer",
    },
    "runs": {
        "run_id": RUN,
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": None,
        "status": "ok",
        "points_used": 10,
        "requests": 3,
        "retries": 0,
        "counts": {"comments": 1},
    },
}


def reaction(login: str, content: str = "THUMBS_UP") -> dict[str, Any]:
    return {
        "content": content,
        "reactor_login": login,
        "reactor_type": "User",
        "reacted_at": "2025-06-01T00:00:00Z",
    }


def edit(edit_id: str, body: str | None) -> dict[str, Any]:
    return {
        "edit_id": edit_id,
        "edited_at": "2025-06-02T00:00:00Z",
        "editor_login": "bob",
        "editor_type": "User",
        "body": body,
    }


# -- rawschema ---------------------------------------------------------------------------------


def test_schemas_use_utc_microsecond_timestamps_and_string_ids() -> None:
    for name, schema in TABLES.items():
        for field in schema:
            if field.name.endswith("_at"):
                assert field.type == pa.timestamp("us", tz="UTC"), (name, field.name)
            if field.name.endswith("_id") and field.name != "database_id":
                assert field.type == pa.string(), (name, field.name)
    assert TABLES["comments"].field("database_id").type == pa.int64()
    assert TABLES["hydrations"].names == [
        "comment_id",
        "crawled_at",
        "run_id",
        "reaction_count",
        "edit_count",
        "includes_created_edit",
        "last_edited_at",
        "body",
        "updated_at",
        "is_minimized",
        "minimized_reason",
        "is_deleted",
    ]


@pytest.mark.parametrize("table", list(TABLES))
def test_coerce_round_trips_every_table(table: str, tmp_path: Path) -> None:
    row = {"run_id": RUN, **SAMPLE_ROWS[table]}
    arrow = coerce(table, [row])
    assert arrow.schema == TABLES[table]
    path = tmp_path / f"{table}.parquet"
    pq.write_table(arrow, path)
    back = pq.read_table(path).to_pylist()[0]
    for column, value in row.items():
        if isinstance(value, str) and column.endswith("_at"):
            assert back[column] == datetime.fromisoformat(value), column
        elif column == "counts":
            assert back[column] == '{"comments": 1}'
        else:
            assert back[column] == value, column
    missing = set(TABLES[table].names) - set(row)
    assert all(back[c] is None for c in missing)


def test_coerce_converts_offsets_to_utc() -> None:
    arrow = coerce("reactions", [{"run_id": RUN, **SAMPLE_ROWS["reactions"]}])
    reacted = arrow.column("reacted_at")[0].as_py()
    assert reacted == datetime(2025, 1, 3, 22, tzinfo=UTC)
    assert reacted.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("table", "change", "needle"),
    [
        ("threads", {"number": "7"}, "threads row 0, column number: expected an int"),
        ("threads", {"kind": "discussion"}, "threads row 0, column kind: 'discussion'"),
        ("threads", {"created_at": "yesterday"}, "threads row 0, column created_at"),
        ("threads", {"created_at": datetime(2025, 1, 1)}, "column created_at: timestamp"),
        ("threads", {"crawled_at": None}, "column crawled_at: must not be null"),
        ("comments", {"database_id": True}, "comments row 0, column database_id"),
        ("comments", {"is_minimized": 1}, "column is_minimized: expected a bool"),
        ("comments", {"bot_reason": "guess"}, "column bot_reason"),
        ("comments", {"thread_id": 5}, "column thread_id: expected a string"),
        ("reactions", {"reacted": "x"}, "reactions row 0: unknown column(s) ['reacted']"),
    ],
)
def test_coerce_names_table_and_column_on_bad_input(
    table: str, change: dict[str, Any], needle: str
) -> None:
    row = {"run_id": RUN, **SAMPLE_ROWS[table], **change}
    with pytest.raises(RawSchemaError) as info:
        coerce(table, [row])
    assert needle in str(info.value)


def test_unknown_table_is_refused() -> None:
    with pytest.raises(RawSchemaError, match="unknown raw table 'reaction'"):
        coerce("reaction", [])


# -- landing layout and atomicity --------------------------------------------------------------


def land_sample(data: Path, run_id: str = RUN) -> Lander:
    with Lander(data, run_id) as lander:
        lander.add("threads", [SAMPLE_ROWS["threads"]])
        lander.add("comments", [SAMPLE_ROWS["comments"]])
        lander.add_snapshot(
            "IC_1", T0, [reaction("alice")], [edit("UCE_1", "v1")], {"body": "Answer"}
        )
        lander.add("runs", [SAMPLE_ROWS["runs"]])
    return lander


def test_layout_is_hive_partitioned_by_run(tmp_path: Path) -> None:
    lander = land_sample(tmp_path)
    for table in TABLES:
        files = part_files(tmp_path, table)
        assert [f.relative_to(tmp_path).as_posix() for f in files] == [
            f"raw/{table}/run_id={RUN}/part-00000.parquet"
        ]
        assert lander.stats[table].rows == 1
        assert lander.stats[table].files == 1
    hydrations = read_table(tmp_path, "hydrations")
    assert hydrations is not None
    assert hydrations.to_pylist()[0]["reaction_count"] == 1
    assert hydrations.to_pylist()[0]["run_id"] == RUN


def test_read_table_is_none_when_nothing_landed(tmp_path: Path) -> None:
    assert read_table(tmp_path, "threads") is None
    snaps = latest_snapshots(tmp_path)
    assert {t: snaps[t].num_rows for t in snaps} == {"reactions": 0, "edits": 0, "hydrations": 0}


def test_second_writer_of_a_run_continues_the_sequence(tmp_path: Path) -> None:
    land_sample(tmp_path)
    with Lander(tmp_path, RUN) as lander:
        lander.add("threads", [SAMPLE_ROWS["threads"]])
    names = [p.name for p in part_files(tmp_path, "threads")]
    assert names == ["part-00000.parquet", "part-00001.parquet"]
    table = read_table(tmp_path, "threads")
    assert table is not None and table.num_rows == 2


def test_crash_leftover_temp_file_is_ignored_and_swept(tmp_path: Path) -> None:
    land_sample(tmp_path)
    partition = tmp_path / "raw" / "reactions" / f"run_id={RUN}"
    leftover = partition / ".part-00001-deadbeef.tmp"
    leftover.write_bytes(b"PAR1 half a file")  # what a kill during a write leaves
    table = read_table(tmp_path, "reactions")
    assert table is not None and table.num_rows == 1
    assert latest_snapshots(tmp_path)["reactions"].num_rows == 1
    Lander(tmp_path, "20260102T000000Z-000000")  # a new writer sweeps on start
    assert not leftover.exists()
    assert sweep_temp(tmp_path) == 0
    assert sweep_temp(tmp_path / "nowhere") == 0


def test_failed_write_leaves_no_temp_and_keeps_the_buffer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lander = Lander(tmp_path, RUN)
    lander.add_snapshot("IC_1", T0, [reaction("alice")], [])

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("harvester.land.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        lander.flush()
    assert not list(tmp_path.rglob("*.tmp"))
    assert read_table(tmp_path, "hydrations") is None
    monkeypatch.undo()
    lander.close()
    snaps = latest_snapshots(tmp_path)
    assert snaps["reactions"].num_rows == 1
    assert snaps["hydrations"].num_rows == 1


def test_exit_on_error_does_not_flush(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), Lander(tmp_path, RUN) as lander:
        lander.add("threads", [SAMPLE_ROWS["threads"]])
        raise RuntimeError("crawl failed")
    assert read_table(tmp_path, "threads") is None
    with pytest.raises(RuntimeError, match="closed"):
        lander.add("threads", [SAMPLE_ROWS["threads"]])


def test_add_is_all_or_nothing_and_large_batches_are_split(tmp_path: Path) -> None:
    lander = Lander(tmp_path, RUN, flush_rows=4)
    good = [{**SAMPLE_ROWS["threads"], "number": i} for i in range(3)]
    with pytest.raises(RawSchemaError, match="threads row 3, column number"):
        lander.add("threads", [*good, {**SAMPLE_ROWS["threads"], "number": "x"}])
    assert lander.buffered_rows == 0
    lander.add("threads", [{**SAMPLE_ROWS["threads"], "number": i} for i in range(10)])
    assert lander.buffered_rows == 2
    lander.close()
    assert [len(pq.read_table(p)) for p in part_files(tmp_path, "threads")] == [4, 4, 2]


def test_lander_fills_run_id_and_refuses_a_different_one(tmp_path: Path) -> None:
    lander = Lander(tmp_path, RUN)
    with pytest.raises(ValueError, match="run_id="):
        lander.add("threads", [{**SAMPLE_ROWS["threads"], "run_id": "other"}])
    with pytest.raises(ValueError, match="add_snapshot"):
        lander.add("reactions", [SAMPLE_ROWS["reactions"]])
    with pytest.raises(ValueError, match="not usable in a path"):
        Lander(tmp_path, "../escape")


# -- the snapshot rule -------------------------------------------------------------------------


def current(data: Path, table: str) -> list[tuple[Any, ...]]:
    rows = latest_snapshots(data)[table].to_pylist()
    if table == "reactions":
        return sorted((r["comment_id"], r["reactor_login"], r["content"]) for r in rows)
    return sorted((r["comment_id"], r["edit_id"], r["body"]) for r in rows)


def test_latest_snapshot_wins_and_removed_reactions_disappear(tmp_path: Path) -> None:
    t1 = T0 + timedelta(hours=1)
    with Lander(tmp_path, RUN) as lander:
        lander.add_snapshot(
            "IC_1", T0, [reaction("alice"), reaction("bob", "HEART")], [edit("E1", "v1")]
        )
        lander.add_snapshot("IC_2", T0, [reaction("carol")], [])
    with Lander(tmp_path, "20260101T010000Z-def456") as lander:
        lander.add_snapshot(
            "IC_1", t1, [reaction("alice"), reaction("dave", "LAUGH")], [edit("E2", "v2")]
        )
    assert current(tmp_path, "reactions") == [
        ("IC_1", "alice", "THUMBS_UP"),
        ("IC_1", "dave", "LAUGH"),
        ("IC_2", "carol", "THUMBS_UP"),
    ]
    assert current(tmp_path, "edits") == [("IC_1", "E2", "v2")]
    hydrations = latest_snapshots(tmp_path)["hydrations"].to_pylist()
    assert [(h["comment_id"], h["crawled_at"]) for h in hydrations] == [
        ("IC_1", t1),
        ("IC_2", T0),
    ]


def test_empty_latest_snapshot_means_no_reactions(tmp_path: Path) -> None:
    with Lander(tmp_path, RUN) as lander:
        lander.add_snapshot("IC_1", T0, [reaction("alice")], [edit("E1", "v1")])
        lander.add_snapshot("IC_1", T0 + timedelta(days=1), [], [edit("E1", "v1")])
    assert current(tmp_path, "reactions") == []
    assert current(tmp_path, "edits") == [("IC_1", "E1", "v1")]
    (marker,) = latest_snapshots(tmp_path)["hydrations"].to_pylist()
    assert (marker["reaction_count"], marker["edit_count"]) == (0, 1)


def test_orphan_rows_without_a_hydration_are_ignored(tmp_path: Path) -> None:
    """A crash after the reactions file and before the hydrations file leaves an orphan."""
    with Lander(tmp_path, RUN) as lander:
        lander.add_snapshot("IC_1", T0, [reaction("alice")], [])
    orphan = coerce(
        "reactions",
        [
            {
                "comment_id": "IC_1",
                "crawled_at": T0 + timedelta(hours=2),
                "run_id": "crashed",
                **reaction("mallory", "THUMBS_DOWN"),
            },
            # same crawled_at as the good snapshot, but another (crashed) run
            {
                "comment_id": "IC_1",
                "crawled_at": T0,
                "run_id": "crashed",
                **reaction("eve", "CONFUSED"),
            },
            {"comment_id": "IC_9", "crawled_at": T0, "run_id": "crashed", **reaction("x")},
        ],
    )
    orphan_dir = tmp_path / "raw" / "reactions" / "run_id=crashed"
    orphan_dir.mkdir(parents=True)
    pq.write_table(orphan, orphan_dir / "part-00000.parquet")
    assert current(tmp_path, "reactions") == [("IC_1", "alice", "THUMBS_UP")]


def test_hydrations_file_is_written_after_reactions_and_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real = Lander._write_part

    def spy(self: Lander, table: str, rows: list[dict[str, Any]]) -> None:
        written.append(table)
        real(self, table, rows)

    monkeypatch.setattr(Lander, "_write_part", spy)
    land_sample(tmp_path)
    assert written[-1] == "hydrations"
    assert written.index("reactions") < written.index("hydrations")
    assert written.index("edits") < written.index("hydrations")


def test_same_snapshot_twice_in_a_buffer_is_refused(tmp_path: Path) -> None:
    lander = Lander(tmp_path, RUN)
    lander.add_snapshot("IC_1", T0, [reaction("alice")], [])
    with pytest.raises(ValueError, match="already added"):
        lander.add_snapshot("IC_1", "2026-01-01T00:00:00Z", [reaction("alice")], [])


def test_snapshot_rows_must_agree_with_the_unit(tmp_path: Path) -> None:
    lander = Lander(tmp_path, RUN)
    with pytest.raises(ValueError, match="comment_id="):
        lander.add_snapshot("IC_1", T0, [{**reaction("a"), "comment_id": "IC_2"}], [])
    other_zone = T0.astimezone(timezone(timedelta(hours=3)))
    lander.add_snapshot("IC_1", T0, [{**reaction("a"), "crawled_at": other_zone}], [])
    assert lander.buffered_rows == 2


# -- bounded buffers ---------------------------------------------------------------------------


def test_buffers_are_bounded_and_split_into_parts(tmp_path: Path) -> None:
    lander = Lander(tmp_path, RUN, flush_rows=10)
    for i in range(25):
        lander.add("threads", [{**SAMPLE_ROWS["threads"], "number": i}])
        assert lander.buffered_rows < 10
    for i in range(12):
        reactions = [reaction(f"user{j}") for j in range(i % 4)]
        lander.add_snapshot(f"IC_{i}", T0, reactions, [])
        assert lander.buffered_rows < 10
    lander.close()
    threads = read_table(tmp_path, "threads")
    assert threads is not None
    assert sorted(threads.column("number").to_pylist()) == list(range(25))
    assert len(part_files(tmp_path, "threads")) == 3
    assert len(part_files(tmp_path, "hydrations")) > 1
    assert lander.stats["threads"].files == 3
    assert lander.stats["reactions"].rows == sum(i % 4 for i in range(12))
    snaps = latest_snapshots(tmp_path)
    assert snaps["hydrations"].num_rows == 12
    assert snaps["reactions"].num_rows == lander.stats["reactions"].rows


def test_a_unit_larger_than_flush_rows_lands_whole(tmp_path: Path) -> None:
    with Lander(tmp_path, RUN, flush_rows=4) as lander:
        lander.add_snapshot("IC_0", T0, [reaction("a")], [])
        lander.add_snapshot("IC_1", T0, [reaction(f"u{j}") for j in range(9)], [])
        assert lander.buffered_rows == 0
    assert len(part_files(tmp_path, "reactions")) == 4  # 1, then 9 split as 4 + 4 + 1
    assert latest_snapshots(tmp_path)["reactions"].num_rows == 10


def test_the_observer_sees_what_each_flush_published_even_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, int]] = []
    lander = Lander(
        tmp_path, RUN, observer=lambda rows: seen.append({t: len(r) for t, r in rows.items()})
    )
    lander.add("threads", [SAMPLE_ROWS["threads"]])
    lander.add("comments", [SAMPLE_ROWS["comments"]] * 2)
    lander.flush()
    lander.flush()  # nothing buffered: nothing published, no call
    assert seen == [{"threads": 1, "comments": 2}]
    lander.add("threads", [SAMPLE_ROWS["threads"]])
    lander.add("comments", [SAMPLE_ROWS["comments"]])
    real = Lander._write_part

    def fail_on_comments(self: Lander, table: str, rows: list[dict[str, Any]]) -> None:
        if table == "comments":
            raise OSError("disk full")
        real(self, table, rows)

    monkeypatch.setattr(Lander, "_write_part", fail_on_comments)
    with pytest.raises(OSError, match="disk full"):
        lander.flush()
    assert seen[-1] == {"threads": 1}  # the threads file was published before the failure
