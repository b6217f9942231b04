"""The command line: help with examples everywhere, demo end to end, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harvester.cli import app
from harvester.exitcodes import ExitCode

runner = CliRunner()

COMMANDS = [
    [],
    ["demo"],
    ["crawl"],
    ["status"],
    ["config"],
    ["config", "check"],
    ["simulate"],
    ["simulate", "serve"],
    ["simulate", "world"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "harvester")
def test_every_help_has_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert "harvester" in result.output


def test_demo_crawls_the_simulator_and_matches_its_world(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--scale", "tiny", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    crawl, world = report["crawl"], report["world"]
    assert crawl["status"] == "ok"
    assert crawl["counts"]["bot_comments"] == world["bot_comments"]
    assert crawl["counts"]["reactions"] == world["reactions_on_bot_comments"]
    assert (tmp_path / "raw" / "comments").is_dir()
    exports = report["exports"]
    assert set(exports) == {"ubiquityos", "community"}
    for name, done in exports.items():
        manifest = json.loads((tmp_path / "exports" / name / "manifest.json").read_text())
        assert manifest["partner"] == name and manifest["orgs"] == done["orgs"]
        assert (tmp_path / "exports" / name / "hf" / "README.md").is_file()
    again = runner.invoke(app, ["demo", "--scale", "tiny", "--data", str(tmp_path), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["crawl"]["points"] < crawl["points"]


def test_demo_prints_a_summary_a_newcomer_understands(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--scale", "tiny", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "bot comments" in result.output
    assert "Next:" in result.output
    assert "Export ubiquityos" in result.output and "preference pairs" in result.output


def test_status_after_a_demo_lists_the_run(tmp_path: Path) -> None:
    runner.invoke(app, ["demo", "--scale", "tiny", "--data", str(tmp_path), "--json"])
    result = runner.invoke(app, ["status", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["runs"][0]["status"] == "ok"
    assert report["raw_rows"]["hydrations"] > 0
    assert report["watermarks"]


def test_crawl_without_a_token_exits_2_and_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["crawl", "--org", "acme", "--data", str(tmp_path / "d")])
    # nothing reached GitHub: a configuration problem (2), not refused credentials (3)
    assert result.exit_code == ExitCode.USAGE
    assert "GITHUB_TOKEN" in result.output and "configure [auth.app]" in result.output


def test_crawl_with_nothing_to_crawl_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["crawl", "--data", str(tmp_path / "d")])
    assert result.exit_code == ExitCode.USAGE
    assert "--org" in result.output


def test_bad_repo_argument_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["crawl", "--repo", "no-slash", "--data", str(tmp_path / "d")])
    assert result.exit_code == ExitCode.USAGE
    assert "OWNER/NAME" in result.output


def test_config_check_reports_problems_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    path = tmp_path / "harvester.toml"
    path.write_text('[sources]\norgs = ["acme"]\n')
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == ExitCode.USAGE
    assert "GITHUB_TOKEN" in result.output
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[sources]\norg = ["acme"]\n')
    result = runner.invoke(app, ["config", "check", "--config", str(bad)])
    assert result.exit_code == ExitCode.USAGE
    assert 'did you mean "orgs"' in result.output


def test_simulate_world_writes_ground_truth(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "world", "--scale", "tiny", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tables"]["comments"] > 0
    assert (tmp_path / "comments.parquet").exists()


def test_simulate_serve_rejects_a_bad_fault_spec() -> None:
    result = runner.invoke(app, ["simulate", "serve", "--faults", "teapot=1"])
    assert result.exit_code == ExitCode.USAGE
    assert "unknown kind" in result.output
