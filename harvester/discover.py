"""Discovery: stream an organisation's repositories and their threads, pick out bot comments.

Pure shaping functions (GraphQL node -> raw row) sit beside small async generators that page
one connection each; the crawler (crawl.py) strings them together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from harvester.packer import Packer, Unit

Row = dict[str, Any]

KIND_BY_TYPENAME = {
    "IssueComment": "issue_comment",
    "PullRequestReview": "review",
    "PullRequestReviewComment": "review_comment",
}


@dataclass(frozen=True)
class BotRules:
    """How a comment is recognised as bot output (design.md: author type, header, config)."""

    logins: frozenset[str] = frozenset()
    has_header: Callable[[str], bool] = field(default=lambda body: False)
    has_custom_header: Callable[[str, str | None], bool] | None = None
    """`(body, author_login)`: a custom dialect of harvester.toml that applies to the author
    matches (`""` for a ghost: only dialects without `authors`); None: there are none."""

    def reason(self, author: dict[str, Any] | None, body: str | None) -> str | None:
        if author and author.get("__typename") == "Bot":
            return "author_type"
        login = str(author.get("login") or "") if author else ""
        if login.lower() in self.logins:
            return "configured"
        if body and self.has_header(body):
            return "header"
        if body and self.has_custom_header and self.has_custom_header(body, login):
            return "header"
        return None


@dataclass(frozen=True)
class Stamp:
    """Where and when rows come from."""

    org: str
    repo: str
    crawled_at: datetime
    run_id: str


@dataclass
class BotComment:
    """A bot comment found by discovery, with the cheap summary that decides hydration."""

    comment_id: str
    created_at: str
    needs_reactors: bool
    needs_edits: bool
    summary: dict[str, Any]


def _login(actor: dict[str, Any] | None) -> str | None:
    return actor.get("login") if actor else None


def _type(actor: dict[str, Any] | None) -> str | None:
    return actor.get("__typename") if actor else None


def thread_row(node: dict[str, Any], stamp: Stamp) -> Row:
    return {
        "thread_id": node["id"],
        "org": stamp.org,
        "repo": stamp.repo,
        "number": node["number"],
        "kind": "pull_request" if node.get("__typename") == "PullRequest" else "issue",
        "title": node.get("title"),
        "body": node.get("body"),
        "author_login": _login(node.get("author")),
        "author_type": _type(node.get("author")),
        "state": node.get("state"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "url": node.get("url"),
        "crawled_at": stamp.crawled_at,
        "run_id": stamp.run_id,
    }


def comment_row(
    node: dict[str, Any],
    thread_id: str,
    stamp: Stamp,
    bot_reason: str | None,
    review_id: str | None = None,
) -> Row:
    reply_to = node.get("replyTo")
    return {
        "comment_id": node["id"],
        "thread_id": thread_id,
        "org": stamp.org,
        "repo": stamp.repo,
        "kind": KIND_BY_TYPENAME.get(str(node.get("__typename")), "issue_comment"),
        "author_login": _login(node.get("author")),
        "author_type": _type(node.get("author")),
        "body": node.get("body"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "last_edited_at": node.get("lastEditedAt"),
        "editor_login": _login(node.get("editor")),
        "editor_type": _type(node.get("editor")),
        "includes_created_edit": node.get("includesCreatedEdit"),
        "is_minimized": node.get("isMinimized"),
        "minimized_reason": node.get("minimizedReason"),
        "reply_to_id": reply_to.get("id") if reply_to else None,
        "review_id": review_id,
        "path": node.get("path"),
        "diff_hunk": node.get("diffHunk"),
        "review_state": node.get("state")
        if node.get("__typename") == "PullRequestReview"
        else None,
        "url": node.get("url"),
        "database_id": node.get("databaseId"),
        "is_bot_comment": bot_reason is not None,
        "bot_reason": bot_reason,
        "crawled_at": stamp.crawled_at,
        "run_id": stamp.run_id,
    }


def reactor_total(node: dict[str, Any]) -> int:
    groups = node.get("reactionGroups") or []
    return sum(int((g.get("reactors") or {}).get("totalCount") or 0) for g in groups)


def bot_comment(node: dict[str, Any]) -> BotComment:
    """What hydration must fetch: reactors only if there are any, edits only if ever edited."""
    return BotComment(
        comment_id=node["id"],
        created_at=str(node.get("createdAt") or ""),
        needs_reactors=reactor_total(node) > 0,
        needs_edits=node.get("lastEditedAt") is not None,
        summary=node,
    )


@dataclass
class ThreadBundle:
    """One thread with every comment discovery found (all pages), ready to land."""

    thread: dict[str, Any]
    comments: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    # (node, review_id) pairs; review bodies are comments too.


def _page_info(conn: dict[str, Any] | None) -> tuple[bool, str | None]:
    info = (conn or {}).get("pageInfo") or {}
    return bool(info.get("hasNextPage")), info.get("endCursor")


@dataclass(frozen=True)
class RepoMarks:
    owner: str
    name: str
    issues_since: datetime | None
    pulls_since: datetime | None


async def changed_repos(packer: Packer, repos: list[RepoMarks]) -> set[tuple[str, str]]:
    """The repositories with an issue or pull request updated after their watermarks.

    A repository without watermarks counts as changed, and so does one that cannot be seen
    now (the crawl says why). One request per repository, packed with other units.
    """
    changed = {(r.owner, r.name) for r in repos if r.issues_since is None or r.pulls_since is None}
    todo = [r for r in repos if (r.owner, r.name) not in changed]

    async def probe(r: RepoMarks) -> bool:
        assert r.issues_since is not None and r.pulls_since is not None
        since = _iso(r.issues_since + timedelta(seconds=1))
        unit = Unit.of("RepoChangesUnit", owner=r.owner, name=r.name, since=since)
        node = await packer.fetch(unit)
        if node is None:
            return True
        if int((node.get("issues") or {}).get("totalCount") or 0) > 0:
            return True
        latest = _nodes(node.get("pullRequests"))
        pulls_at = str(latest[0].get("updatedAt") or "") if latest else ""
        return pulls_at > (_iso(r.pulls_since) or "")

    for r, newer in zip(todo, await asyncio.gather(*(probe(r) for r in todo)), strict=True):
        if newer:
            changed.add((r.owner, r.name))
    return changed


# ---------------------------------------------------------------- packed discovery
# The same walks, as units for the packer: each thread list, comment page, review page and
# inline page is one unit, so the pages of many repositories share one query.
def _nodes(conn: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [n for n in (conn or {}).get("nodes") or [] if n]


async def _rest(packer: Packer, kind: str, node_id: str, name: str, conn: Any) -> list[Row]:
    """`conn`'s nodes and those of every later page (`kind` is a `More...Unit`)."""
    out = _nodes(conn)
    more, after = _page_info(conn)
    while more:
        node = await packer.fetch(Unit.of(kind, id=node_id, after=after))
        conn = (node or {}).get(name)
        if conn is None:
            break
        out.extend(_nodes(conn))
        more, after = _page_info(conn)
    return out


async def org_repos(packer: Packer, org: str) -> list[dict[str, Any]]:
    """Every repository of an organisation (none if it cannot be seen)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        node = await packer.fetch(Unit.of("OrgReposUnit", login=org, after=after))
        conn = (node or {}).get("repositories")
        if conn is None:
            return found
        found.extend(_nodes(conn))
        more, after = _page_info(conn)
        if not more:
            return found


async def _comments_of(packer: Packer, thread: dict[str, Any]) -> list[Row]:
    if not int((thread.get("comments") or {}).get("totalCount") or 0):
        return []
    node = await packer.fetch(Unit.of("ThreadCommentsUnit", id=thread["id"]))
    conn = (node or {}).get("comments")
    return await _rest(packer, "MoreCommentsUnit", thread["id"], "comments", conn)


async def _inline_of(packer: Packer, review: dict[str, Any]) -> list[Row]:
    if not int((review.get("comments") or {}).get("totalCount") or 0):
        return []
    node = await packer.fetch(Unit.of("ReviewInlineUnit", id=review["id"]))
    conn = (node or {}).get("comments")
    return await _rest(packer, "MoreInlineUnit", review["id"], "comments", conn)


async def _reviews_of(packer: Packer, pull: dict[str, Any]) -> list[tuple[Row, str | None]]:
    node = await packer.fetch(Unit.of("PullReviewsUnit", id=pull["id"]))
    conn = (node or {}).get("reviews")
    reviews = await _rest(packer, "MoreReviewsUnit", pull["id"], "reviews", conn)
    inline = await asyncio.gather(*(_inline_of(packer, r) for r in reviews))
    out: list[tuple[Row, str | None]] = []
    for review, comments in zip(reviews, inline, strict=True):
        out.append((review, None))
        out.extend((c, review["id"]) for c in comments)
    return out


async def complete_thread(packer: Packer, thread: dict[str, Any]) -> ThreadBundle:
    """A listed thread with every comment: comment pages, and for a PR reviews and inline."""
    if thread.get("__typename") != "PullRequest":
        comments = await _comments_of(packer, thread)
        return ThreadBundle(thread, [(c, None) for c in comments])
    comments, reviews = await asyncio.gather(
        _comments_of(packer, thread), _reviews_of(packer, thread)
    )
    return ThreadBundle(thread, [(c, None) for c in comments] + reviews)


def _iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


class ThreadBudget:
    """How many threads may be listed but not yet landed, across every walk of a crawl.

    A listing page reserves room before it is asked for: `first` threads until a page has
    been answered, then the mean size of the pages answered so far (never under `floor`), so
    small repositories do not hold room they will not use. When the answer holds more threads
    than reserved, the extra is taken without waiting (the page is already in memory; at most
    `LISTING_PAGE - floor` per page in flight); each thread gives its place back once the
    crawler has landed it. This keeps memory flat however many
    repositories are walked at once, while leaving enough pages in flight to fill the
    packer's queries.
    """

    def __init__(self, limit: int, floor: int = 20, first: int = 50) -> None:
        if limit < 1:
            raise ValueError(f"the thread budget must be at least 1, got {limit}")
        self.limit = limit
        self.floor = max(1, min(floor, LISTING_PAGE))
        self.first = max(self.floor, min(first, LISTING_PAGE))
        self.used = 0
        self.peak = 0
        self._pages = 0
        self._threads = 0
        self._freed = asyncio.Condition()

    def estimate(self) -> int:
        """What the next listing page reserves."""
        if not self._pages:
            return min(self.first, self.limit)
        mean = -(-self._threads // self._pages)
        return min(max(mean, self.floor), LISTING_PAGE, self.limit)

    @asynccontextmanager
    async def reserve(self) -> AsyncIterator[Reservation]:
        """Hold room for one listing page until the block ends (see `Reservation.keep`)."""
        async with self._freed:
            await self._freed.wait_for(lambda: self.used + self.estimate() <= self.limit)
            n = self.estimate()
            self.used += n
            self.peak = max(self.peak, self.used)
        held = Reservation(self, n)
        try:
            yield held
        finally:
            await held.release()

    def _listed(self, threads: int) -> None:
        self._pages += 1
        self._threads += threads

    async def _change(self, delta: int) -> None:
        async with self._freed:
            self.used += delta
            self.peak = max(self.peak, self.used)
            if delta < 0:
                self._freed.notify_all()


@dataclass
class Reservation:
    budget: ThreadBudget
    held: int
    answered: bool = False

    async def keep(self, n: int) -> None:
        """Hold exactly `n` places. The first call reports the page's size; growing never
        waits (the page is already in memory)."""
        if not self.answered:
            self.answered = True
            self.budget._listed(n)
        if n != self.held:
            await self.budget._change(n - self.held)
            self.held = n

    async def release(self) -> None:
        if self.held:
            await self.budget._change(-self.held)
            self.held = 0


UNLIMITED_THREADS = 10**9


class RepoNotFound(LookupError):
    """The repository is gone or this token cannot see it (its `repository` field is null)."""


LISTING_PAGE = 100  # GitHub's largest page: the most threads one listing page can hold


async def _completed_page(
    packer: Packer, held: Reservation, threads: list[dict[str, Any]]
) -> AsyncGenerator[ThreadBundle, None]:
    """One listing page's threads, whole: the page holds its threads' places until each is
    landed (the caller's turn after each `yield`)."""
    await held.keep(len(threads))
    for bundle in await asyncio.gather(*(complete_thread(packer, t) for t in threads)):
        yield bundle
        await held.keep(held.held - 1)


async def walk_issues(
    packer: Packer,
    owner: str,
    name: str,
    since: datetime | None,
    budget: ThreadBudget | None = None,
) -> AsyncGenerator[ThreadBundle, None]:
    """Issues updated at or after `since`, oldest update first, with all their comments.

    Close the generator when stopping early (`contextlib.aclosing`): it holds budget.
    """
    budget = budget or ThreadBudget(UNLIMITED_THREADS)
    after: str | None = None
    while True:
        async with budget.reserve() as held:
            unit = Unit.of("IssueListUnit", owner=owner, name=name, since=_iso(since), after=after)
            node = await packer.fetch(unit)
            if node is None and after is None:
                raise RepoNotFound(f"{owner}/{name}")
            conn = (node or {}).get("issues")
            if conn is None:
                return
            threads = _nodes(conn)
            async for bundle in _completed_page(packer, held, threads):
                yield bundle
        more, after = _page_info(conn)
        if not more:
            return


async def walk_pulls(
    packer: Packer,
    owner: str,
    name: str,
    since: datetime | None,
    budget: ThreadBudget | None = None,
) -> AsyncGenerator[ThreadBundle, None]:
    """Pull requests by `updatedAt` descending, down to `since` (there is no `since` filter).

    Close the generator when stopping early (`contextlib.aclosing`): it holds budget.
    """
    budget = budget or ThreadBudget(UNLIMITED_THREADS)
    after: str | None = None
    since_iso = _iso(since)
    while True:
        async with budget.reserve() as held:
            unit = Unit.of("PullListUnit", owner=owner, name=name, after=after)
            node = await packer.fetch(unit)
            if node is None and after is None:
                raise RepoNotFound(f"{owner}/{name}")
            conn = (node or {}).get("pullRequests")
            if conn is None:
                return
            nodes = _nodes(conn)
            fresh = [
                n for n in nodes if not since_iso or str(n.get("updatedAt") or "") >= since_iso
            ]
            async for bundle in _completed_page(packer, held, fresh):
                yield bundle
        more, after = _page_info(conn)
        if not more or len(fresh) < len(nodes):
            return
