"""GitHub issue search (`search(type: ISSUE, query: ...)`) over a simulated world: pure functions.

Supported qualifiers: `org:`/`user:`, `repo:OWNER/NAME`, `is:`/`type:` issue|pr, `is:`/`state:`
open|closed|merged, `author:`, `commenter:` and `reviewed-by:` (a login or `app/SLUG`),
`created:` and `updated:` (`>=D`, `>D`, `<=D`, `<D`, `D..D`, `D..*`, `*..D` or a bare `D`, where D
is a date or an ISO-8601 time, UTC), `in:title|body`, `sort:` created|updated|comments with
`-asc`/`-desc`. Other words (and "quoted phrases") must all occur, case-insensitively, in the
title or the body. Text inside HTML comments is invisible: GitHub's search does not reliably
see hidden metadata headers, so nothing may rely on finding them through search.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from harvester.simulator.model import Actor, Comment, Thread, World

MAX_QUERY_LENGTH = 256
MAX_RESULTS = 1_000  # GitHub serves at most the first 1,000 results of any search
# GitHub's own wording (its search API answers this for any query string over the limit).
QUERY_TOO_LONG = f"The search is longer than {MAX_QUERY_LENGTH} characters."

_DAY = 86_400
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_SORT_FIELDS = {"created", "updated", "comments"}

SortKey = Callable[[Thread], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Epoch seconds, `low` inclusive, `high` exclusive; None is open."""

    low: int | None = None
    high: int | None = None

    def __contains__(self, ts: int) -> bool:
        return (self.low is None or ts >= self.low) and (self.high is None or ts < self.high)

    def intersect(self, other: TimeRange) -> TimeRange:
        lows = [x for x in (self.low, other.low) if x is not None]
        highs = [x for x in (self.high, other.high) if x is not None]
        return TimeRange(max(lows) if lows else None, min(highs) if highs else None)


@dataclass(frozen=True, slots=True)
class ActorRef:
    """A `commenter:`/`reviewed-by:`/`author:` value: a login, or an app slug (`app/SLUG`)."""

    name: str  # lower case, without `[bot]`
    is_app: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    orgs: frozenset[str] = frozenset()  # lower case
    repos: frozenset[str] = frozenset()  # lower-case OWNER/NAME
    kinds: frozenset[str] = frozenset()  # "issue", "pull_request"; empty: both
    states: frozenset[str] = frozenset()  # "OPEN", "CLOSED", "MERGED"; empty: all
    authors: tuple[ActorRef, ...] = ()
    commenters: tuple[ActorRef, ...] = ()
    reviewers: tuple[ActorRef, ...] = ()
    created: TimeRange = field(default_factory=TimeRange)
    updated: TimeRange = field(default_factory=TimeRange)
    terms: tuple[str, ...] = ()  # lower case
    in_fields: frozenset[str] = frozenset()  # "title", "body"; empty: both
    sort: str = "best-match"  # or FIELD-asc / FIELD-desc
    impossible: bool = False  # a qualifier nothing in the simulator can match (label:, ...)


def parse_timestamp(text: str) -> int:
    """Epoch seconds of an ISO-8601 time or date (UTC unless an offset is given)."""
    if len(text) == 10:
        return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp())
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _bound(text: str, *, upper: bool) -> int:
    """A bound's epoch second; a bare date's upper end is the end of that day."""
    ts = parse_timestamp(text)
    if upper:
        return ts + (_DAY if len(text) == 10 else 1)
    return ts


def parse_time_range(text: str) -> TimeRange:
    """`>=D`, `>D`, `<=D`, `<D`, `D..D` (either side may be `*`) or `D`. Raises ValueError."""
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            value = text[len(op) :]
            if op == ">=":
                return TimeRange(low=_bound(value, upper=False))
            if op == ">":
                return TimeRange(low=_bound(value, upper=True))
            if op == "<=":
                return TimeRange(high=_bound(value, upper=True))
            return TimeRange(high=_bound(value, upper=False))
    if ".." in text:
        start, _, end = text.partition("..")
        return TimeRange(
            low=None if start == "*" else _bound(start, upper=False),
            high=None if end == "*" else _bound(end, upper=True),
        )
    return TimeRange(low=_bound(text, upper=False), high=_bound(text, upper=True))


def _actor_ref(value: str) -> ActorRef:
    low = value.lower()
    if low.startswith("app/"):
        return ActorRef(low[4:].removesuffix("[bot]"), is_app=True)
    return ActorRef(low.removesuffix("[bot]"))


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: GitHub reads the words anyway
        return text.replace('"', " ").split()


def parse_query(text: str) -> SearchQuery:
    """The query's qualifiers and free-text terms. Never raises: what it does not understand
    becomes a free-text term, as on GitHub."""
    parts: dict[str, set[str]] = {"orgs": set(), "repos": set(), "kinds": set(), "states": set()}
    refs: dict[str, list[ActorRef]] = {"author": [], "commenter": [], "reviewed-by": []}
    ranges = {"created": TimeRange(), "updated": TimeRange()}
    terms: list[str] = []
    in_fields: set[str] = set()
    sort = "best-match"
    impossible = False
    for token in _tokens(text):
        key, sep, value = token.partition(":")
        key = key.lower()
        low = value.lower()
        if not sep or not value:
            terms.append(token.lower())
        elif key in {"org", "user"}:
            parts["orgs"].add(low)
        elif key == "repo":
            parts["repos"].add(low)
        elif key in {"is", "type"} and low in {"issue", "pr"}:
            parts["kinds"].add("issue" if low == "issue" else "pull_request")
        elif key in {"is", "state"} and low in {"open", "closed", "merged"}:
            parts["states"].add(low.upper())
        elif key in refs:
            refs[key].append(_actor_ref(value))
        elif key in ranges:
            try:
                ranges[key] = ranges[key].intersect(parse_time_range(value))
            except ValueError:
                terms.append(token.lower())
        elif key == "in" and low in {"title", "body"}:
            in_fields.add(low)
        elif key == "sort" and _sort_name(low) is not None:
            sort = _sort_name(low) or sort
        elif key in {"label", "milestone", "assignee", "mentions", "project"}:
            impossible = True  # not modelled: nothing carries one
        else:
            terms.append(token.lower())
    return SearchQuery(
        orgs=frozenset(parts["orgs"]),
        repos=frozenset(parts["repos"]),
        kinds=frozenset(parts["kinds"]),
        states=frozenset(parts["states"]),
        authors=tuple(refs["author"]),
        commenters=tuple(refs["commenter"]),
        reviewers=tuple(refs["reviewed-by"]),
        created=ranges["created"],
        updated=ranges["updated"],
        terms=tuple(terms),
        in_fields=frozenset(in_fields),
        sort=sort,
        impossible=impossible,
    )


def _sort_name(value: str) -> str | None:
    name, _, direction = value.partition("-")
    if name not in _SORT_FIELDS or direction not in {"", "asc", "desc"}:
        return None
    return f"{name}-{direction or 'desc'}"


def sort_key(query: SearchQuery) -> SortKey:
    """An ascending key giving the result order (best match: newest created first)."""
    sort = "created-desc" if query.sort == "best-match" else query.sort
    name, _, direction = sort.partition("-")
    sign = -1 if direction == "desc" else 1

    def key(thread: Thread) -> tuple[int, int]:
        if name == "updated":
            value = thread.updated_at
        elif name == "comments":
            value = len(thread.comments)
        else:
            value = thread.created_at
        return sign * value, sign * thread.index

    return key


def visible_text(markdown: str) -> str:
    """The text search sees: HTML comments removed."""
    return _HTML_COMMENT.sub(" ", markdown)


def app_logins(world: World, slug: str) -> set[str]:
    """Lower-case bot logins of the app `slug` (`world.app_slugs` maps login -> slug)."""
    logins = {
        login.lower().removesuffix("[bot]")
        for login, app in world.app_slugs.items()
        if app.lower() == slug
    }
    return logins | {slug}


def _threads_in_scope(world: World, query: SearchQuery) -> Iterator[Thread]:
    if not query.orgs and not query.repos:
        yield from world.threads
        return
    for repo in world.repos:
        if repo.org.login.lower() in query.orgs or repo.name_with_owner.lower() in query.repos:
            yield from repo.threads


def _thread_comments(thread: Thread) -> Iterator[Comment]:
    yield from thread.comments
    for review in thread.reviews:
        yield from review.review_comments


def _actor_matchers(world: World, refs: Iterable[ActorRef]) -> list[Callable[[Actor | None], bool]]:
    def matcher(ref: ActorRef) -> Callable[[Actor | None], bool]:
        logins = app_logins(world, ref.name) if ref.is_app else {ref.name}

        def match(actor: Actor | None) -> bool:
            if actor is None or (ref.is_app and actor.typename != "Bot"):
                return False
            return actor.login.lower().removesuffix("[bot]") in logins

        return match

    return [matcher(ref) for ref in refs]


def _any_by(matcher: Callable[[Actor | None], bool], comments: Iterable[Comment]) -> bool:
    return any(not c.deleted and matcher(c.author) for c in comments)


def _text_matches(query: SearchQuery, thread: Thread) -> bool:
    if not query.terms:
        return True
    fields = query.in_fields or {"title", "body"}
    haystack = " ".join(
        [
            thread.title if "title" in fields else "",
            visible_text(thread.body) if "body" in fields else "",
        ]
    ).lower()
    return all(term in haystack for term in query.terms)


def select_threads(world: World, query: SearchQuery) -> list[Thread]:
    """Every thread matching `query`, in the query's order (uncapped: callers cut at 1,000)."""
    if query.impossible:
        return []
    authors = _actor_matchers(world, query.authors)
    commenters = _actor_matchers(world, query.commenters)
    reviewers = _actor_matchers(world, query.reviewers)
    found: list[Thread] = []
    for thread in _threads_in_scope(world, query):
        if query.kinds and thread.kind not in query.kinds:
            continue
        if query.states and thread.state not in query.states:
            continue
        if thread.created_at not in query.created or thread.updated_at not in query.updated:
            continue
        if not _text_matches(query, thread):
            continue
        if not all(m(thread.author) for m in authors):
            continue
        if not all(_any_by(m, _thread_comments(thread)) for m in commenters):
            continue
        if not all(_any_by(m, thread.reviews) for m in reviewers):
            continue
        found.append(thread)
    found.sort(key=sort_key(query))
    return found
