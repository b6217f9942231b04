"""The ground-truth export: tables shaped like the raw tables, counts that match the summary,
deleted objects left out, node ids the simulator serves, and answers linked to questions."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harvester.simulator import bodies as B
from harvester.simulator import ids
from harvester.simulator.evolve import evolve
from harvester.simulator.model import World
from harvester.simulator.truth import TABLES, comment_id, export_truth, summary
from harvester.simulator.world import WorldSpec, generate_world

# Key columns of design.md's raw tables (crawl-only columns such as crawled_at, run_id aside).
RAW_KEYS = {
    "threads": {
        "thread_id",
        "org",
        "repo",
        "number",
        "kind",
        "title",
        "body",
        "author_login",
        "created_at",
        "updated_at",
        "url",
    },
    "comments": {
        "comment_id",
        "thread_id",
        "org",
        "repo",
        "kind",
        "author_login",
        "author_type",
        "body",
        "created_at",
        "updated_at",
        "last_edited_at",
        "is_minimized",
        "reply_to_id",
        "url",
    },
    "reactions": {"comment_id", "content", "reactor_login", "reactor_type", "reacted_at"},
    "edits": {
        "comment_id",
        "edit_id",
        "edited_at",
        "editor_login",
        "editor_type",
        "body",
        "deleted_at",
    },
}


@pytest.fixture(scope="module")
def world() -> World:
    world = generate_world(WorldSpec.preset("small", 1))
    evolve(world, seed=1)  # removed reactions must be left out too
    return world


@pytest.fixture(scope="module")
def parquet_dir(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("truth")
    export_truth(world, out)
    return out


def read(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / f"{table}.parquet")


def test_export_returns_row_counts_that_match_the_summary(world: World, tmp_path: Path) -> None:
    counts = export_truth(world, tmp_path)
    facts = summary(world)
    assert counts["threads"] == facts["threads"]
    assert counts["comments"] == facts["comments"]
    assert counts["reactions"] == facts["reactions"]
    assert counts["edits"] == facts["edits"]
    assert counts["bot_comment_truth"] >= facts["bot_comments"]
    for table, n in counts.items():
        assert pq.ParquetFile(tmp_path / f"{table}.parquet").metadata.num_rows == n


def test_tables_carry_the_raw_tables_columns_and_types(parquet_dir: Path) -> None:
    for table, schema in TABLES.items():
        read_schema = pq.read_schema(parquet_dir / f"{table}.parquet")
        assert read_schema.names == schema.names
        assert set(RAW_KEYS.get(table, set())) <= set(read_schema.names)
    comments = pq.read_schema(parquet_dir / "comments.parquet")
    assert comments.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_deleted_comments_and_removed_reactions_are_absent(world: World, parquet_dir: Path) -> None:
    comments = set(read(parquet_dir, "comments")["comment_id"])
    deleted = {comment_id(c) for c in world.comments if c.deleted}
    assert deleted and not deleted & comments
    removed = {ids.encode("Reaction", r.index) for r in world.reactions if r.deleted}
    assert removed and not removed & set(read(parquet_dir, "reactions")["reaction_id"])
    for table in ("reactions", "edits", "bot_comment_truth"):
        assert set(read(parquet_dir, table)["comment_id"]) <= comments


def test_node_ids_decode_to_the_right_types(world: World, parquet_dir: Path) -> None:
    comments = read(parquet_dir, "comments")
    kinds = {
        "issue_comment": "IssueComment",
        "review": "PullRequestReview",
        "review_comment": "PullRequestReviewComment",
    }
    for cid, kind, db in comments.select("comment_id", "kind", "database_id").iter_rows():
        decoded = ids.decode(cid)
        assert decoded is not None and decoded[0] == kinds[kind]
        assert world.comments[decoded[1]].database_id == db
    for tid, kind in read(parquet_dir, "threads").select("thread_id", "kind").iter_rows():
        decoded = ids.decode(tid)
        assert decoded and decoded[0] == ("PullRequest" if kind == "pull_request" else "Issue")


def test_edits_keep_github_s_shapes(parquet_dir: Path) -> None:
    edits = read(parquet_dir, "edits")
    deleted = edits.filter(pl.col("deleted_at").is_not_null())
    assert deleted.height and deleted["body"].null_count() == deleted.height
    assert deleted["deleted_by_login"].null_count() == 0
    assert {"bot", "human", "unknown"} <= set(edits["origin"])
    firsts = edits.filter(pl.col("revision_index") == 0)
    comments = read(parquet_dir, "comments").filter(pl.col("includes_created_edit"))
    joined = firsts.join(comments, on="comment_id")
    assert joined.height == comments.height
    assert (joined["edited_at"] == joined["created_at"]).all()


def test_bot_comment_truth_annotates_every_bot_comment(world: World, parquet_dir: Path) -> None:
    truth = read(parquet_dir, "bot_comment_truth")
    comments = read(parquet_dir, "comments")
    bot_ids = set(comments.filter(pl.col("is_bot_comment"))["comment_id"])
    assert bot_ids <= set(truth["comment_id"])
    assert set(truth.filter(~pl.col("is_bot_comment"))["comment_kind"]) == {B.MARKER}
    assert set(B.GENERATIONS) <= set(truth["dialects"].explode().drop_nulls())
    answers = truth.filter(pl.col("comment_kind") == B.LLM_ANSWER)
    questions = answers["question_comment_id"].drop_nulls()
    assert questions.len() > 100
    assert set(questions) <= set(comments["comment_id"])
    corrected = truth.filter(pl.col("human_edits") > 0)
    assert corrected.height and (corrected["answer_text"] != corrected["bot_answer_text"]).all()
    body = dict(comments.select("comment_id", "body").iter_rows())
    for cid, text in truth.select("comment_id", "answer_text").iter_rows():
        assert text in body[cid]


def test_json_lines_export_matches_parquet(world: World, parquet_dir: Path, tmp_path: Path) -> None:
    counts = export_truth(world, tmp_path, "json")
    for table, n in counts.items():
        lines = (tmp_path / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == n == read(parquet_dir, table).height
    first = json.loads((tmp_path / "comments.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["created_at"].endswith("Z") and first["comment_id"].startswith("IC_")


def test_unknown_format_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parquet"):
        export_truth(world, tmp_path, "csv")  # type: ignore[arg-type]


def test_summary_counts_what_the_demo_shows(world: World) -> None:
    facts = summary(world)
    assert facts["threads"] == facts["issues"] + facts["pull_requests"]
    assert facts["comments"] == facts["bot_comments"] + facts["human_comments"]
    assert facts["comments"] == (
        facts["issue_comments"] + facts["reviews"] + facts["review_comments"]
    )
    assert 0 < facts["human_corrections"] < facts["llm_answers"] < facts["bot_comments"]
    assert facts["deleted_comments"] > 0 and facts["removed_reactions"] > 0
    assert all(isinstance(v, int) for v in facts.values())
