"""Hydration: every reaction (who, what, when) and every revision of bot comments, by node id.

Each comment is one packer unit (see packer.py) asking only for what it needs (reactors,
edits or both); a comment with neither is landed as an empty snapshot without any query, and
lists longer than a page are paged to the end per comment, also as units.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harvester.discover import BotComment
from harvester.packer import Packer, Unit

log = logging.getLogger(__name__)

Row = dict[str, Any]
MAX_NODE_RETRIES = 3


@dataclass
class Snapshot:
    comment_id: str
    reactions: list[Row]
    edits: list[Row]
    hydration: Row


@dataclass
class HydrateStats:
    hydrated: int = 0
    empty: int = 0
    missing: int = 0  # deleted or invisible: a null node with NOT_FOUND
    batches: int = 0
    extra_pages: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def _login(actor: dict[str, Any] | None) -> str | None:
    return actor.get("login") if actor else None


def _type(actor: dict[str, Any] | None) -> str | None:
    return actor.get("__typename") if actor else None


def reaction_rows(groups: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for group in groups:
        for edge in ((group.get("reactors") or {}).get("edges")) or []:
            if not edge:
                continue
            node = edge.get("node")
            rows.append(
                {
                    "content": group["content"],
                    "reactor_login": _login(node),
                    "reactor_type": _type(node),
                    "reacted_at": edge.get("reactedAt"),
                }
            )
    return rows


def edit_rows(nodes: list[dict[str, Any]]) -> list[Row]:
    return [
        {
            "edit_id": n.get("id"),
            "edited_at": n.get("editedAt"),
            "editor_login": _login(n.get("editor")),
            "editor_type": _type(n.get("editor")),
            "body": n.get("diff"),
            "deleted_at": n.get("deletedAt"),
            "deleted_by_login": _login(n.get("deletedBy")),
        }
        for n in nodes
        if n
    ]


def hydration_row(node: dict[str, Any], reactions: int, edits: int) -> Row:
    return {
        "reaction_count": reactions,
        "edit_count": edits,
        "includes_created_edit": node.get("includesCreatedEdit"),
        "last_edited_at": node.get("lastEditedAt"),
        "body": node.get("body"),
        "updated_at": node.get("updatedAt"),
        # minimizing a comment does not bump its thread: only hydrations see it happen
        "is_minimized": node.get("isMinimized"),
        "minimized_reason": node.get("minimizedReason"),
        "is_deleted": False,
    }


def tombstone(comment_id: str) -> Snapshot:
    """A comment that is gone (its node is null): no reactions, no edits, `is_deleted`. As the
    latest snapshot it takes the comment out of the warehouse."""
    row: Row = {"reaction_count": 0, "edit_count": 0, "is_deleted": True}
    return Snapshot(comment_id, [], [], row)


def empty_snapshot(item: BotComment) -> Snapshot:
    """A comment whose free summary shows no reactions and no edits: nothing to fetch."""
    return Snapshot(item.comment_id, [], [], hydration_row(item.summary, 0, 0))


KIND_BY_NEED = {
    (True, True): "HydrateBothUnit",
    (True, False): "HydrateReactorsUnit",
    (False, True): "HydrateEditsUnit",
}


@dataclass
class Hydrator:
    """Hydrates bot comments through the packer, each as one unit; `finish` waits for them.

    A comment asks only for what its free summary says exists (reactors, edits or both); a
    comment with neither lands as an empty snapshot without any query. The packer puts the
    units of every repository into shared queries, beside discovery's own units.
    """

    packer: Packer
    land: Callable[[Snapshot, datetime], None]
    now: Callable[[], datetime]
    stats: HydrateStats = field(default_factory=HydrateStats)
    seen: set[str] = field(default_factory=set)
    # Every added comment gets a sequence number; a checkpoint may cover all comments numbered
    # below `unfinished_from()`: those are landed (in the Lander's buffer at least).
    seq: int = 0
    _numbers: dict[str, int] = field(default_factory=dict)  # queued or in flight
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    """Comments whose hydration kept failing. They stay unfinished, so no watermark moves past
    them this run, and the next run hydrates them."""
    fatal: tuple[type[BaseException], ...] = ()
    """Exceptions that end the run instead (auth, budget): raised by `finish`."""

    async def add(self, item: BotComment) -> None:
        if item.comment_id in self.seen:
            return
        self.seen.add(item.comment_id)
        self.seq += 1
        if not item.needs_reactors and not item.needs_edits:
            self.stats.empty += 1
            self.land(empty_snapshot(item), self.now())
            return
        self._numbers[item.comment_id] = self.seq
        task = asyncio.create_task(self._hydrate(item))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish(self, *, drain: bool = True) -> None:
        """Wait for the comments added so far (`drain`: and for any added meanwhile).

        An auth or budget failure of a hydration (`fatal`) is raised here; any other failure
        is recorded in `failures` and leaves the comment unfinished.
        """
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
            if not drain:
                return

    async def aclose(self) -> None:
        """Cancel what is still running (a crawl that stops early)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def queued(self) -> int:
        return len(self._numbers)

    def unfinished_from(self) -> int:
        """The lowest sequence number not yet landed (seq + 1 when everything is)."""
        return min(self._numbers.values(), default=self.seq + 1)

    async def _hydrate(self, item: BotComment) -> None:
        kind = KIND_BY_NEED[(item.needs_reactors, item.needs_edits)]
        try:
            node = await self.packer.fetch(Unit.of(kind, id=item.comment_id))
            self.stats.batches += 1
            fetched_at = self.now()
            snapshot = None
            if node is not None:
                snapshot = await self._complete(item, node, item.needs_reactors, item.needs_edits)
        except self.fatal:
            raise
        except Exception as exc:
            self.failures.append(f"hydrating {item.comment_id} failed: {exc}")
            log.warning("%s", self.failures[-1])
            return
        if snapshot is None:
            self.stats.missing += 1
            self.land(tombstone(item.comment_id), fetched_at)
        else:
            self.land(snapshot, fetched_at)
            self.stats.hydrated += 1
        self._numbers.pop(item.comment_id, None)

    async def _complete(
        self, item: BotComment, node: dict[str, Any], reactors: bool, edits: bool
    ) -> Snapshot:
        groups = node.get("reactionGroups") or [] if reactors else []
        for group in groups:
            conn = group.get("reactors") or {}
            info = conn.get("pageInfo") or {}
            if info.get("hasNextPage"):
                more = await self._more_reactors(
                    item.comment_id, group["content"], info.get("endCursor")
                )
                conn.setdefault("edges", []).extend(more)
        reaction_list = reaction_rows(groups)
        edit_nodes: list[dict[str, Any]] = []
        if edits:
            conn = node.get("userContentEdits") or {}
            edit_nodes = [n for n in conn.get("nodes") or [] if n]
            info = conn.get("pageInfo") or {}
            if info.get("hasNextPage"):
                edit_nodes.extend(await self._more_edits(item.comment_id, info.get("endCursor")))
        edit_list = edit_rows(edit_nodes)
        return Snapshot(
            item.comment_id,
            reaction_list,
            edit_list,
            hydration_row(node, len(reaction_list), len(edit_list)),
        )

    async def _more_reactors(
        self, comment_id: str, content: str, after: str | None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while after:
            node = await self.packer.fetch(Unit.of("MoreReactorsUnit", id=comment_id, after=after))
            self.stats.extra_pages += 1
            groups = (node or {}).get("reactionGroups") or []
            group = next((g for g in groups if g.get("content") == content), None)
            if group is None:
                break
            conn = group.get("reactors") or {}
            out.extend(e for e in conn.get("edges") or [] if e)
            info = conn.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return out

    async def _more_edits(self, comment_id: str, after: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while after:
            node = await self.packer.fetch(Unit.of("MoreEditsUnit", id=comment_id, after=after))
            self.stats.extra_pages += 1
            conn = (node or {}).get("userContentEdits")
            if conn is None:
                break
            out.extend(n for n in conn.get("nodes") or [] if n)
            info = conn.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return out


def node_errors(errors: list[dict[str, Any]], count: int) -> tuple[set[int], set[int]]:
    """Indexes of a `nodes(ids:)` answer that are gone (NOT_FOUND) and that are incomplete.

    A resource-limit error can null a field deep inside a node (its reactions, say): that node
    must not land as a snapshot, or a reaction would look removed. An error that names no node
    spoils them all.
    """
    missing: set[int] = set()
    broken: set[int] = set()
    for error in errors:
        path = error.get("path") or []
        index = path[1] if len(path) >= 2 and isinstance(path[1], int) else None
        if error.get("type") == "NOT_FOUND" and index is not None and len(path) == 2:
            missing.add(index)
        elif index is not None:
            broken.add(index)
        else:
            broken.update(range(count))
    return missing, broken - missing
