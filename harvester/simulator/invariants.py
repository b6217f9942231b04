"""The rules every simulated world keeps, checked after generation and after `evolve`.

The resolvers and the ground truth rely on them (indexes, ordering, edit and reaction
semantics), so tests call `check_invariants` whenever they change a world.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol

from harvester.simulator import bodies as B
from harvester.simulator.model import REACTION_CONTENTS, Comment, World


class _Indexed(Protocol):
    @property
    def index(self) -> int: ...


def check_invariants(world: World) -> None:
    """Assert every rule the resolvers and the ground truth rely on; lists the first problems."""
    problems: list[str] = []
    _check_indexes(world, problems)
    _check_threads(world, problems)
    for c in world.comments:
        _check_comment(world, c, problems)
        if len(problems) > 20:
            break
    _check_actors(world, problems)
    if problems:
        raise AssertionError("world invariants broken:\n" + "\n".join(problems[:20]))


def _check_indexes(world: World, problems: list[str]) -> None:
    lists: dict[str, Sequence[_Indexed]] = {
        "orgs": world.orgs,
        "repos": world.repos,
        "threads": world.threads,
        "comments": world.comments,
        "actors": world.actors,
        "edits": world.edits,
        "reactions": world.reactions,
    }
    for name, items in lists.items():
        for i, item in enumerate(items):
            if item.index != i:
                problems.append(f"world.{name}[{i}].index == {item.index}")
                break
    for name, ids in (
        ("orgs", [o.database_id for o in world.orgs]),
        ("repos", [r.database_id for r in world.repos]),
        ("threads", [t.database_id for t in world.threads]),
        ("comments", [c.database_id for c in world.comments]),
        ("actors", [a.database_id for a in world.actors]),
    ):
        if len(set(ids)) != len(ids):
            problems.append(f"duplicate database ids among {name}")


def _check_threads(world: World, problems: list[str]) -> None:
    listed: set[int] = set()
    for repo in world.repos:
        if repo not in repo.org.repos:
            problems.append(f"repo {repo.name_with_owner} missing from its org")
        numbers = [t.number for t in repo.threads]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{repo.name_with_owner}: numbers are not 1..n")
    for t in world.threads:
        if world.threads[t.index] is not t or t not in t.repo.threads:
            problems.append(f"thread {t.index} not listed")
        if t.updated_at < t.created_at or t.updated_at >= world.now:
            problems.append(f"thread {t.index}: updated_at out of range")
        if t.reviews and t.kind != "pull_request":
            problems.append(f"thread {t.index}: reviews on an issue")
        _check_sorted(t.comments, f"thread {t.index} comments", problems)
        _check_sorted(t.reviews, f"thread {t.index} reviews", problems)
        for c in t.comments:
            listed.add(c.index)
            if c.kind != "issue_comment" or c.deleted or c.thread is not t:
                problems.append(f"comment {c.index} wrongly in thread {t.index}.comments")
        for review in t.reviews:
            listed.add(review.index)
            if review.kind != "review" or review.thread is not t:
                problems.append(f"comment {review.index} wrongly in thread {t.index}.reviews")
            _check_sorted(review.review_comments, f"review {review.index}", problems)
            for rc in review.review_comments:
                listed.add(rc.index)
                if rc.kind != "review_comment" or rc.review is not review:
                    problems.append(f"comment {rc.index} wrongly in review {review.index}")
    for c in world.comments:
        if (c.index in listed) == c.deleted:
            problems.append(f"comment {c.index}: listed={c.index in listed} deleted={c.deleted}")


def _check_sorted(items: list[Comment], what: str, problems: list[str]) -> None:
    for a, b in pairwise(items):
        if a.created_at > b.created_at:
            problems.append(f"{what} not oldest first")
            return


def _check_comment(world: World, c: Comment, problems: list[str]) -> None:
    where = f"comment {c.index}"
    t = c.thread
    if not t.created_at < c.created_at < world.now:
        problems.append(f"{where}: created_at not inside (thread created, now)")
    bumped = c.deleted or t.updated_at >= c.updated_at  # a deleted comment no longer counts
    if c.updated_at != max(c.created_at, c.last_edited_at or 0) or not bumped:
        problems.append(f"{where}: updated_at inconsistent")
    if c.is_minimized != (c.minimized_reason is not None):
        problems.append(f"{where}: minimized without a reason")
    _check_edits(world, c, where, problems)
    _check_reactions(world, c, where, problems)
    if c.kind == "review_comment":
        root = c.reply_to
        if c.review is None or c.path is None or c.diff_hunk is None:
            problems.append(f"{where}: review comment without review/path/hunk")
        if root is not None and (
            root.reply_to is not None or root.created_at > c.created_at or root.thread is not t
        ):
            problems.append(f"{where}: reply_to is not its thread's first comment")
    if c.kind == "review" and c.review_state is None:
        problems.append(f"{where}: review without state")
    author = c.author
    if author is not None and author.typename == "Bot" and c.truth is None:
        problems.append(f"{where}: bot comment without truth")
    q = c.truth.question if c.truth else None
    if q is not None and (
        q.thread is not t
        or q.created_at > c.created_at
        or q.author is None
        or q.author.typename != "User"
    ):
        problems.append(f"{where}: question is not an earlier human comment of the thread")


def _check_edits(world: World, c: Comment, where: str, problems: list[str]) -> None:
    edits = c.edits
    if not edits:
        if c.last_edited_at is not None or c.editor is not None or c.includes_created_edit:
            problems.append(f"{where}: never edited but has edit fields")
        return
    newest = edits[-1]
    if c.last_edited_at != newest.edited_at or c.editor is not newest.editor:
        problems.append(f"{where}: last_edited_at/editor differ from the newest edit")
    pre_history = newest.edited_at < B.EDIT_HISTORY_START
    if newest.diff != c.body and not (pre_history and newest.diff is None):
        problems.append(f"{where}: body is not the newest revision")
    if c.includes_created_edit != (c.created_at >= B.EDIT_HISTORY_START):
        problems.append(f"{where}: includes_created_edit wrong for its era")
    if c.includes_created_edit and (
        edits[0].edited_at != c.created_at or edits[0].editor is not c.author
    ):
        problems.append(f"{where}: edits[0] is not the original")
    previous = c.created_at
    for e in edits:
        if world.edits[e.index] is not e or e.edited_at < previous or e.edited_at >= world.now:
            problems.append(f"{where}: edit {e.index} out of place")
        previous = e.edited_at
        gone = e.deleted_at is not None
        late = e.deleted_at is not None and not e.edited_at <= e.deleted_at < world.now
        if gone != (e.deleted_by is not None) or late:
            problems.append(f"{where}: edit {e.index} deletion fields inconsistent")
        if e.diff is None and not gone and e.edited_at >= B.EDIT_HISTORY_START:
            problems.append(f"{where}: edit {e.index} has no text but was not deleted")


def _check_reactions(world: World, c: Comment, where: str, problems: list[str]) -> None:
    seen: set[tuple[int, str]] = set()
    for r in c.reactions:
        key = (r.actor.index, r.content)
        if key in seen or r.content not in REACTION_CONTENTS or r.deleted:
            problems.append(f"{where}: reaction {r.index} duplicated, unknown or deleted")
        seen.add(key)
        if world.reactions[r.index] is not r or not c.created_at < r.created_at < world.now:
            problems.append(f"{where}: reaction {r.index} out of place")


def _check_actors(world: World, problems: list[str]) -> None:
    if not world.actors or world.actors[0].typename != "User":
        problems.append("actors[0] must be a User (the viewer)")
    logins = [a.login.lower() for a in world.actors]
    if len(set(logins)) != len(logins):
        problems.append("duplicate actor logins")
    for a in world.actors:
        if a.typename == "Bot" and (
            a.login.endswith("[bot]") or world.app_slugs.get(a.login) != a.login
        ):
            problems.append(f"bot {a.login}: [bot] suffix or missing app slug")
