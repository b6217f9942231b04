"""Execute an already validated and priced GraphQL document against a simulated world.

The world's records (`model.py`) are served through one table of field resolvers keyed by
(GraphQL type, field): nothing relies on graphql-core's default attribute lookup, because the
model's names are not GitHub's. Every connection goes through `paginate`, and everything a page
needs is reached by index (node ids decode to list positions; per-repository sorted lists and
search results are cached per world and rebuilt when `World.version` or a list length moves),
so a 1M-comment world serves pages without scanning `world.comments`.

Where GitHub's behaviour is subtle the resolver follows `github-graphql.md`: edits newest first
with `diff` holding the full revision, null `diff` for deleted revisions, `Reaction.user` null
for non-User reactors, all eight reaction groups, Bot logins without `[bot]`, `nodes(ids:)`
answering null plus a NOT_FOUND error per unresolvable id, search capped at 1,000 results.
"""

from __future__ import annotations

import base64
import html
import re
import struct
import time
import weakref
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeGuard, TypeVar

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
)
from graphql import execute as graphql_execute

from harvester.simulator import ids, search
from harvester.simulator.context import RateLimitView, RequestContext
from harvester.simulator.model import (
    REACTION_CONTENTS,
    Actor,
    Comment,
    Edit,
    Org,
    Reaction,
    Repo,
    Thread,
    World,
)

T = TypeVar("T")
Info = GraphQLResolveInfo[Any]
Key = tuple[int, ...]
Resolver = Callable[[Any, Info, dict[str, Any]], Any]

DEFAULT_PAGE_SIZE = 100  # only reached when the analyzer let a page through without first/last
ACCOUNTS_EPOCH = 1_420_070_400  # 2015-01-01: createdAt of accounts the world has no date for
_CURSOR_HEAD = b"cursor:v2:"

_COMMENT_TYPENAMES = {
    "issue_comment": "IssueComment",
    "review": "PullRequestReview",
    "review_comment": "PullRequestReviewComment",
}
_THREAD_TYPENAMES = {"issue": "Issue", "pull_request": "PullRequest"}


def github_error(error: GraphQLError) -> dict[str, Any]:
    """An error entry as GitHub writes it: `type` at the top level (not under `extensions`)."""
    out: dict[str, Any] = {}
    kind = (error.extensions or {}).get("type")
    if kind:
        out["type"] = kind
    if error.path:
        out["path"] = list(error.path)
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["message"] = error.message
    return out


def _error(kind: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": kind})


def _not_found(message: str) -> GraphQLError:
    return _error("NOT_FOUND", message)


def iso(ts: int | None) -> str | None:
    """GitHub's DateTime: `2025-01-02T03:04:05Z`."""
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_MARKDOWN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s*```.*$", re.MULTILINE), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>\n]+>"), ""),
    (re.compile(r"^\s{0,3}(?:#{1,6}|>|[-*+]|\d+\.)\s+", re.MULTILINE), ""),
    (re.compile(r"(\*\*|__|~~|`)"), ""),
    (re.compile(r"\n{3,}"), "\n\n"),
)


def body_text(markdown: str) -> str:
    """`bodyText`, roughly: the markdown without its markup or hidden HTML comments."""
    text = _HTML_COMMENT.sub("", markdown)
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def body_html(markdown: str) -> str:
    """`bodyHTML`, roughly: escaped paragraphs (HTML comments are not rendered)."""
    paragraphs = re.split(r"\n\s*\n", _HTML_COMMENT.sub("", markdown).strip())
    return "\n".join(
        f'<p dir="auto">{html.escape(p.strip()).replace(chr(10), "<br>" + chr(10))}</p>'
        for p in paragraphs
        if p.strip()
    )


def login_of(actor: Actor) -> str:
    """GraphQL logins carry no `[bot]` suffix (REST's do)."""
    return actor.login.removesuffix("[bot]") if actor.typename == "Bot" else actor.login


def actor_url(actor: Actor | Org) -> str:
    if isinstance(actor, Actor) and actor.typename == "Bot":
        return f"https://github.com/apps/{login_of(actor)}"
    return f"https://github.com/{actor.login}"


def thread_url(thread: Thread) -> str:
    section = "issues" if thread.kind == "issue" else "pull"
    return f"https://github.com/{thread.repo.name_with_owner}/{section}/{thread.number}"


def comment_url(comment: Comment) -> str:
    base = thread_url(comment.thread)
    if comment.kind == "review":
        return f"{base}#pullrequestreview-{comment.database_id}"
    if comment.kind == "review_comment":
        return f"{base}#discussion_r{comment.database_id}"
    return f"{base}#issuecomment-{comment.database_id}"


def author_association(comment: Comment | Thread) -> str:
    """A deterministic stand-in for GitHub's membership lookup."""
    author = comment.author
    org = (comment.repo if isinstance(comment, Thread) else comment.thread.repo).org
    if author is None or author.typename in {"Bot", "Organization"}:
        return "OWNER" if author is not None and author.login == org.login else "NONE"
    if author.typename == "Mannequin":
        return "MANNEQUIN"
    return ("MEMBER", "CONTRIBUTOR", "NONE")[(author.database_id + org.database_id) % 3]


_HUNK_HEAD = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def hunk_line(diff_hunk: str | None) -> int | None:
    """The new-file line a review comment sits on: the last line of its diff hunk."""
    if not diff_hunk:
        return None
    head, *rest = diff_hunk.split("\n")
    match = _HUNK_HEAD.match(head)
    if match is None:
        return None
    return int(match.group(1)) + sum(1 for line in rest if not line.startswith("-")) - 1


def encode_cursor(key: Key) -> str:
    """An opaque cursor in GitHub's shape (`Y3Vyc29yOnYy...`: base64 of `cursor:v2:` + msgpack)."""
    packed = bytes([0x90 | len(key)]) + b"".join(b"\xd3" + struct.pack(">q", k) for k in key)
    return base64.b64encode(_CURSOR_HEAD + packed).decode()


def decode_cursor(cursor: str) -> Key:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True)
    except (ValueError, UnicodeError):
        raw = b""
    body = raw[len(_CURSOR_HEAD) :]
    count = body[0] & 0x0F if body else 0
    if (
        not raw.startswith(_CURSOR_HEAD)
        or not body
        or body[0] & 0xF0 != 0x90
        or len(body) != 1 + 9 * count
        or any(body[1 + 9 * i] != 0xD3 for i in range(count))
    ):
        raise _error(
            "INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor."
        )
    return tuple(struct.unpack(">q", body[2 + 9 * i : 10 + 9 * i])[0] for i in range(count))


@dataclass(slots=True)
class Page(Generic[T]):
    entries: list[tuple[Key, T]]
    total: int
    has_next: bool
    has_previous: bool


def paginate(entries: Sequence[tuple[Key, T]], args: dict[str, Any]) -> Page[T]:
    """The page `first/after/last/before` select from `entries` (sorted by ascending key).

    Keys, not offsets, go into cursors, so a cursor stays valid when items are added or
    removed elsewhere in the list (GitHub's cursors behave the same way)."""
    start, end = 0, len(entries)
    if args.get("after") is not None:
        start = bisect_right(entries, decode_cursor(args["after"]), key=_entry_key)
    if args.get("before") is not None:
        end = max(start, bisect_left(entries, decode_cursor(args["before"]), key=_entry_key))
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    if first is not None:
        end = min(end, start + max(first, 0))
    if last is not None:
        start = max(start, end - max(last, 0))
    return Page(list(entries[start:end]), len(entries), end < len(entries), start > 0)


def _entry_key(entry: tuple[Key, Any]) -> Key:
    return entry[0]


def by_position(
    items: Iterable[T], keep: Callable[[T], bool] = lambda _: True
) -> list[tuple[Key, T]]:
    """Entries keyed by position in a list kept in order (stable when the list grows)."""
    return [((pos,), item) for pos, item in enumerate(items) if keep(item)]


def by_sort_key(
    items: Iterable[T], key: Callable[[T], Key], descending: bool
) -> list[tuple[Key, T]]:
    """Entries in `key` order; a descending order negates the key so that it still ascends."""
    sign = -1 if descending else 1
    entries = [(tuple(sign * k for k in key(item)), item) for item in items]
    entries.sort(key=_entry_key)
    return entries


@dataclass(slots=True)
class Connection:
    """One page of a `...Connection`; `node_of` maps an item to the value `nodes`/`node` show."""

    page: Page[Any]
    node_of: Callable[[Any], Any] = lambda item: item
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Edge:
    cursor: str
    item: Any
    connection: Connection


def connection(
    entries: Sequence[tuple[Key, Any]],
    args: dict[str, Any],
    node_of: Callable[[Any], Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Connection:
    page = paginate(entries, args)
    return Connection(page, node_of or (lambda item: item), extra or {})


def _stamp(world: World) -> tuple[int, ...]:
    return (
        world.version,
        len(world.orgs),
        len(world.repos),
        len(world.threads),
        len(world.comments),
        len(world.actors),
        len(world.edits),
        len(world.reactions),
    )


class _Lru(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class WorldIndex:
    """Lookups built lazily from one version of a world."""

    def __init__(self, world: World) -> None:
        self.stamp = _stamp(world)
        self._orgs: dict[str, Org] | None = None
        self._repos: dict[str, Repo] | None = None
        self._actors: dict[str, Actor] | None = None
        self._numbers: dict[int, dict[int, Thread]] = {}
        self._repo_updated: dict[int, int] = {}
        self._reaction_subjects: dict[int, Comment] | None = None
        self.lists = _Lru(256)
        self.searches = _Lru(64)

    def org(self, world: World, login: str) -> Org | None:
        if self._orgs is None:
            self._orgs = {}
            for org in world.orgs:
                self._orgs.setdefault(org.login.lower(), org)
        return self._orgs.get(login.lower())

    def repo(self, world: World, owner: str, name: str) -> Repo | None:
        if self._repos is None:
            self._repos = {}
            for repo in world.repos:
                self._repos.setdefault(repo.name_with_owner.lower(), repo)
        return self._repos.get(f"{owner}/{name}".lower())

    def actor(self, world: World, login: str) -> Actor | None:
        if self._actors is None:
            self._actors = {}
            for actor in world.actors:
                self._actors.setdefault(login_of(actor).lower(), actor)
        return self._actors.get(login.lower().removesuffix("[bot]"))

    def thread(self, repo: Repo, number: int) -> Thread | None:
        numbers = self._numbers.get(repo.index)
        if numbers is None:
            numbers = self._numbers[repo.index] = {t.number: t for t in repo.threads}
        return numbers.get(number)

    def repo_updated_at(self, repo: Repo) -> int:
        updated = self._repo_updated.get(repo.index)
        if updated is None:
            updated = max([repo.created_at, *(t.updated_at for t in repo.threads)])
            self._repo_updated[repo.index] = updated
        return updated

    def reaction_subject(self, world: World, reaction: Reaction) -> Comment | None:
        """The comment a reaction is on (built once per world version, for `node(id)` only:
        a reaction reached through its comment already knows it)."""
        if self._reaction_subjects is None:
            self._reaction_subjects = {
                r.index: comment for comment in world.comments for r in comment.reactions
            }
        return self._reaction_subjects.get(reaction.index)


_INDEXES: weakref.WeakKeyDictionary[World, WorldIndex] = weakref.WeakKeyDictionary()


def world_index(world: World) -> WorldIndex:
    index = _INDEXES.get(world)
    if index is None or index.stamp != _stamp(world):
        index = _INDEXES[world] = WorldIndex(world)
    return index


@dataclass(frozen=True, slots=True)
class ReviewThread:
    """A `PullRequestReviewThread`: a root review comment and its replies."""

    root: Comment


@dataclass(frozen=True, slots=True)
class BoundReaction:
    """A reaction and the comment it is on (`Reaction.reactable`); subject None: not known yet."""

    reaction: Reaction
    subject: Comment | Thread | None


@dataclass(frozen=True, slots=True)
class ReactionGroup:
    content: str
    subject: Comment | Thread
    reactions: tuple[Reaction, ...]


def _ctx(info: Info) -> RequestContext:
    context = info.context
    assert isinstance(context, RequestContext)
    return context


def _actor_value(info: Info, actor: Actor | None) -> Actor | Org | None:
    """An Actor record as GraphQL shows it: an organisation actor as its Organization."""
    if actor is None or actor.typename != "Organization":
        return actor
    world = _ctx(info).world
    return world_index(world).org(world, actor.login) or actor


def _review_comments(pull: Thread) -> list[Comment]:
    return [c for review in pull.reviews for c in review.review_comments]


def _root_of(comment: Comment) -> Comment:
    seen = {comment.index}
    while comment.reply_to is not None and comment.reply_to.index not in seen:
        comment = comment.reply_to
        seen.add(comment.index)
    return comment


def _review_thread_comments(root: Comment) -> list[Comment]:
    return [c for c in _review_comments(root.thread) if not c.deleted and _root_of(c) is root]


def _review_threads(pull: Thread) -> list[ReviewThread]:
    members: dict[int, list[Comment]] = {}
    roots: dict[int, Comment] = {}
    for comment in _review_comments(pull):
        root = _root_of(comment)
        roots[root.index] = root
        if not comment.deleted:
            members.setdefault(root.index, []).append(comment)
    return [ReviewThread(roots[i]) for i in members]


def _reactions_of(subject: Any) -> list[Reaction]:
    if not isinstance(subject, Comment):
        return []
    return [r for r in subject.reactions if not r.deleted]


def _edits_of(subject: Any) -> list[Edit]:
    return subject.edits if isinstance(subject, Comment) else []


def _reaction_key(reaction: Reaction) -> Key:
    return reaction.created_at, reaction.index


def typename_of(value: Any) -> str | None:
    """The GraphQL object type a record is served as."""
    if isinstance(value, Comment):
        return _COMMENT_TYPENAMES[value.kind]
    if isinstance(value, Thread):
        return _THREAD_TYPENAMES[value.kind]
    if isinstance(value, Actor):
        return value.typename
    if isinstance(value, Org):
        return "Organization"
    if isinstance(value, Repo):
        return "Repository"
    if isinstance(value, Edit):
        return "UserContentEdit"
    if isinstance(value, BoundReaction):
        return "Reaction"
    if isinstance(value, ReviewThread):
        return "PullRequestReviewThread"
    return None


def node_id(value: Any) -> str:
    typename = typename_of(value)
    if typename is None:
        raise TypeError(f"{type(value).__name__} has no node id")
    if isinstance(value, BoundReaction):
        return ids.encode(typename, value.reaction.index)
    if isinstance(value, ReviewThread):
        return ids.encode(typename, value.root.index)
    index: int = value.index
    return ids.encode(typename, index)


def _at(items: Sequence[T], index: int) -> T | None:
    return items[index] if 0 <= index < len(items) else None


def resolve_node(world: World, global_id: str) -> Any:
    """The record a node id names, or None (unknown, malformed, deleted, wrong type)."""
    decoded = ids.decode(global_id)
    if decoded is None:
        return None
    typename, index = decoded
    value: Any
    if typename in _COMMENT_TYPENAMES.values():
        value = _at(world.comments, index)
        if value is not None and value.deleted:
            return None
    elif typename in _THREAD_TYPENAMES.values():
        value = _at(world.threads, index)
    elif typename in {"User", "Bot", "Mannequin"}:
        value = _at(world.actors, index)
    elif typename == "Organization":
        value = _at(world.orgs, index)
    elif typename == "Repository":
        value = _at(world.repos, index)
    elif typename == "UserContentEdit":
        value = _at(world.edits, index)
    elif typename == "Reaction":
        reaction = _at(world.reactions, index)
        value = None if reaction is None or reaction.deleted else BoundReaction(reaction, None)
    elif typename == "PullRequestReviewThread":
        root = _at(world.comments, index)
        if root is None or root.kind != "review_comment" or root.reply_to is not None:
            return None
        if root.deleted and not _review_thread_comments(root):
            return None
        value = ReviewThread(root)
    else:
        return None
    return value if value is not None and typename_of(value) == typename else None


def _node_not_found(global_id: str) -> GraphQLError:
    return _not_found(f"Could not resolve to a node with the global id of '{global_id}'.")


def _query_node(_: Any, info: Info, args: dict[str, Any]) -> Any:
    value = resolve_node(_ctx(info).world, args["id"])
    if value is None:
        raise _node_not_found(args["id"])
    return value


def _query_nodes(_: Any, info: Info, args: dict[str, Any]) -> list[Any]:
    # An unresolvable entry completes as null with its own error at ["nodes", i], like GitHub.
    world = _ctx(info).world
    out: list[Any] = []
    for global_id in args["ids"]:
        value = resolve_node(world, global_id)
        out.append(_node_not_found(global_id) if value is None else value)
    return out


def _query_organization(_: Any, info: Info, args: dict[str, Any]) -> Org:
    world = _ctx(info).world
    org = world_index(world).org(world, args["login"])
    if org is None:
        login = args["login"]
        raise _not_found(f"Could not resolve to an Organization with the login of '{login}'.")
    return org


def _query_repository(_: Any, info: Info, args: dict[str, Any]) -> Repo:
    world = _ctx(info).world
    repo = world_index(world).repo(world, args["owner"], args["name"])
    if repo is None:
        name = f"{args['owner']}/{args['name']}"
        raise _not_found(f"Could not resolve to a Repository with the name '{name}'.")
    return repo


def _query_user(_: Any, info: Info, args: dict[str, Any]) -> Actor:
    world = _ctx(info).world
    actor = world_index(world).actor(world, args["login"])
    if actor is None or actor.typename != "User":
        login = args["login"]
        raise _not_found(f"Could not resolve to a User with the login of '{login}'.")
    return actor


def _query_rate_limit(_: Any, info: Info, args: dict[str, Any]) -> RateLimitView:
    context = _ctx(info)
    return context.dry_run_rate_limit if args.get("dryRun") else context.rate_limit


_SEARCH_COUNTS = (
    "codeCount",
    "discussionCount",
    "issueCount",
    "repositoryCount",
    "userCount",
    "wikiCount",
)


def _query_search(_: Any, info: Info, args: dict[str, Any]) -> Connection:
    text: str = args["query"]
    if len(text) > search.MAX_QUERY_LENGTH:
        raise _error("INVALID", search.QUERY_TOO_LONG)
    counts = dict.fromkeys(_SEARCH_COUNTS, 0)
    if args["type"] not in {"ISSUE", "ISSUE_ADVANCED"}:
        return connection([], args, extra=counts)
    world = _ctx(info).world

    def run() -> tuple[int, list[tuple[Key, Thread]]]:
        query = search.parse_query(text)
        found = search.select_threads(world, query)
        key = search.sort_key(query)
        return len(found), [(key(t), t) for t in found[: search.MAX_RESULTS]]

    total, entries = world_index(world).searches.get_or(" ".join(text.split()), run)
    counts["issueCount"] = total
    return connection(entries, args, extra=counts)


_THREAD_ORDER: dict[str, Callable[[Thread], Key]] = {
    "CREATED_AT": lambda t: (t.created_at, t.index),
    "UPDATED_AT": lambda t: (t.updated_at, t.index),
    "COMMENTS": lambda t: (len(t.comments), t.index),
}


@dataclass(frozen=True, slots=True)
class _ThreadListing:
    """The arguments of one `Repository.issues`/`.pullRequests` listing (also its cache key)."""

    repo_index: int
    kind: str
    order_field: str
    descending: bool
    states: frozenset[str]
    since: int | None
    created_by: str | None
    # Labels, milestones, assignees, mentions, subscriptions and branches are not modelled:
    # a listing that filters on one matches nothing.
    unmatchable: bool

    @classmethod
    def from_args(cls, repo: Repo, kind: str, args: dict[str, Any]) -> _ThreadListing:
        filters: dict[str, Any] = dict(args.get("filterBy") or {})
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        since = filters.get("since")
        created_by = filters.get("createdBy")
        unmatched = ("assignee", "mentioned", "milestone", "milestoneNumber")
        return cls(
            repo_index=repo.index,
            kind=kind,
            order_field=order["field"],
            descending=order["direction"] == "DESC",
            states=frozenset(args.get("states") or filters.get("states") or ()),
            since=None if since is None else search.parse_timestamp(str(since)),
            created_by=None if created_by is None else str(created_by).lower(),
            unmatchable=bool(args.get("labels") or filters.get("labels"))
            or bool(filters.get("viewerSubscribed"))
            or any(args.get(name) is not None for name in ("baseRefName", "headRefName"))
            or any(filters.get(name) is not None for name in unmatched),
        )

    def keep(self, thread: Thread) -> bool:
        if thread.kind != self.kind or (self.since is not None and thread.updated_at < self.since):
            return False
        if self.states and _thread_state(thread, self.kind) not in self.states:
            return False
        if self.created_by is None:
            return True
        return thread.author is not None and login_of(thread.author).lower() == self.created_by

    def entries(self, repo: Repo) -> list[tuple[Key, Thread]]:
        if self.unmatchable:
            return []
        key = _THREAD_ORDER.get(self.order_field, _THREAD_ORDER["CREATED_AT"])
        return by_sort_key([t for t in repo.threads if self.keep(t)], key, self.descending)


def _repo_threads(info: Info, repo: Repo, kind: str, args: dict[str, Any]) -> Connection:
    """`Repository.issues` / `.pullRequests`: filtered and ordered once per world version and
    argument set, then paged by key."""
    listing = _ThreadListing.from_args(repo, kind, args)
    lists = world_index(_ctx(info).world).lists
    return connection(lists.get_or(listing, lambda: listing.entries(repo)), args)


def _thread_state(thread: Thread, kind: str) -> str:
    # An issue-typed view of a merged pull request is CLOSED (IssueState has no MERGED).
    if kind == "issue" and thread.state == "MERGED":
        return "CLOSED"
    return thread.state


_REPO_ORDER: dict[str, Callable[[Repo, WorldIndex], int]] = {
    "CREATED_AT": lambda r, _: r.created_at,
    "UPDATED_AT": lambda r, index: index.repo_updated_at(r),
    "PUSHED_AT": lambda r, index: index.repo_updated_at(r),
    "STARGAZERS": lambda r, _: 0,
}


def _owner_repositories(owner: Any, info: Info, args: dict[str, Any]) -> Connection:
    repos = owner.repos if isinstance(owner, Org) else []
    privacy = args.get("privacy") or args.get("visibility")
    if args.get("isFork") or args.get("isArchived") or args.get("isLocked"):
        repos = []  # no repository of the world is a fork, archived or locked
    if privacy is not None:
        repos = [r for r in repos if r.is_private == (privacy != "PUBLIC")]
    order = args.get("orderBy")
    if order is None:
        return connection(by_position(repos), args)
    if order["field"] == "NAME":
        ranked = sorted(repos, key=lambda r: (r.name.lower(), r.index))
        if order["direction"] == "DESC":
            ranked.reverse()
        return connection(by_position(ranked), args)
    world = _ctx(info).world
    index = world_index(world)
    value = _REPO_ORDER.get(order["field"], _REPO_ORDER["CREATED_AT"])
    entries = by_sort_key(repos, lambda r: (value(r, index), r.index), order["direction"] == "DESC")
    return connection(entries, args)


def _owner_repository(owner: Any, info: Info, args: dict[str, Any]) -> Repo | None:
    if not isinstance(owner, Org):
        return None
    world = _ctx(info).world
    return world_index(world).repo(world, owner.login, args["name"])


_NUMBERED = {"issue": "an Issue", "pull_request": "a PullRequest", None: "an issue or pull request"}


def _repo_thread_by_number(kind: str | None) -> Resolver:
    def resolve(repo: Repo, info: Info, args: dict[str, Any]) -> Thread:
        world = _ctx(info).world
        thread = world_index(world).thread(repo, args["number"])
        if thread is None or (kind is not None and thread.kind != kind):
            number = args["number"]
            raise _not_found(f"Could not resolve to {_NUMBERED[kind]} with the number of {number}.")
        return thread

    return resolve


def _repo_updated(repo: Repo, info: Info, _: dict[str, Any]) -> str | None:
    return iso(world_index(_ctx(info).world).repo_updated_at(repo))


def _comments_of_thread(thread: Thread, _: Info, args: dict[str, Any]) -> Connection:
    order = args.get("orderBy")
    if order is None:  # oldest first
        return connection(by_position(thread.comments, lambda c: not c.deleted), args)
    live = [c for c in thread.comments if not c.deleted]
    descending = order["direction"] == "DESC"
    return connection(by_sort_key(live, lambda c: (c.updated_at, c.index), descending), args)


def _reviews_of(pull: Thread, _: Info, args: dict[str, Any]) -> Connection:
    states = set(args.get("states") or ())
    author = args.get("author")

    def keep(review: Comment) -> bool:
        if review.deleted or (states and (review.review_state or "COMMENTED") not in states):
            return False
        if author is None:
            return True
        return review.author is not None and login_of(review.author).lower() == author.lower()

    return connection(by_position(pull.reviews, keep), args)


def _review_threads_of(pull: Thread, _: Info, args: dict[str, Any]) -> Connection:
    threads = _review_threads(pull)
    return connection(
        by_sort_key(threads, lambda t: (t.root.created_at, t.root.index), False), args
    )


def _review_comments_of(review: Comment, _: Info, args: dict[str, Any]) -> Connection:
    return connection(by_position(review.review_comments, lambda c: not c.deleted), args)


def _review_thread_comments_of(thread: ReviewThread, _: Info, args: dict[str, Any]) -> Connection:
    comments = _review_thread_comments(thread.root)
    entries = by_sort_key(comments, lambda c: (c.created_at, c.index), False)
    skip = max(args.get("skip") or 0, 0)
    return connection(entries[skip:], args)


def _user_content_edits(subject: Any, _: Info, args: dict[str, Any]) -> Connection:
    # The model keeps them oldest first; GitHub serves them newest first.
    edits = _edits_of(subject)
    entries = [((-pos,), edit) for pos, edit in reversed(list(enumerate(edits)))]
    return connection(entries, args)


def _reactions(subject: Any, info: Info, args: dict[str, Any]) -> Connection:
    reactions = _reactions_of(subject)
    if args.get("content") is not None:
        reactions = [r for r in reactions if r.content == args["content"]]
    order = args.get("orderBy") or {"direction": "ASC"}
    entries = by_sort_key(reactions, _reaction_key, order["direction"] == "DESC")
    viewer = _ctx(info).viewer
    return connection(
        entries,
        args,
        node_of=lambda r: BoundReaction(r, subject),
        extra={"viewerHasReacted": any(r.actor is viewer for r in reactions)},
    )


def _reaction_groups(subject: Any, _: Info, __: dict[str, Any]) -> list[Any]:
    # Always all eight, in GitHub's order, zero counts included.
    grouped: dict[str, list[Reaction]] = {content: [] for content in REACTION_CONTENTS}
    for reaction in _reactions_of(subject):
        grouped.setdefault(reaction.content, []).append(reaction)
    return [ReactionGroup(c, subject, tuple(grouped[c])) for c in REACTION_CONTENTS]


def _group_reactors(group: ReactionGroup, info: Info, args: dict[str, Any]) -> Any:
    entries = by_sort_key(group.reactions, _reaction_key, False)
    return connection(entries, args, node_of=lambda r: _actor_value(info, r.actor))


def _comment_pull_request(comment: Comment, _: Info, __: dict[str, Any]) -> Any:
    return comment.thread if comment.thread.kind == "pull_request" else None


def _shared_comment_fields() -> dict[str, Resolver]:
    """Fields Issue, PullRequest and the three comment types share (Comment, Reactable,
    RepositoryNode); threads carry no edits or reactions in the model, so theirs are empty."""
    return {
        "id": lambda v, _, __: node_id(v),
        "databaseId": lambda v, _, __: v.database_id,
        "author": lambda v, info, __: _actor_value(info, v.author),
        "authorAssociation": lambda v, _, __: author_association(v),
        "body": lambda v, _, __: v.body,
        "bodyText": lambda v, _, __: body_text(v.body),
        "bodyHTML": lambda v, _, __: body_html(v.body),
        "createdAt": lambda v, _, __: iso(v.created_at),
        "publishedAt": lambda v, _, __: iso(v.created_at),
        "updatedAt": lambda v, _, __: iso(v.updated_at),
        "lastEditedAt": lambda v, _, __: iso(getattr(v, "last_edited_at", None)),
        "editor": lambda v, info, __: _actor_value(info, getattr(v, "editor", None)),
        "includesCreatedEdit": lambda v, _, __: bool(getattr(v, "includes_created_edit", False)),
        "userContentEdits": _user_content_edits,
        "reactions": _reactions,
        "reactionGroups": _reaction_groups,
        "repository": lambda v, _, __: v.repo if isinstance(v, Thread) else v.thread.repo,
        "url": lambda v, _, __: thread_url(v) if isinstance(v, Thread) else comment_url(v),
    }


def _thread_fields(kind: str) -> dict[str, Resolver]:
    return {
        **_shared_comment_fields(),
        "number": lambda t, _, __: t.number,
        "title": lambda t, _, __: t.title,
        "state": lambda t, _, __: _thread_state(t, kind),
        "closed": lambda t, _, __: t.state != "OPEN",
        "closedAt": lambda t, _, __: iso(t.updated_at) if t.state != "OPEN" else None,
        "comments": _comments_of_thread,
        "labels": lambda _, __, args: connection([], args),
    }


def _minimizable_comment_fields() -> dict[str, Resolver]:
    return {
        **_shared_comment_fields(),
        "isMinimized": lambda c, _, __: c.is_minimized,
        "minimizedReason": lambda c, _, __: c.minimized_reason if c.is_minimized else None,
    }


def _actor_fields() -> dict[str, Resolver]:
    """User, Bot, Mannequin and Organization, from an Actor record or (organisations) an Org."""
    return {
        "id": lambda a, _, __: node_id(a),
        "databaseId": lambda a, _, __: a.database_id,
        "login": lambda a, _, __: login_of(a) if isinstance(a, Actor) else a.login,
        "name": lambda a, _, __: a.name,
        "url": lambda a, _, __: actor_url(a),
        "resourcePath": lambda a, _, __: actor_url(a).removeprefix("https://github.com"),
        "avatarUrl": _avatar_url,
        "createdAt": lambda a, _, __: iso(ACCOUNTS_EPOCH),
        "updatedAt": lambda a, _, __: iso(ACCOUNTS_EPOCH),
        "followers": lambda _, __, args: connection([], args),
        "repositories": _owner_repositories,
        "repository": _owner_repository,
    }


def _avatar_url(actor: Actor | Org, _: Info, args: dict[str, Any]) -> str:
    path = "in" if isinstance(actor, Actor) and actor.typename == "Bot" else "u"
    size = f"&s={args['size']}" if args.get("size") else ""
    return f"https://avatars.githubusercontent.com/{path}/{actor.database_id}?v=4{size}"


def _reaction_subject(bound: BoundReaction, info: Info) -> Comment | Thread | None:
    if bound.subject is not None:
        return bound.subject
    world = _ctx(info).world
    return world_index(world).reaction_subject(world, bound.reaction)


def _edit_diff(edit: Edit) -> str | None:
    # A revision deleted from history keeps its editor and time but loses its text.
    return None if edit.deleted_at is not None else edit.diff


def _connection_fields() -> dict[str, Resolver]:
    fields: dict[str, Resolver] = {
        "totalCount": lambda c, _, __: c.page.total,
        "pageInfo": lambda c, _, __: c.page,
        "edges": lambda c, _, __: [Edge(encode_cursor(k), i, c) for k, i in c.page.entries],
        "nodes": lambda c, _, __: [c.node_of(i) for _, i in c.page.entries],
        "viewerHasReacted": lambda c, _, __: c.extra.get("viewerHasReacted", False),
        "totalDiskUsage": lambda c, _, __: c.extra.get("totalDiskUsage", 0),
    }
    for name in _SEARCH_COUNTS:
        fields[name] = lambda c, info, __: c.extra.get(info.field_name, 0)
    return fields


_FIELDS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "node": _query_node,
        "nodes": _query_nodes,
        "organization": _query_organization,
        "repository": _query_repository,
        "user": _query_user,
        "viewer": lambda _, info, __: _ctx(info).viewer,
        "rateLimit": _query_rate_limit,
        "search": _query_search,
    },
    "RateLimit": {
        "cost": lambda r, _, __: r.cost,
        "limit": lambda r, _, __: r.limit,
        "nodeCount": lambda r, _, __: r.node_count,
        "remaining": lambda r, _, __: r.remaining,
        "used": lambda r, _, __: r.used,
        "resetAt": lambda r, _, __: iso(r.reset_at),
    },
    "PageInfo": {
        "hasNextPage": lambda p, _, __: p.has_next,
        "hasPreviousPage": lambda p, _, __: p.has_previous,
        "startCursor": lambda p, _, __: encode_cursor(p.entries[0][0]) if p.entries else None,
        "endCursor": lambda p, _, __: encode_cursor(p.entries[-1][0]) if p.entries else None,
    },
    "User": _actor_fields(),
    "Bot": _actor_fields(),
    "Mannequin": _actor_fields(),
    "Organization": _actor_fields(),
    "Repository": {
        "id": lambda r, _, __: node_id(r),
        "databaseId": lambda r, _, __: r.database_id,
        "name": lambda r, _, __: r.name,
        "nameWithOwner": lambda r, _, __: r.name_with_owner,
        "owner": lambda r, _, __: r.org,
        "url": lambda r, _, __: f"https://github.com/{r.name_with_owner}",
        "isArchived": lambda r, _, __: False,
        "isFork": lambda r, _, __: False,
        "isPrivate": lambda r, _, __: r.is_private,
        "createdAt": lambda r, _, __: iso(r.created_at),
        "updatedAt": _repo_updated,
        "pushedAt": _repo_updated,
        "issues": lambda r, info, args: _repo_threads(info, r, "issue", args),
        "pullRequests": lambda r, info, args: _repo_threads(info, r, "pull_request", args),
        "issue": _repo_thread_by_number("issue"),
        "pullRequest": _repo_thread_by_number("pull_request"),
        "issueOrPullRequest": _repo_thread_by_number(None),
    },
    "Issue": _thread_fields("issue"),
    "PullRequest": {
        **_thread_fields("pull_request"),
        "merged": lambda t, _, __: t.state == "MERGED",
        "mergedAt": lambda t, _, __: iso(t.updated_at) if t.state == "MERGED" else None,
        "reviews": _reviews_of,
        "reviewThreads": _review_threads_of,
    },
    "IssueComment": {
        **_minimizable_comment_fields(),
        "issue": lambda c, _, __: c.thread,
        "pullRequest": _comment_pull_request,
    },
    "PullRequestReview": {
        **_minimizable_comment_fields(),
        "pullRequest": lambda c, _, __: c.thread,
        "state": lambda c, _, __: c.review_state or "COMMENTED",
        "comments": _review_comments_of,
    },
    "PullRequestReviewComment": {
        **_minimizable_comment_fields(),
        "pullRequest": lambda c, _, __: c.thread,
        "pullRequestReview": lambda c, _, __: c.review,
        "replyTo": lambda c, _, __: c.reply_to if c.reply_to and not c.reply_to.deleted else None,
        "path": lambda c, _, __: c.path or "",
        "diffHunk": lambda c, _, __: c.diff_hunk or "",
        "line": lambda c, _, __: hunk_line(c.diff_hunk),
        "originalLine": lambda c, _, __: hunk_line(c.diff_hunk),
        "outdated": lambda c, _, __: False,
        "state": lambda c, _, __: "SUBMITTED",
    },
    "PullRequestReviewThread": {
        "id": lambda t, _, __: node_id(t),
        "path": lambda t, _, __: t.root.path or "",
        "isResolved": lambda t, _, __: False,
        "isOutdated": lambda t, _, __: False,
        "line": lambda t, _, __: hunk_line(t.root.diff_hunk),
        "originalLine": lambda t, _, __: hunk_line(t.root.diff_hunk),
        "comments": _review_thread_comments_of,
        "pullRequest": lambda t, _, __: t.root.thread,
        "repository": lambda t, _, __: t.root.thread.repo,
    },
    "UserContentEdit": {
        "id": lambda e, _, __: node_id(e),
        "createdAt": lambda e, _, __: iso(e.edited_at),
        "editedAt": lambda e, _, __: iso(e.edited_at),
        "updatedAt": lambda e, _, __: iso(e.deleted_at or e.edited_at),
        "editor": lambda e, info, __: _actor_value(info, e.editor),
        "diff": lambda e, _, __: _edit_diff(e),
        "deletedAt": lambda e, _, __: iso(e.deleted_at),
        "deletedBy": lambda e, info, __: _actor_value(info, e.deleted_by),
    },
    "Reaction": {
        "id": lambda b, _, __: node_id(b),
        "databaseId": lambda b, _, __: b.reaction.index + 1,
        "content": lambda b, _, __: b.reaction.content,
        "createdAt": lambda b, _, __: iso(b.reaction.created_at),
        # Typed User: a reaction by a Bot, Organization or Mannequin shows null here.
        "user": lambda b, _, __: b.reaction.actor if b.reaction.actor.typename == "User" else None,
        "reactable": lambda b, info, __: _reaction_subject(b, info),
    },
    "ReactionGroup": {
        "content": lambda g, _, __: g.content,
        "createdAt": lambda g, _, __: iso(min((r.created_at for r in g.reactions), default=None)),
        "subject": lambda g, _, __: g.subject,
        "viewerHasReacted": lambda g, info, __: any(
            r.actor is _ctx(info).viewer for r in g.reactions
        ),
        "reactors": _group_reactors,
    },
}
_CONNECTION = _connection_fields()
_EDGE: dict[str, Resolver] = {
    "cursor": lambda e, _, __: e.cursor,
    "node": lambda e, _, __: e.connection.node_of(e.item),
    "reactedAt": lambda e, _, __: iso(e.item.created_at),
}


def resolver_for(type_name: str, field_name: str) -> Resolver | None:
    """The resolver of `type_name.field_name`; None for what the simulator never serves (Label:
    the world has no labels, so no Label object ever reaches a resolver)."""
    table = _FIELDS.get(type_name)
    if table is None and type_name.endswith("Connection"):
        table = _CONNECTION
    elif table is None and type_name.endswith("Edge"):
        table = _EDGE
    return None if table is None else table.get(field_name)


def _resolve_field(source: Any, info: Info, **args: Any) -> Any:
    parent = info.parent_type.name
    resolver = resolver_for(parent, info.field_name)
    if resolver is None:
        raise GraphQLError(f"The simulator does not serve {parent}.{info.field_name}.")
    return resolver(source, info, args)


def _resolve_type(value: Any, _: Info, abstract_type: GraphQLAbstractType) -> str | None:
    return typename_of(value)


def _never_awaitable(_: Any) -> TypeGuard[Awaitable[Any]]:
    # Every resolver here is synchronous: skip graphql-core's per-value awaitable probe.
    return False


def execute(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: RequestContext,
) -> ExecutionResult:
    """Run a parsed, validated and priced document; errors come back in the result."""
    result = graphql_execute(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=_resolve_field,
        type_resolver=_resolve_type,
        is_awaitable=_never_awaitable,
    )
    if not isinstance(result, ExecutionResult):  # no resolver here returns an awaitable
        raise TypeError("the simulator's resolvers are synchronous")
    return result
