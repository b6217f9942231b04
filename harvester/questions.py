"""Which human comment a bot answer replies to (docs/ubiquity-metadata.md, "How LLM answers...").

Nothing in GitHub's data links an answer to its question, so the rules are:
- An inline review comment answers within its review thread: the nearest earlier human comment
  of that thread that invokes the bot; else the human comment its `replyTo` names; else the
  nearest earlier human comment of the thread. GitHub's `replyTo` points every reply at the
  thread's FIRST comment, which is often the bot's own remark, so the thread (all comments
  whose `replyTo` chain leads to that root) is searched, not `replyTo` alone; a `replyTo` that
  names a later reply (a direct parent) leads to the same thread. A bot's first remark in a
  thread has no question (its context is the diff hunk).
- An issue or pull-request comment: the nearest earlier human comment of the conversation
  (issue comments and non-empty review bodies) that invokes the bot, else the nearest earlier
  human conversation comment, else None (then the thread's title and body are the context).
- A review body (a code review bot's summary) answers the pull request itself: None.

Invoking means a trigger phrase of `bots.triggers` (`/ask`, `@UbiquityOS`; whole word, any
case) OUTSIDE fenced or indented code, code spans, quoted lines and HTML comments: quoting an
earlier `/ask` while replying to it, or showing the command in backticks, does not call the bot.

Pure and linear: one pass over the thread in time order, remembering the latest human and the
latest invoking comment per conversation and per review thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from harvester.config import BotsConfig
from harvester.dialects import default_bots, parse_comment

LinkRule = Literal[
    "review_thread_invocation",
    "review_reply_to",
    "review_thread_human",
    "invocation",
    "nearest_human",
    "none",
]
_CONVERSATION_KINDS = frozenset({"issue_comment", "review"})


@dataclass(frozen=True, slots=True)
class ThreadComment:
    """A comment of one issue or pull request, as the crawler lands it.

    `kind` is `issue_comment`, `review` or `review_comment`; `reply_to_id` is a review
    comment's `replyTo` (the first comment of its review thread); `is_bot` says whether the
    author is a bot (a `Bot`, or a configured bot login). `created_at` only orders the
    comments: a datetime, or microseconds since the epoch (what the build passes, because
    turning a million timestamps into datetimes costs seconds).
    """

    id: str
    kind: str
    author_login: str | None
    author_type: str | None
    body: str | None
    created_at: datetime | int
    reply_to_id: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class QuestionLink:
    answer_id: str
    question_id: str | None
    rule: LinkRule


@dataclass(slots=True)
class _Latest:
    """The latest human comment and the latest invoking one, of one conversation or thread."""

    human: str | None = None
    invoking: str | None = None
    humans: set[str] = field(default_factory=set)  # every human comment so far


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_CLOSING_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")  # no info string after it
_INDENTED = re.compile(r"(?: {4}|\t)")
_BACKTICKS = re.compile(r"`+")


def visible_prose(text: str) -> str:
    """The text without fenced or indented code, quoted lines, HTML comments and code spans
    (CommonMark's rules, simplified: no lists or nested blocks)."""
    kept: list[str] = []
    fence: str | None = None
    after_blank = True  # an indented line starts a code block after a blank line only
    in_indented = False
    for line in _without_html_comments(text).splitlines():
        blank = not line.strip()
        if fence is not None:
            closing = _CLOSING_FENCE.fullmatch(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                fence = None
        elif (opening := _FENCE.match(line)) is not None:
            fence = opening.group(1)
        elif not blank and _INDENTED.match(line) and (after_blank or in_indented):
            in_indented = True
        elif not line.lstrip().startswith(">"):
            in_indented = in_indented and blank
            kept.append(line)
        after_blank = blank
    return _without_code_spans("\n".join(kept))


def _without_code_spans(text: str) -> str:
    """`text` with each code span blanked: a run of n backticks up to the next run of exactly
    n (it may cross lines). Linear: each run's next equal run is looked up, not searched."""
    runs = list(_BACKTICKS.finditer(text))
    if len(runs) < 2:
        return text
    next_equal: list[int | None] = [None] * len(runs)
    last: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        size = runs[index].end() - runs[index].start()
        next_equal[index] = last.get(size)
        last[size] = index
    parts: list[str] = []
    pos = index = 0
    while index < len(runs):
        closer = next_equal[index]
        if closer is None:  # no closing run: literal backticks
            index += 1
            continue
        parts += [text[pos : runs[index].start()], " "]
        pos = runs[closer].end()
        index = closer + 1
    parts.append(text[pos:])
    return "".join(parts)


def _without_html_comments(text: str) -> str:
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        parts.append(text[pos:start])
        end = text.find("-->", start + 2)
        if end < 0:
            return "".join(parts)
        pos = end + 3
    parts.append(text[pos:])
    return "".join(parts)


def invokes_bot(text: str | None, bots: BotsConfig | None = None) -> bool:
    """Whether a human comment calls the bot with a trigger phrase outside code and quotes."""
    if not text:
        return False
    trigger = (bots or default_bots()).trigger_regex()
    return trigger.search(visible_prose(text)) is not None


def _is_human(comment: ThreadComment) -> bool:
    return (
        not comment.is_bot and comment.author_type != "Bot" and bool((comment.body or "").strip())
    )


def _default_answers(comments: Sequence[ThreadComment], bots: BotsConfig) -> set[str]:
    """The bot comments `parse_comment` calls LLM answers."""
    answers: set[str] = set()
    for comment in comments:
        if comment.is_bot or comment.author_type == "Bot":
            parsed = parse_comment(
                comment.body,
                author_login=comment.author_login,
                author_type=comment.author_type,
                bots=bots,
            )
            if parsed.comment_kind == "llm_answer":
                answers.add(comment.id)
    return answers


def question_links(
    comments: Sequence[ThreadComment],
    *,
    bots: BotsConfig | None = None,
    answer_ids: Iterable[str] | None = None,
) -> list[QuestionLink]:
    """For each bot answer of one thread, its question comment and the rule that found it.

    `comments` are all comments of the thread (any order; ties in `created_at` keep the given
    order). `answer_ids` says which comments are answers; by default the bot comments whose
    `comment_kind` is `llm_answer`.
    """
    bots = bots or default_bots()
    answers = set(answer_ids) if answer_ids is not None else _default_answers(comments, bots)
    trigger = bots.trigger_regex()
    conversation = _Latest()
    review_threads: dict[str, _Latest] = {}
    links: list[QuestionLink] = []
    roots: dict[str, str] = {}  # review comment -> the first comment of its review thread
    for comment in sorted(comments, key=lambda c: c.created_at):
        parent = comment.reply_to_id
        root = roots.get(parent, parent) if parent else comment.id
        roots[comment.id] = root
        if comment.id in answers:
            links.append(_link(comment, conversation, review_threads.get(root)))
        if not _is_human(comment):
            continue
        latest = conversation
        if comment.kind == "review_comment":
            latest = review_threads.setdefault(root, _Latest())
            latest.humans.add(comment.id)
        elif comment.kind not in _CONVERSATION_KINDS:
            continue
        latest.human = comment.id
        if trigger.search(visible_prose(comment.body or "")) is not None:
            latest.invoking = comment.id
    return links


def _link(answer: ThreadComment, conversation: _Latest, thread: _Latest | None) -> QuestionLink:
    if answer.kind == "review":
        return QuestionLink(answer.id, None, "none")
    if answer.kind == "review_comment":
        if thread is not None and thread.invoking is not None:
            return QuestionLink(answer.id, thread.invoking, "review_thread_invocation")
        if thread is not None and answer.reply_to_id in thread.humans:
            return QuestionLink(answer.id, answer.reply_to_id, "review_reply_to")
        if thread is not None and thread.human is not None:
            return QuestionLink(answer.id, thread.human, "review_thread_human")
        return QuestionLink(answer.id, None, "none")
    if conversation.invoking is not None:
        return QuestionLink(answer.id, conversation.invoking, "invocation")
    if conversation.human is not None:
        return QuestionLink(answer.id, conversation.human, "nearest_human")
    return QuestionLink(answer.id, None, "none")


def link_questions(
    comments: Sequence[ThreadComment],
    *,
    bots: BotsConfig | None = None,
    answer_ids: Iterable[str] | None = None,
) -> dict[str, str | None]:
    """`{answer_id: question_id or None}` for each bot answer of one thread."""
    links = question_links(comments, bots=bots, answer_ids=answer_ids)
    return {link.answer_id: link.question_id for link in links}
