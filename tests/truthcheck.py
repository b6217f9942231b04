"""Compare what a crawl landed with the simulator's ground truth, row by row."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from harvester.land import latest_snapshots, read_table

THREAD_COLS = ["thread_id", "org", "repo", "number", "kind", "title", "body", "author_login",
               "author_type", "created_at", "updated_at", "url"]
COMMENT_COLS = ["comment_id", "thread_id", "org", "repo", "kind", "author_login", "author_type",
                "body", "created_at", "updated_at", "last_edited_at", "includes_created_edit",
                "is_minimized", "minimized_reason", "reply_to_id", "review_id", "path", "url",
                "database_id", "is_bot_comment"]
REACTION_COLS = ["comment_id", "content", "reactor_login", "reactor_type", "reacted_at"]
EDIT_COLS = ["comment_id", "edit_id", "edited_at", "editor_login", "editor_type", "body",
             "deleted_at", "deleted_by_login"]


def _latest(table: pl.DataFrame, key: str) -> pl.DataFrame:
    return table.sort(["crawled_at", "run_id"]).unique(subset=[key], keep="last")


def _same(got: pl.DataFrame, want: pl.DataFrame, cols: list[str], what: str) -> None:
    got = got.select(cols).sort(cols, nulls_last=True)
    want = want.select(cols).sort(cols, nulls_last=True)
    if got.equals(want):
        return
    extra = got.join(want, on=cols, how="anti", nulls_equal=True)
    lost = want.join(got, on=cols, how="anti", nulls_equal=True)
    raise AssertionError(
        f"{what}: landed {got.height} rows, truth {want.height}; "
        f"{extra.height} not in truth, e.g. {extra.head(3).to_dicts()}; "
        f"{lost.height} missing, e.g. {lost.head(3).to_dicts()}"
    )


def assert_matches_truth(
    data_dir: Path, truth_dir: Path, *, only_bot_threads: bool = False
) -> dict[str, int]:
    """Latest landed state == truth for threads, comments, reactions and edits of bot comments.

    `only_bot_threads`: search discovery lands only the threads where a bot spoke.
    """
    threads = pl.from_arrow(read_table(data_dir, "threads"))
    comments = pl.from_arrow(read_table(data_dir, "comments"))
    assert isinstance(threads, pl.DataFrame) and isinstance(comments, pl.DataFrame)
    snaps = latest_snapshots(data_dir)
    reactions = pl.from_arrow(snaps["reactions"])
    edits = pl.from_arrow(snaps["edits"])
    hydrations = pl.from_arrow(snaps["hydrations"])
    assert isinstance(reactions, pl.DataFrame) and isinstance(edits, pl.DataFrame)
    assert isinstance(hydrations, pl.DataFrame)

    t_threads = pl.read_parquet(truth_dir / "threads.parquet")
    t_comments = pl.read_parquet(truth_dir / "comments.parquet")
    t_reactions = pl.read_parquet(truth_dir / "reactions.parquet").filter("is_bot_comment")
    t_edits = pl.read_parquet(truth_dir / "edits.parquet").filter("is_bot_comment")
    with_bots = t_threads.filter("has_bot_comment").select("thread_id")
    if only_bot_threads:
        t_threads = t_threads.filter("has_bot_comment")
    t_comments = t_comments.join(with_bots, on="thread_id")

    _same(_latest(threads, "thread_id"), t_threads, THREAD_COLS, "threads")
    _same(_latest(comments, "comment_id"), t_comments, COMMENT_COLS, "comments")
    bot_ids = t_comments.filter("is_bot_comment").select("comment_id")
    assert hydrations.select("comment_id").sort("comment_id").equals(bot_ids.sort("comment_id")), (
        "every bot comment has exactly one latest snapshot"
    )
    _same(reactions, t_reactions, REACTION_COLS, "reactions")
    _same(edits, t_edits, EDIT_COLS, "edits")
    return {"threads": t_threads.height, "comments": t_comments.height,
            "reactions": t_reactions.height, "edits": t_edits.height}
