"""The analyst notebooks run top to bottom against a freshly built warehouse.

Code cells are executed in order in one namespace (what a kernel does, minus the kernel), so
a query that no longer matches the warehouse's columns fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harvester.cli import app

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("nb")
    result = CliRunner().invoke(app, ["demo", "--scale", "tiny", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    return data


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    monkeypatch.setenv("HARVESTER_DATA", str(data_dir))
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    ran = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: commit notebooks without outputs"
            exec(compile("".join(cell["source"]), f"{path.name}:{cell['id']}", "exec"), namespace)
            ran += 1
    assert ran >= 3
