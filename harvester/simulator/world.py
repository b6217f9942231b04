"""The simulator's synthetic GitHub: a deterministic, realistic world of bot feedback.

`generate_world(WorldSpec.preset("small", seed=1))` builds orgs, repos, issues and pull requests
whose conversations hold humans asking the bot (`/ask ...`, `@UbiquityOS ...`), its answers in
every header generation of `docs/ubiquity-metadata.md` (each in its era), placeholder self-edits,
human corrections, reactions, minimized and deleted comments, code-review bots and inline review
threads. Same spec, same world: every random choice comes from `random.Random` instances seeded
from the spec, never the global RNG or `hash()`.

`world.actors[0]` is an ordinary User with no activity: the token's viewer.
The first threads of every world form a showcase (one of each generation and marker), so even
the tiny preset covers them; `edge_cases` adds what crosses GitHub's 100-item page limits.
`check_invariants(world)` asserts the rules the resolvers rely on; run it after `evolve` too.
"""

from __future__ import annotations

import gc
import math
import random
from dataclasses import dataclass, replace
from itertools import accumulate
from operator import attrgetter

from harvester.simulator import bodies as B
from harvester.simulator.invariants import check_invariants  # re-exported
from harvester.simulator.model import (
    REACTION_CONTENTS,
    Actor,
    ActorType,
    Comment,
    CommentKind,
    CommentTruth,
    Edit,
    Org,
    Reaction,
    Repo,
    Thread,
    ThreadKind,
    World,
)

VIEWER_LOGIN = "sim-viewer"
UBIQUIBOT_LOGINS = ("ubiquibot", "ubiquibot-development", "ubiquibot-v2-testing")
UBIQUITY_OS_LOGINS = ("ubiquity-os", "ubiquity-os-beta", "ubiquity-os-development")
REVIEW_BOTS = ("coderabbitai", "copilot-pull-request-reviewer")
OTHER_BOTS = (*REVIEW_BOTS, "github-actions")
MINIMIZED_REASONS = ("outdated", "resolved", "duplicate", "off-topic")  # GitHub's output spelling

DAY = 86400
_BY_TIME = attrgetter("created_at")
_MARGIN = 3 * 3600  # room kept before `end` for replies, self-edits and reactions

# Reaction skew (order of REACTION_CONTENTS: 👍 👎 😄 🎉 😕 ❤️ 🚀 👀).
_BOT_CUM = list(accumulate((50, 5, 2, 8, 4, 12, 10, 9)))
_NEG_CUM = list(accumulate((16, 28, 1, 3, 20, 4, 3, 7)))  # answers a human later corrected
_HUMAN_CUM = list(accumulate((45, 3, 8, 8, 3, 15, 8, 10)))

_REAL_ORGS = (
    (
        "ubiquity",
        "Ubiquity DAO",
        (
            "work.ubq.fi",
            "pay.ubq.fi",
            "devpool-directory",
            "ubiquity-dollar",
            "ubq.fi",
            "audit.ubq.fi",
        ),
    ),
    (
        "ubiquity-os-marketplace",
        "UbiquityOS Marketplace",
        (
            "command-ask",
            "text-conversation-rewards",
            "command-start-stop",
            "daemon-disqualifier",
            "daemon-pricing",
            "command-wallet",
            "daemon-task-matcher",
            "command-help",
        ),
    ),
    ("ubiquity-os", "UbiquityOS", ("ubiquity-os-kernel", "plugin-sdk", "plugins-wishlist")),
)
_ORG_WORDS = (
    "nimbus",
    "harbor",
    "cobalt",
    "juniper",
    "quartz",
    "ember",
    "atlas",
    "lumen",
    "orbit",
    "sable",
    "tundra",
    "vertex",
    "willow",
    "zephyr",
    "copper",
    "granite",
)
_ORG_SUFFIXES = ("labs", "works", "dao", "collective", "systems", "foundry", "guild", "network")
_REPO_WORDS = (
    "api",
    "web",
    "docs",
    "sdk",
    "cli",
    "indexer",
    "contracts",
    "dashboard",
    "bridge",
    "worker",
    "bot",
    "infra",
    "mobile",
    "wallet",
    "explorer",
    "relayer",
)
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ven",
    "ra",
    "to",
    "shi",
    "del",
    "an",
    "qu",
    "ber",
    "zo",
    "ne",
    "ry",
    "x",
    "el",
    "mon",
    "pa",
    "tri",
    "gi",
    "dev",
    "sol",
    "ix",
    "or",
)


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """The knobs of a world. Comments ~= orgs * repos_per_org * threads_per_repo * mean."""

    seed: int = 0
    orgs: int = 2
    repos_per_org: int = 2
    threads_per_repo: int = 8
    comments_per_thread: float = 9.0  # mean of a long-tailed count per thread
    max_comments_per_thread: int = 80  # edge cases go past 100 on their own
    bot_thread_share: float = 0.45  # threads where the bot is invoked
    pr_share: float = 0.35
    humans: int = 40
    correction_rate: float = 0.1  # LLM answers a human corrects later
    bot_reaction_rate: float = 0.35  # bot comments with at least one reaction
    human_reaction_rate: float = 0.06
    human_edit_rate: float = 0.04  # humans editing their own comments
    deleted_rate: float = 0.004
    ghost_rate: float = 0.01  # human comments whose author deleted their account
    showcase: bool = True  # the first threads hold every generation and marker
    edge_cases: bool = False  # >100 comments, edits, reactions, review comments
    now: int = B.WORLD_NOW

    @classmethod
    def preset(cls, name: str, seed: int = 0) -> WorldSpec:
        """A named size: tiny (~300 comments), small (~3k), 10k, 200k, 1m."""
        try:
            spec = PRESETS[name]
        except KeyError:
            raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
        return replace(spec, seed=seed)


PRESETS: dict[str, WorldSpec] = {
    "tiny": WorldSpec(orgs=2, repos_per_org=2, threads_per_repo=8, humans=40),
    "small": WorldSpec(
        orgs=3,
        repos_per_org=4,
        threads_per_repo=22,
        comments_per_thread=10,
        humans=200,
        edge_cases=True,
    ),
    "10k": WorldSpec(
        orgs=4,
        repos_per_org=5,
        threads_per_repo=48,
        comments_per_thread=10,
        humans=400,
        edge_cases=True,
    ),
    "200k": WorldSpec(
        orgs=20,
        repos_per_org=10,
        threads_per_repo=100,
        comments_per_thread=10,
        humans=4000,
        edge_cases=True,
    ),
    "1m": WorldSpec(
        orgs=50,
        repos_per_org=20,
        threads_per_repo=100,
        comments_per_thread=10,
        humans=15000,
        edge_cases=True,
    ),
}


@dataclass(frozen=True, slots=True)
class _Showcase:
    episode: str
    dialect: str | None
    start: str
    end: str
    kind: ThreadKind = "issue"
    bot: bool = True


# One thread per entry, in the era its generation was written.
SHOWCASE: tuple[_Showcase, ...] = (
    _Showcase("ask", B.TOKEN_USAGE, "2024-07-05", "2024-10-10"),
    _Showcase("ask", B.ASK_LEGACY, "2024-10-20", "2025-02-15"),
    _Showcase("ask", B.SDK_2024_12, "2024-12-20", "2025-01-01"),
    _Showcase("ask", B.SDK_V2_0_0, "2025-01-02", "2025-01-16"),
    _Showcase("ask_corrected", B.SDK_V2, "2025-02-01", "2025-08-30"),
    _Showcase("ask", B.CLAUDE, "2025-09-05", "2026-01-20"),
    _Showcase("ask_twice", B.SDK_V2, "2026-01-05", "2026-02-15"),
    _Showcase("assign", B.LEGACY, "2024-02-01", "2024-09-30"),
    _Showcase("rewards", B.LEGACY, "2024-03-01", "2024-10-30"),
    _Showcase("rewards", B.SDK_V2, "2025-02-01", "2025-12-01"),
    _Showcase("error_log", B.SDK_V1, "2024-11-02", "2024-12-17"),
    _Showcase("disqualifier", B.LEGACY_RUN_URL, "2025-01-20", "2025-10-01"),
    _Showcase("legacy_dash_log", B.LEGACY, "2024-03-01", "2024-10-01"),
    _Showcase("fatal_log", B.SDK_V2, "2025-02-01", "2025-12-01"),
    _Showcase("spec_rewriter", None, "2025-03-01", "2026-02-01"),
    _Showcase("task_matcher", None, "2025-03-01", "2026-02-01"),
    _Showcase("agent_marker", None, "2025-06-01", "2026-02-01"),
    _Showcase("llm502", None, "2025-02-01", "2026-02-01"),
    _Showcase("coderabbit_review", None, "2024-06-01", "2026-02-01", "pull_request"),
    _Showcase("copilot_review", None, "2025-04-01", "2026-02-01", "pull_request"),
    _Showcase("ubiquity_review", B.SDK_V2, "2025-03-01", "2026-02-01", "pull_request"),
    _Showcase("inline_ask", B.SDK_V2, "2025-03-01", "2026-02-01", "pull_request"),
    _Showcase("old_edits", None, "2017-01-05", "2018-01-31", bot=False),
)
EDGE_CASES: tuple[_Showcase, ...] = (
    _Showcase("edge_long", None, "2025-03-01", "2025-05-01"),
    _Showcase("edge_longer", None, "2025-06-01", "2025-08-01"),
    _Showcase("edge_reactions", B.SDK_V2, "2025-04-01", "2025-09-01"),
    _Showcase("edge_edits", B.SDK_V2, "2025-04-01", "2025-09-01"),
    _Showcase("edge_review", None, "2025-05-01", "2025-10-01", "pull_request"),
)


@dataclass(slots=True)
class _ThreadState:
    """What the episodes of one thread share while it is being written."""

    thread: Thread
    pool: list[Actor]  # the org's people
    subject: str
    cursor: int  # creation time of the newest comment so far
    gap: float  # mean seconds between episodes
    limit: int  # no episode starts after this
    bot_pick: float  # which of the bot's accounts answers in this thread
    count: int = 0
    last_ask: tuple[Comment, Comment] | None = None


class WorldBuilder:
    """Appends records to a world while keeping its invariants (indexes, edits, times).

    `generate_world` drives it over the whole history; `evolve` reuses it for one more day.
    """

    def __init__(self, world: World, rng: random.Random, spec: WorldSpec, end: int) -> None:
        self.world = world
        self.rng = rng
        self.spec = spec
        self.end = end  # every event happens strictly before this
        self.bots: dict[str, Actor] = {}
        self.humans: list[Actor] = []
        for actor in world.actors:
            if actor.typename == "Bot":
                self.bots[actor.login] = actor
            elif actor.index:
                self.humans.append(actor)
        self._pools: dict[int, list[Actor]] = {}
        self._forcing = False  # inside a showcase episode: take the rare branches for sure
        self.margin = _MARGIN  # room kept before `end` for replies, self-edits, reactions

    # ---------- actors, orgs, repos
    def actor(self, login: str, typename: ActorType, name: str | None = None) -> Actor:
        index = len(self.world.actors)
        actor = Actor(index, login, typename, 1_000_000 + index, name)
        self.world.actors.append(actor)
        if typename == "Bot":
            self.bots[login] = actor
            self.world.app_slugs[login] = login
        elif index:
            self.humans.append(actor)
        return actor

    def pool(self, org: Org) -> list[Actor]:
        """The org's people: a stable sample of all humans (the same in `evolve`)."""
        found = self._pools.get(org.index)
        if found is None:
            n = len(self.humans)
            size = min(n, max(25, 3 * n // max(1, len(self.world.orgs))))
            found = random.Random(f"pool:{self.world.seed}:{org.index}").sample(self.humans, size)
            self._pools[org.index] = found
        return found

    def org(self, login: str, name: str) -> Org:
        index = len(self.world.orgs)
        org = Org(index, login, 60_000_000 + index, name, installation_id=40_000_000 + index)
        self.world.orgs.append(org)
        return org

    def repo(self, org: Org, name: str, created_at: int) -> Repo:
        index = len(self.world.repos)
        private = org.index >= len(_REAL_ORGS) and self.rng.random() < 0.1
        repo = Repo(index, org, name, 700_000_000 + index, created_at, is_private=private)
        self.world.repos.append(repo)
        org.repos.append(repo)
        return repo

    # ---------- threads and comments
    def thread(
        self, repo: Repo, kind: ThreadKind, created_at: int, author: Actor | None, subject: str
    ) -> Thread:
        index = len(self.world.threads)
        number = len(repo.threads) + 1
        rng = self.rng
        body = B.thread_body(
            rng, subject, kind == "pull_request", rng.randint(1, max(1, number - 1))
        )
        body = B.plant_secret(body, index)
        thread = Thread(
            index,
            kind,
            repo,
            number,
            B.title(rng, subject),
            body,
            author,
            created_at,
            created_at,
            1_500_000_000 + index,
        )
        self.world.threads.append(thread)
        repo.threads.append(thread)
        return thread

    def comment(
        self,
        st: _ThreadState | None,
        thread: Thread,
        kind: CommentKind,
        author: Actor | None,
        body: str,
        t: int,
        *,
        review: Comment | None = None,
        reply_to: Comment | None = None,
        deleted: bool = False,
    ) -> Comment:
        """A new comment at `t`, listed where GitHub lists it (deleted ones only in world)."""
        index = len(self.world.comments)
        c = Comment(index, kind, thread, author, body, t, t, 2_000_000_000 + index, deleted=deleted)
        self.world.comments.append(c)
        if kind == "review_comment":
            assert review is not None
            c.review, c.reply_to = review, reply_to
            review.review_comments.append(c)
        elif kind == "review":
            thread.reviews.append(c)
        elif not deleted:
            thread.comments.append(c)
        if st is not None:
            st.count += 1
            st.cursor = max(st.cursor, t)
        return c

    def revise(self, c: Comment, at: int, editor: Actor | None, body: str) -> Edit:
        """One more revision of `c` at `at` (GitHub's edit rules, incl. no text before 2018)."""
        world = self.world
        if not c.edits and c.created_at >= B.EDIT_HISTORY_START:
            c.includes_created_edit = True
            self._edit(c, Edit(len(world.edits), c.created_at, c.author, c.body))
        diff = None if at < B.EDIT_HISTORY_START else body
        edit = self._edit(c, Edit(len(world.edits), at, editor, diff))
        c.body = body
        c.last_edited_at = at
        c.editor = editor
        c.updated_at = max(c.created_at, at)
        return edit

    def _edit(self, c: Comment, edit: Edit) -> Edit:
        self.world.edits.append(edit)
        c.edits.append(edit)
        return edit

    def react(self, c: Comment, actor: Actor, content: str, at: int) -> Reaction | None:
        """A reaction, unless the actor already gave this one or the time does not fit."""
        at = min(at, self.end - 1)
        if at <= c.created_at:
            return None
        for r in c.reactions:
            if r.actor is actor and r.content == content:
                return None
        reaction = Reaction(len(self.world.reactions), content, actor, at)
        self.world.reactions.append(reaction)
        c.reactions.append(reaction)
        return reaction

    def reactions(
        self,
        c: Comment,
        pool: list[Actor],
        *,
        bot: bool,
        negative: bool = False,
        rate: float | None = None,
    ) -> None:
        rng = self.rng
        if rate is None:
            rate = self.spec.bot_reaction_rate if bot else self.spec.human_reaction_rate
        if rng.random() >= rate:
            return
        cum = _NEG_CUM if negative else _BOT_CUM if bot else _HUMAN_CUM
        reactors = (self.bots["ubiquity-os"], self.bots["github-actions"])
        for _ in range(1 + min(11, int(rng.expovariate(1 / 1.3)))):
            content = rng.choices(REACTION_CONTENTS, cum_weights=cum)[0]
            actor = rng.choice(reactors) if rng.random() < 0.05 else rng.choice(pool)
            self.react(c, actor, content, c.created_at + 5 + int(rng.expovariate(1 / (2 * DAY))))
        c.reactions.sort(key=_BY_TIME)

    def finish_thread(self, thread: Thread, *, settle: bool = True) -> None:
        """updated_at >= everything inside (reactions do not count, as on GitHub).

        `settle` also decides the thread's state (new threads only)."""
        latest = thread.created_at
        for c in thread.comments:
            latest = max(latest, c.updated_at)
        for review in thread.reviews:
            latest = max(latest, review.updated_at)
            for rc in review.review_comments:
                latest = max(latest, rc.updated_at)
        bump = self.rng.randint(0, 900) if self.rng.random() < 0.3 else 0
        thread.updated_at = max(thread.updated_at, min(latest + bump, self.end - 1))
        if not settle:
            return
        if thread.kind == "pull_request":
            thread.state = self.rng.choice(("MERGED", "MERGED", "CLOSED", "OPEN"))
        elif thread.state == "OPEN" and self.rng.random() < 0.5:
            thread.state = "CLOSED"

    # ---------- thread timelines
    def start_thread(
        self, thread: Thread, n_target: int, cursor: int | None = None
    ) -> _ThreadState:
        """Timeline state for writing `n_target` comments after `cursor` (default: creation)."""
        rng = self.rng
        cursor = thread.created_at if cursor is None else cursor
        limit = self.end - self.margin
        room = max(60, limit - cursor - n_target * 900)
        span = min(rng.expovariate(1 / (12 * DAY)) + 3600, room)
        pool = self.pool(thread.repo.org)
        return _ThreadState(
            thread, pool, B.topic(rng), cursor, span / (n_target + 1), limit, rng.random()
        )

    def next_time(self, st: _ThreadState) -> int | None:
        t = st.cursor + 1 + int(self.rng.expovariate(1 / st.gap))
        return t if t < st.limit else None

    def fill_thread(
        self, st: _ThreadState, n_target: int, *, bot: bool, first: _Showcase | None = None
    ) -> None:
        if first is not None:
            at = min(st.cursor + self.rng.randint(60, 3600), B.ts(first.end))
            self._forcing = True
            self.episode(st, first.episode, at, first.dialect)
            self._forcing = False
        while st.count < n_target:
            t = self.next_time(st)
            if t is None:
                break
            self.episode(st, self._pick(st, t, bot), t, None)
        if bot and st.thread.kind == "issue" and self.rng.random() < 0.4:
            closed = self.next_time(st)
            if closed is not None:
                self.episode(st, "rewards", closed, None)
                st.thread.state = "CLOSED"
        self.finish_thread(st.thread)

    def _pick(self, st: _ThreadState, t: int, bot: bool) -> str:
        is_pr = st.thread.kind == "pull_request"
        if not bot:
            return "human_review" if is_pr and self.rng.random() < 0.12 else "chatter"
        names = ["chatter", "command"]
        weights = [4.0, 1.0]
        for name, weight, since, until in (
            ("ask", 3.0, B.ASK_START, None),
            ("error_log", 0.2, B.UBIQUIBOT_START, None),
            ("legacy_dash_log", 0.08, B.UBIQUIBOT_START, B.LEGACY_END),
            ("fatal_log", 0.05, B.SDK_V2_START, None),
            ("disqualifier", 0.25, B.ts("2024-06-01"), None),
            ("spec_rewriter", 0.08, B.ts("2025-03-01"), None),
            ("task_matcher", 0.08, B.ts("2025-03-01"), None),
            ("llm502", 0.06, B.SDK_V2_START, None),
            ("agent_marker", 0.1, B.ts("2025-06-01"), None),
        ):
            if t >= since and (until is None or t < until):
                names.append(name)
                weights.append(weight)
        if is_pr:
            names += ["coderabbit_review", "human_review", "deploy"]
            weights += [0.8 if t >= B.ts("2024-03-01") else 0.0, 0.5, 0.4]
            if t >= B.ts("2025-04-01"):
                names += ["copilot_review", "ubiquity_review"]
                weights += [0.5, 0.3]
            if t >= B.ASK_START:
                names.append("inline_ask")
                weights.append(0.6)
        return self.rng.choices(names, weights)[0]

    def episode(self, st: _ThreadState, name: str, t: int, dialect: str | None) -> None:
        getattr(self, f"_ep_{name}")(st, t, dialect)

    # ---------- helpers for episodes
    def _human(self, st: _ThreadState) -> Actor | None:
        return None if self.rng.random() < self.spec.ghost_rate else self.rng.choice(st.pool)

    def _ubiquity(self, st: _ThreadState, t: int) -> Actor:
        logins = UBIQUIBOT_LOGINS if t < B.UBIQUITY_OS_START else UBIQUITY_OS_LOGINS
        pick = 0 if st.bot_pick < 0.85 else 1 if st.bot_pick < 0.95 else 2
        return self.bots[logins[pick]]

    def _ctx(self, st: _ThreadState, t: int, asker: Actor | None) -> B.Context:
        login = (asker or self.rng.choice(st.pool)).login
        roll = self.rng.random()
        org = st.thread.repo.org
        instigator = login if roll < 0.8 else org.name if roll < 0.9 else "UbiquityOS"
        return B.Context(t, login, instigator, org.login, st.thread.repo.name, st.thread.number)

    def _truth(self, r: B.Rendered, question: Comment | None = None) -> CommentTruth:
        return CommentTruth(
            r.dialects, r.plugin, r.kind, r.caller, r.visible, r.visible, question, r.markers
        )

    def _bot_post(self, st: _ThreadState, bot: Actor, r: B.Rendered, t: int) -> Comment:
        c = self.comment(st, st.thread, "issue_comment", bot, r.body, t)
        c.truth = self._truth(r)
        self.reactions(c, st.pool, bot=True)
        return c

    def _plain_truth(self, text: str, kind: str, dialects: tuple[str, ...] = ()) -> CommentTruth:
        return CommentTruth(dialects, None, kind, None, text, text)

    # ---------- episodes: humans
    def _ep_chatter(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        rng = self.rng
        deleted = rng.random() < self.spec.deleted_rate
        c = self.comment(
            st,
            st.thread,
            "issue_comment",
            self._human(st),
            B.chatter(rng, st.subject),
            t,
            deleted=deleted,
        )
        if deleted:
            return
        if rng.random() < self.spec.human_edit_rate:
            self._self_edit(c, rounds=1 + (rng.random() < 0.2))
        if rng.random() < 0.005:
            c.is_minimized, c.minimized_reason = True, rng.choice(MINIMIZED_REASONS[1:])
        self.reactions(c, st.pool, bot=False)

    def _self_edit(self, c: Comment, rounds: int) -> None:
        at = c.created_at
        for i in range(rounds):
            at += 30 + int(self.rng.expovariate(1 / (0.5 * DAY)))
            if at >= self.end - 1:
                return
            self.revise(c, at, c.author, f"{c.body}\n\nEdit {i + 1}: fixed a typo above.")

    def _ep_old_edits(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        """Pre-2018 history: an edit with no text kept, a ghost author, a deleted comment."""
        c = self.comment(
            st, st.thread, "issue_comment", st.pool[0], B.chatter(self.rng, st.subject), t
        )
        self.revise(c, t + 3600, c.author, c.body + "\n\nEdit: added the stack trace.")
        later = max(B.EDIT_HISTORY_START + DAY, t + 2 * DAY)
        self.revise(c, later, c.author, c.body + "\n\nEdit 2: this is fixed now.")
        self.comment(st, st.thread, "issue_comment", None, "I ran into this too.", t + 7200)
        self.comment(st, st.thread, "issue_comment", st.pool[1], "spam", t + 9000, deleted=True)

    def _ep_human_review(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        rng = self.rng
        author = rng.choice(st.pool)
        review = self.comment(st, st.thread, "review", author, rng.choice(B.HUMAN_REVIEW_BODIES), t)
        review.review_state = rng.choice(("APPROVED", "COMMENTED", "CHANGES_REQUESTED"))
        for i in range(rng.randint(0, 2)):
            rc = self._inline(st, review, author, B.chatter(rng, st.subject), t + i, None)
            if rng.random() < 0.3:
                reply_review = self.comment(st, st.thread, "review", self._human(st), "", t + 600)
                reply_review.review_state = "COMMENTED"
                self._inline(st, reply_review, reply_review.author, "Done.", t + 600, rc)

    def _inline(
        self,
        st: _ThreadState,
        review: Comment,
        author: Actor | None,
        body: str,
        t: int,
        reply_to: Comment | None,
    ) -> Comment:
        """An inline comment; a reply points to its review thread's FIRST comment, as GitHub."""
        root = reply_to.reply_to or reply_to if reply_to else None
        c = self.comment(
            st, st.thread, "review_comment", author, body, t, review=review, reply_to=root
        )
        if root is not None:
            c.path, c.diff_hunk = root.path, root.diff_hunk
        else:
            c.path, c.diff_hunk = B.path(self.rng), B.diff_hunk(self.rng)
        return c

    def _ep_agent_marker(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        """A human comment the bot picked up: it appends its marker (the author stays human)."""
        author = self.rng.choice(st.pool)
        text = f"@UbiquityOS please open a pull request for {st.subject}."
        c = self.comment(st, st.thread, "issue_comment", author, text, t)
        at = t + self.rng.randint(3, 40)
        self.revise(c, at, self._ubiquity(st, t), text + B.agent_marker(self.rng, at))
        c.truth = CommentTruth((), None, B.MARKER, None, text, text, None, (B.MARK_AGENT,))

    # ---------- episodes: LLM answers
    def _ep_ask(
        self,
        st: _ThreadState,
        t: int,
        dialect: str | None,
        *,
        corrections: int = -1,
        delete_revision: bool = False,
        ghost_editor: bool = False,
    ) -> Comment:
        rng = self.rng
        asker = rng.choice(st.pool)
        q = self.comment(st, st.thread, "issue_comment", asker, B.question(rng, st.subject), t)
        answer = self._answer(
            st, q, asker, t, dialect, None, corrections, delete_revision, ghost_editor
        )
        if t >= B.COMMENT_KIND_START and st.last_ask is not None:
            for old in st.last_ask:  # SDK 3.9 minimizes the previous question and answer
                old.is_minimized, old.minimized_reason = True, "outdated"
        st.last_ask = (q, answer)
        return answer

    def _answer(
        self,
        st: _ThreadState,
        q: Comment,
        asker: Actor,
        t: int,
        dialect: str | None,
        inline_root: Comment | None,
        corrections: int = -1,
        delete_revision: bool = False,
        ghost_editor: bool = False,
    ) -> Comment:
        """The bot's answer to `q`: placeholder self-edit, human corrections, reactions."""
        rng = self.rng
        at = t + rng.randint(3, 120)  # the generation is the one live when the answer is posted
        dialect = dialect or B.ask_dialect(rng, at)
        bot = self._ubiquity(st, at)
        if at >= B.SDK_V2_0_0_START and rng.random() < 0.4:
            self.react(q, bot, "EYES", t + 1)  # the bot acknowledges the command
        self.reactions(q, st.pool, bot=False)
        ctx = self._ctx(st, at, asker)
        r = B.ask_answer(rng, dialect, B.answer_text(rng, st.subject), ctx)
        placeholder = B.uses_placeholder(dialect, at) and rng.random() < 0.9
        first = B.placeholder(rng, dialect, ctx) if placeholder else r.body
        if inline_root is None:
            c = self.comment(st, st.thread, "issue_comment", bot, first, at)
        else:
            container = self.comment(st, st.thread, "review", bot, "", at)
            container.review_state = "COMMENTED"
            container.truth = self._plain_truth("", B.REVIEW_CONTAINER)
            c = self._inline(st, container, bot, first, at, inline_root)
        c.truth = self._truth(r, q)
        if placeholder and rng.random() < 0.01:  # the run died: the placeholder stays
            c.truth.answer_text = c.truth.bot_answer_text = ""
        elif placeholder:
            self.revise(c, at + rng.randint(8, 120), bot, r.body)
        if corrections < 0:
            corrections = 0
            if rng.random() < self.spec.correction_rate:
                corrections = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        if corrections and c.truth.answer_text:
            self.correct(c, r, st.pool, corrections, delete_revision, ghost_editor)
        self.reactions(c, st.pool, bot=True, negative=corrections > 0)
        return c

    def correct(
        self,
        c: Comment,
        r: B.Rendered,
        pool: list[Actor],
        rounds: int,
        delete_revision: bool = False,
        ghost_editor: bool = False,
        *,
        after: int | None = None,
        spacing: float = DAY,
    ) -> int:
        """Human corrections of a bot comment's visible text; returns how many were made."""
        rng = self.rng
        assert c.truth is not None
        visible = c.truth.answer_text
        if not visible:
            return 0
        at = max(after or 0, c.last_edited_at or c.created_at)
        editors = pool[: max(2, min(8, len(pool)))]  # the org's maintainers
        first = rng.randrange(len(editors))
        ghost_round = rng.randrange(rounds) if ghost_editor else -1
        made = 0
        for i in range(rounds):
            at += 300 + int(rng.expovariate(1 / spacing))
            if at >= self.end - 60:
                break
            visible = B.correct(rng, visible)
            editor = None if i == ghost_round else editors[(first + i) % len(editors)]
            self.revise(c, at, editor, r.with_visible(visible))
            made += 1
        c.truth.answer_text = visible
        if delete_revision and len(c.edits) >= 3:
            self._delete_revision(c, rng.choice(editors))
        return made

    def _delete_revision(self, c: Comment, by: Actor) -> None:
        """`Delete revision from history` on a middle revision (never the original or newest)."""
        middle = c.edits[1:-1]
        human = [e for e in middle if e.editor is not None and e.editor.typename == "User"]
        edit = (human or middle)[-1]
        edit.diff = None
        edit.deleted_by = by
        edit.deleted_at = min(c.edits[-1].edited_at + self.rng.randint(60, DAY), self.end - 1)

    def _ep_ask_corrected(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._ep_ask(st, t, dialect, corrections=3, delete_revision=True, ghost_editor=True)

    def _ep_ask_twice(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._ep_ask(st, t, dialect)
        self._ep_ask(st, st.cursor + self.rng.randint(600, 7200), dialect)

    def _ep_inline_ask(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        """A human opens an inline thread asking the bot; the answer replies to it."""
        rng = self.rng
        asker = rng.choice(st.pool)
        review = self.comment(st, st.thread, "review", asker, rng.choice(B.HUMAN_REVIEW_BODIES), t)
        review.review_state = "COMMENTED"
        q = self._inline(st, review, asker, B.question(rng, st.subject), t, None)
        self._answer(st, q, asker, t, dialect, q)

    # ---------- episodes: code review bots
    def _ep_coderabbit_review(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_review(st, t, self.bots["coderabbitai"], None, True)

    def _ep_copilot_review(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_review(st, t, self.bots["copilot-pull-request-reviewer"], None, True)

    def _ep_ubiquity_review(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_review(st, t, self._ubiquity(st, t), dialect or B.SDK_V2, True)

    def _bot_review(
        self,
        st: _ThreadState,
        t: int,
        bot: Actor,
        dialect: str | None,
        follow_up: bool,
        inline: int = 0,
    ) -> Comment:
        """A review body by a code-review bot, inline remarks, maybe a human asking back."""
        rng = self.rng
        inline = inline or rng.randint(1, 3)
        if dialect is None:
            body = B.review_summary(rng, bot.login, inline)
            truth = self._plain_truth(body, B.LLM_ANSWER)
        else:
            r = B.ubiquity_review(rng, dialect, self._ctx(st, t, None), inline)
            body, truth = r.body, self._truth(r)
        review = self.comment(st, st.thread, "review", bot, body, t)
        review.review_state = "CHANGES_REQUESTED" if rng.random() < 0.25 else "COMMENTED"
        review.truth = truth
        self.reactions(review, st.pool, bot=True)
        roots = []
        for i in range(inline):
            text = B.review_remark(rng)
            rc = self._inline(st, review, bot, text, t + 1 + i // 50, None)
            rc.truth = self._plain_truth(text, B.LLM_ANSWER)
            self.reactions(rc, st.pool, bot=True, rate=0.15)
            roots.append(rc)
        if follow_up and (self._forcing or rng.random() < 0.45):
            self._review_follow_up(st, bot, roots[0], t + 60 + rng.randint(0, 3 * 3600))
        return review

    def _review_follow_up(self, st: _ThreadState, bot: Actor, root: Comment, t: int) -> None:
        rng = self.rng
        asker = rng.choice(st.pool)
        review = self.comment(st, st.thread, "review", asker, "", t)
        review.review_state = "COMMENTED"
        mention = "UbiquityOS" if bot.login in UBIQUITY_OS_LOGINS + UBIQUIBOT_LOGINS else bot.login
        q = self._inline(st, review, asker, B.mention_question(rng, mention, st.subject), t, root)
        at = t + rng.randint(20, 300)
        container = self.comment(st, st.thread, "review", bot, "", at)
        container.review_state = "COMMENTED"
        container.truth = self._plain_truth("", B.REVIEW_CONTAINER)
        text = B.reply_remark(rng, st.subject)
        reply = self._inline(st, container, bot, text, at, root)
        reply.truth = CommentTruth((), None, B.LLM_ANSWER, None, text, text, q)
        self.reactions(reply, st.pool, bot=True)

    # ---------- episodes: plugin output
    def _ep_command(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        rng = self.rng
        user = rng.choice(st.pool)
        roll = rng.random()
        command = "/start" if roll < 0.6 else "/wallet 0x" + "0" * 40 if roll < 0.85 else "/help"
        self.comment(st, st.thread, "issue_comment", user, command, t)
        self._respond(st, user, command, t + rng.randint(5, 90), dialect)

    def _ep_assign(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        user = self.rng.choice(st.pool)
        self.comment(st, st.thread, "issue_comment", user, "/start", t)
        self._respond(st, user, "/start", t + self.rng.randint(5, 90), dialect)

    def _respond(
        self, st: _ThreadState, user: Actor, command: str, t: int, dialect: str | None
    ) -> None:
        rng = self.rng
        dialect = dialect or B.plugin_dialect(rng, t)
        ctx = self._ctx(st, t, user)
        if command == "/start":
            r = B.assignment(rng, dialect, ctx, user.login)
        elif command == "/help":
            r = B.help_table(rng, dialect, ctx)
        else:
            r = B.wallet_ok(rng, dialect, ctx, user.login)
        self._bot_post(st, self._ubiquity(st, t), r, t)

    def _ep_rewards(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        rng = self.rng
        bot = self._ubiquity(st, t)
        ctx = self._ctx(st, t, None)
        log_dialect = dialect or B.plugin_dialect(rng, t)
        self._bot_post(st, bot, B.progress_log(rng, log_dialect, ctx), t)
        users = [a.login for a in rng.sample(st.pool, min(len(st.pool), rng.randint(1, 3)))]
        ctx.t = t + rng.randint(30, 600)
        dialect = dialect or B.plugin_dialect(rng, ctx.t)
        self._bot_post(st, bot, B.rewards(rng, dialect, ctx, users), ctx.t)

    def _ep_error_log(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        dialect = dialect or B.plugin_dialect(self.rng, t)
        self._bot_post(
            st, self._ubiquity(st, t), B.error_log(self.rng, dialect, self._ctx(st, t, None)), t
        )

    def _ep_legacy_dash_log(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_post(
            st, self._ubiquity(st, t), B.legacy_dash_log(self.rng, self._ctx(st, t, None)), t
        )

    def _ep_fatal_log(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        dialect = dialect or B.SDK_V2
        self._bot_post(
            st, self._ubiquity(st, t), B.fatal_log(self.rng, dialect, self._ctx(st, t, None)), t
        )

    def _ep_disqualifier(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        user = self.rng.choice(st.pool)
        self._bot_post(
            st,
            self._ubiquity(st, t),
            B.disqualifier(self.rng, self._ctx(st, t, user), user.login),
            t,
        )

    def _ep_spec_rewriter(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_post(
            st,
            self._ubiquity(st, t),
            B.spec_rewriter(self.rng, self._ctx(st, t, None), st.subject),
            t,
        )

    def _ep_task_matcher(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        users = [a.login for a in self.rng.sample(st.pool, min(3, len(st.pool)))]
        self._bot_post(st, self._ubiquity(st, t), B.task_matcher(self.rng, users), t)

    def _ep_llm502(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        rng = self.rng
        asker = rng.choice(st.pool)
        self.comment(st, st.thread, "issue_comment", asker, B.question(rng, st.subject), t)
        at = t + rng.randint(20, 120)
        dialect = dialect or (B.SDK_V2 if rng.random() < 0.5 else B.NONE)
        self._bot_post(
            st, self._ubiquity(st, at), B.llm_502(rng, dialect, self._ctx(st, at, asker)), at
        )

    def _ep_deploy(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        r = B.deploy_log(self.rng, st.thread.repo.name)
        self._bot_post(st, self.bots["github-actions"], r, t)

    # ---------- edge cases (past GitHub's 100-per-page limits)
    def _ep_edge_long(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._long(st, t, 130)

    def _ep_edge_longer(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._long(st, t, 240)

    def _long(self, st: _ThreadState, t: int, n: int) -> None:
        st.gap = 1800
        self._ep_ask(st, t, None)
        while st.count < n:
            t = st.cursor + 1 + int(self.rng.expovariate(1 / st.gap))
            self.episode(st, "ask" if self.rng.random() < 0.2 else "chatter", t, None)

    def _ep_edge_reactions(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        """Answers with 100+ reactions: 150 thumbs up from distinct people, and a mix."""
        people = self.humans
        for spec in (
            (("THUMBS_UP", 150), ("HEART", 12), ("EYES", 6)),
            (("THUMBS_DOWN", 60), ("CONFUSED", 45), ("THUMBS_UP", 20)),
        ):
            answer = self._ep_ask(st, st.cursor + 600, dialect, corrections=0)
            start = answer.created_at + 60
            for content, n in spec:
                for i, who in enumerate(people[:n]):
                    self.react(answer, who, content, start + 37 * i)
            answer.reactions.sort(key=_BY_TIME)

    def _ep_edge_edits(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        """Histories past 100 revisions: a self-updating bot log and an answer edit war."""
        rng = self.rng
        bot = self._ubiquity(st, t)
        r = B.progress_log(rng, dialect or B.SDK_V2, self._ctx(st, t, None))
        log = self._bot_post(st, bot, r, t)
        for i in range(130):
            line = f"```diff\n+ Computing the rewards for this task: step {i + 1} of 130\n```"
            self.revise(log, t + 60 * (i + 1), bot, r.with_visible(line))
            assert log.truth is not None
            log.truth.answer_text = log.truth.bot_answer_text = line
        answer = self._ep_ask(st, t + 3 * 3600, dialect, corrections=0)
        self.correct(answer, self.rerender(answer), self.humans[:12], 105, spacing=1200)

    def _ep_edge_review(self, st: _ThreadState, t: int, dialect: str | None) -> None:
        self._bot_review(st, t, self.bots["copilot-pull-request-reviewer"], None, False, 105)

    @staticmethod
    def _split(c: Comment) -> tuple[str, str, str]:
        """(prefix, visible, suffix) of a bot comment's body, from its truth's answer text."""
        assert c.truth is not None
        visible = c.truth.answer_text
        i = c.body.find(visible) if visible else -1
        if i < 0:
            return "", c.body, ""
        return c.body[:i], visible, c.body[i + len(visible) :]

    def rerender(self, c: Comment) -> B.Rendered:
        """A `Rendered` view of an existing bot comment, so a human can correct it later."""
        prefix, visible, suffix = self._split(c)
        assert c.truth is not None
        return B.Rendered(
            prefix,
            visible,
            suffix,
            c.truth.dialects,
            c.truth.plugin,
            c.truth.caller,
            c.truth.kind,
            c.truth.markers,
        )


# ---------- the whole world
def generate_world(spec: WorldSpec) -> World:
    """Build the world `spec` describes; the same spec always gives the same world."""
    enabled = gc.isenabled()
    gc.disable()  # millions of small records: the cyclic GC would rescan them over and over
    try:
        return _generate(spec)
    finally:
        if enabled:
            gc.enable()


def _generate(spec: WorldSpec) -> World:
    rng = random.Random(spec.seed)
    world = World(seed=spec.seed, now=spec.now)
    b = WorldBuilder(world, rng, spec, end=spec.now)
    b.actor(VIEWER_LOGIN, "User", "Simulated Viewer")
    for login in UBIQUIBOT_LOGINS + UBIQUITY_OS_LOGINS:
        b.actor(login, "Bot", "UbiquityOS")
    for login in OTHER_BOTS:
        b.actor(login, "Bot")
    for login in _human_logins(rng, max(spec.humans, 160 if spec.edge_cases else 12)):
        b.actor(login, "User", login.replace("-", " ").title() if rng.random() < 0.6 else None)
    for i in range(spec.orgs):
        _org(b, i)
    showcase = list(SHOWCASE) if spec.showcase else []
    for repo in world.repos:
        extra = list(EDGE_CASES) if spec.edge_cases and repo.index == 0 else []
        _fill_repo(b, repo, showcase, extra)
    return world


def _human_logins(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        login = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        roll = rng.random()
        if roll < 0.3:
            login += str(rng.randint(1, 999))
        elif roll < 0.45:
            login += "-" + rng.choice(("dev", "eth", "gh", "codes", "xyz"))
        if login not in seen:
            seen.add(login)
            out.append(login)
    return out


def _org(b: WorldBuilder, i: int) -> Org:
    rng = b.rng
    known: tuple[str, ...] = ()
    if i < len(_REAL_ORGS):
        login, name, known = _REAL_ORGS[i]
    else:
        word = _ORG_WORDS[i % len(_ORG_WORDS)]
        suffix = _ORG_SUFFIXES[(i // len(_ORG_WORDS)) % len(_ORG_SUFFIXES)]
        login = f"{word}-{suffix}" + ("" if i < 128 else str(i))
        name = f"{word.title()} {suffix.title()}"
    org = b.org(login, name)
    names = list(known[: b.spec.repos_per_org])
    while len(names) < b.spec.repos_per_org:
        candidate = f"{rng.choice(_REPO_WORDS)}-{rng.choice(_REPO_WORDS)}"
        if candidate not in names:
            names.append(candidate)
    for name in names:
        b.repo(org, name, B.WORLD_START - rng.randint(0, 400) * DAY)
    return org


def _anchor(rng: random.Random, lo: int, hi: int) -> int:
    """A time in [lo, hi), denser towards hi: activity grows over the years."""
    return lo + int((hi - lo) * math.sqrt(rng.random()))


def _fill_repo(
    b: WorldBuilder, repo: Repo, showcase: list[_Showcase], extra: list[_Showcase]
) -> None:
    """Plan the repo's threads, then write them in creation order so numbers follow time."""
    rng, spec = b.rng, b.spec
    latest = spec.now - 2 * DAY - _MARGIN
    plans: list[tuple[int, ThreadKind, bool, _Showcase | None]] = []
    for _ in range(spec.threads_per_repo):
        item = showcase.pop(0) if showcase else None
        if item is not None:
            plans.append(_forced(rng, item))
            continue
        kind: ThreadKind = "pull_request" if rng.random() < spec.pr_share else "issue"
        if rng.random() < spec.bot_thread_share:
            plans.append((_anchor(rng, B.UBIQUIBOT_START, latest), kind, True, None))
        else:
            plans.append((_anchor(rng, B.WORLD_START, latest), kind, False, None))
    plans += [_forced(rng, item) for item in extra]
    plans.sort(key=lambda p: p[0])
    for created_at, kind, bot, item in plans:
        n = _thread_size(rng, spec)
        author = None if rng.random() < spec.ghost_rate else rng.choice(b.pool(repo.org))
        thread = b.thread(repo, kind, created_at, author, B.topic(rng))
        st = b.start_thread(thread, n)
        b.fill_thread(st, n, bot=bot, first=item)


def _forced(rng: random.Random, item: _Showcase) -> tuple[int, ThreadKind, bool, _Showcase]:
    start, end = B.ts(item.start), B.ts(item.end)
    return rng.randint(start, max(start, end - 2 * DAY)), item.kind, item.bot, item


def _thread_size(rng: random.Random, spec: WorldSpec) -> int:
    n = 1 + int(rng.expovariate(1 / max(0.1, spec.comments_per_thread - 1)))
    return min(n, spec.max_comments_per_thread)


__all__ = [
    "EDGE_CASES",
    "PRESETS",
    "SHOWCASE",
    "VIEWER_LOGIN",
    "WorldBuilder",
    "WorldSpec",
    "check_invariants",
    "generate_world",
]
