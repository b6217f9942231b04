"""Every format loads with Hugging Face `datasets` as a trainer would load it (offline)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harvester.export import ExportOptions, partner_scope, run_export
from tests.export_fixtures import build_export_warehouse, export_config

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
datasets = pytest.importorskip("datasets", reason="the dev extra installs datasets")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("loads")
    build_export_warehouse(data)
    config = export_config()
    return run_export(ExportOptions(data, config, partner_scope(config, "acme"))).out_dir


@pytest.mark.parametrize(
    ("fmt", "builder", "columns"),
    [
        ("trl-sft", "parquet", {"id", "prompt", "completion"}),
        ("trl-preference", "parquet", {"id", "prompt", "chosen", "rejected"}),
        ("trl-kto", "parquet", {"id", "prompt", "completion", "label"}),
        ("openai-sft", "json", {"messages"}),
        ("openai-dpo", "json", {"input", "preferred_output", "non_preferred_output"}),
    ],
)
def test_flat_formats_load(out: Path, fmt: str, builder: str, columns: set[str]) -> None:
    files = {p.stem: str(p) for p in sorted((out / fmt).iterdir())}
    assert "train" in files
    loaded = datasets.load_dataset(builder, data_files=files, cache_dir=str(out.parent / "c"))
    train = loaded["train"]
    assert set(train.column_names) == columns
    manifest = json.loads((out / "manifest.json").read_text())
    subset = {"sft": "sft", "preference": "preference", "kto": "kto", "dpo": "preference"}[
        fmt.split("-")[1]
    ]
    assert train.num_rows == manifest["subsets"][subset]["train"]
    first = train[0]
    conversation = first.get("prompt") or first.get("messages") or first["input"]["messages"]
    assert {m["role"] for m in conversation} <= {"system", "user", "assistant"}


@pytest.mark.parametrize("subset", ["sft", "preference", "kto"])
def test_hf_folder_loads_each_config_from_its_card(out: Path, subset: str) -> None:
    loaded = datasets.load_dataset(str(out / "hf"), subset, cache_dir=str(out.parent / "c"))
    manifest = json.loads((out / "manifest.json").read_text())
    for split, ds in loaded.items():
        assert ds.num_rows == manifest["subsets"][subset][split]
    assert "comment_id" in loaded["train"].column_names
    if subset == "kto":
        assert set(loaded["train"]["label"]) == {True, False}
