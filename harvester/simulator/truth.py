"""The ground truth of a simulated world, as tables shaped like the crawler's raw tables.

`export_truth` writes `threads`, `comments`, `reactions`, `edits` (column names as in the design's
raw tables, node ids as the simulator serves them) plus `bot_comment_truth`: what each bot comment
really is (header generation, plugin, kind, answer text, the question it answers). Tests compare a
crawl and the warehouse against these. Deleted comments are left out (they no longer exist), and
so are removed reactions. Rows stream out in chunks, so a 1M-comment world exports without a
second copy of itself in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from harvester.simulator import bodies as B
from harvester.simulator import ids
from harvester.simulator.model import Actor, Comment, Edit, Reaction, Thread, World

CHUNK_ROWS = 20_000

_TS = pa.timestamp("us", tz="UTC")
_COMMENT_TYPES = {
    "issue_comment": "IssueComment",
    "review": "PullRequestReview",
    "review_comment": "PullRequestReviewComment",
}

THREADS = pa.schema(
    [
        ("thread_id", pa.string()),
        ("org", pa.string()),
        ("repo", pa.string()),
        ("number", pa.int64()),
        ("kind", pa.string()),
        ("title", pa.string()),
        ("body", pa.string()),
        ("author_login", pa.string()),
        ("author_type", pa.string()),
        ("state", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("url", pa.string()),
        ("database_id", pa.int64()),
        ("has_bot_comment", pa.bool_()),
    ]
)
COMMENTS = pa.schema(
    [
        ("comment_id", pa.string()),
        ("thread_id", pa.string()),
        ("org", pa.string()),
        ("repo", pa.string()),
        ("number", pa.int64()),
        ("kind", pa.string()),
        ("author_login", pa.string()),
        ("author_type", pa.string()),
        ("body", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("last_edited_at", _TS),
        ("editor_login", pa.string()),
        ("editor_type", pa.string()),
        ("includes_created_edit", pa.bool_()),
        ("is_minimized", pa.bool_()),
        ("minimized_reason", pa.string()),
        ("reply_to_id", pa.string()),
        ("review_id", pa.string()),
        ("review_state", pa.string()),
        ("path", pa.string()),
        ("url", pa.string()),
        ("database_id", pa.int64()),
        ("is_bot_comment", pa.bool_()),
    ]
)
REACTIONS = pa.schema(
    [
        ("reaction_id", pa.string()),
        ("comment_id", pa.string()),
        ("content", pa.string()),
        ("reactor_login", pa.string()),
        ("reactor_type", pa.string()),
        ("reacted_at", _TS),
        ("is_bot_comment", pa.bool_()),
    ]
)
EDITS = pa.schema(
    [
        ("comment_id", pa.string()),
        ("edit_id", pa.string()),
        ("revision_index", pa.int64()),
        ("edited_at", _TS),
        ("editor_login", pa.string()),
        ("editor_type", pa.string()),
        ("origin", pa.string()),
        ("body", pa.string()),
        ("deleted_at", _TS),
        ("deleted_by_login", pa.string()),
        ("is_bot_comment", pa.bool_()),
    ]
)
BOT_COMMENT_TRUTH = pa.schema(
    [
        ("comment_id", pa.string()),
        ("is_bot_comment", pa.bool_()),
        ("author_login", pa.string()),
        ("dialect", pa.string()),
        ("dialects", pa.list_(pa.string())),
        ("plugin", pa.string()),
        ("comment_kind", pa.string()),
        ("caller", pa.string()),
        ("answer_text", pa.string()),
        ("bot_answer_text", pa.string()),
        ("question_comment_id", pa.string()),
        ("markers", pa.list_(pa.string())),
        ("human_edits", pa.int64()),
    ]
)
TABLES: dict[str, pa.Schema] = {
    "threads": THREADS,
    "comments": COMMENTS,
    "reactions": REACTIONS,
    "edits": EDITS,
    "bot_comment_truth": BOT_COMMENT_TRUTH,
}


# ---------- ids and urls (as the simulator serves them)
def thread_id(thread: Thread) -> str:
    return ids.encode("PullRequest" if thread.kind == "pull_request" else "Issue", thread.index)


def comment_id(c: Comment) -> str:
    return ids.encode(_COMMENT_TYPES[c.kind], c.index)


def thread_url(thread: Thread) -> str:
    part = "pull" if thread.kind == "pull_request" else "issues"
    return f"https://github.com/{thread.repo.name_with_owner}/{part}/{thread.number}"


def comment_url(c: Comment) -> str:
    base = thread_url(c.thread)
    if c.kind == "review":
        return f"{base}#pullrequestreview-{c.database_id}"
    if c.kind == "review_comment":
        return f"{base}#discussion_r{c.database_id}"
    return f"{base}#issuecomment-{c.database_id}"


def is_bot(actor: Actor | None) -> bool:
    return actor is not None and actor.typename == "Bot"


def human_edits(c: Comment) -> int:
    """Revisions by a User other than the original (the signal a correction leaves)."""
    start = 1 if c.includes_created_edit else 0
    return sum(1 for e in c.edits[start:] if e.editor is not None and e.editor.typename == "User")


def _login(actor: Actor | None) -> str | None:
    return actor.login if actor else None


def _type(actor: Actor | None) -> str | None:
    return actor.typename if actor else None


def _us(t: int | None) -> int | None:
    return None if t is None else t * 1_000_000


def _origin(e: Edit) -> str:
    if e.editor is None:
        return "unknown"
    return "bot" if e.editor.typename == "Bot" else "human"


# ---------- rows (tuples in schema order; times as epoch microseconds)
def _thread_rows(world: World) -> Iterator[tuple[Any, ...]]:
    for t in world.threads:
        yield (
            thread_id(t),
            t.repo.org.login,
            t.repo.name,
            t.number,
            t.kind,
            t.title,
            t.body,
            _login(t.author),
            _type(t.author),
            t.state,
            _us(t.created_at),
            _us(t.updated_at),
            thread_url(t),
            t.database_id,
            _has_bot_comment(t),
        )


def _has_bot_comment(t: Thread) -> bool:
    return any(is_bot(c.author) for c in t.comments) or any(
        is_bot(r.author) or any(is_bot(rc.author) for rc in r.review_comments) for r in t.reviews
    )


def _live(world: World) -> Iterator[Comment]:
    return (c for c in world.comments if not c.deleted)


def _comment_rows(world: World) -> Iterator[tuple[Any, ...]]:
    for c in _live(world):
        t = c.thread
        yield (
            comment_id(c),
            thread_id(t),
            t.repo.org.login,
            t.repo.name,
            t.number,
            c.kind,
            _login(c.author),
            _type(c.author),
            c.body,
            _us(c.created_at),
            _us(c.updated_at),
            _us(c.last_edited_at),
            _login(c.editor),
            _type(c.editor),
            c.includes_created_edit,
            c.is_minimized,
            c.minimized_reason,
            comment_id(c.reply_to) if c.reply_to else None,
            comment_id(c.review) if c.review else None,
            c.review_state,
            c.path,
            comment_url(c),
            c.database_id,
            is_bot(c.author),
        )


def _reaction_rows(world: World) -> Iterator[tuple[Any, ...]]:
    for c in _live(world):
        if c.reactions:
            cid, bot = comment_id(c), is_bot(c.author)
            for r in c.reactions:
                yield _reaction_row(r, cid, bot)


def _reaction_row(r: Reaction, cid: str, bot: bool) -> tuple[Any, ...]:
    return (
        ids.encode("Reaction", r.index),
        cid,
        r.content,
        r.actor.login,
        r.actor.typename,
        _us(r.created_at),
        bot,
    )


def _edit_rows(world: World) -> Iterator[tuple[Any, ...]]:
    for c in _live(world):
        if c.edits:
            cid, bot = comment_id(c), is_bot(c.author)
            for i, e in enumerate(c.edits):
                yield (
                    cid,
                    ids.encode("UserContentEdit", e.index),
                    i,
                    _us(e.edited_at),
                    _login(e.editor),
                    _type(e.editor),
                    _origin(e),
                    e.diff,
                    _us(e.deleted_at),
                    _login(e.deleted_by),
                    bot,
                )


def _truth_rows(world: World) -> Iterator[tuple[Any, ...]]:
    for c in _live(world):
        truth = c.truth
        if truth is None:
            continue
        q = truth.question
        yield (
            comment_id(c),
            is_bot(c.author),
            _login(c.author),
            truth.dialect,
            list(truth.dialects),
            truth.plugin,
            truth.kind,
            truth.caller,
            truth.answer_text,
            truth.bot_answer_text,
            comment_id(q) if q is not None else None,
            list(truth.markers),
            human_edits(c),
        )


_ROWS: dict[str, Callable[[World], Iterator[tuple[Any, ...]]]] = {
    "threads": _thread_rows,
    "comments": _comment_rows,
    "reactions": _reaction_rows,
    "edits": _edit_rows,
    "bot_comment_truth": _truth_rows,
}


# ---------- writers
def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batch(schema: pa.Schema, chunk: list[tuple[Any, ...]]) -> pa.RecordBatch:
    columns = list(zip(*chunk, strict=True))
    arrays = []
    for f, values in zip(schema, columns, strict=True):
        if f.type == _TS:
            arrays.append(pa.array(values, pa.int64()).cast(_TS))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_parquet(path: Path, schema: pa.Schema, rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    tmp = path.with_suffix(".parquet.tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for chunk in _chunks(rows, CHUNK_ROWS):
            writer.write_batch(_batch(schema, chunk))
            count += len(chunk)
    tmp.replace(path)
    return count


def _json_value(value: Any, is_time: bool) -> Any:
    if is_time and value is not None:
        return B.iso(value // 1_000_000)
    return value


def _write_jsonl(path: Path, schema: pa.Schema, rows: Iterator[tuple[Any, ...]]) -> int:
    names = schema.names
    times = [f.type == _TS for f in schema]
    count = 0
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            record = {n: _json_value(v, t) for n, v, t in zip(names, row, times, strict=True)}
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
            count += 1
    tmp.replace(path)
    return count


def export_truth(
    world: World, out_dir: Path, fmt: Literal["parquet", "json"] = "parquet"
) -> dict[str, int]:
    """Write one file per table (`<table>.parquet` or `<table>.jsonl`); return row counts."""
    if fmt not in ("parquet", "json"):
        raise ValueError(f"unknown truth format {fmt!r}: use 'parquet' or 'json'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, schema in TABLES.items():
        rows = _ROWS[name](world)
        if fmt == "parquet":
            counts[name] = _write_parquet(out_dir / f"{name}.parquet", schema, rows)
        else:
            counts[name] = _write_jsonl(out_dir / f"{name}.jsonl", schema, rows)
    return counts


# ---------- summary
def summary(world: World) -> dict[str, int]:
    """Headline counts of a world (what `harvester demo` shows); matches the truth tables."""
    counts = dict.fromkeys(
        (
            "comments",
            "issue_comments",
            "reviews",
            "review_comments",
            "deleted_comments",
            "bot_comments",
            "llm_answers",
            "human_comments",
            "minimized",
            "reactions",
            "reactions_on_bot_comments",
            "edits",
            "bot_self_edits",
            "human_corrections",
        ),
        0,
    )
    for c in world.comments:
        if c.deleted:
            counts["deleted_comments"] += 1
            continue
        _count_comment(c, counts)
    return {
        "orgs": len(world.orgs),
        "repos": len(world.repos),
        "threads": len(world.threads),
        "issues": sum(1 for t in world.threads if t.kind == "issue"),
        "pull_requests": sum(1 for t in world.threads if t.kind == "pull_request"),
        **counts,
        "removed_reactions": sum(1 for r in world.reactions if r.deleted),
        "actors": len(world.actors),
        "bots": sum(1 for a in world.actors if a.typename == "Bot"),
    }


def _count_comment(c: Comment, counts: dict[str, int]) -> None:
    counts["comments"] += 1
    counts[c.kind + "s"] += 1
    counts["minimized"] += c.is_minimized
    counts["reactions"] += len(c.reactions)
    counts["edits"] += len(c.edits)
    if not is_bot(c.author):
        counts["human_comments"] += 1
        return
    counts["bot_comments"] += 1
    counts["reactions_on_bot_comments"] += len(c.reactions)
    if c.truth is not None and c.truth.kind == B.LLM_ANSWER:
        counts["llm_answers"] += 1
    start = 1 if c.includes_created_edit else 0
    counts["bot_self_edits"] += sum(1 for e in c.edits[start:] if e.editor is c.author)
    counts["human_corrections"] += human_edits(c) > 0
