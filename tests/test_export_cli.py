"""`harvester export` from the command line: partners, ad-hoc orgs, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harvester.cli import app
from harvester.exitcodes import ExitCode
from tests.export_fixtures import CONFIG, build_export_warehouse

runner = CliRunner()


def _toml(path: Path) -> Path:
    lines = []
    for name, partner in CONFIG["partners"].items():
        lines.append(f"[partners.{name}]")
        for key, value in partner.items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli")
    build_export_warehouse(data)
    _toml(data / "harvester.toml")
    return data


def invoke(data_dir: Path, *args: str) -> object:
    return runner.invoke(
        app,
        ["export", "--data", str(data_dir), "--config", str(data_dir / "harvester.toml"), *args],
    )


def test_every_partner_by_default_with_a_summary(data_dir: Path) -> None:
    result = invoke(data_dir)
    assert result.exit_code == 0, result.output
    assert "Export acme" in result.output and "Export globex" in result.output
    assert "KTO train labels" in result.output
    for name in ("acme", "globex"):
        assert (data_dir / "exports" / name / "manifest.json").is_file()


def test_json_and_selected_formats(data_dir: Path, tmp_path: Path) -> None:
    result = invoke(
        data_dir,
        "--partner",
        "acme",
        "--format",
        "openai-sft",
        "--out",
        str(tmp_path / "o"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["partner"] == "acme" and report["manifest"]["formats"] == ["openai-sft"]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["manifest.json", "openai-sft"]


def test_adhoc_org(data_dir: Path) -> None:
    result = invoke(data_dir, "--org", "globex", "--format", "trl-sft")
    assert result.exit_code == 0, result.output
    assert (data_dir / "exports" / "org-globex" / "trl-sft" / "train.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partner", "initech"], "no partner 'initech'"),
        (["--format", "csv"], "--format 'csv'"),
        (["--repo", "justaname"], "OWNER/NAME"),
        (["--out", "/tmp/x"], "--out takes one partner"),
    ],
)
def test_bad_input_exits_2_and_says_what_to_do(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = invoke(data_dir, *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert message in result.output


def test_no_warehouse_exits_2(tmp_path: Path) -> None:
    _toml(tmp_path / "harvester.toml")
    result = invoke(tmp_path, "--partner", "acme")
    assert result.exit_code == ExitCode.USAGE
    assert "harvester build" in result.output


def test_messages_keep_their_square_brackets(data_dir: Path, tmp_path: Path) -> None:
    """rich reads `[partners.NAME]` as markup unless escaped: the advice lost its key."""
    (tmp_path / "empty.toml").write_text("")
    result = runner.invoke(
        app, ["export", "--data", str(data_dir), "--config", str(tmp_path / "empty.toml")]
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "add [partners.NAME] tables" in result.output
