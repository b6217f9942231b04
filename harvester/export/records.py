"""Record shapes of every format, from one `Example` (pure functions).

TRL (conversational, explicit prompt): `prompt` / `completion`, `prompt` / `chosen` /
`rejected`, `prompt` / `completion` / `label`. OpenAI: `messages`; DPO `input` /
`preferred_output` / `non_preferred_output`. Hugging Face: the TRL columns plus provenance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from harvester.export.prompts import Message, assistant

SUBSETS = ("sft", "preference", "kto")


@dataclass
class Example:
    subset: str
    comment_id: str
    org: str
    repo: str
    thread_id: str
    url: str | None
    source: str
    score: float | None
    prompt: list[Message]
    split: str = "train"
    completion: str | None = None
    chosen: str | None = None
    rejected: str | None = None
    label: bool | None = None
    rejected_comment_id: str | None = None
    margin: float | None = None
    run_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        key = "|".join([self.subset, self.comment_id, self.rejected_comment_id or ""])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def trl_record(example: Example) -> dict[str, Any]:
    record: dict[str, Any] = {"id": example.id, "prompt": example.prompt}
    if example.subset == "preference":
        record["chosen"] = assistant(example.chosen or "")
        record["rejected"] = assistant(example.rejected or "")
    else:
        record["completion"] = assistant(example.completion or "")
    if example.subset == "kto":
        record["label"] = example.label
    return record


def hf_record(example: Example) -> dict[str, Any]:
    record = trl_record(example)
    record.update(
        comment_id=example.comment_id,
        org=example.org,
        repo=example.repo,
        thread_id=example.thread_id,
        url=example.url,
        source=example.source,
        score=example.score,
    )
    if example.subset == "preference":
        record.update(rejected_comment_id=example.rejected_comment_id, margin=example.margin)
    return record


def openai_record(example: Example) -> dict[str, Any]:
    if example.subset == "preference":
        return {
            "input": {"messages": example.prompt},
            "preferred_output": assistant(example.chosen or ""),
            "non_preferred_output": assistant(example.rejected or ""),
        }
    return {"messages": [*example.prompt, *assistant(example.completion or "")]}


MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
_TRL_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "sft": [("id", pa.string()), ("prompt", MESSAGES), ("completion", MESSAGES)],
    "preference": [
        ("id", pa.string()),
        ("prompt", MESSAGES),
        ("chosen", MESSAGES),
        ("rejected", MESSAGES),
    ],
    "kto": [
        ("id", pa.string()),
        ("prompt", MESSAGES),
        ("completion", MESSAGES),
        ("label", pa.bool_()),
    ],
}
_PROVENANCE = [
    ("comment_id", pa.string()),
    ("org", pa.string()),
    ("repo", pa.string()),
    ("thread_id", pa.string()),
    ("url", pa.string()),
    ("source", pa.string()),
    ("score", pa.float64()),
]


def trl_schema(subset: str) -> pa.Schema:
    return pa.schema(_TRL_COLUMNS[subset])


def hf_schema(subset: str) -> pa.Schema:
    extra = [("rejected_comment_id", pa.string()), ("margin", pa.float64())]
    return pa.schema(_TRL_COLUMNS[subset] + _PROVENANCE + (extra if subset == "preference" else []))
