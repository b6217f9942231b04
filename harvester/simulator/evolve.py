"""One more day in a simulated world: what an incremental crawl must pick up the next night.

`evolve(world, seed)` moves `world.now` forward and, inside that window, adds threads and
conversations (new questions and bot answers), reacts to OLD bot comments and takes some
reactions back (neither bumps `updatedAt`, as on GitHub: a crawl that trusts `updatedAt` misses
them), and lets humans correct old bot answers (an edit does bump the comment's and the thread's
`updatedAt`). Every invariant of `world.check_invariants` still holds afterwards.
"""

from __future__ import annotations

import random

from harvester.simulator import bodies as B
from harvester.simulator.model import REACTION_CONTENTS, Comment, ThreadKind, World
from harvester.simulator.world import DAY, WorldBuilder, WorldSpec

# How much happens per day, relative to the world's size (at least one of each).
_THREADS_PER_DAY = 1 / 300  # of existing threads
_CONVERSATIONS_PER_DAY = 1 / 150  # old threads that get a new question
_REACTIONS_PER_DAY = 1 / 40  # of old bot comments
_REMOVALS_PER_DAY = 1 / 400  # of current reactions on bot comments
_CORRECTIONS_PER_DAY = 1 / 100  # of old LLM answers

_REACTION_WEIGHTS = (50, 6, 2, 8, 5, 12, 10, 7)

COUNT_KEYS = (
    "threads_added",
    "comments_added",
    "bot_comments_added",
    "llm_answers_added",
    "reactions_added",
    "reactions_on_old_bot_comments",
    "reactions_removed",
    "edits_added",
    "human_edits_on_old_bot_comments",
)


def evolve(world: World, seed: int, *, advance_seconds: int = DAY) -> dict[str, int]:
    """Apply one window of activity (deterministic from `seed` and the world); return counts."""
    if advance_seconds < 3600:
        raise ValueError(f"advance_seconds must be at least 3600, got {advance_seconds}")
    start, end = world.now, world.now + advance_seconds
    rng = random.Random(f"evolve:{seed}:{world.seed}:{start}:{len(world.comments)}")
    b = WorldBuilder(world, rng, WorldSpec(seed=world.seed), end=end)
    b.margin = min(b.margin, advance_seconds // 4)
    old_bot = [
        c
        for c in world.comments
        if not c.deleted and c.author is not None and c.author.typename == "Bot"
    ]
    n_comments, n_threads, n_reactions, n_edits = (
        len(world.comments),
        len(world.threads),
        len(world.reactions),
        len(world.edits),
    )

    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["reactions_removed"] = _remove_reactions(b, old_bot)
    _new_threads(b, start, end)
    _new_conversations(b, start, end, n_threads)
    counts["reactions_on_old_bot_comments"] = _react_to_old(b, old_bot, start, end)
    counts["human_edits_on_old_bot_comments"] = _correct_old(b, old_bot, start, end)

    new = [c for c in world.comments[n_comments:] if not c.deleted]
    counts["threads_added"] = len(world.threads) - n_threads
    counts["comments_added"] = len(new)
    counts["bot_comments_added"] = sum(1 for c in new if c.author and c.author.typename == "Bot")
    counts["llm_answers_added"] = sum(1 for c in new if c.truth and c.truth.kind == B.LLM_ANSWER)
    counts["reactions_added"] = len(world.reactions) - n_reactions
    counts["edits_added"] = len(world.edits) - n_edits
    world.now = end
    world.version += 1
    return counts


def _share(n: int, rate: float) -> int:
    return max(1, round(n * rate))


def _remove_reactions(b: WorldBuilder, old_bot: list[Comment]) -> int:
    """People take reactions back: gone from the comment, the id answers null."""
    reacted = [c for c in old_bot if c.reactions]
    if not reacted:
        return 0
    removed = 0
    for _ in range(_share(sum(len(c.reactions) for c in reacted), _REMOVALS_PER_DAY)):
        c = b.rng.choice(reacted)
        if not c.reactions:
            continue
        reaction = c.reactions.pop(b.rng.randrange(len(c.reactions)))
        reaction.deleted = True
        removed += 1
    return removed


def _new_threads(b: WorldBuilder, start: int, end: int) -> None:
    rng = b.rng
    for _ in range(_share(len(b.world.threads), _THREADS_PER_DAY)):
        repo = rng.choice(b.world.repos)
        created = rng.randint(start + 60, start + (end - start) // 3)
        kind: ThreadKind = "pull_request" if rng.random() < 0.3 else "issue"
        thread = b.thread(repo, kind, created, rng.choice(b.pool(repo.org)), B.topic(rng))
        n = rng.randint(2, 8)
        b.fill_thread(b.start_thread(thread, n), n, bot=rng.random() < 0.7)


def _new_conversations(b: WorldBuilder, start: int, end: int, n_threads: int) -> None:
    """Someone asks the bot again in an existing thread (after everything already there)."""
    rng = b.rng
    for _ in range(_share(n_threads, _CONVERSATIONS_PER_DAY)):
        thread = b.world.threads[rng.randrange(n_threads)]
        st = b.start_thread(thread, 3, cursor=rng.randint(start, start + (end - start) // 3))
        for name in ("chatter", "ask") if rng.random() < 0.5 else ("ask",):
            t = b.next_time(st)
            if t is not None:
                b.episode(st, name, t, None)
        b.finish_thread(thread, settle=False)


def _react_to_old(b: WorldBuilder, old_bot: list[Comment], start: int, end: int) -> int:
    """New reactions on old bot comments; their `updated_at` stays as it was."""
    rng = b.rng
    if not old_bot:
        return 0
    added = 0
    touched: list[Comment] = []
    for _ in range(_share(len(old_bot), _REACTIONS_PER_DAY)):
        c = rng.choice(old_bot)
        content = rng.choices(REACTION_CONTENTS, _REACTION_WEIGHTS)[0]
        who = rng.choice(b.pool(c.thread.repo.org))
        if b.react(c, who, content, rng.randint(start + 1, end - 1)) is not None:
            added += 1
            touched.append(c)
    for c in touched:
        c.reactions.sort(key=lambda r: r.created_at)
    return added


def _correct_old(b: WorldBuilder, old_bot: list[Comment], start: int, end: int) -> int:
    """Humans fix old answers; each edit bumps the comment's and the thread's updated_at."""
    rng = b.rng
    answers = [
        c for c in old_bot if c.truth and c.truth.kind == B.LLM_ANSWER and c.truth.answer_text
    ]
    if not answers:
        return 0
    made = 0
    for c in rng.sample(answers, min(len(answers), _share(len(answers), _CORRECTIONS_PER_DAY))):
        after = rng.randint(start, start + (end - start) // 2)
        pool = b.pool(c.thread.repo.org)
        made += b.correct(c, b.rerender(c), pool, 1, after=after, spacing=(end - start) / 8)
        c.thread.updated_at = max(c.thread.updated_at, c.updated_at)
    return made
