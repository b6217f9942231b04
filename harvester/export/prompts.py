"""The prompt of an exported example: the partner's system prompt, then one user message with
the thread's context and the question, as TRL and OpenAI expect (`system`, `user` roles).

What goes in the user message, in order: the repository and the thread's kind, number and
title; the thread's body cut to `body_chars`; for an inline review comment the file path and
diff hunk; last the question (the human comment the answer replies to). Review bodies and
answers without a linked question end with the instruction the bot was given implicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict


class Message(TypedDict):
    role: str
    content: str


TRUNCATED = "\n[…truncated]"
REVIEW_REQUEST = "Review this pull request."
NO_QUESTION = "Reply to this thread."


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters (at a line or word end where one is near)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit == 0:
        return ""
    cut = text[:limit]
    for sep in ("\n", " "):
        at = cut.rfind(sep)
        if at >= limit * 0.8:
            cut = cut[:at]
            break
    return cut.rstrip() + TRUNCATED


def user_message(row: Mapping[str, Any], body_chars: int) -> str:
    """The user turn for one bot comment (a row of the export queries)."""
    thread_kind = "Pull request" if row.get("thread_kind") == "pull_request" else "Issue"
    number = row.get("thread_number")
    title = (row.get("thread_title") or "").strip()
    heading = f"{thread_kind} #{number}" if number is not None else thread_kind
    parts = [f"Repository: {row['org']}/{row['repo']}", f"{heading}: {title}".rstrip(": ")]
    body = truncate(row.get("thread_body") or "", body_chars)
    if body:
        parts.append(body)
    if row.get("path"):
        hunk = (row.get("diff_hunk") or "").strip()
        parts.append(f"File: {row['path']}" + (f"\n```diff\n{hunk}\n```" if hunk else ""))
    question = (row.get("question_text") or "").strip()
    if question:
        asker = row.get("question_author_login")
        parts.append((f"Question from @{asker}:\n" if asker else "Question:\n") + question)
    elif row.get("kind") == "review":
        parts.append(REVIEW_REQUEST)
    else:
        parts.append(NO_QUESTION)
    return "\n\n".join(parts)


def prompt_messages(user: str, system_prompt: str | None) -> list[Message]:
    """`[system?, user]`: the system message first, only when the partner has one."""
    messages: list[Message] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt.strip()})
    messages.append({"role": "user", "content": user})
    return messages


def assistant(text: str) -> list[Message]:
    """A completion: exactly one assistant message."""
    return [{"role": "assistant", "content": text}]
