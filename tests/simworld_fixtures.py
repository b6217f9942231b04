"""Small hand-built simulator worlds, and a way to run a query on one without HTTP.

The builder writes the model records directly (no generator), so a test states exactly what
exists and can assert exactly what the resolvers serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import ExecutionResult, parse, validate

from harvester.simulator.context import RateLimitView, RequestContext
from harvester.simulator.model import (
    Actor,
    ActorType,
    Comment,
    CommentKind,
    Edit,
    Org,
    Reaction,
    Repo,
    Thread,
    ThreadKind,
    World,
)
from harvester.simulator.resolvers import execute, github_error
from harvester.simulator.schema import load_schema


def ts(text: str) -> int:
    """Epoch seconds of `2025-01-02T03:04:05` (UTC)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


T0 = ts("2025-01-01T00:00:00")


@dataclass
class WorldBuilder:
    now: int = ts("2025-06-01T00:00:00")
    world: World = field(init=False)
    _database_id: int = 1000

    def __post_init__(self) -> None:
        self.world = World(seed=0, now=self.now)

    def _next_db(self) -> int:
        self._database_id += 1
        return self._database_id

    def actor(self, login: str, typename: ActorType = "User", name: str | None = None) -> Actor:
        actor = Actor(len(self.world.actors), login, typename, self._next_db(), name)
        self.world.actors.append(actor)
        return actor

    def org(self, login: str, name: str | None = None) -> Org:
        org = Org(len(self.world.orgs), login, self._next_db(), name or login.title())
        self.world.orgs.append(org)
        return org

    def repo(self, org: Org, name: str, created_at: int = T0, private: bool = False) -> Repo:
        repo = Repo(len(self.world.repos), org, name, self._next_db(), created_at, private)
        self.world.repos.append(repo)
        org.repos.append(repo)
        return repo

    def thread(
        self,
        repo: Repo,
        kind: ThreadKind = "issue",
        *,
        title: str = "A thread",
        body: str = "",
        author: Actor | None = None,
        created_at: int = T0,
        updated_at: int | None = None,
        state: str = "OPEN",
    ) -> Thread:
        thread = Thread(
            index=len(self.world.threads),
            kind=kind,
            repo=repo,
            number=len(repo.threads) + 1,
            title=title,
            body=body,
            author=author,
            created_at=created_at,
            updated_at=created_at if updated_at is None else updated_at,
            database_id=self._next_db(),
            state=state,
        )
        self.world.threads.append(thread)
        repo.threads.append(thread)
        return thread

    def _comment(
        self,
        thread: Thread,
        kind: CommentKind,
        author: Actor | None,
        body: str,
        created_at: int,
        updated_at: int | None,
    ) -> Comment:
        comment = Comment(
            index=len(self.world.comments),
            kind=kind,
            thread=thread,
            author=author,
            body=body,
            created_at=created_at,
            updated_at=created_at if updated_at is None else updated_at,
            database_id=self._next_db(),
        )
        self.world.comments.append(comment)
        return comment

    def comment(
        self,
        thread: Thread,
        author: Actor | None,
        body: str = "a comment",
        created_at: int = T0,
        updated_at: int | None = None,
    ) -> Comment:
        comment = self._comment(thread, "issue_comment", author, body, created_at, updated_at)
        thread.comments.append(comment)
        return comment

    def review(
        self,
        pull: Thread,
        author: Actor | None,
        body: str = "a review",
        created_at: int = T0,
        state: str = "COMMENTED",
    ) -> Comment:
        review = self._comment(pull, "review", author, body, created_at, None)
        review.review_state = state
        pull.reviews.append(review)
        return review

    def review_comment(
        self,
        review: Comment,
        author: Actor | None,
        body: str = "an inline remark",
        created_at: int = T0,
        *,
        path: str = "src/main.py",
        diff_hunk: str = "@@ -10,3 +10,4 @@ def main():\n     a = 1\n+    b = 2\n     c = 3",
        reply_to: Comment | None = None,
    ) -> Comment:
        comment = self._comment(review.thread, "review_comment", author, body, created_at, None)
        comment.review = review
        comment.path = path
        comment.diff_hunk = diff_hunk
        comment.reply_to = reply_to
        review.review_comments.append(comment)
        return comment

    def edit(
        self,
        comment: Comment,
        edited_at: int,
        editor: Actor | None,
        diff: str | None,
        *,
        deleted_at: int | None = None,
        deleted_by: Actor | None = None,
    ) -> Edit:
        """Append a revision (oldest first, as the model keeps them)."""
        edit = Edit(len(self.world.edits), edited_at, editor, diff, deleted_at, deleted_by)
        self.world.edits.append(edit)
        comment.edits.append(edit)
        comment.last_edited_at = edited_at
        comment.editor = editor
        comment.updated_at = max(comment.updated_at, edited_at)
        return edit

    def react(self, comment: Comment, actor: Actor, content: str, created_at: int) -> Reaction:
        reaction = Reaction(len(self.world.reactions), content, actor, created_at)
        self.world.reactions.append(reaction)
        comment.reactions.append(reaction)
        return reaction


@dataclass
class SmallWorld:
    """The standard small world most resolver tests read."""

    world: World
    org: Org
    repo: Repo
    alice: Actor
    bob: Actor
    bot: Actor  # stored with REST's `[bot]` suffix; GraphQL must drop it
    reviewer_bot: Actor  # app slug differs from its login
    issue: Thread
    pull: Thread
    answer: Comment  # the bot's edited answer on `issue`
    question: Comment
    review: Comment
    inline: Comment
    reply: Comment


def small_world() -> SmallWorld:
    b = WorldBuilder()
    alice = b.actor("alice", name="Alice A.")
    bob = b.actor("bob")
    bot = b.actor("ubiquity-os[bot]", "Bot")
    reviewer_bot = b.actor("review-helper", "Bot")
    mannequin = b.actor("old-timer", "Mannequin")
    b.world.app_slugs["review-helper"] = "code-reviewer"
    org = b.org("acme")
    b.actor("acme", "Organization")
    repo = b.repo(org, "widgets")
    issue = b.thread(
        repo,
        title="Crash on start",
        body="It crashes.\n<!-- hidden-marker -->",
        author=alice,
        created_at=ts("2025-01-10T00:00:00"),
        updated_at=ts("2025-02-01T00:00:00"),
    )
    question = b.comment(issue, alice, "/ask why does it crash?", ts("2025-01-10T01:00:00"))
    answer = b.comment(issue, bot, "Thinking...", ts("2025-01-10T01:00:05"))
    answer.includes_created_edit = True
    b.edit(answer, ts("2025-01-10T01:00:05"), bot, "Thinking...")
    b.edit(answer, ts("2025-01-10T01:00:40"), bot, "It crashes because of X.")
    b.edit(answer, ts("2025-01-11T09:00:00"), alice, "It crashes because of Y.")
    answer.body = "It crashes because of Y."
    b.react(answer, bob, "THUMBS_UP", ts("2025-01-10T02:00:00"))
    b.react(answer, bot, "HEART", ts("2025-01-10T02:00:01"))
    b.react(answer, mannequin, "EYES", ts("2025-01-10T02:00:02"))
    b.react(answer, alice, "THUMBS_UP", ts("2025-01-10T02:00:03"))
    pull = b.thread(
        repo,
        "pull_request",
        title="Fix crash",
        body="Fixes #1",
        author=bob,
        created_at=ts("2025-01-12T00:00:00"),
        updated_at=ts("2025-01-20T00:00:00"),
        state="MERGED",
    )
    b.comment(pull, bot, "Preview deployed.", ts("2025-01-12T00:10:00"))
    review = b.review(pull, reviewer_bot, "Looks mostly fine.", ts("2025-01-12T01:00:00"))
    inline = b.review_comment(
        review, reviewer_bot, "Consider a guard here.", ts("2025-01-12T01:00:00")
    )
    reply_review = b.review(pull, bob, "", ts("2025-01-12T02:00:00"))
    reply = b.review_comment(reply_review, bob, "Done.", ts("2025-01-12T02:00:00"), reply_to=inline)
    return SmallWorld(
        b.world,
        org,
        repo,
        alice,
        bob,
        bot,
        reviewer_bot,
        issue,
        pull,
        answer,
        question,
        review,
        inline,
        reply,
    )


def rate_limit_view(**overrides: int) -> RateLimitView:
    figures = {
        "cost": 1,
        "limit": 5000,
        "node_count": 1,
        "remaining": 4999,
        "used": 1,
        "reset_at": ts("2025-06-01T01:00:00"),
    }
    figures.update(overrides)
    return RateLimitView(**figures)


def make_context(world: World, viewer: Actor | None = None) -> RequestContext:
    if viewer is None:
        users = [a for a in world.actors if a.typename == "User"]
        viewer = users[0] if users else Actor(len(world.actors), "token-owner", "User", 1)
    return RequestContext(
        world=world,
        viewer=viewer,
        now=world.now,
        rate_limit=rate_limit_view(),
        dry_run_rate_limit=rate_limit_view(cost=1, remaining=5000, used=0),
    )


def run(
    world: World,
    query: str,
    variables: dict[str, Any] | None = None,
    context: RequestContext | None = None,
    operation_name: str | None = None,
) -> ExecutionResult:
    """Parse, validate strictly against the simulator's schema, then execute."""
    schema = load_schema()
    document = parse(query)
    errors = validate(schema, document)
    assert not errors, [e.message for e in errors]
    return execute(schema, document, variables, operation_name, context or make_context(world))


def data_of(world: World, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The data of a query that must succeed without errors."""
    result = run(world, query, variables)
    assert not result.errors, [github_error(e) for e in result.errors]
    return result.data
