"""The parser on real bodies (../shared/fixtures/ubiquity) and on the simulator's ground truth.

The simulator annotates each bot comment with its header generation, plugin, kind, caller,
answer text and markers. Its names differ in spelling from the parser's (`sdk_v2` is
`ubiquityos-v2.0.1+`), mapped below. Where the truth states something the body does not carry,
the test lists the case by name (`KNOWN_GAPS`) instead of bending the parser; every other
comparison must agree exactly.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvester.config import DEFAULT_BOT_LOGINS, BotsConfig
from harvester.dialects import ParsedComment, is_bot_candidate, parse_comment
from harvester.simulator import bodies as B
from harvester.simulator.model import Comment, World
from harvester.simulator.world import WorldSpec, generate_world

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures" / "ubiquity"


def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"{FIXTURES} is absent (../shared sits beside the project in CI only)")
    return FIXTURES


def _header_line(body: str) -> tuple[str, str, str, str]:
    """The test's own reading of a legacy header line, to compare the parser with."""
    found = re.search(r"<!-- (Ubiquity) - (\S+) - (\S+) - (\S+)\n", body)
    assert found is not None
    return found.group(1), found.group(2), found.group(3), found.group(4)


def _raw_json(body: str) -> Any:
    start = body.index("<!--")
    text = body[body.index("\n", start) + 1 : body.rindex("-->")]
    return json.loads(text)


# Legacy plugins by CLASS, or for `ok - renderMainActionOutput` (the UbiquiBot monolith's
# renderer) by the handler the JSON names.
LEGACY_PLUGINS = {
    "Assignment": "command-start-stop",
    "Transactions": "text-conversation-rewards",
    "issueClosed": "text-conversation-rewards",  # "Evaluating results. Please wait..."
    "stop": "command-start-stop",  # "You have been unassigned from the task"
}


def _check_legacy(body: str, login: str, user_type: str) -> ParsedComment:
    parsed = parse_comment(body, author_login=login, author_type=user_type)
    name, cls, caller, revision = _header_line(body)
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.is_bot_output and is_bot_candidate(body)
    assert (parsed.header_name, parsed.header_class, parsed.caller, parsed.version) == (
        name,
        cls,
        caller,
        revision,
    )
    assert parsed.metadata == _raw_json(body)
    assert parsed.answer_text == body[: body.index("<!--")].strip()
    handler = cls if cls != "ok" else _raw_json(body)["caller"]
    assert parsed.plugin == LEGACY_PLUGINS[handler]
    assert parsed.parse_error is None
    return parsed


def _markdown_fixtures() -> list[str]:
    if not FIXTURES.is_dir():
        return []
    return sorted(path.name for path in FIXTURES.glob("*.md"))


@pytest.mark.parametrize("name", _markdown_fixtures() or ["(none)"])
def test_real_markdown_bodies(name: str) -> None:
    path = fixtures_dir() / name
    meta = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
    parsed = _check_legacy(path.read_text(encoding="utf-8"), meta["user_login"], meta["user_type"])
    assert parsed.comment_kind in {"command_response", "log"}
    if meta.get("dialect"):
        assert parsed.dialect == meta["dialect"]


def test_real_bodies_of_text_conversation_rewards() -> None:
    records = json.loads((fixtures_dir() / "tcr_fixture_bodies.json").read_text(encoding="utf-8"))
    kinds: Counter[str] = Counter()
    for record in records:
        parsed = _check_legacy(record["body"], record["user_login"], record["user_type"])
        kinds[parsed.comment_kind] += 1
    assert kinds == {"command_response": 12, "log": 5}  # "Evaluating results..." are logs
    assert len(records) == 17


def _template_literal(text: str) -> str:
    r"""A JavaScript template literal's text: `\`` is a backtick, `\\` a backslash."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _expected_sdk_dialect(date: str) -> str:
    """The generation the plugin SDK wrote on `date` (docs/ubiquity-metadata.md eras)."""
    if date < "2024-12-20":
        return "sdk-v1"
    if date < "2025-01-02":
        return "ubiquityos-instigator-first"
    if date < "2025-01-17":
        return "ubiquityos-v2.0.0"
    return "ubiquityos-v2.0.1+"


def test_plugin_sdk_expected_bodies() -> None:
    path = fixtures_dir() / "plugin-sdk_test_expected_bodies.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    assert len(records) == 14
    for record in records:
        body = _template_literal(record["expected_body_template_literal"])
        parsed = parse_comment(body, author_login="ubiquity-os", author_type="Bot")
        caller = (
            json.loads(body[body.index("\n", body.index("<!--")) : body.rindex("-->")])["caller"]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
        assert parsed.dialect == _expected_sdk_dialect(record["date"]), record
        assert parsed.caller == caller
        assert parsed.metadata == {"caller": caller}  # `Object.&lt;anonymous&gt;` unescaped
        assert parsed.answer_text == body[: body.index("<!--")].strip()
        assert parsed.parse_error is None
        if parsed.dialect != "sdk-v1":
            assert parsed.instigator in {"gentlementlegen", "UbiquityOS"}
            assert parsed.run_url in {"http://localhost", "https://localhost"}
            assert parsed.plugin is None  # localhost and generic callers name no plugin
        else:
            assert (parsed.header_class, parsed.version, parsed.instigator) == (None, None, None)


# ---------- the simulator's ground truth
DIALECTS = {
    B.LEGACY: "ubiquity-legacy",
    B.LEGACY_RUN_URL: "ubiquity-legacy-runurl",
    B.ASK_LEGACY: "command-ask-llm",
    B.SDK_V1: "sdk-v1",
    B.SDK_2024_12: "ubiquityos-instigator-first",
    B.SDK_V2_0_0: "ubiquityos-v2.0.0",
    B.SDK_V2: "ubiquityos-v2.0.1+",
    B.TOKEN_USAGE: "token-usage",
    B.CLAUDE: "claude-action",
}
MARKERS = {B.MARK_LLM_502: "upstream-llm-error"}
KINDS = {B.REVIEW_CONTAINER: "other"}  # a bot's empty review holding inline replies
REVIEW_BOTS = ("coderabbitai", "copilot-pull-request-reviewer")
# What a user configures: the UbiquityOS logins plus the code-review bots to harvest.
BOTS = BotsConfig(logins=(*DEFAULT_BOT_LOGINS, *REVIEW_BOTS))


def _gap(c: Comment, parsed: ParsedComment, field: str) -> str | None:
    """The name of a known case where the truth says what the body does not, else None."""
    truth = c.truth
    assert truth is not None
    if truth.kind == B.LLM_ANSWER and truth.answer_text == "" and parsed.is_placeholder:
        # The run died after the placeholder: the truth describes the answer never posted.
        return "dead placeholder"
    if field == "plugin" and parsed.plugin is None and parsed.caller == "handler":
        # `error - handler` (legacy) or `undefined -  - undefined` + {"caller": "handler"}
        # (SDK v1) and no run URL: every plugin has a `handler`.
        return "generic caller without run URL"
    if field == "plugin" and parsed.plugin is None and parsed.caller == "renderMainActionOutput":
        # The generator also writes the renderer as the JSON caller; real bodies put the
        # handler there (`issueClosed`, `stop`), and the renderer serves several plugins.
        return "legacy renderer as the only caller"
    if field == "plugin" and truth.plugin == "ubiquibot" and parsed.caller == "runScript":
        return "legacy error log of the UbiquiBot monolith"
    author = c.author.login if c.author else None
    if field == "kind" and parsed.dialect == "author-only" and author not in BOTS.logins:
        return "unconfigured bot (github-actions)"
    if field == "caller" and truth.dialect == B.SDK_V1 and parsed.caller == "issueClosed":
        return "SDK v1 progress log: the body's only caller is issueClosed"
    return None


def _expected(c: Comment) -> dict[str, Any]:
    truth = c.truth
    assert truth is not None
    return {
        "dialects": [DIALECTS[d] for d in truth.dialects],
        "plugin": truth.plugin,
        "kind": KINDS.get(truth.kind, truth.kind),
        "caller": truth.caller,
        "answer": truth.answer_text,
        "markers": [MARKERS.get(m, m) for m in truth.markers],
        "is_bot": c.author is not None and c.author.typename == "Bot",
    }


def _got(parsed: ParsedComment) -> dict[str, Any]:
    return {
        "dialects": [block.dialect for block in parsed.blocks],
        "plugin": parsed.plugin,
        "kind": parsed.comment_kind,
        "caller": parsed.caller,
        "answer": parsed.answer_text,
        "markers": list(parsed.markers),
        "is_bot": parsed.is_bot_output,
    }


def _truth_comments(world: World) -> Iterator[Comment]:
    return (c for c in world.comments if not c.deleted and c.truth is not None)


def _compare(world: World) -> tuple[Counter[str], Counter[tuple[str, str]], list[str]]:
    agreed: Counter[str] = Counter()
    gaps: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    for c in _truth_comments(world):
        login = c.author.login if c.author else None
        kind = c.author.typename if c.author else None
        parsed = parse_comment(c.body, author_login=login, author_type=kind, bots=BOTS)
        expected, got = _expected(c), _got(parsed)
        for field, value in expected.items():
            if got[field] == value:
                agreed[field] += 1
                continue
            gap = _gap(c, parsed, field)
            if gap is None:
                problems.append(f"{field}: got {got[field]!r:.80}, truth {value!r:.80} ({c!r})")
            else:
                gaps[(field, gap)] += 1
    return agreed, gaps, problems


@pytest.fixture(scope="module")
def small_world() -> World:
    return generate_world(WorldSpec.preset("small", seed=1))


def test_simulator_ground_truth_agrees(small_world: World) -> None:
    agreed, gaps, problems = _compare(small_world)
    assert problems == []
    total = sum(1 for _ in _truth_comments(small_world))
    assert agreed["dialects"] == total and agreed["answer"] == total
    assert agreed["markers"] == total and agreed["is_bot"] == total
    # The known gaps stay rare: legacy logs without a run URL and unconfigured bots.
    assert agreed["plugin"] >= 0.95 * total, gaps
    assert agreed["kind"] >= 0.98 * total and agreed["caller"] >= 0.99 * total, gaps
    assert set(gaps) <= {
        ("plugin", "generic caller without run URL"),
        ("plugin", "legacy renderer as the only caller"),
        ("plugin", "legacy error log of the UbiquiBot monolith"),
        ("kind", "unconfigured bot (github-actions)"),
        ("caller", "SDK v1 progress log: the body's only caller is issueClosed"),
        ("plugin", "dead placeholder"),
        ("caller", "dead placeholder"),
        ("dialects", "dead placeholder"),
    }


@pytest.mark.parametrize("seed", [2, 3])
def test_ground_truth_of_other_tiny_worlds(seed: int) -> None:
    _, _, problems = _compare(generate_world(WorldSpec.preset("tiny", seed=seed)))
    assert problems == []


def test_the_world_produces_every_generation_and_marker(small_world: World) -> None:
    seen_dialects: set[str] = set()
    seen_markers: set[str] = set()
    for c in _truth_comments(small_world):
        parsed = parse_comment(
            c.body,
            author_login=c.author.login if c.author else None,
            author_type=c.author.typename if c.author else None,
            bots=BOTS,
        )
        seen_dialects.update(block.dialect for block in parsed.blocks)
        seen_markers.update(parsed.markers)
        if parsed.dialect in {"author-only", "marker"}:
            seen_dialects.add(parsed.dialect)
    assert seen_dialects >= {*DIALECTS.values(), "author-only", "marker"}
    assert seen_markers == {
        "daemon-disqualifier",
        "daemon-spec-rewriter",
        "daemon-task-matcher",
        "ubiquityos-agent",
        "upstream-llm-error",
    }


def test_every_simulated_header_is_a_crawl_candidate(small_world: World) -> None:
    for c in _truth_comments(small_world):
        assert c.truth is not None
        if c.truth.dialects and c.truth.answer_text and c.truth.kind != B.MARKER:
            assert is_bot_candidate(c.body), c
