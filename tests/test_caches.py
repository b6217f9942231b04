"""Parses landed by the crawler: same keys and rows as the build's own, reused, never fatal."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from harvester import build as build_module
from harvester.build import MODELS_DIR
from harvester.caches import (
    LandedParser,
    cache_fingerprint,
    landed_parse_files,
    parse_keys,
    parsed_dir,
)
from harvester.config import BotsConfig
from tests.warehouse_fixtures import BOT, RawData, answer, connect, dump_marts, edit


def _marts(data_dir: Path) -> dict[str, list[dict[str, object]]]:
    return dump_marts(data_dir, ordered=True)


def _world(raw: RawData) -> None:
    raw.thread()
    raw.comment("Q1", author="alice", author_type="User", body="/ask why?", minute=-1)
    raw.comment("C1", body=answer("Because."))
    raw.comment("C2", body="Thinking...", minute=2)
    raw.snapshot(
        "C1",
        edits=[edit(BOT, "Bot", answer("Beacuse."), 0), edit("bob", "User", answer("Because."), 5)],
    )
    raw.snapshot("C2", body=answer("Later."), edits=[edit(BOT, "Bot", "Thinking...", 2)])


def test_a_build_after_landed_parses_parses_nothing_and_matches_a_full_parse(
    tmp_path: Path,
) -> None:
    raw = RawData(tmp_path, land_parses=True)
    _world(raw)
    result = raw.build_result()
    stage = result.stages["int_parsed_bodies"]
    assert stage["computed"] == 0
    assert stage["landed"] > 0
    landed = _marts(tmp_path)
    fresh = raw.build_result(reuse_cache=False)  # every body parsed by the build itself
    assert fresh.stages["int_parsed_bodies"]["landed"] == 0
    assert fresh.stages["int_parsed_bodies"]["computed"] == stage["landed"]
    assert _marts(tmp_path) == landed


def test_keys_are_those_of_the_warehouse_macro() -> None:
    con = duckdb.connect()
    con.execute((MODELS_DIR / "macros" / "parse_key.sql").read_text())
    samples = [
        (BOT, "Bot", answer("Because.")),
        ("alice", "User", "/ask why? \u00e9\U0001f600"),
        (None, None, None),
        ("", "", ""),
        (None, "Bot", "x"),
    ]
    expected = [
        con.execute("select parse_key(?, ?, ?)", list(sample)).fetchall()[0][0]
        for sample in samples
    ]
    assert parse_keys(samples) == expected
    assert expected[2] == expected[3]  # the macro's coalesce


def test_edits_of_a_comment_landed_in_an_earlier_run_are_left_to_the_build(
    tmp_path: Path,
) -> None:
    raw = RawData(tmp_path, land_parses=True)
    raw.thread()
    raw.comment("C1", body=answer("First."))
    raw.land()
    raw.snapshot("C1", run_id="r2", edits=[edit("bob", "User", answer("Fixed."), 5)])
    result = raw.build_result()
    assert result.stages["int_parsed_bodies"]["landed"] == 1  # C1's body, landed in r1
    assert result.stages["int_parsed_bodies"]["computed"] == 1  # bob's revision: author unknown
    landed = _marts(tmp_path)
    raw.build_result(reuse_cache=False)
    assert _marts(tmp_path) == landed


def test_only_bot_bodies_are_parsed_each_once(tmp_path: Path) -> None:
    parser = LandedParser(tmp_path, "r1", BotsConfig())
    human = {"comment_id": "H", "author_login": "al", "author_type": "User", "body": "hi"}
    bot = {"comment_id": "B", "author_login": BOT, "author_type": "Bot", "body": answer("x")}
    parser.observe(
        {"comments": [{**human, "is_bot_comment": False}, {**bot, "is_bot_comment": True}]}
    )
    parser.observe({"hydrations": [{"comment_id": "B", "body": answer("x")}]})  # seen: skipped
    parser.observe({"edits": [{"comment_id": "H", "body": "hi!"}]})  # not a bot comment
    assert parser.parsed == 1
    assert len(landed_parse_files(tmp_path, cache_fingerprint(BotsConfig()))) == 1


def test_a_landing_failure_is_logged_and_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parser = LandedParser(tmp_path, "r1", BotsConfig())
    parser.folder.parent.mkdir(parents=True)
    parser.folder.write_text("not a folder")
    bot = {"comment_id": "B", "author_login": BOT, "author_type": "Bot", "body": "x"}
    with caplog.at_level(logging.WARNING):
        parser.observe({"comments": [{**bot, "is_bot_comment": True}]})
    assert parser.parsed == 0
    assert "the build will parse these bodies" in caplog.text


def test_parses_of_another_fingerprint_are_removed_and_not_read(tmp_path: Path) -> None:
    raw = RawData(tmp_path, land_parses=True)
    _world(raw)
    raw.land()
    current = parsed_dir(tmp_path, cache_fingerprint(raw.config.bots))
    stale = current.with_name("0" * 32)
    current.rename(stale)
    result = raw.build_result()
    assert result.stages["int_parsed_bodies"]["landed"] == 0
    assert result.stages["int_parsed_bodies"]["computed"] > 0
    assert not stale.exists()


def test_a_body_landed_twice_is_read_once(tmp_path: Path) -> None:
    raw = RawData(tmp_path, land_parses=True)
    _world(raw)
    raw.comment("C1", body=answer("Because."), run_id="r2")  # discovered again, same body
    result = raw.build_result()
    assert result.stages["int_parsed_bodies"]["computed"] == 0
    landed = _marts(tmp_path)
    raw.build_result(reuse_cache=False)
    assert _marts(tmp_path) == landed


def test_the_parse_cache_lives_beside_the_warehouse_not_in_it(tmp_path: Path) -> None:
    raw = RawData(tmp_path)
    _world(raw)
    first = raw.build_result()
    files = landed_parse_files(tmp_path, cache_fingerprint(raw.config.bots))
    assert files and all(path.name.startswith("build-") for path in files)
    con = connect(tmp_path)
    try:
        tables = {
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        }
    finally:
        con.close()
    assert "int_parsed_bodies" not in tables and "bot_comments" in tables
    second = raw.build_result()
    assert second.stages["int_parsed_bodies"] == {
        "reused": first.stages["int_parsed_bodies"]["computed"],
        "landed": 0,
        "computed": 0,
    }


def test_the_parse_cache_keeps_one_copy_and_is_compacted_when_files_pile_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = RawData(tmp_path, land_parses=True)
    _world(raw)
    raw.build_result()
    before = _marts(tmp_path)
    fingerprint = cache_fingerprint(raw.config.bots)
    assert len(landed_parse_files(tmp_path, fingerprint)) == 1  # one run, one flush
    for _ in range(3):  # every body parsed again: the old files are superseded
        raw.build_result(reuse_cache=False)
    [only] = landed_parse_files(tmp_path, fingerprint)  # the last build's page: one copy
    assert only.name.startswith("build-")
    monkeypatch.setattr(build_module, "CACHE_COMPACT_FILES", 0)
    result = raw.build_result()
    [compact] = landed_parse_files(tmp_path, fingerprint)
    assert compact.name.startswith("compact-")
    assert result.stages["int_parsed_bodies"]["computed"] == 0
    assert _marts(tmp_path) == before
    after = raw.build_result()
    assert (
        after.stages["int_parsed_bodies"]["reused"] == result.stages["int_parsed_bodies"]["reused"]
    )
    assert _marts(tmp_path) == before
