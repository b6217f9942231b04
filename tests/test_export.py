"""Known-answer tests of `harvester export` on the two-partner warehouse of export_fixtures."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from harvester.export import ExportError, ExportOptions, adhoc_scope, partner_scope, run_export
from harvester.export.job import FORMATS
from harvester.export.validate import InvalidRecord, openai_problems, trl_problems
from tests.export_fixtures import (
    A1,
    C5_TEXT,
    C6_TEXT,
    C8_BOT,
    C10_BOT,
    C10_HUMAN,
    C12_TEXT,
    C13_TEXT,
    GLOBEX,
    H1,
    SECRET_EMAIL,
    SECRET_TOKEN,
    SYSTEM,
    build_export_warehouse,
    export_config,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("export")
    build_export_warehouse(data)
    return data


def export(data_dir: Path, partner: str = "acme", **options: Any) -> Path:
    config = options.pop("config", export_config())
    scope = options.pop("scope", None) or partner_scope(config, partner)
    result = run_export(ExportOptions(data_dir, config, scope, now=lambda: NOW, **options))
    return result.out_dir


@pytest.fixture(scope="module")
def acme(data_dir: Path) -> Path:
    return export(data_dir)


def parquet_rows(folder: Path) -> list[dict[str, Any]]:
    return [r for f in sorted(folder.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def jsonl_rows(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.open()]


def text_of(messages: list[dict[str, str]]) -> str:
    (message,) = messages
    assert message["role"] == "assistant"
    return message["content"]


def redacted(text: str) -> str:
    return text.replace(SECRET_EMAIL, "[redacted-email]").replace(
        SECRET_TOKEN, "[redacted-github-token]"
    )


def test_sft_is_corrections_and_well_rated_unedited_answers(acme: Path) -> None:
    rows = parquet_rows(acme / "hf" / "sft")
    got = sorted((r["comment_id"], r["source"], text_of(r["completion"])) for r in rows)
    assert got == sorted(
        [
            ("C1", "corrected", H1),
            ("C10", "corrected", C10_HUMAN),
            ("C5", "rated", redacted(C5_TEXT)),  # C7 repeats it, C11 nearly: both dropped
            ("C12", "rated", C12_TEXT),
            ("C13", "rated", C13_TEXT),
        ]
    )
    trl = parquet_rows(acme / "trl-sft")
    assert sorted(r["id"] for r in trl) == sorted(r["id"] for r in rows)
    assert all(set(r) == {"id", "prompt", "completion"} for r in trl)


def test_preference_pairs_from_corrections_and_from_answers_to_one_question(acme: Path) -> None:
    rows = parquet_rows(acme / "hf" / "preference")
    got = sorted(
        (r["comment_id"], r["source"], text_of(r["chosen"]), text_of(r["rejected"]), r["margin"])
        for r in rows
    )
    assert got == sorted(
        [
            ("C1", "corrected", H1, A1, None),  # the bot's final text, not the placeholder
            ("C10", "corrected", C10_HUMAN, C10_BOT, None),
            ("C5", "answers", redacted(C5_TEXT), C6_TEXT, 3.0),
        ]
    )
    # C8's trivial typo fix makes no pair
    assert all(r["comment_id"] != "C8" for r in rows)


def test_kto_labels_come_from_feedback_and_never_reward_a_corrected_answer(acme: Path) -> None:
    rows = parquet_rows(acme / "hf" / "kto")
    got = sorted((r["comment_id"], r["label"], text_of(r["completion"])) for r in rows)
    assert got == sorted(
        [
            ("C1", False, A1),  # corrected and thumbs down: the bot's own text is bad
            ("C5", True, redacted(C5_TEXT)),
            ("C6", False, C6_TEXT),
            ("C8", True, C8_BOT),  # a trivial fix is no verdict: the bot's text, liked
            ("C12", True, C12_TEXT),
            ("C13", True, C13_TEXT),
        ]
    )  # C10 has 3 thumbs up but was corrected: no positive label for the original
    manifest = json.loads((acme / "manifest.json").read_text())
    balance = manifest["kto_label_balance"]
    assert (balance["train_desirable"], balance["train_undesirable"]) == (4, 2)
    weights = balance["suggested"]
    ratio = weights["desirable_weight"] * 4 / (weights["undesirable_weight"] * 2)
    assert 1 <= ratio <= 4 / 3


def test_prompts_hold_system_prompt_context_and_question(acme: Path) -> None:
    by_id = {r["comment_id"]: r for r in parquet_rows(acme / "hf" / "sft")}
    prompt = by_id["C1"]["prompt"]
    assert [m["role"] for m in prompt] == ["system", "user"]
    assert prompt[0]["content"] == SYSTEM
    user = prompt[1]["content"]
    assert user.startswith("Repository: acme/app\n\nIssue #1: Threshold setting")
    assert "Where is it set? Mail [redacted-email]." in user  # the body, redacted
    assert user.endswith("Question from @alice:\n/ask how do I set the threshold?")
    assert by_id["C12"]["prompt"][1]["content"].endswith("Review this pull request.")


def test_prompt_body_is_truncated_as_configured(data_dir: Path, tmp_path: Path) -> None:
    out = export(data_dir, config=export_config(prompt_body_chars=8), out_dir=tmp_path / "x")
    by_id = {r["comment_id"]: r for r in parquet_rows(out / "hf" / "sft")}
    assert "Where is\n[…truncated]" in by_id["C1"]["prompt"][1]["content"]


def test_no_partner_sees_another_partners_rows(data_dir: Path, acme: Path) -> None:
    everything = b"".join(p.read_bytes() for p in acme.rglob("*") if p.is_file())
    decoded = "".join(
        json.dumps(pq.read_table(p).to_pylist(), default=str) for p in acme.rglob("*.parquet")
    )
    assert b"GLOBEX" not in everything and "GLOBEX" not in decoded
    assert b"globex" not in everything.lower()
    globex = export(data_dir, "globex")
    rows = parquet_rows(globex / "hf" / "sft")
    assert [(r["comment_id"], text_of(r["completion"])) for r in rows] == [("C9", GLOBEX)]
    assert {r["org"] for r in parquet_rows(acme / "hf" / "kto")} == {"acme", "acme-labs"}


def test_planted_secrets_are_redacted_everywhere_and_counted(acme: Path) -> None:
    for path in acme.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET_TOKEN.encode() not in data, path
            assert SECRET_EMAIL.encode() not in data, path
            if path.suffix == ".parquet":
                text = json.dumps(pq.read_table(path).to_pylist(), default=str)
                assert SECRET_TOKEN not in text and SECRET_EMAIL not in text
                assert "jane" not in text
    kit = json.loads((acme / "prompt-kit" / "acme" / "app.json").read_text())
    phrases = [p["phrase"] for p in kit["prefer"] + kit["avoid"]]
    assert not [p for p in phrases if "ghp" in p or "jane" in p or "a1b2c3d4" in p]
    redactions = json.loads((acme / "manifest.json").read_text())["redactions"]["by_kind"]
    assert redactions["github-token"] > 0 and redactions["email"] > 0


def test_splits_keep_each_thread_whole(data_dir: Path, tmp_path: Path) -> None:
    config = export_config(splits={"train": 0.4, "validation": 0.3, "test": 0.3})
    out = export(data_dir, config=config, out_dir=tmp_path / "s", formats=("hf",))
    split_of_thread: dict[str, set[str]] = {}
    for subset in ("sft", "preference", "kto"):
        for path in (out / "hf" / subset).glob("*.parquet"):
            split = path.name.split("-")[0]
            for row in pq.read_table(path).to_pylist():
                split_of_thread.setdefault(row["thread_id"], set()).add(split)
    assert all(len(splits) == 1 for splits in split_of_thread.values()), split_of_thread
    assert len({s for splits in split_of_thread.values() for s in splits}) > 1
    again = export(data_dir, config=config, out_dir=tmp_path / "t", formats=("hf",))
    files = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.parquet"))
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes()


def test_every_record_passes_trl_and_openai_checks(acme: Path) -> None:
    for fmt, kind in (("trl-sft", "sft"), ("trl-preference", "preference"), ("trl-kto", "kto")):
        rows = parquet_rows(acme / fmt)
        assert rows
        assert all(trl_problems(r, kind) == [] for r in rows)
    sft = jsonl_rows(acme / "openai-sft")
    assert sft and all(openai_problems(r, "sft") == [] for r in sft)
    assert all(list(r) == ["messages"] for r in sft)
    dpo = jsonl_rows(acme / "openai-dpo")
    assert dpo and all(openai_problems(r, "dpo") == [] for r in dpo)
    assert all(m["role"] != "assistant" for r in dpo for m in r["input"]["messages"])


def test_manifest_counts_and_checksums_match_the_files(acme: Path) -> None:
    manifest = json.loads((acme / "manifest.json").read_text())
    assert manifest["partner"] == "acme" and manifest["license"] == "apache-2.0"
    assert manifest["created_at"] == NOW.isoformat()
    assert manifest["source_run_ids"] == ["r1"]
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(acme).as_posix() for p in acme.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json"}
    for rel, entry in listed.items():
        data = (acme / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        if rel.endswith(".parquet"):
            assert entry["rows"] == pq.read_metadata(acme / rel).num_rows
    sft = manifest["subsets"]["sft"]
    assert sft["total"] == 5 and sft["by_source"] == {"corrected": 2, "rated": 3}
    assert sft["dropped"] == {"exact_duplicate": 1, "near_duplicate": 1}


def test_dataset_card_points_at_every_subset(acme: Path) -> None:
    card = (acme / "hf" / "README.md").read_text()
    header = card.split("---")[1]
    assert "license: apache-2.0" in header
    for subset in ("sft", "preference", "kto"):
        assert f"- config_name: {subset}" in header
        assert f"path: {subset}/train-*.parquet" in header


def test_labelstudio_tasks_are_doubtful_pairs(acme: Path) -> None:
    tasks = json.loads((acme / "labelstudio" / "tasks.json").read_text())
    by_reason = {t["reason"]: t for t in tasks}
    assert set(by_reason) == {"liked_then_corrected", "close_scores"}
    liked = by_reason["liked_then_corrected"]
    assert {liked["answer1"], liked["answer2"]} == {C10_BOT, C10_HUMAN}
    assert {liked["answer1_source"], liked["answer2_source"]} == {"bot", "human"}
    assert all({"prompt", "answer1", "answer2"} <= set(t) for t in tasks)
    assert "<Pairwise" in (acme / "labelstudio" / "config.xml").read_text()


def test_prompt_kit_has_phrases_and_best_corrections_per_repository(acme: Path) -> None:
    index = json.loads((acme / "prompt-kit" / "index.json").read_text())
    assert {(e["org"], e["repo"]) for e in index} <= {("acme", "app"), ("acme-labs", "tools")}
    kit = json.loads((acme / "prompt-kit" / "acme" / "app.json").read_text())
    assert [e["corrected_answer"] for e in kit["examples"]] == [C10_HUMAN, H1]  # liked first
    assert kit["prefer"] and all(p["weight"] > 0 for p in kit["prefer"])
    assert all(p["weight"] < 0 for p in kit["avoid"])


def test_a_new_export_replaces_the_old_one_and_a_failed_one_changes_nothing(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "acme"
    export(data_dir, out_dir=out)
    (out / "stale.txt").write_text("from an older export")
    export(data_dir, out_dir=out, formats=("trl-sft",))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "trl-sft"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    monkeypatch.setattr("harvester.export.job.trl_problems", lambda record, kind: ["broken"])
    with pytest.raises(InvalidRecord, match="broken"):
        export(data_dir, out_dir=out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["acme"]  # no staging folder left


def test_adhoc_export_by_org_and_clear_errors(data_dir: Path, tmp_path: Path) -> None:
    out = export(data_dir, scope=adhoc_scope(("GLOBEX",)), formats=("trl-kto",))
    assert out == data_dir / "exports" / "org-GLOBEX"
    assert len(parquet_rows(out / "trl-kto")) == 1
    with pytest.raises(ExportError, match="run `harvester build"):
        export(tmp_path)
    with pytest.raises(ExportError, match="unknown format"):
        export(data_dir, formats=("csv",))
    assert set(FORMATS) >= {"trl-sft", "openai-dpo", "hf", "labelstudio", "prompt-kit"}


def test_an_empty_scope_says_why(data_dir: Path) -> None:
    out = export(data_dir, scope=adhoc_scope(("initech",)))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["answers_in_scope"] == 0
    assert manifest["subsets"]["sft"]["total"] == 0
    assert "no LLM answers in initech" in manifest["warnings"][0]
    assert not list(out.rglob("*.parquet"))


def test_thresholds_changed_since_the_build_are_flagged(data_dir: Path, tmp_path: Path) -> None:
    out = export(data_dir, config=export_config(min_positive_score=3.0), out_dir=tmp_path / "x")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["min_positive_score"] == 1.0  # what the labels were cut with
    assert any(
        "export.min_positive_score is 3.0 but the warehouse used 1.0" in w
        for w in manifest["warnings"]
    )
    fresh = json.loads((export(data_dir, out_dir=tmp_path / "y") / "manifest.json").read_text())
    assert fresh["warnings"] == []


def test_worker_processes_write_the_same_files(data_dir: Path, tmp_path: Path) -> None:
    serial = export(data_dir, out_dir=tmp_path / "one")
    parallel = export(data_dir, out_dir=tmp_path / "two", workers=2)
    files = sorted(p.relative_to(serial).as_posix() for p in serial.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(parallel).as_posix() for p in parallel.rglob("*") if p.is_file()
    )
    for rel in files:
        if rel != "manifest.json":
            assert (serial / rel).read_bytes() == (parallel / rel).read_bytes(), rel
    one, two = (json.loads((d / "manifest.json").read_text()) for d in (serial, parallel))
    assert one["redactions"] == two["redactions"] and one["subsets"] == two["subsets"]
