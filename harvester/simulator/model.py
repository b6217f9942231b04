"""The simulator's world: plain slotted records the resolvers read and the generator writes.

Everything a crawl can observe lives here, so the world is also the ground truth a crawl is
checked against. Times are epoch seconds (UTC ints: compact at 1M comments); node ids are
derived from (kind, index) by `harvester.simulator.ids`, so no id -> object dict is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ActorType = Literal["User", "Bot", "Organization", "Mannequin"]
ThreadKind = Literal["issue", "pull_request"]
CommentKind = Literal["issue_comment", "review", "review_comment"]

REACTION_CONTENTS: tuple[str, ...] = (
    "THUMBS_UP",
    "THUMBS_DOWN",
    "LAUGH",
    "HOORAY",
    "CONFUSED",
    "HEART",
    "ROCKET",
    "EYES",
)


@dataclass(slots=True, eq=False)
class Actor:
    index: int
    login: str
    typename: ActorType
    database_id: int
    name: str | None = None


@dataclass(slots=True, eq=False)
class Reaction:
    index: int
    content: str
    actor: Actor
    created_at: int
    deleted: bool = False  # removed by its author: gone from `comment.reactions`, id answers null


@dataclass(slots=True, eq=False)
class Edit:
    """One `UserContentEdit`. `diff` is the full body of that revision (GitHub's naming)."""

    index: int
    edited_at: int
    editor: Actor | None  # None: a deleted (ghost) account
    diff: str | None  # None when the revision was deleted from history
    deleted_at: int | None = None
    deleted_by: Actor | None = None


@dataclass(slots=True, eq=False)
class Comment:
    """An IssueComment, PullRequestReview or PullRequestReviewComment."""

    index: int
    kind: CommentKind
    thread: Thread
    author: Actor | None  # None: ghost
    body: str
    created_at: int
    updated_at: int
    database_id: int
    last_edited_at: int | None = None
    editor: Actor | None = None
    includes_created_edit: bool = False
    is_minimized: bool = False
    minimized_reason: str | None = None
    # Oldest first here; the API serves them newest first.
    edits: list[Edit] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    # Review comments only.
    reply_to: Comment | None = None
    review: Comment | None = None
    path: str | None = None
    diff_hunk: str | None = None
    # Reviews only: their inline comments, and the review state.
    review_comments: list[Comment] = field(default_factory=list)
    review_state: str | None = None
    deleted: bool = False  # a deleted object: `nodes(ids:)` answers null
    # Ground truth only (never served): what the generator meant this comment to be.
    truth: CommentTruth | None = None

    def __repr__(self) -> str:  # the default one walks the whole (cyclic) world
        who = self.author.login if self.author else None
        where = self.thread.index
        return f"Comment(index={self.index}, kind={self.kind!r}, author={who!r}, thread={where})"


@dataclass(slots=True, eq=False)
class CommentTruth:
    """The answer key for parsers and question linking; set on every bot comment and on human
    comments that carry a marker. Names of dialects, kinds and markers: `simulator.bodies`."""

    dialects: tuple[str, ...]  # header generation of each metadata block, in body order
    plugin: str | None
    kind: str  # llm_answer / command_response / log / marker / review_container
    caller: str | None
    answer_text: str  # the current body without metadata blocks, placeholders, tracking lines
    bot_answer_text: str  # the same for the bot's own last revision (before human corrections)
    question: Comment | None = None  # llm answers: the human comment the answer replies to
    markers: tuple[str, ...] = ()

    @property
    def dialect(self) -> str:
        return self.dialects[0] if self.dialects else "none"


@dataclass(slots=True, eq=False)
class Thread:
    """An Issue or a PullRequest."""

    index: int
    kind: ThreadKind
    repo: Repo
    number: int
    title: str
    body: str
    author: Actor | None
    created_at: int
    updated_at: int
    database_id: int
    state: str = "OPEN"
    comments: list[Comment] = field(default_factory=list)  # issue comments, oldest first
    reviews: list[Comment] = field(default_factory=list)  # PRs only, oldest first

    def __repr__(self) -> str:
        return f"Thread(index={self.index}, {self.repo.name_with_owner}#{self.number}, {self.kind})"


@dataclass(slots=True, eq=False)
class Repo:
    index: int
    org: Org
    name: str
    database_id: int
    created_at: int
    is_private: bool = False
    threads: list[Thread] = field(default_factory=list)  # issues and PRs share numbers

    @property
    def name_with_owner(self) -> str:
        return f"{self.org.login}/{self.name}"


@dataclass(slots=True, eq=False)
class Org:
    index: int
    login: str
    database_id: int
    name: str
    repos: list[Repo] = field(default_factory=list)
    installation_id: int = 0


@dataclass(slots=True, eq=False, weakref_slot=True)
class World:
    """The whole simulated GitHub. Lists are indexed by each record's `index`.

    Whoever changes a world after it is built bumps `version`: the resolvers cache indexes
    (sorted thread lists, search results) per world and rebuild them when it moves. The weakref
    slot lets those caches go away with the world.
    """

    seed: int
    now: int  # the world's "current time" (epoch seconds); the server clock may move past it
    orgs: list[Org] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    # Bot app slugs (for `commenter:app/SLUG`), login -> slug.
    app_slugs: dict[str, str] = field(default_factory=dict)
    version: int = 0  # bumped on every mutation after generation

    def __repr__(self) -> str:
        return (
            f"World(seed={self.seed}, now={self.now}, threads={len(self.threads)}, "
            f"comments={len(self.comments)}, version={self.version})"
        )

    def org_by_login(self, login: str) -> Org | None:
        low = login.lower()
        for org in self.orgs:
            if org.login.lower() == low:
                return org
        return None

    def actor_by_login(self, login: str) -> Actor | None:
        low = login.lower()
        for actor in self.actors:
            if actor.login.lower() == low:
                return actor
        return None
