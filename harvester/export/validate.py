"""Checks every record against what its consumer accepts, before it is written.

`openai_problems` follows the OpenAI cookbook's fine-tuning data checks (a dict per line,
`messages` present, `role` and `content` in each message and no keys beyond the allowed ones,
known roles, non-empty string content, at least one assistant message) plus the DPO shape.
`trl_problems` checks TRL's conversational shapes (docs/exports.md). A record with a problem is
a bug in the exporter, so the export stops instead of writing a file a trainer would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ROLES = ("system", "user", "assistant")
OPENAI_MESSAGE_KEYS = frozenset({"role", "content", "weight", "name", "function_call"})
TOKEN_LIMIT = 16_385
CHARS_PER_TOKEN = 4  # a conservative estimate without a tokenizer


class InvalidRecord(ValueError):
    """A record its consumer would refuse (the message says which rule)."""


def estimated_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    return sum(len(str(m.get("content", ""))) for m in messages) // CHARS_PER_TOKEN + 1


def _message_problems(message: Any, where: str, *, openai: bool) -> list[str]:
    if not isinstance(message, Mapping):
        return [f"{where}: not an object"]
    problems = []
    if "role" not in message or "content" not in message:
        problems.append(f"{where}: missing role or content")
    if openai and (extra := set(message) - OPENAI_MESSAGE_KEYS):
        problems.append(f"{where}: unrecognised keys {sorted(extra)}")
    if not openai and set(message) - {"role", "content"}:
        problems.append(f"{where}: keys other than role and content")
    if message.get("role") not in ROLES:
        problems.append(f"{where}: unknown role {message.get('role')!r}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        problems.append(f"{where}: content is not a non-empty string")
    if "weight" in message and (message["role"] != "assistant" or message["weight"] not in (0, 1)):
        problems.append(f"{where}: weight only as 0 or 1 on assistant messages")
    return problems


def _conversation_problems(messages: Any, where: str, *, openai: bool) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return [f"{where}: not a non-empty list of messages"]
    problems = []
    for i, message in enumerate(messages):
        problems += _message_problems(message, f"{where}[{i}]", openai=openai)
        if isinstance(message, Mapping) and message.get("role") == "system" and i > 0:
            problems.append(f"{where}[{i}]: a system message only comes first")
    return problems


def _single_assistant(messages: Any, where: str, *, openai: bool) -> list[str]:
    problems = _conversation_problems(messages, where, openai=openai)
    if not problems and (len(messages) != 1 or messages[0]["role"] != "assistant"):
        problems.append(f"{where}: exactly one assistant message expected")
    return problems


def _prompt_problems(prompt: Any, where: str, *, openai: bool) -> list[str]:
    problems = _conversation_problems(prompt, where, openai=openai)
    if not problems and prompt[-1]["role"] != "user":
        problems.append(f"{where}: the last prompt message must be the user's")
    return problems


def trl_problems(record: Mapping[str, Any], kind: str) -> list[str]:
    """Problems of a TRL record: `sft` (prompt/completion), `preference`, `kto`."""
    problems = _prompt_problems(record.get("prompt"), "prompt", openai=False)
    if kind in ("sft", "kto"):
        problems += _single_assistant(record.get("completion"), "completion", openai=False)
    if kind == "kto" and not isinstance(record.get("label"), bool):
        problems.append("label: not a boolean")
    if kind == "preference":
        problems += _single_assistant(record.get("chosen"), "chosen", openai=False)
        problems += _single_assistant(record.get("rejected"), "rejected", openai=False)
        if not problems and record["chosen"][0]["content"] == record["rejected"][0]["content"]:
            problems.append("chosen and rejected are the same text")
    return problems


def openai_problems(record: Any, kind: str) -> list[str]:
    """Problems of an OpenAI record: `sft` (messages) or `dpo` (input and two outputs)."""
    if not isinstance(record, Mapping):
        return ["the line is not an object"]
    if kind == "sft":
        problems = _conversation_problems(record.get("messages"), "messages", openai=True)
        if not problems and not any(m["role"] == "assistant" for m in record["messages"]):
            problems.append("messages: no assistant message")
        if set(record) - {"messages", "tools", "parallel_tool_calls"}:
            problems.append(f"unrecognised top-level keys {sorted(set(record) - {'messages'})}")
        return problems
    problems = []
    inputs = record.get("input")
    if not isinstance(inputs, Mapping):
        problems.append("input: not an object")
    else:
        problems += _prompt_problems(inputs.get("messages"), "input.messages", openai=True)
    problems += _single_assistant(record.get("preferred_output"), "preferred_output", openai=True)
    problems += _single_assistant(
        record.get("non_preferred_output"), "non_preferred_output", openai=True
    )
    return problems


def require_valid(problems: list[str], what: str) -> None:
    if problems:
        raise InvalidRecord(f"{what}: " + "; ".join(problems))
