"""Question linking: which human comment each bot answer replies to (`harvester.questions`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from harvester.config import DEFAULT_BOT_LOGINS, BotsConfig
from harvester.questions import (
    ThreadComment,
    invokes_bot,
    link_questions,
    question_links,
    visible_prose,
)
from harvester.simulator.model import Comment
from harvester.simulator.truth import comment_id
from harvester.simulator.world import WorldSpec, generate_world

T0 = datetime(2025, 3, 1, tzinfo=UTC)
ANSWER = (
    "The handler retries three times.\n\n<!-- UbiquityOS - askQuestion - 1 - @alice - "
    "https://github.com/ubiquity-os-marketplace/command-ask/actions/runs/1\n"
    '{\n  "groundTruths": ["x"]\n}\n-->'
)


class Thread:
    """A thread built in time order, one minute apart."""

    def __init__(self) -> None:
        self.comments: list[ThreadComment] = []

    def add(
        self,
        body: str,
        *,
        login: str = "alice",
        kind: str = "issue_comment",
        reply_to: str | None = None,
        bot: bool = False,
    ) -> str:
        cid = f"C{len(self.comments)}"
        self.comments.append(
            ThreadComment(
                id=cid,
                kind=kind,
                author_login=login,
                author_type="Bot" if bot else "User",
                body=body,
                created_at=T0 + timedelta(minutes=len(self.comments)),
                reply_to_id=reply_to,
                is_bot=bot,
            )
        )
        return cid

    def answer(
        self,
        body: str = ANSWER,
        *,
        login: str = "ubiquity-os",
        kind: str = "issue_comment",
        reply_to: str | None = None,
    ) -> str:
        return self.add(body, login=login, kind=kind, reply_to=reply_to, bot=True)


def test_issue_answer_links_to_the_nearest_invocation() -> None:
    t = Thread()
    t.add("Some context first.")
    asked = t.add("/ask how does the retry work?", login="bob")
    t.add("I think it is in utils.", login="carol")
    answer = t.answer()
    links = question_links(t.comments)
    assert [(link.answer_id, link.question_id, link.rule) for link in links] == [
        (answer, asked, "invocation")
    ]


def test_without_invocation_the_nearest_human_comment() -> None:
    t = Thread()
    t.add("First.")
    last = t.add("Why does it fail?", login="bob")
    answer = t.answer()
    assert link_questions(t.comments) == {answer: last}
    assert question_links(t.comments)[0].rule == "nearest_human"


def test_no_earlier_human_comment_means_no_question() -> None:
    t = Thread()
    answer = t.answer()
    later = t.add("/ask something else")
    second = t.answer()
    assert link_questions(t.comments) == {answer: None, second: later}


def test_bot_comments_are_never_questions() -> None:
    t = Thread()
    asked = t.add("@UbiquityOS summarise this")
    t.answer("/ask is how you call me.")
    answer = t.answer()
    links = link_questions(t.comments)
    assert links[answer] == asked


@pytest.mark.parametrize(
    ("text", "invokes"),
    [
        ("/ask what is this?", True),
        ("/ASK what is this?", True),
        ("Hey @ubiquityos, what is this?", True),
        ("see https://x.dev/ask for docs", False),
        ("email me@UbiquityOS.com", False),
        ("> /ask what is this?\n\nI had the same question.", False),
        ("```\n/ask what is this?\n```", False),
        ("~~~md\n@UbiquityOS hi\n~~~\nno call", False),
        ("Run `/ask <question>` to call it.", False),
        ("<!-- /ask hidden -->visible", False),
        ("```\ncode\n```\n/ask after the fence", True),
        ("Usage:\n\n    /ask <question>\n", False),  # an indented code block
        ("Run it\n    /ask here", True),  # indented, but a paragraph's continuation
        ("``/ask`` runs it", False),
        ("`foo\n/ask` spans two lines", False),
        ("```\ncode\n```js\n/ask still in the fence\n```", False),
        ("`a `` /ask", True),  # unmatched backticks are text
        ("", False),
    ],
)
def test_invocations_outside_code_and_quotes(text: str, invokes: bool) -> None:
    assert invokes_bot(text) is invokes


def test_configured_triggers() -> None:
    bots = BotsConfig(triggers=("@acme-bot", "!explain"))
    assert invokes_bot("please @Acme-Bot look", bots)
    assert invokes_bot("!EXPLAIN this", bots)
    assert not invokes_bot("/ask this", bots)
    t = Thread()
    first = t.add("!explain the diff")
    t.add("unrelated")
    answer = t.answer("Sure, here goes.", login="acme-bot")
    assert link_questions(t.comments, bots=bots, answer_ids=[answer]) == {answer: first}


def test_quoted_invocation_is_not_the_question() -> None:
    t = Thread()
    asked = t.add("/ask how do permits work?")
    t.add("> /ask how do permits work?\n\n+1, same question", login="bob")
    answer = t.answer()
    assert link_questions(t.comments)[answer] == asked


def test_review_thread_reply_links_within_its_thread() -> None:
    t = Thread()
    review = t.add("Looks good overall.", login="bob", kind="review")
    root = t.add("@UbiquityOS why this loop?", login="bob", kind="review_comment")
    t.add("/ask unrelated conversation question", login="carol")
    answer = t.answer(kind="review_comment", reply_to=root)
    links = question_links(t.comments)
    assert links[0].answer_id == answer
    assert links[0].question_id == root and links[0].rule == "review_thread_invocation"
    assert review not in link_questions(t.comments).values()


def test_reply_to_a_bot_remark_links_to_the_human_reply_not_replyto() -> None:
    """GitHub's replyTo is the thread's first comment: here the bot's own remark."""
    t = Thread()
    remark = t.answer("This swallows the error.", kind="review_comment")
    reply = t.add("Is that a problem here?", login="bob", kind="review_comment", reply_to=remark)
    answer = t.answer("Yes: failures go unnoticed.", kind="review_comment", reply_to=remark)
    links = {link.answer_id: link for link in question_links(t.comments)}
    assert links[remark].question_id is None  # a bot's first remark: the diff is the context
    assert (links[answer].question_id, links[answer].rule) == (reply, "review_thread_human")


def test_without_invocation_a_review_answer_links_to_its_reply_to() -> None:
    """The human comment `replyTo` names beats a later human reply that does not ask."""
    t = Thread()
    root = t.add("Why this loop?", login="bob", kind="review_comment")
    t.add("I wondered too.", login="carol", kind="review_comment", reply_to=root)
    answer = t.answer("It retries.", kind="review_comment", reply_to=root)
    (link,) = question_links(t.comments)
    assert (link.answer_id, link.question_id, link.rule) == (answer, root, "review_reply_to")


def test_reply_to_a_later_reply_stays_in_its_review_thread() -> None:
    """A stand-in whose `replyTo` is the direct parent: the chain leads to the same thread."""
    t = Thread()
    root = t.add("Why this loop?", login="bob", kind="review_comment")
    reply = t.add("Still unclear to me.", login="carol", kind="review_comment", reply_to=root)
    answer = t.answer("It retries.", kind="review_comment", reply_to=reply)
    (link,) = question_links(t.comments)
    assert (link.answer_id, link.question_id, link.rule) == (answer, reply, "review_reply_to")
    # an invocation anywhere in the thread still wins
    asking = t.add(
        "@UbiquityOS and the timeout?", login="bob", kind="review_comment", reply_to=reply
    )
    second = t.answer("30 s.", kind="review_comment", reply_to=asking)
    links = {x.answer_id: x for x in question_links(t.comments)}
    assert (links[second].question_id, links[second].rule) == (asking, "review_thread_invocation")


def test_review_bodies_answer_the_pull_request_itself() -> None:
    t = Thread()
    t.add("/ask review this please")
    review = t.answer("## Pull request overview\n\nAdds retries.", kind="review")
    assert link_questions(t.comments) == {review: None}


def test_default_answers_are_llm_answers_only() -> None:
    t = Thread()
    t.add("/start")
    t.answer(
        'Assigned.\n\n<!-- Ubiquity - Assignment - start - abc1234\n{\n  "duration": 1\n}\n-->'
    )
    t.add("/ask what next?")
    answer = t.answer()
    assert list(link_questions(t.comments)) == [answer]


def test_empty_reviews_and_ghosts() -> None:
    t = Thread()
    asked = t.add("/ask about the tests", login="bob")
    t.add("", login="carol", kind="review")  # an empty review holding inline comments
    ghost = ThreadComment(
        "G", "issue_comment", None, None, "I ran into this too.", T0 + timedelta(minutes=5)
    )
    answer = t.answer()
    links = link_questions([*t.comments, ghost])
    assert links[answer] == asked


def test_order_comes_from_created_at() -> None:
    t = Thread()
    asked = t.add("/ask first")
    answer = t.answer()
    assert link_questions(list(reversed(t.comments))) == {answer: asked}


def test_long_threads_in_one_pass() -> None:
    t = Thread()
    for i in range(3000):
        t.add(f"/ask question {i}")
        t.answer()
    links = question_links(t.comments)
    assert len(links) == 3000
    assert all(link.question_id == f"C{2 * i}" for i, link in enumerate(links))


def test_visible_prose() -> None:
    text = "a\n```py\n/ask x\n```\n> quoted\nb `code` c<!-- hidden -->d"
    assert visible_prose(text).split() == ["a", "b", "cd"]  # a hidden comment is no space


# ---------- the simulator's ground truth
BOTS = BotsConfig(logins=(*DEFAULT_BOT_LOGINS, "coderabbitai", "copilot-pull-request-reviewer"))


def _records(comments: list[Comment]) -> list[ThreadComment]:
    return [
        ThreadComment(
            id=comment_id(c),
            kind=c.kind,
            author_login=c.author.login if c.author else None,
            author_type=c.author.typename if c.author else None,
            body=c.body,
            created_at=datetime.fromtimestamp(c.created_at, UTC),
            reply_to_id=comment_id(c.reply_to) if c.reply_to else None,
            is_bot=c.author is not None and c.author.typename == "Bot",
        )
        for c in comments
    ]


@pytest.mark.parametrize(("preset", "seed"), [("small", 1), ("tiny", 4)])
def test_questions_match_the_simulator_ground_truth(preset: str, seed: int) -> None:
    world = generate_world(WorldSpec.preset(preset, seed=seed))
    rules: Counter[str] = Counter()
    checked = 0
    for thread in world.threads:
        comments = [*thread.comments]
        for review in thread.reviews:
            comments += [review, *review.review_comments]
        comments = [c for c in comments if not c.deleted]
        links = {link.answer_id: link for link in question_links(_records(comments), bots=BOTS)}
        for c in comments:
            if c.truth is None or c.truth.kind != "llm_answer":
                continue
            link = links.get(comment_id(c))
            assert link is not None, c
            expected = comment_id(c.truth.question) if c.truth.question else None
            assert link.question_id == expected, (c, link)
            rules[link.rule] += 1
            checked += 1
    assert checked > 20
    assert rules["invocation"] > 0 and rules["review_thread_invocation"] > 0
    assert rules["review_thread_human"] > 0 and rules["none"] > 0
