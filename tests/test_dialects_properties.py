"""Properties of the metadata parser (hypothesis) and its linear-time guarantee (step counts).

The complexity tests count the characters the scanner's primitives examine
(`parse_with_steps`) instead of timing anything: on a body four times larger the count must be
about four times larger, and never more than a small multiple of the body's length.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.dialects import is_bot_candidate, parse_comment, parse_with_steps

# ---------- arbitrary bodies: fragments that exercise every branch, glued at random
FRAGMENTS = [
    "<!--",
    "-->",
    "--!>",
    "<!-->",
    "<!-- ",
    "Ubiquity - ",
    "UbiquityOS - ",
    " - ",
    "undefined",
    "@Ubiquity DAO",
    "http://x",
    "\n",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    ":",
    ",",
    "1",
    "--",
    "<",
    ">",
    "&lt;",
    "&#45;",
    "```json\n",
    "```",
    "Thinking...",
    "> [!TIP]\n",
    "**UbiquityOS finished @a's task in 1s** —— [View job](u)",
    "\n---\n",
    "daemon-task-matcher",
    "ubiquityos-agent",
    "Upstream LLM",
    "\ud800",
    "\udfff",
    " ",
]
soup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=60).map("".join)
authors = st.sampled_from([("ubiquity-os", "Bot"), ("alice", "User"), (None, None), ("x", "Bot")])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(body=soup, author=authors)
def test_never_raises_and_stays_linear(body: str, author: tuple[str | None, str | None]) -> None:
    parsed, steps = parse_with_steps(body, author_login=author[0], author_type=author[1])
    assert parsed.parse_error is None or not parsed.parse_error.startswith("internal")
    assert steps <= 12 * len(body) + 200
    parsed.answer_text.encode("utf-8")  # lone surrogates replaced
    json.dumps(parsed.to_record())
    assert len(parsed.answer_text) <= len(body)
    is_bot_candidate(body)
    parse_comment(parsed.answer_text, author_login=author[0], author_type=author[1])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(body=soup)
def test_recognised_headers_never_reach_the_answer(body: str) -> None:
    parsed = parse_comment(body, author_login="ubiquity-os", author_type="Bot")
    for block in parsed.blocks:
        line_end = body.find("\n", block.start, block.end)
        header = body[block.start : line_end if line_end >= 0 else block.end]
        if len(header) > 4 and body.count(header) == 1:
            assert header not in parsed.answer_text


@given(text=st.text())
def test_plain_text_is_its_own_answer(text: str) -> None:
    parsed = parse_comment(text, author_login="alice", author_type="User")
    if "<!--" not in text:
        expected = text.strip().replace("\ud800", "\ufffd")
        assert parsed.blocks == () and parsed.markers == ()
        assert len(parsed.answer_text) == len(expected)


# ---------- realistic bodies: visible text and blocks of every generation, built and read back
SAFE = "abcdefgh xyz.,!?0123\n"
visible_text = st.text(alphabet=SAFE, min_size=1, max_size=40).filter(lambda t: t.strip() != "")
json_text = st.text(alphabet=st.characters(exclude_characters="&"), max_size=12)
json_scalar = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | json_text
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
field = st.text(alphabet="abcdefghABCDEF.<>_0123456789", min_size=1, max_size=12).filter(
    lambda t: t not in {"undefined", "null"}
)
instigator = st.text(alphabet="abcdef XYZ", min_size=1, max_size=12).map(str.strip).filter(bool)
url = st.sampled_from(
    [
        "https://github.com/ubiquity-os-marketplace/command-ask/actions/runs/1",
        "https://ubiquity-os-command-wallet-main.ubiquity.workers.dev",
        "https://console.deno.com/ubiquity-os/daemon-pricing/observability/logs?x=1",
    ]
)


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("--", "&#45;&#45;")


@dataclass(frozen=True)
class Built:
    text: str
    dialect: str | None  # None: a visible piece
    fields: dict[str, Any]
    metadata: Any = None


@st.composite
def blocks(draw: st.DrawFn) -> Built:
    payload = draw(json_value)
    pretty = json.dumps(payload, indent=2)
    c, v, i, u = draw(field), draw(field), draw(instigator), draw(url)
    kind = draw(st.sampled_from(["legacy", "runurl", "ask", "v1", "first", "v200", "v201", "tok"]))
    headers = {
        "legacy": ("ubiquity-legacy", f"Ubiquity - ok - {c} - {v}", False),
        "runurl": ("ubiquity-legacy-runurl", f"Ubiquity - ok - {c} - {v} - {u}", False),
        "ask": ("command-ask-llm", f"Ubiquity - ubiquity-os-llm-response - {c} - undefined", True),
        "v1": ("sdk-v1", "Ubiquity - undefined -  - undefined", True),
        "first": ("ubiquityos-instigator-first", f"UbiquityOS - @{i} - {u} - {c} - {v}", True),
        "v200": ("ubiquityos-v2.0.0", f"UbiquityOS - {u} - {c} - {v} - @{i}", True),
        "v201": ("ubiquityos-v2.0.1+", f"UbiquityOS - {c} - {v} - @{i} - {u}", True),
    }
    if kind == "tok":
        usage = {"input": draw(st.integers(0, 9999)), "output": 1, "total": 2}
        return Built(f"<!--\n{json.dumps(usage, indent=2)}\n--!>", "token-usage", {}, usage)
    dialect, header, escaped = headers[kind]
    text = f"<!-- {header}\n{_escape(pretty) if escaped else pretty}\n-->"
    fields: dict[str, Any] = {}
    if kind in {"first", "v200", "v201"}:
        fields = {"instigator": i, "run_url": u, "version": v}
    elif kind in {"legacy", "runurl"}:
        fields = {"header_class": "ok", "version": v, "run_url": u if kind == "runurl" else None}
    if kind != "v1":
        fields["caller"] = c
    return Built(text, dialect, fields, payload)


MARKER_PIECES = [
    "<!-- daemon-task-matcher:suggestions -->",
    "<!-- daemon-spec-rewriter - 2025-01-01 -->",
    "<!-- Upstream LLM 503: busy -->",
]
pieces = st.lists(
    visible_text.map(lambda t: Built(t, None, {}))
    | blocks()
    | st.sampled_from(MARKER_PIECES).map(lambda t: Built(t, "marker", {})),
    min_size=1,
    max_size=6,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(parts=pieces)
def test_built_bodies_read_back(parts: list[Built]) -> None:
    body = "\n".join(part.text for part in parts)
    parsed = parse_comment(body, author_login="ubiquity-os", author_type="Bot")
    built = [part for part in parts if part.dialect not in {None, "marker"}]
    assert [block.dialect for block in parsed.blocks] == [part.dialect for part in built]
    assert parsed.all_metadata == [part.metadata for part in built]
    for block, part in zip(parsed.blocks, built, strict=True):
        for name, value in part.fields.items():
            assert getattr(block, name) == value
    # The answer is the visible pieces with the newlines that joined them.
    expected = "\n".join(part.text if part.dialect is None else "" for part in parts).strip()
    assert parsed.answer_text == expected
    assert parsed.parse_error is None
    again = parse_comment(parsed.answer_text, author_login="ubiquity-os", author_type="Bot")
    assert again.blocks == () and again.markers == ()
    assert again.answer_text == parsed.answer_text
    if built:
        assert is_bot_candidate(body)


# ---------- linear time, measured in steps
BLOCK = '<!-- UbiquityOS - handler - 1234 - @bob - http://localhost\n{\n  "caller": "x"\n}\n-->\n'


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: unit * max(1, n // len(unit))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "unterminated opens": _repeat("<!--"),
    "unterminated header then {": _repeat("<!-- Ubiquity - a - b - c\n{"),
    "thousands of blocks": _repeat(BLOCK),
    "headers without newline": _repeat("<!-- UbiquityOS - "),
    "one-line headers": _repeat("<!-- Ubiquity - x -->"),
    "token-usage opens": _repeat("<!--[1,"),
    "nested markers": _repeat("<!-- daemon-task-matcher "),
    "closes only": _repeat("-->"),
    "legacy string of closes": lambda n: '<!-- Ubiquity - a - b - c\n{"s": "' + "-->" * (n // 3),
    "unterminated JSON string": lambda n: '<!--{"a": "' + "--><!--[1," * (n // 10),
    "deep nesting": lambda n: "<!-- Ubiquity - a - b - c\n" + "[" * n,
    "deep nesting, many blocks": _repeat("<!-- Ubiquity - a - b - c\n" + "[" * 1500 + "\n-->"),
    "json fences": lambda n: "```json\n" * (n // 8) + BLOCK,
    "placeholders": _repeat("Thinking...\n\n"),
    "surrogates": _repeat("\ud800<!-- Ubiquity - a - b - c\n\udfff"),
    "crlf blocks": _repeat(BLOCK.replace("\n", "\r\n")),
    "long line": lambda n: "<!-- Ubiquity - a - b - c\n" + "x" * n,
    # each failed decode's error counts the lines before it: O(position)
    "closed invalid token JSON": _repeat("<!--[1,-->"),
    "closed invalid header JSON": _repeat("<!-- Ubiquity - a - b - c\n{-->\n"),
    "opens inside an unknown comment": _repeat("<!-- note <!--[1, <!-- x "),
}


@pytest.mark.parametrize("family", list(ADVERSARIAL))
def test_adversarial_bodies_take_linear_steps(family: str) -> None:
    make = ADVERSARIAL[family]
    small, large = make(20_000), make(80_000)
    _, steps_small = parse_with_steps(small, author_login="ubiquity-os", author_type="Bot")
    parsed, steps_large = parse_with_steps(large, author_login="ubiquity-os", author_type="Bot")
    assert steps_large <= 8 * len(large) + 100
    growth = (steps_large / len(large)) / (steps_small / len(small))
    assert growth < 1.1, (family, steps_small, steps_large)
    assert parsed.parse_error is None or not parsed.parse_error.startswith("internal")


def test_a_megabyte_body_parses() -> None:
    body = ("answer text " * 40 + "\n" + BLOCK) * (1_000_000 // (480 + len(BLOCK)))
    parsed, steps = parse_with_steps(body, author_login="ubiquity-os", author_type="Bot")
    assert len(body) > 900_000 and len(parsed.blocks) > 1000
    assert steps <= 8 * len(body)
