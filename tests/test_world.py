"""The synthetic world: deterministic, realistic (every header generation in its era), and
consistent (the invariants the resolvers and the ground truth rely on), before and after evolve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harvester.simulator import bodies as B
from harvester.simulator.evolve import evolve
from harvester.simulator.model import REACTION_CONTENTS, Comment, World
from harvester.simulator.truth import export_truth, human_edits, summary
from harvester.simulator.world import (
    PRESETS,
    UBIQUIBOT_LOGINS,
    UBIQUITY_OS_LOGINS,
    VIEWER_LOGIN,
    WorldSpec,
    check_invariants,
    generate_world,
)

ROOT = Path(__file__).resolve().parents[1]
INVOKES = re.compile(r"(^|\s)(/ask\b|@ubiquityos\b)", re.IGNORECASE)

# When each generation was written: [first, last) in epoch seconds.
ERAS = {
    B.TOKEN_USAGE: (B.ASK_START, B.ASK_LEGACY_START),
    B.ASK_LEGACY: (B.ASK_LEGACY_START, B.ASK_LEGACY_END),
    B.SDK_V1: (B.SDK_V1_START, B.SDK_2024_12_START),
    B.SDK_2024_12: (B.SDK_2024_12_START, B.SDK_V2_0_0_START),
    B.SDK_V2_0_0: (B.SDK_V2_0_0_START, B.SDK_V2_START),
    B.SDK_V2: (B.SDK_V2_START, B.WORLD_NOW),
    B.CLAUDE: (B.CLAUDE_START, B.WORLD_NOW),
    B.LEGACY_RUN_URL: (B.ts("2024-06-01"), B.WORLD_NOW),
    B.LEGACY: (B.UBIQUIBOT_START, B.WORLD_NOW),
}


@pytest.fixture(scope="module")
def small() -> World:
    return generate_world(WorldSpec.preset("small", 1))


@pytest.fixture(scope="module")
def tiny() -> World:
    return generate_world(WorldSpec.preset("tiny", 1))


def bot_comments(world: World) -> list[Comment]:
    return [c for c in world.comments if c.author is not None and c.author.typename == "Bot"]


def live(world: World) -> list[Comment]:
    return [c for c in world.comments if not c.deleted]


# ---------- presets and determinism
def test_tiny_preset_is_about_300_comments_and_fast() -> None:
    started = time.perf_counter()
    world = generate_world(WorldSpec.preset("tiny", 5))
    assert time.perf_counter() - started < 0.5
    comments = len(world.comments)  # ~300 on average over seeds, long-tailed per thread
    assert 150 <= comments <= 500


def test_small_preset_is_about_3000_comments(small: World) -> None:
    assert 2500 <= len(small.comments) <= 4500


def test_presets_scale_to_their_names() -> None:
    def expected(spec: WorldSpec) -> float:
        return spec.orgs * spec.repos_per_org * spec.threads_per_repo * spec.comments_per_thread

    assert expected(PRESETS["10k"]) == pytest.approx(10_000, rel=0.1)
    assert expected(PRESETS["200k"]) == pytest.approx(200_000, rel=0.1)
    assert expected(PRESETS["1m"]) == pytest.approx(1_000_000, rel=0.1)


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(KeyError, match="tiny"):
        WorldSpec.preset("huge", 1)


def test_same_spec_gives_the_same_world(tmp_path: Path) -> None:
    spec = WorldSpec.preset("small", 3)
    export_truth(generate_world(spec), tmp_path / "a", "json")
    export_truth(generate_world(spec), tmp_path / "b", "json")
    export_truth(generate_world(WorldSpec.preset("small", 4)), tmp_path / "c", "json")
    for table in ("threads", "comments", "reactions", "edits", "bot_comment_truth"):
        a = (tmp_path / "a" / f"{table}.jsonl").read_bytes()
        assert a == (tmp_path / "b" / f"{table}.jsonl").read_bytes(), table
        assert a != (tmp_path / "c" / f"{table}.jsonl").read_bytes(), table


def test_world_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """str hashes change per process (PYTHONHASHSEED): nothing may depend on them."""
    export_truth(generate_world(WorldSpec.preset("tiny", 2)), tmp_path / "here", "json")
    code = (
        "import sys; from pathlib import Path\n"
        "from harvester.simulator.world import WorldSpec, generate_world\n"
        "from harvester.simulator.truth import export_truth\n"
        "export_truth(generate_world(WorldSpec.preset('tiny', 2)), Path(sys.argv[1]), 'json')\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    for path in (tmp_path / "here").iterdir():
        assert path.read_bytes() == (tmp_path / "there" / path.name).read_bytes(), path.name


# ---------- invariants
@pytest.mark.parametrize(("preset", "seed"), [("tiny", 1), ("tiny", 2), ("small", 1), ("small", 2)])
def test_invariants_hold(preset: str, seed: int) -> None:
    check_invariants(generate_world(WorldSpec.preset(preset, seed)))


def test_check_invariants_reports_a_broken_world() -> None:
    world = generate_world(WorldSpec.preset("tiny", 1))
    edited = next(c for c in world.comments if c.edits)
    edited.body = "changed behind GitHub's back"
    thread = world.threads[0]
    thread.comments.reverse()
    with pytest.raises(AssertionError, match="newest revision") as info:
        check_invariants(world)
    assert "oldest first" in str(info.value)


def test_viewer_is_an_ordinary_user_with_no_activity(tiny: World) -> None:
    viewer = tiny.actors[0]
    assert (viewer.login, viewer.typename) == (VIEWER_LOGIN, "User")
    assert all(c.author is not viewer for c in tiny.comments)


def test_bots_are_typed_bot_without_suffix_and_have_app_slugs(small: World) -> None:
    bots = {a.login: a for a in small.actors if a.typename == "Bot"}
    assert set(UBIQUIBOT_LOGINS + UBIQUITY_OS_LOGINS) <= set(bots)
    assert {"coderabbitai", "copilot-pull-request-reviewer"} <= set(bots)
    assert small.app_slugs == {login: login for login in bots}
    authors = {c.author.login for c in bot_comments(small) if c.author}
    assert set(UBIQUIBOT_LOGINS[:1] + UBIQUITY_OS_LOGINS) <= authors


def test_issues_and_prs_share_numbers_and_time_runs_2017_to_now(small: World) -> None:
    for repo in small.repos:
        kinds = {t.kind for t in repo.threads}
        numbers = [t.number for t in repo.threads]
        assert numbers == list(range(1, len(numbers) + 1))
        created = [t.created_at for t in repo.threads]
        assert created == sorted(created)
        assert kinds == {"issue", "pull_request"} or len(repo.threads) < 5
    years = {time.gmtime(c.created_at).tm_year for c in small.comments}
    assert min(years) == 2017 and max(years) == 2026
    assert max(c.updated_at for c in small.comments) < small.now


# ---------- header generations and markers
def test_every_generation_and_marker_is_present(tiny: World, small: World) -> None:
    for world in (tiny, small):
        truths = [c.truth for c in live(world) if c.truth]
        dialects = {d for t in truths for d in t.dialects}
        assert set(B.GENERATIONS) <= dialects
        assert set(B.MARKERS) <= {m for t in truths for m in t.markers}
        kinds = {t.kind for t in truths}
        assert {B.LLM_ANSWER, B.COMMAND_RESPONSE, B.LOG, B.MARKER, B.REVIEW_CONTAINER} <= kinds


def test_bodies_show_each_generation_s_shape(tiny: World) -> None:
    text = "\n".join(c.body for c in tiny.comments)
    for needle in (
        "<!-- Ubiquity - Assignment - start - ",
        "<!-- Ubiquity - ubiquity-os-llm-response - ",
        "<!-- Ubiquity - undefined -  - undefined\n",
        "<!-- UbiquityOS - @",
        "/actions/runs/",
        "\n--!>",
        "&lt;",
        "&gt;",
        "&#45;&#45;",
        "&#96;",
        '"commentKind": "command-response"',
        "<!-- @ubiquity-os/daemon-disqualifier update ",
        "<!-- daemon-spec-rewriter - ",
        "<!-- daemon-task-matcher:suggestions -->",
        "<!-- ubiquityos-agent ",
        "<!-- Upstream LLM 502: ",
        "'s task in ",
        "```json\n",
    ):
        assert needle in text, needle
    # Legacy JSON is not escaped: a `--` survives inside a hidden block.
    assert re.search(r'<!-- Ubiquity - error - runScript - \S+\n\{\n  "command": "[^"]*--', text)
    # A permit list: a JSON array right after a legacy header, and a body with two blocks.
    assert re.search(r"<!-- Ubiquity - Transactions - generatePermits - \w+\n\[", text)
    two_blocks = [c for c in tiny.comments if c.truth and len(c.truth.dialects) == 2]
    assert two_blocks and all(c.body.count("\n-->") == 2 for c in two_blocks)


def test_sdk_header_field_orders(tiny: World) -> None:
    """Instigator and run URL move between generations: classify them by shape."""
    url, who, field = r"https?://\S+", r"@[^\n]+?", r"[^\n]+?"
    orders = {
        B.SDK_2024_12: rf"<!-- UbiquityOS - {who} - {url} - {field} - {field}\n",
        B.SDK_V2_0_0: rf"<!-- UbiquityOS - {url} - {field} - {field} - {who}\n",
        B.SDK_V2: rf"<!-- UbiquityOS - {field} - {field} - {who} - {url}\n",
    }
    for dialect, pattern in orders.items():
        bodies = [c.body for c in tiny.comments if c.truth and dialect in c.truth.dialects]
        assert bodies, dialect
        assert all(re.search(pattern, body) for body in bodies), dialect


def test_headers_match_their_era(small: World) -> None:
    for c in bot_comments(small):
        assert c.truth is not None
        for dialect in c.truth.dialects:
            first, last = ERAS[dialect]
            assert first <= c.created_at < last, (c.index, dialect, B.iso(c.created_at))
        if c.truth.dialects[:1] == (B.LEGACY,) and len(c.truth.dialects) == 1:
            assert c.created_at < B.LEGACY_END


def test_answer_text_is_the_body_without_metadata(small: World) -> None:
    for c in bot_comments(small):
        assert c.truth is not None
        if c.truth.answer_text:
            assert c.truth.answer_text in c.body
            assert "<!--" not in c.truth.answer_text
            assert c.truth.answer_text == c.truth.answer_text.strip()


def test_other_bots_write_no_header(small: World) -> None:
    others = [
        c
        for c in bot_comments(small)
        if c.author
        and c.author.login in ("coderabbitai", "copilot-pull-request-reviewer", "github-actions")
    ]
    assert others
    assert all("<!--" not in c.body and c.truth and not c.truth.dialects for c in others)


# ---------- edits
def test_placeholders_are_edited_into_answers_by_the_bot(small: World) -> None:
    self_edited = [
        c
        for c in bot_comments(small)
        if c.edits and c.edits[0].diff and c.edits[0].diff.split("\n\n")[0] in B.PLACEHOLDERS
    ]
    assert len(self_edited) > 20
    for c in self_edited:
        assert c.created_at >= B.SDK_V2_0_0_START
        assert c.edits[1].editor is c.author and c.includes_created_edit


def test_human_corrections_deleted_revisions_and_ghost_editors(small: World) -> None:
    corrected = [c for c in bot_comments(small) if human_edits(c)]
    assert len(corrected) > 10
    assert any(human_edits(c) >= 2 and len({e.editor for e in c.edits[1:]}) >= 3 for c in corrected)
    deleted = [e for c in small.comments for e in c.edits if e.deleted_at is not None]
    assert deleted and all(e.diff is None and e.deleted_by is not None for e in deleted)
    assert any(e.editor is None for c in bot_comments(small) for e in c.edits)
    for c in corrected:
        assert c.truth is not None and c.truth.answer_text != c.truth.bot_answer_text


def test_pre_2018_edits_keep_no_text(tiny: World) -> None:
    old = [c for c in tiny.comments if c.edits and c.created_at < B.EDIT_HISTORY_START]
    assert old
    for c in old:
        assert not c.includes_created_edit
        assert all(e.diff is None for e in c.edits if e.edited_at < B.EDIT_HISTORY_START)


def test_agent_marker_is_appended_to_a_human_comment_by_the_bot(tiny: World) -> None:
    marked = [c for c in tiny.comments if "<!-- ubiquityos-agent " in c.body]
    assert marked
    for c in marked:
        assert c.author is not None and c.author.typename == "User"
        assert c.editor is not None and c.editor.typename == "Bot"
        assert c.truth is not None and c.truth.markers == (B.MARK_AGENT,)


# ---------- reactions, minimized, deleted, ghosts
def test_reactions_are_skewed_like_real_feedback(small: World) -> None:
    bots = bot_comments(small)
    contents = Counter(r.content for c in bots for r in c.reactions)
    assert set(contents) == set(REACTION_CONTENTS)
    assert contents.most_common(1)[0][0] == "THUMBS_UP"
    assert contents["LAUGH"] < contents["HEART"]
    assert sum(1 for c in bots if not c.reactions) > len(bots) / 2

    def negative_share(comments: list[Comment]) -> float:
        all_ = [r.content for c in comments for r in c.reactions]
        return sum(x in ("THUMBS_DOWN", "CONFUSED") for x in all_) / max(1, len(all_))

    ordinary = [c for c in bots if not human_edits(c) and len(c.reactions) < 100]
    assert negative_share([c for c in bots if human_edits(c)]) > 2 * negative_share(ordinary)
    reactors = Counter(r.actor.typename for c in bots for r in c.reactions)
    assert reactors["User"] > 10 * reactors["Bot"] > 0
    human = [c for c in small.comments if c.author and c.author.typename == "User"]
    human_share = sum(1 for c in human if c.reactions) / len(human)
    assert 0 < human_share < sum(1 for c in bots if c.reactions) / len(bots)


def test_minimized_deleted_and_ghost_comments(small: World) -> None:
    minimized = [c for c in small.comments if c.is_minimized]
    assert {c.minimized_reason for c in minimized} >= {"outdated"}
    assert any(c.author and c.author.typename == "Bot" for c in minimized)
    deleted = [c for c in small.comments if c.deleted]
    assert deleted and all(c not in c.thread.comments for c in deleted)
    assert any(c.author is None for c in live(small))


# ---------- pull requests and question links
def test_review_threads_link_replies_to_their_first_comment(small: World) -> None:
    reviews = [c for c in small.comments if c.kind == "review"]
    assert {"COMMENTED", "CHANGES_REQUESTED"} <= {r.review_state for r in reviews}
    assert any(r.author and r.author.typename == "Bot" and "<!--" in r.body for r in reviews)
    assert any(r.author and r.author.login == "coderabbitai" and r.body for r in reviews)
    replies = [c for c in small.comments if c.kind == "review_comment" and c.reply_to]
    assert replies
    for c in replies:
        assert c.reply_to is not None and c.reply_to.reply_to is None
        assert c in c.review.review_comments if c.review else False
        assert (c.path, c.diff_hunk) == (c.reply_to.path, c.reply_to.diff_hunk)


def test_questions_are_the_nearest_earlier_invoking_human_comment(small: World) -> None:
    answers = [c for c in bot_comments(small) if c.truth and c.truth.kind == B.LLM_ANSWER]
    linked = [c for c in answers if c.truth and c.truth.question]
    assert len(linked) > 100
    for c in linked:
        assert c.truth is not None and c.truth.question is not None
        q = c.truth.question
        if c.kind == "issue_comment":
            earlier = [
                x
                for x in c.thread.comments
                if x.created_at < c.created_at
                and x.author
                and x.author.typename == "User"
                and INVOKES.search(x.body)
            ]
            assert earlier[-1] is q
        else:
            assert c.reply_to is q or c.reply_to is q.reply_to


# ---------- edge cases past GitHub's 100-item pages
def test_small_has_connections_longer_than_one_page(small: World) -> None:
    assert sum(1 for t in small.threads if len(t.comments) > 100) >= 2
    assert any(
        len(c.edits) > 100 and c.author and c.author.typename == "Bot" for c in small.comments
    )
    assert any(human_edits(c) > 100 for c in small.comments)
    assert sum(1 for c in small.comments if len(c.reactions) > 100) >= 2
    assert any(sum(r.content == "THUMBS_UP" for r in c.reactions) > 100 for c in small.comments)
    assert any(len(c.review_comments) > 100 for c in small.comments)
    tiny_spec = PRESETS["tiny"]
    assert not tiny_spec.edge_cases


# ---------- evolve
def test_evolve_keeps_invariants_and_reports_what_changed() -> None:
    world = generate_world(WorldSpec.preset("small", 2))
    old_bot = {c.index: c.updated_at for c in bot_comments(world)}
    old_thread_updated = {t.index: t.updated_at for t in world.threads}
    start, version = world.now, world.version
    for day in range(2):
        before = summary(world)
        counts = evolve(world, seed=day)
        check_invariants(world)
        after = summary(world)
        assert after["threads"] - before["threads"] == counts["threads_added"] >= 1
        assert after["comments"] - before["comments"] == counts["comments_added"] > 0
        assert after["bot_comments"] - before["bot_comments"] == counts["bot_comments_added"]
        assert after["llm_answers"] - before["llm_answers"] == counts["llm_answers_added"] > 0
        assert after["edits"] - before["edits"] == counts["edits_added"] > 0
        assert (
            after["reactions"] - before["reactions"]
            == counts["reactions_added"] - counts["reactions_removed"]
        )
        assert counts["reactions_on_old_bot_comments"] > 0 and counts["reactions_removed"] > 0
        assert counts["human_edits_on_old_bot_comments"] > 0
        assert (
            after["removed_reactions"] - before["removed_reactions"] == counts["reactions_removed"]
        )
    assert world.now == start + 2 * 86400 and world.version == version + 2

    reacted = [
        c
        for i, c in ((i, world.comments[i]) for i in old_bot)
        if any(r.created_at >= start for r in c.reactions)
    ]
    edited = [world.comments[i] for i in old_bot if world.comments[i].updated_at != old_bot[i]]
    assert reacted and edited
    # New reactions leave updated_at alone; new human edits bump the comment and its thread.
    assert any(c.updated_at == old_bot[c.index] for c in reacted)
    for c in edited:
        assert c.editor is not None and c.editor.typename == "User"
        assert c.updated_at >= start and c.thread.updated_at >= c.updated_at
        assert c.thread.updated_at > old_thread_updated[c.thread.index]
    assert all(r.deleted is (r not in _listed(world)) for r in world.reactions)


def _listed(world: World) -> set[object]:
    return {r for c in world.comments for r in c.reactions}


def test_evolve_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        world = generate_world(WorldSpec.preset("tiny", 1))
        evolve(world, seed=9)
        evolve(world, seed=10, advance_seconds=6 * 3600)
        export_truth(world, tmp_path / name, "json")
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_evolve_refuses_a_window_too_short_for_a_reply(tiny: World) -> None:
    with pytest.raises(ValueError, match="at least 3600"):
        evolve(tiny, seed=1, advance_seconds=60)
