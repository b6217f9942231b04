"""Known-answer tests of the warehouse rules on small hand-built raw tables."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from harvester.config import DEFAULT_BOT_LOGINS, config_from_mapping
from tests.warehouse_fixtures import (
    BOT,
    SDK_BLOCK,
    RawData,
    answer,
    at,
    edit,
    one,
    reaction,
    rows,
)

PLACEHOLDER = "> [!TIP]\n> Thinking..."
A1 = "Set the threshold in the config file .ubiquity.yml and redeploy the worker."
H1 = "Set the threshold in the config file .ubiquity-os.config.yml and redeploy the worker."
H2 = "Set the threshold in the config file .ubiquity-os.config.yml; no redeploy is needed."


def dp_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    raw = RawData(tmp_path_factory.mktemp("rules"))
    raw.thread("T1")
    raw.comment(
        "Q1",
        author="alice",
        author_type="User",
        body="\r\n /ask how do I set the threshold?\t\r\n",  # as a browser may send it
        minute=-5,
    )
    # placeholder, answer, two human rounds (and a thumbs down)
    raw.comment("C1", body=answer(H2))
    raw.snapshot(
        "C1",
        edits=[
            edit(BOT, "Bot", PLACEHOLDER, 0),
            edit(BOT, "Bot", answer(A1), 1),
            edit("alice", "User", answer(H1), 60),
            edit("bob", "User", answer(H2), 120),
        ],
        reactions=[reaction("carol", "THUMBS_DOWN")],
    )
    # ghost editors
    raw.comment("C2", body="Ghost text.")
    raw.snapshot("C2", edits=[edit(BOT, "Bot", "Bot text.", 0), edit(None, None, "Ghost text.", 9)])
    raw.comment("C3", body="Ghost again.")
    raw.snapshot(
        "C3",
        edits=[
            edit(BOT, "Bot", "The bot said this.", 0),
            edit("alice", "User", "Alice said this instead.", 5),
            edit(None, None, "Ghost again.", 9),
        ],
    )
    # deleted revisions
    raw.comment("C4", body="Third text.")
    raw.snapshot(
        "C4",
        edits=[
            edit(BOT, "Bot", "First text.", 0),
            edit("alice", "User", "Second text.", 5, deleted=True),
            edit("bob", "User", "Third text.", 9),
        ],
    )
    raw.comment("C5", body="Bot again.")
    raw.snapshot(
        "C5",
        edits=[
            edit(BOT, "Bot", "Bot first.", 0),
            edit("alice", "User", "Alice.", 5, deleted=True),
            edit(BOT, "Bot", "Bot again.", 9),
        ],
    )
    # before GitHub kept edit history (includesCreatedEdit false)
    raw.comment("C6", body="Edited later.", minute=-10_000, includes_created_edit=False)
    raw.snapshot(
        "C6",
        includes_created_edit=False,
        edits=[edit(BOT, "Bot", None, -9_000), edit(BOT, "Bot", "Edited later.", -100)],
    )
    raw.comment("C7", body="Only the body is known.", minute=-10_000)
    raw.snapshot("C7", includes_created_edit=False, edits=[edit(BOT, "Bot", None, -9_000)])
    raw.comment("C8", body="Bob's text.", minute=-10_000)
    raw.snapshot(
        "C8",
        includes_created_edit=False,
        edits=[edit("alice", "User", None, -9_000), edit("bob", "User", "Bob's text.", -100)],
    )
    # never edited
    raw.comment("C9", body="Plain answer.")
    raw.snapshot("C9")
    # reactions removed between two snapshots; a crashed run's reactions never count
    raw.comment("C10", body="Reacted to.")
    raw.snapshot(
        "C10", reactions=[reaction("alice", "THUMBS_UP"), reaction("bob", "HEART")], crawled=100
    )
    raw.snapshot("C10", reactions=[reaction("bob", "HEART")], crawled=200, run_id="r2")
    raw.orphan_reactions("C10", [reaction("carol", "ROCKET")], run_id="r3", crawled=300)
    raw.comment("C11", body="All removed.")
    raw.snapshot("C11", reactions=[reaction("alice", "THUMBS_UP")], crawled=100)
    raw.snapshot("C11", crawled=200, run_id="r2")
    # bot reactors and the author's own reaction
    raw.comment("C12", body="Bots react too.")
    raw.snapshot(
        "C12",
        reactions=[
            reaction(BOT, "EYES", kind="Bot"),
            reaction("github-actions", "THUMBS_UP", kind="Bot"),
            reaction("ubiquity-os-beta", "HOORAY", kind="User"),  # a configured bot login
            reaction("alice", "THUMBS_UP"),
            reaction("bob", "ROCKET"),
            reaction("carol", "CONFUSED"),
        ],
    )
    raw.comment(
        "C13", author="dave", author_type="User", is_bot=True, body=answer("Dave's bot answer.")
    )
    raw.snapshot("C13", reactions=[reaction("dave", "THUMBS_UP"), reaction("erin", "HEART")])
    # one vote per person: the latest reaction with a weight
    raw.comment("C14", body="Votes.")
    raw.snapshot(
        "C14",
        reactions=[
            reaction("alice", "THUMBS_UP", 5),
            reaction("alice", "HEART", 6),
            reaction("bob", "THUMBS_UP", 5),
            reaction("bob", "THUMBS_DOWN", 7),
            reaction("carol", "EYES", 5),
            reaction(None, "HEART", 8),  # a deleted account
        ],
    )
    # trivial corrections
    raw.comment("C16", body="Use       the\n\n\n\nconfig.")
    raw.snapshot(
        "C16",
        edits=[
            edit(BOT, "Bot", "Use the config.", 0),
            edit("alice", "User", "Use       the\n\n\n\nconfig.", 5),
        ],
    )
    raw.comment("C17", body="Use the configs.")
    raw.snapshot(
        "C17",
        edits=[
            edit(BOT, "Bot", "Use the config.", 0),
            edit("alice", "User", "Use the configs.", 5),
        ],
    )
    # the bot edited its comment after the last listing: only the hydration saw it
    raw.comment("C18", body="Old.", minute=1)
    raw.snapshot(
        "C18",
        edits=[edit(BOT, "Bot", "Old.", 1), edit(BOT, "Bot", "New.", 90)],
        body="New.",
        updated=90,
        crawled=10_001,
    )
    # deleted after its first hydration: the next run's tombstone takes it out
    raw.comment("C19", body="Soon gone.", minute=2)
    raw.snapshot("C19", reactions=[reaction("bob", "THUMBS_UP")], edits=[edit(BOT, "Bot", "x", 2)])
    raw.snapshot("C19", run_id="r2", crawled=20_000, is_deleted=True)
    # a tombstone older than the latest listing (the node was only invisible for a while)
    raw.comment("C20", body="Back again.", minute=3)
    raw.snapshot("C20", is_deleted=True, crawled=9_000)
    # minimized after the last listing: only the hydration saw it
    raw.comment("C21", body="Outdated answer.", minute=4)
    raw.snapshot("C21", crawled=10_001, is_minimized=True, minimized_reason="outdated")
    # edited, listed, but not hydrated yet (a killed crawl): its history is unknown
    raw.comment("C22", body="Edited body.", minute=5, last_edited=6, includes_created_edit=True)
    # hydrated as a placeholder, then edited: only the next listing saw the edit
    raw.comment("C23", body="Thinking...", minute=6, run_id="r1", crawled=5)
    raw.snapshot("C23", body="Thinking...", run_id="r1", crawled=5)
    raw.comment("C23", body="The answer.", minute=6, last_edited=50, run_id="r2", crawled=20_000)
    # a human comment in the thread is not a bot comment
    raw.comment("H1", author="erin", author_type="User", body="Thanks!", minute=200)
    con = raw.build()
    yield con
    con.close()


def revisions_of(con: duckdb.DuckDBPyConnection, cid: str) -> list[dict[str, object]]:
    return rows(con, "select * from revisions where comment_id = ? order by revision_index", [cid])


def test_placeholder_answer_and_two_human_rounds(wh: duckdb.DuckDBPyConnection) -> None:
    revs = revisions_of(wh, "C1")
    assert [r["origin"] for r in revs] == ["bot", "bot", "human", "human"]
    assert [r["is_placeholder"] for r in revs] == [True, False, False, False]
    assert [r["is_original"] for r in revs] == [True, False, False, False]
    assert [r["is_current"] for r in revs] == [False, False, False, True]
    assert [r["revision_index"] for r in revs] == [0, 1, 2, 3]
    assert revs[0]["body"] == PLACEHOLDER and revs[3]["body"] == answer(H2)
    c = one(wh, "select * from corrections where comment_id = 'C1'")
    assert (c["before_text"], c["after_text"]) == (A1, H2)
    assert (c["before_revision_index"], c["after_revision_index"]) == (1, 3)
    assert (c["human_rounds"], c["human_editors"], c["editor_login"]) == (2, 2, "bob")
    assert c["edit_distance"] == dp_levenshtein(A1, H2)
    assert math.isclose(c["similarity"], 1 - c["edit_distance"] / max(len(A1), len(H2)))
    assert c["diff"] == f"--- bot\n+++ human\n@@ -1 +1 @@\n-{A1}\n+{H2}"
    assert c["word_diff"] == (
        "Set the threshold in the config file [-.ubiquity.yml and-]{+.ubiquity-os.config.yml; "
        "no+} redeploy [-the worker.-]{+is needed.+}"
    )
    assert c["is_usable"] and not c["is_trivial"] and not c["is_whitespace_only"]
    f = one(wh, "select * from feedback where comment_id = 'C1'")
    assert (f["thumbs_down"], f["human_edits"], f["bot_edits"]) == (1, 2, 1)
    assert (f["reaction_score"], f["correction_score"], f["score"]) == (-1.0, -1.0, -2.0)
    assert f["label"] == "negative" and f["is_corrected"]


def test_bot_comment_columns_answer_question_and_context(wh: duckdb.DuckDBPyConnection) -> None:
    b = one(wh, "select * from bot_comments where comment_id = 'C1'")
    assert b["answer_text"] == H2
    assert b["body"] == answer(H2)
    assert b["comment_kind"] == "llm_answer" and b["plugin"] == "command-ask"
    assert b["dialect"] is not None and b["parse_error"] is None
    assert b["caller"] == "askQuestion"
    assert b["question_comment_id"] == "Q1"
    assert b["question_text"] == "/ask how do I set the threshold?"
    assert b["question_rule"] == "invocation"
    assert b["thread_title"] == "Payouts fail"
    t = one(wh, "select * from threads where thread_id = 'T1'")
    assert (t["title"], t["body"]) == ("Payouts fail", "The payout job fails since Monday.")
    assert (b["revision_count"], b["human_edits"]) == (4, 2)
    assert (
        one(wh, "select metadata->>'$.caller' as c from bot_comments where comment_id = 'C1'")["c"]
        == "askQuestion"
    )
    ids = {r["comment_id"] for r in rows(wh, "select comment_id from bot_comments")}
    assert "Q1" not in ids and "H1" not in ids and {"C1", "C13", "C17"} <= ids


def test_ghost_editors_are_unknown_not_human(wh: duckdb.DuckDBPyConnection) -> None:
    assert [r["origin"] for r in revisions_of(wh, "C2")] == ["bot", "unknown"]
    assert rows(wh, "select * from corrections where comment_id = 'C2'") == []
    assert one(wh, "select human_edits from feedback where comment_id = 'C2'")["human_edits"] == 0
    c = one(wh, "select * from corrections where comment_id = 'C3'")
    assert (c["before_text"], c["after_text"]) == ("The bot said this.", "Alice said this instead.")
    assert (c["editor_login"], c["human_rounds"]) == ("alice", 1)


def test_deleted_revisions_are_kept_and_flagged(wh: duckdb.DuckDBPyConnection) -> None:
    revs = revisions_of(wh, "C4")
    assert [(r["is_deleted"], r["body"] is None) for r in revs] == [
        (False, False),
        (True, True),
        (False, False),
    ]
    assert revs[1]["origin"] == "human" and revs[1]["editor_login"] == "alice"
    c = one(wh, "select * from corrections where comment_id = 'C4'")
    assert (c["after_text"], c["editor_login"], c["human_rounds"]) == ("Third text.", "bob", 2)
    # every human revision deleted: the correction stays, unusable, and scores nothing
    c5 = one(wh, "select * from corrections where comment_id = 'C5'")
    assert c5["after_text"] is None and not c5["is_usable"] and c5["is_trivial"] is None
    assert c5["editor_login"] == "alice" and c5["human_rounds"] == 1
    f5 = one(wh, "select * from feedback where comment_id = 'C5'")
    assert (f5["human_edits"], f5["correction_score"], f5["is_corrected"]) == (1, 0.0, False)


def test_history_without_the_original(wh: duckdb.DuckDBPyConnection) -> None:
    revs = revisions_of(wh, "C6")
    assert [r["is_original"] for r in revs] == [False, False]
    assert [r["is_text_missing"] for r in revs] == [True, False]
    assert revs[1]["body"] == "Edited later." and revs[1]["is_current"]
    # the newest revision kept no text: the current body is that text
    (only,) = revisions_of(wh, "C7")
    assert (only["body"], only["is_current"], only["is_original"]) == (
        "Only the body is known.",
        True,
        False,
    )
    assert not only["is_text_missing"]
    # without the original, revision 0 is an edit too: the bot's, in both comments
    bot_edits = rows(
        wh,
        "select comment_id, bot_edits, human_edits from feedback where comment_id in "
        "('C6', 'C7') order by comment_id",
    )
    assert [(r["bot_edits"], r["human_edits"]) for r in bot_edits] == [(2, 0), (1, 0)]
    # without the original, every human revision counts, and there is no bot answer before
    c8 = one(wh, "select * from corrections where comment_id = 'C8'")
    assert (c8["human_rounds"], c8["before_text"], c8["after_text"]) == (2, None, "Bob's text.")
    assert not c8["is_usable"]
    assert c8["is_trivial"] is None and c8["is_whitespace_only"] is None  # nothing to compare


def test_updated_at_is_the_later_of_listing_and_hydration(wh: duckdb.DuckDBPyConnection) -> None:
    c18 = one(wh, "select * from bot_comments where comment_id = 'C18'")
    assert (c18["body"], c18["updated_at"], c18["last_edited_at"]) == ("New.", at(90), at(90))
    c9 = one(wh, "select updated_at from bot_comments where comment_id = 'C9'")
    assert c9["updated_at"] == at(0)  # no hydration time: the listing's


def test_the_crawler_asks_again_about_a_tombstoned_comment_listed_later(
    wh: duckdb.DuckDBPyConnection,
) -> None:
    """C20's tombstone is older than its latest listing: the warehouse keeps it, so the crawler
    must keep re-reading it (and C19, gone, no more)."""
    from harvester.crawl import known_bot_comments

    found = rows(wh, "select path from duckdb_databases() where database_name = current_database()")
    data_dir = Path(str(found[0]["path"])).parent
    known = known_bot_comments(data_dir, (("acme",), ()))
    assert "C20" in known and "C19" not in known


def test_a_deleted_bot_comment_leaves_every_mart(wh: duckdb.DuckDBPyConnection) -> None:
    for mart in ("bot_comments", "revisions", "reactions", "feedback", "corrections"):
        assert rows(wh, f"select * from {mart} where comment_id = 'C19'") == [], mart
    for mart in ("bot_comments", "revisions", "feedback"):  # listed after its tombstone
        assert rows(wh, f"select comment_id from {mart} where comment_id = 'C20'"), mart
    threads = one(wh, "select bot_comment_count from threads where thread_id = 'T1'")
    listed = one(wh, "select count(*) as n from bot_comments where thread_id = 'T1'")
    assert threads["bot_comment_count"] == listed["n"]


def test_minimizing_seen_by_a_hydration(wh: duckdb.DuckDBPyConnection) -> None:
    c21 = one(wh, "select * from bot_comments where comment_id = 'C21'")
    assert (c21["is_minimized"], c21["minimized_reason"]) == (True, "outdated")
    c9 = one(wh, "select * from bot_comments where comment_id = 'C9'")
    assert (c9["is_minimized"], c9["minimized_reason"]) == (False, None)


def test_an_edited_comment_not_hydrated_yet_has_no_original(
    wh: duckdb.DuckDBPyConnection,
) -> None:
    (only,) = revisions_of(wh, "C22")
    assert (only["body"], only["is_current"], only["is_original"]) == ("Edited body.", True, False)
    edits = one(wh, "select bot_edits, human_edits from feedback where comment_id = 'C22'")
    assert edits == {"bot_edits": 0, "human_edits": 0}  # who edited it is not known yet
    # hydrated before the edit: the listing's last_edited_at says this is no longer the original
    (later,) = revisions_of(wh, "C23")
    assert (later["body"], later["is_original"]) == ("The answer.", False)
    c23 = one(wh, "select last_edited_at from bot_comments where comment_id = 'C23'")
    assert c23["last_edited_at"] == at(50)


def test_a_comment_never_edited_has_one_revision(wh: duckdb.DuckDBPyConnection) -> None:
    (only,) = revisions_of(wh, "C9")
    assert only["revision_index"] == 0 and only["is_original"] and only["is_current"]
    assert (only["body"], only["origin"], only["editor_login"]) == ("Plain answer.", "bot", BOT)
    assert only["edited_at"] == at(0) and only["edit_id"] is None
    counts = one(
        wh,
        "select count(*) as n, count(distinct comment_id) as c from revisions "
        "where revision_count = 1",
    )
    assert counts["n"] == counts["c"]


def test_reactions_follow_the_latest_snapshot(wh: duckdb.DuckDBPyConnection) -> None:
    got = rows(wh, "select reactor_login, content from reactions where comment_id = 'C10'")
    assert got == [{"reactor_login": "bob", "content": "HEART"}]
    f = one(wh, "select * from feedback where comment_id = 'C10'")
    assert (f["thumbs_up"], f["heart"], f["rocket"], f["score"], f["label"]) == (
        0,
        1,
        0,
        1.0,
        "positive",
    )
    assert rows(wh, "select * from reactions where comment_id = 'C11'") == []
    f11 = one(wh, "select * from feedback where comment_id = 'C11'")
    assert (f11["counted_reactions"], f11["score"], f11["label"]) == (0, 0.0, "none")


def test_bot_reactors_and_self_reactions_do_not_count(wh: duckdb.DuckDBPyConnection) -> None:
    f = one(wh, "select * from feedback where comment_id = 'C12'")
    assert (f["thumbs_up"], f["rocket"], f["confused"], f["eyes"], f["hooray"]) == (1, 1, 1, 0, 0)
    # the bot's reaction to its own comment is a bot reaction, not also a self reaction
    assert (f["bot_reactions"], f["self_reactions"], f["counted_reactions"]) == (3, 0, 3)
    total = one(wh, "select count(*) as n from reactions where comment_id = 'C12'")["n"]
    assert f["bot_reactions"] + f["self_reactions"] + f["counted_reactions"] == total
    assert f["score"] == 1.0
    flags = {
        r["reactor_login"]: (r["is_bot_reactor"], r["is_self_reaction"], r["is_counted"])
        for r in rows(wh, "select * from reactions where comment_id = 'C12'")
    }
    assert flags[BOT] == (True, True, False)
    assert flags["ubiquity-os-beta"] == (True, False, False)
    assert flags["alice"] == (False, False, True)
    f13 = one(wh, "select * from feedback where comment_id = 'C13'")
    assert (f13["thumbs_up"], f13["heart"], f13["self_reactions"], f13["score"]) == (0, 1, 1, 1.0)


def test_one_vote_per_person(wh: duckdb.DuckDBPyConnection) -> None:
    f = one(wh, "select * from feedback where comment_id = 'C14'")
    assert (f["thumbs_up"], f["heart"], f["thumbs_down"], f["eyes"]) == (2, 2, 1, 1)
    # alice: HEART (+1, her latest), bob: THUMBS_DOWN (-1), carol: EYES weighs 0, the ghost +1
    assert (f["voters"], f["reaction_score"], f["label"]) == (3, 1.0, "positive")


def test_trivial_corrections_score_nothing(wh: duckdb.DuckDBPyConnection) -> None:
    ws = one(wh, "select * from corrections where comment_id = 'C16'")
    assert ws["is_whitespace_only"] and ws["is_trivial"] and ws["edit_distance"] > 3
    small = one(wh, "select * from corrections where comment_id = 'C17'")
    assert small["edit_distance"] == 1 and small["is_trivial"] and not small["is_whitespace_only"]
    for cid in ("C16", "C17"):
        f = one(wh, "select * from feedback where comment_id = ?", [cid])
        assert (f["human_edits"], f["correction_score"], f["is_corrected"]) == (1, 0.0, False)


def test_every_bot_comment_has_feedback_and_revisions(wh: duckdb.DuckDBPyConnection) -> None:
    n = one(wh, "select count(*) as n from bot_comments")["n"]
    assert one(wh, "select count(*) as n from feedback")["n"] == n
    assert one(wh, "select count(distinct comment_id) as n from revisions")["n"] == n
    orders = rows(wh, "select comment_id, list(revision_index) as idx from revisions group by 1")
    assert all(r["idx"] == list(range(len(r["idx"]))) for r in orders)


def test_weights_and_thresholds_come_from_the_configuration(tmp_path: Path) -> None:
    raw = RawData(tmp_path)
    raw.config = config_from_mapping(
        {
            "feedback": {
                "weights": {"EYES": 2.0, "THUMBS_UP": 0.5},
                "correction_weight": -3.0,
                "trivial_edit_distance": 0,
            },
            "export": {"min_positive_score": 4.0, "max_negative_score": -2.5},
        }
    )
    raw.thread()
    raw.comment("C1", body="Use the configs.")
    raw.snapshot(
        "C1",
        edits=[
            edit(BOT, "Bot", "Use the config.", 0),
            edit("alice", "User", "Use the configs.", 5),
        ],
        reactions=[reaction("bob", "EYES"), reaction("carol", "THUMBS_UP")],
    )
    con = raw.build()
    f = one(con, "select * from feedback")
    assert (f["reaction_score"], f["correction_score"], f["score"], f["label"]) == (
        2.5,
        -3.0,
        -0.5,
        "none",
    )
    weights = {r["content"]: r["weight"] for r in rows(con, "select * from param_reaction_weights")}
    assert weights["EYES"] == 2.0 and weights["HEART"] == 1.0 and len(weights) == 8


def test_phrase_weights_from_corrections_and_rated_answers(tmp_path: Path) -> None:
    raw = RawData(tmp_path)
    raw.thread("T1")
    before = "Put the payout threshold in the legacy yaml file of the repository."
    after = "Put the payout threshold in the ubiquity os config of the repository."
    for i in range(3):  # the same correction three times, each with a thumbs down
        cid = f"C{i}"
        raw.comment(cid, body=answer(after), minute=i)
        raw.snapshot(
            cid,
            edits=[
                edit(BOT, "Bot", answer(before), i),
                edit("alice", "User", answer(after), i + 9),
            ],
            reactions=[reaction("bob", "THUMBS_DOWN")],
        )
    raw.comment("G1", body=answer("The ubiquity os config holds the payout threshold."), minute=20)
    raw.snapshot("G1", reactions=[reaction("bob", "HEART"), reaction("carol", "THUMBS_UP")])
    # liked, but the bot's own revision was deleted from history: its text is the human's
    raw.comment("G2", body=answer("Zebra crossings need painted stripes."), minute=30)
    raw.snapshot(
        "G2",
        edits=[
            edit(BOT, "Bot", "Gone.", 30, deleted=True),
            edit("alice", "User", answer("Zebra crossings need painted stripes."), 31),
        ],
        reactions=[reaction("bob", "HEART"), reaction("carol", "ROCKET")],
    )
    con = raw.build()
    assert one(con, "select label from feedback where comment_id = 'G2'")["label"] == "positive"
    weights = {r["phrase"]: r for r in rows(con, "select * from phrase_weights")}
    assert not any("zebra" in phrase for phrase in weights)  # a human's text, not the bot's
    added, removed = weights["ubiquity os config"], weights["legacy yaml file"]
    assert (added["added"], added["removed"], added["n"]) == (3, 0, 3)
    assert (removed["removed"], removed["rated_bad"], removed["n"]) == (3, 3, 3)
    assert added["weight"] > 0 > removed["weight"]
    assert weights["payout threshold"]["added"] == 0  # in both texts: neither added nor removed
    assert "the" not in weights and "of the" not in weights and "in the" not in weights
    assert all(not p.startswith(("the ", "of ")) for p in weights)
    # the documented formula, for one phrase
    g, b = added["good"], added["bad"]
    big_g, big_b = added["good_documents"], added["bad_documents"]
    assert (big_g, big_b) == (1 + 3, 3 + 3)  # 1 positive answer + 3 corrections; 3 negative + 3
    pi = (g + b + 1) / (big_g + big_b + 2)
    good_rate, bad_rate = (g + 2 * pi) / (big_g + 2), (b + 2 * pi) / (big_b + 2)
    expected = math.log(good_rate / (1 - good_rate)) - math.log(bad_rate / (1 - bad_rate))
    assert math.isclose(added["weight"], expected)
    assert added["support"] == g + b
    ordered = [r["weight"] for r in rows(con, "select weight from phrase_weights")]
    assert ordered == sorted(ordered, reverse=True)


def test_configured_bot_logins_make_edits_bot_edits(tmp_path: Path) -> None:
    raw = RawData(tmp_path)
    raw.config = config_from_mapping({"bots": {"logins": [*DEFAULT_BOT_LOGINS, "helper-bot"]}})
    raw.thread()
    raw.comment("C1", body="Final.")
    raw.snapshot(
        "C1",
        edits=[edit(BOT, "Bot", "First.", 0), edit("helper-bot", "User", "Final.", 5)],
    )
    con = raw.build()
    assert [r["origin"] for r in revisions_of(con, "C1")] == ["bot", "bot"]
    assert rows(con, "select * from corrections") == []


def test_sdk_block_survives_in_bodies_but_not_in_answers(wh: duckdb.DuckDBPyConnection) -> None:
    b = one(wh, "select body, answer_text from bot_comments where comment_id = 'C13'")
    assert b["body"].endswith(SDK_BLOCK) and b["answer_text"] == "Dave's bot answer."


def test_threads_hold_the_latest_state_of_threads_with_bot_comments(tmp_path: Path) -> None:
    raw = RawData(tmp_path)
    raw.thread("T1", body="First body.", run_id="r1", crawled=10_000)
    raw.thread("T1", title="Payouts fail (again)", body="Edited body.", run_id="r2", crawled=20_000)
    raw.thread("T2", body="Only humans here.")
    raw.thread("T3", body="Two bot comments.")
    raw.comment("C1", thread_id="T1")
    raw.comment("H1", thread_id="T2", author="alice", author_type="User", body="Hi.")
    raw.comment("C2", thread_id="T3")
    raw.comment("C3", thread_id="T3", minute=5)
    con = raw.build()
    threads = rows(con, "select thread_id, title, body, bot_comment_count from threads")
    assert threads == [
        {
            "thread_id": "T1",
            "title": "Payouts fail (again)",
            "body": "Edited body.",
            "bot_comment_count": 1,
        },
        {
            "thread_id": "T3",
            "title": "Payouts fail",
            "body": "Two bot comments.",
            "bot_comment_count": 2,
        },
    ]
    titles = rows(con, "select comment_id, thread_title from bot_comments order by comment_id")
    assert [r["thread_title"] for r in titles] == [
        "Payouts fail (again)",
        "Payouts fail",
        "Payouts fail",
    ]


def test_a_question_and_its_answer_in_the_same_second(tmp_path: Path) -> None:
    """GitHub's times are whole seconds: the database id tells which came first (here the
    node ids sort the other way)."""
    raw = RawData(tmp_path)
    raw.thread("T1")
    ask = {"author": "alice", "author_type": "User"}
    raw.comment("Q0", body="/ask the old question", minute=0, database_id=100, **ask)
    raw.comment("A0", body=answer("Old answer."), minute=1, database_id=101)
    raw.comment("Q1", body="/ask the new question", minute=5, database_id=200, **ask)
    raw.comment("A1", body=answer("New answer."), minute=5, database_id=201)
    for cid in ("A0", "A1"):
        raw.snapshot(cid)
    con = raw.build()
    links = rows(con, "select comment_id, question_comment_id from bot_comments order by 1")
    assert links == [
        {"comment_id": "A0", "question_comment_id": "Q0"},
        {"comment_id": "A1", "question_comment_id": "Q1"},
    ]


def test_a_repository_with_only_good_documents_weighs_every_phrase_zero(tmp_path: Path) -> None:
    """Nothing to contrast: without a rule, the prior alone tilted such phrases (audit)."""
    raw = RawData(tmp_path)
    raw.thread("T1", repo="solo")
    for i in range(6):  # six liked answers, two of them about zebras; nothing rated badly
        text = "Zebra crossings need stripes." if i < 2 else f"Kangaroo pouch number {i}."
        raw.comment(f"G{i}", repo="solo", body=answer(text), minute=i)
        raw.snapshot(f"G{i}", reactions=[reaction("bob", "HEART")])
    con = raw.build()
    weights = rows(con, "select phrase, weight, good, bad_documents from phrase_weights")
    assert {r["phrase"] for r in weights} >= {"zebra", "kangaroo pouch"}
    assert all(r["weight"] == 0 and r["bad_documents"] == 0 for r in weights)
