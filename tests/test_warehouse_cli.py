"""`harvester build` and `harvester sql`: help with examples, output formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harvester.cli import app
from harvester.exitcodes import ExitCode
from tests.warehouse_fixtures import BOT, RawData, answer, edit, reaction

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = RawData(tmp_path_factory.mktemp("cli"))
    raw.thread()
    raw.comment("C1", body=answer("Fine."))
    raw.snapshot(
        "C1",
        edits=[edit(BOT, "Bot", answer("Fien."), 0), edit("bob", "User", answer("Fine."), 5)],
        reactions=[reaction("carol", "HEART"), reaction("dave", "ROCKET")],
    )
    raw.land()
    result = runner.invoke(app, ["build", "--data", str(raw.data_dir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["marts"]["bot_comments"] == 1 and report["marts"]["corrections"] == 1
    assert [m["name"] for m in report["models"]][-1] in report["marts"]
    return raw.data_dir


@pytest.mark.parametrize("command", [["build"], ["sql"]])
def test_help_has_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and "harvester" in result.output


def test_build_prints_every_model(data: Path) -> None:
    result = runner.invoke(app, ["build", "--data", str(data)])
    assert result.exit_code == 0, result.output
    for name in ("stg_comments", "int_parsed_bodies", "phrase_weights", "reused from"):
        assert name in result.output


def test_build_no_cache_parses_everything_again(data: Path) -> None:
    result = runner.invoke(app, ["build", "--data", str(data), "--no-cache", "--json"])
    assert result.exit_code == 0, result.output
    stages = json.loads(result.stdout)["stages"]
    assert stages["int_parsed_bodies"]["reused"] == stages["int_parsed_bodies"]["landed"] == 0
    assert stages["int_parsed_bodies"]["computed"] == 2  # "Fien." and "Fine." (current, bob)


def test_build_runs_one_worker_per_core_unless_told(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harvester.build as build_module

    seen: list[int] = []
    real_build = build_module.build

    def spy(options: build_module.BuildOptions) -> build_module.BuildResult:
        seen.append(options.workers)
        return real_build(options)

    monkeypatch.setattr(build_module, "build", spy)
    monkeypatch.setattr(build_module.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    for extra in ([], ["--workers", "1"]):
        result = runner.invoke(app, ["build", "--data", str(data), "--json", *extra])
        assert result.exit_code == 0, result.output
    assert seen == [3, 1]
    monkeypatch.setattr(build_module.os, "sched_getaffinity", lambda pid: set(range(64)))
    assert build_module.default_workers() == build_module.MAX_DEFAULT_WORKERS


def test_sql_formats(data: Path) -> None:
    query = "select comment_id, score, label from feedback"
    as_json = runner.invoke(app, ["sql", query, "--data", str(data), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [{"comment_id": "C1", "score": 2.0, "label": "positive"}]
    as_csv = runner.invoke(app, ["sql", query, "--data", str(data), "--format", "csv"])
    assert as_csv.stdout.splitlines() == ["comment_id,score,label", "C1,2.0,positive"]
    table = runner.invoke(app, ["sql", query, "--data", str(data)])
    assert "positive" in table.stdout and "1 row" in table.stdout
    times = runner.invoke(
        app,
        ["sql", "select edited_at from revisions limit 1", "--data", str(data), "--format", "json"],
    )
    assert json.loads(times.stdout)[0]["edited_at"].endswith("+00:00")


def test_sql_writes_parquet(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "rev.parquet"
    result = runner.invoke(
        app, ["sql", "select * from revisions", "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 2


def test_bad_sql_exits_2_with_duckdbs_message(data: Path) -> None:
    result = runner.invoke(app, ["sql", "selec 1", "--data", str(data)])
    assert result.exit_code == ExitCode.USAGE
    assert "syntax error" in result.output
    missing = runner.invoke(app, ["sql", "select * from nope", "--data", str(data)])
    assert missing.exit_code == ExitCode.USAGE and "nope" in missing.output
    writes = runner.invoke(app, ["sql", "drop table feedback", "--data", str(data)])
    assert writes.exit_code == ExitCode.USAGE and "read-only" in writes.output.lower()
    wrong = runner.invoke(app, ["sql", "select 1", "--data", str(data), "--format", "xml"])
    assert wrong.exit_code == ExitCode.USAGE


def test_sql_without_a_warehouse(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sql", "select 1", "--data", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE and "harvester build" in result.output


def test_build_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "harvester.toml"
    config.write_text("[feedback]\ncorrection_weight = 'lots'\n")
    result = runner.invoke(app, ["build", "--data", str(tmp_path), "--config", str(config)])
    assert result.exit_code == ExitCode.USAGE and "correction_weight" in result.output


def test_build_with_a_bad_memory_limit_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", "--data", str(tmp_path), "--memory-limit", "lots"])
    assert result.exit_code == ExitCode.USAGE
    assert "--memory-limit 'lots'" in result.output
    assert not (tmp_path / "warehouse.duckdb").exists()
