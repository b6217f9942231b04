"""The metadata parser on hand-written bodies: every header generation, marker and quirk of
docs/ubiquity-metadata.md, custom dialects, author-only bots, errors and plugin mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harvester import config as harvester_config
from harvester.config import BotsConfig, config_from_mapping
from harvester.dialects import (
    BUILTIN_DIALECT_NAMES,
    FAMILIES,
    RESERVED_DIALECT_NAMES,
    ParsedComment,
    TokenUsage,
    is_bot_candidate,
    parse_comment,
    plugin_from_run_url,
)

SHA40 = "0123456789abcdef0123456789abcdef01234567"
DENO64 = "ab" * 32
ACTIONS = "https://github.com/ubiquity-os-marketplace/command-ask/actions/runs/12345678901"
WORKER = "https://ubiquity-os-command-start-stop-main.ubiquity.workers.dev"
DENO = "https://console.deno.com/ubiquity-os/daemon-pricing/observability/logs?deployment=abc"


def bot(
    body: str | None, *, login: str = "ubiquity-os", bots: BotsConfig | None = None
) -> ParsedComment:
    return parse_comment(body, author_login=login, author_type="Bot", bots=bots)


def human(body: str | None, *, bots: BotsConfig | None = None) -> ParsedComment:
    return parse_comment(body, author_login="alice", author_type="User", bots=bots)


def hidden(header: str, payload: Any, *, escape: bool = False, backticks: bool = False) -> str:
    """A block as the generators write it: header line, pretty JSON, `-->`."""
    text = json.dumps(payload, indent=2)
    if escape:
        text = text.replace("<", "&lt;").replace(">", "&gt;").replace("--", "&#45;&#45;")
        if backticks:
            text = text.replace("`", "&#96;")
    return f"<!-- {header}\n{text}\n-->"


# ---------- legacy generations
def test_legacy_four_field_header() -> None:
    body = "```diff\n+ Registered your wallet\n```\n" + hidden(
        "Ubiquity - ok - registerWallet - 1a2b3c4", {"user": "alice", "caller": "registerWallet"}
    )
    parsed = bot(body)
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.is_bot_output
    assert (parsed.header_name, parsed.header_class, parsed.caller, parsed.version) == (
        "Ubiquity",
        "ok",
        "registerWallet",
        "1a2b3c4",
    )
    assert parsed.metadata == {"user": "alice", "caller": "registerWallet"}
    assert parsed.answer_text == "```diff\n+ Registered your wallet\n```"
    assert parsed.plugin == "command-wallet"
    assert parsed.comment_kind == "command_response"
    assert parsed.parse_error is None


@pytest.mark.parametrize("revision", ["null", "undefined"])
def test_legacy_revision_null_or_undefined_is_no_version(revision: str) -> None:
    parsed = bot(hidden(f"Ubiquity - Assignment - start - {revision}", {"duration": 3600}))
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.version is None
    assert parsed.plugin == "command-start-stop"


def test_legacy_five_field_header_with_run_url() -> None:
    url = "https://github.com/ubiquity-os-marketplace/daemon-disqualifier/actions/runs/987"
    body = "@bob, any update on this task?\n\n" + hidden(
        f"Ubiquity - ok - remindAssignees - 4c3b2a1 - {url}", {"taskAssignees": ["bob"]}
    )
    parsed = bot(body)
    assert parsed.dialect == "ubiquity-legacy-runurl"
    assert parsed.run_url == url
    assert parsed.caller == "remindAssignees"
    assert parsed.plugin == "daemon-disqualifier"
    assert parsed.comment_kind == "log"


@pytest.mark.parametrize(
    ("written", "run_url"),
    [("undefined/actions/runs/123", "undefined/actions/runs/123"), ("undefined", None)],
)
def test_legacy_run_url_of_an_event_without_repository(written: str, run_url: str | None) -> None:
    body = "@bob, any update?\n" + hidden(
        f"Ubiquity - Followup - remindAssignees - undefined - {written}", {"taskAssignees": []}
    )
    parsed = bot(body)
    assert parsed.dialect == "ubiquity-legacy-runurl"
    assert parsed.parse_error is None
    assert (parsed.header_class, parsed.caller, parsed.run_url) == (
        "Followup",
        "remindAssignees",
        run_url,
    )
    assert parsed.plugin == "daemon-disqualifier"  # from the caller


def test_legacy_json_may_contain_dashes_and_even_a_close() -> None:
    """Legacy generators do not escape: the block ends at the `-->` after the JSON value."""
    payload = {"command": "git push --force-with-lease", "note": "a --> b", "n": 1}
    body = "```diff\n! push failed\n```\n" + hidden(
        "Ubiquity - error - runScript - abc1234", payload
    )
    parsed = bot(body + "\nvisible after")
    assert parsed.metadata == payload
    assert parsed.answer_text == "```diff\n! push failed\n```\n\nvisible after"
    assert parsed.comment_kind == "log"
    assert parsed.parse_error is None


def test_legacy_text_is_not_unescaped_when_it_holds_raw_markup() -> None:
    payload = {"html": "<b>bold</b> &lt;kept&gt;"}
    parsed = bot(hidden("Ubiquity - ok - render - abc1234", payload))
    assert parsed.metadata == payload


def test_command_ask_llm_response_wraps_its_metadata() -> None:
    meta = {
        "groundTruths": ["Array<string> types", "npx wrangler deploy --env dev"],
        "tokenUsage": {"input": 1200, "output": 300, "total": 1500},
    }
    body = "The handler lives in `src/main.ts`.\n\n" + hidden(
        "Ubiquity - ubiquity-os-llm-response - processCommentCallback - undefined",
        {"metadata": meta, "caller": "processCommentCallback"},
        escape=True,
    )
    parsed = bot(body)
    assert parsed.dialect == "command-ask-llm"
    assert parsed.plugin == "command-ask"
    assert parsed.comment_kind == "llm_answer"
    assert parsed.caller == "processCommentCallback"
    assert parsed.version is None
    assert parsed.payload == meta  # unescaped: `<`, `>` and `--` are back
    assert parsed.ground_truths == ("Array<string> types", "npx wrangler deploy --env dev")
    assert parsed.token_usage == TokenUsage(1200, 300, 1500)
    assert parsed.answer_text == "The handler lives in `src/main.ts`."


def test_sdk_v1_has_an_empty_caller_field() -> None:
    body = "```diff\n! You are not allowed to start\n```\n\n" + hidden(
        "Ubiquity - undefined -  - undefined", {"caller": "start"}
    )
    parsed = bot(body)
    assert parsed.dialect == "sdk-v1"
    assert (parsed.header_class, parsed.version) == (None, None)
    assert parsed.caller == "start"  # the header field is empty: the JSON's caller
    assert parsed.plugin == "command-start-stop"
    assert parsed.comment_kind == "log"


# ---------- UbiquityOS generations
SDK_ORDERS = {
    "ubiquityos-instigator-first": "@{i} - {u} - {c} - {v}",
    "ubiquityos-v2.0.0": "{u} - {c} - {v} - @{i}",
    "ubiquityos-v2.0.1+": "{c} - {v} - @{i} - {u}",
}


@pytest.mark.parametrize("dialect", list(SDK_ORDERS))
@pytest.mark.parametrize(
    ("version", "instigator", "url", "plugin"),
    [
        (SHA40, "alice", ACTIONS, "command-ask"),
        (DENO64, "Ubiquity DAO", DENO, "daemon-pricing"),
        ("undefined", "UbiquityOS", WORKER, "command-start-stop"),
        ("[missing CF_VERSION_METADATA]", "Acme - Labs", "http://localhost", None),
    ],
)
def test_ubiquityos_field_orders_by_shape(
    dialect: str, version: str, instigator: str, url: str, plugin: str | None
) -> None:
    fields = SDK_ORDERS[dialect].format(i=instigator, u=url, c="handler", v=version)
    parsed = bot("> [!TIP]\n> Done\n\n" + hidden(f"UbiquityOS - {fields}", {"caller": "handler"}))
    assert parsed.dialect == dialect
    assert parsed.header_name == "UbiquityOS"
    assert parsed.caller == "handler"
    assert parsed.version == (None if version == "undefined" else version)
    assert parsed.instigator == instigator
    assert parsed.run_url == url
    assert parsed.plugin == plugin
    assert parsed.answer_text == "> [!TIP]\n> Done"
    assert parsed.parse_error is None


def test_generation_from_one_shaped_field_when_the_other_is_missing() -> None:
    parsed = bot(hidden("UbiquityOS - handler - 1234 - @alice - undefined", {}))
    assert parsed.dialect == "ubiquityos-v2.0.1+"
    assert (parsed.instigator, parsed.run_url) == ("alice", None)


@pytest.mark.parametrize(
    ("header", "dialect"),
    [
        ("UbiquityOS - a - b", "ubiquityos-unknown"),
        ("UbiquityOS - @a - @b - c - d", "ubiquityos-unknown"),
        ("Ubiquity - a - b", "ubiquity-unknown"),
        ("Ubiquity - a - b - c - not-a-url", "ubiquity-unknown"),
    ],
)
def test_unknown_header_shape_is_a_parse_error(header: str, dialect: str) -> None:
    parsed = bot("text\n" + hidden(header, {"caller": "x"}))
    assert parsed.dialect == dialect
    assert parsed.is_bot_output
    assert parsed.parse_error is not None and "unknown header shape" in parsed.parse_error
    assert parsed.metadata == {"caller": "x"}
    assert parsed.answer_text == "text"


def test_sdk_escaping_is_undone_in_string_values_only() -> None:
    payload = {"caller": "Object.<anonymous>", "a<b": "x --> y `z` & w", "n": [1, "<i>"]}
    body = hidden(f"UbiquityOS - run - {SHA40} - @alice - {ACTIONS}", payload, escape=True)
    parsed = bot(body.replace("`z`", "&#96;z&#96;"))
    assert parsed.metadata == {
        "caller": "Object.<anonymous>",
        "a&lt;b": "x --> y `z` & w",  # keys keep their entities
        "n": [1, "<i>"],
    }
    assert bot(hidden("UbiquityOS - a - b - @c - http://x", {"k": "&amp;lt;"})).metadata == {
        "k": "&lt;"  # one pass: an escaped `&` is not unescaped twice
    }


def test_comment_kind_key_of_sdk_3_9() -> None:
    payload = {"caller": "start", "commentKind": "command-response"}
    parsed = bot("Assigned.\n\n" + hidden(f"UbiquityOS - start - 1 - @a - {WORKER}", payload))
    assert parsed.comment_kind_key == "command-response"
    assert parsed.comment_kind == "command_response"


def test_several_blocks_keep_every_metadata_and_the_first_is_primary() -> None:
    permits = [{"owner": "0xabc", "amount": "10"}, {"owner": "0xdef", "amount": "20"}]
    summary = {"output": {"alice": {"comment": "`alice` earned 1"}}}
    url = "https://github.com/ubiquity-os-marketplace/text-conversation-rewards/actions/runs/1"
    body = (
        "<details>rewards</details>\n"
        + hidden("Ubiquity - Transactions - generatePermits - 6c2a91a", permits)
        + "\n"
        + hidden(
            f"UbiquityOS - run - {SHA40} - @alice - {url}", summary, escape=True, backticks=True
        )
    )
    parsed = bot(body)
    assert [block.dialect for block in parsed.blocks] == ["ubiquity-legacy", "ubiquityos-v2.0.1+"]
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.metadata == permits  # a JSON array
    assert parsed.all_metadata == [permits, summary]  # backticks unescaped from &#96;
    assert parsed.caller == "generatePermits"
    assert parsed.plugin == "text-conversation-rewards"
    assert parsed.comment_kind == "command_response"
    assert parsed.answer_text == "<details>rewards</details>"
    assert body[parsed.blocks[1].start : parsed.blocks[1].end].startswith("<!-- UbiquityOS")


def test_fatal_log_visible_json_copy_is_not_answer_text() -> None:
    payload = {"caller": "run", "message": "Supabase returned <html>", "stack": "Error: x"}
    block = hidden(f"UbiquityOS - run - {SHA40} - @alice - {ACTIONS}", payload, escape=True)
    json_text = block.split("\n", 1)[1].rsplit("\n", 1)[0]
    body = f"> [!CAUTION]\n> The rewards failed.\n\n```json\n{json_text}\n```\n{block}\n"
    parsed = bot(body)
    assert parsed.answer_text == "> [!CAUTION]\n> The rewards failed."
    assert parsed.metadata == payload
    assert parsed.comment_kind == "log"
    other = body.replace("```json\n{", '```json\n{\n  "different": true,', 1)
    assert "```json" in bot(other).answer_text  # not a copy of the hidden block: it stays


# ---------- token usage, Claude action, placeholders
def test_token_usage_block_with_its_malformed_close() -> None:
    usage = {"input": 900, "output": 120, "total": 1020}
    body = "The answer.\n\n<!--\n" + json.dumps(usage, indent=2) + "\n--!>"
    parsed = bot(body)
    assert parsed.dialect == "token-usage"
    assert parsed.plugin == "command-ask"
    assert parsed.comment_kind == "llm_answer"
    assert parsed.token_usage == TokenUsage(900, 120, 1020)
    assert parsed.answer_text == "The answer."
    assert is_bot_candidate(body)


def test_json_in_an_ordinary_html_comment_is_left_alone() -> None:
    body = 'Note\n<!-- {"renovate": "state"} -->'
    parsed = human(body)
    assert parsed.dialect is None and not parsed.is_bot_output
    assert parsed.answer_text == body


def test_claude_action_answer_without_json() -> None:
    job = "https://github.com/acme/app/actions/runs/42"
    body = (
        f"**UbiquityOS finished @alice's task in 1m 12s** —— [View job]({job})\n\n---\n\n"
        "Use `bun test` to run the suite.\n\n- one\n- two"
    )
    parsed = bot(body)
    assert parsed.dialect == "claude-action"
    assert parsed.plugin == "command-ask"
    assert (parsed.instigator, parsed.run_url) == ("alice", job)
    assert parsed.comment_kind == "llm_answer"
    assert parsed.answer_text == "Use `bun test` to run the suite.\n\n- one\n- two"
    assert is_bot_candidate(body)
    assert bot("**UbiquityOS is working…** <img src='x'>").is_placeholder


@pytest.mark.parametrize(
    "text",
    [
        "Thinking...",
        "> [!TIP]\n> Thinking...",
        "UbiquityOS is thinking...",
        "Thinking…",
        "```diff\n+ UbiquityOS is thinking...\n```",  # the SDK's logger.ok until mid-2025
    ],
)
def test_placeholders(text: str) -> None:
    parsed = bot(text)
    assert parsed.is_placeholder
    assert parsed.answer_text == ""
    assert parsed.comment_kind == "llm_answer"
    with_block = bot(text + "\n\n" + hidden(f"UbiquityOS - ask - 1 - @a - {ACTIONS}", {}))
    assert with_block.is_placeholder and with_block.dialect == "ubiquityos-v2.0.1+"
    assert not human(text).is_placeholder  # only bots post placeholders
    assert human(text).answer_text == text


def test_a_placeholder_paragraph_in_front_of_an_answer_is_dropped() -> None:
    parsed = bot("> [!TIP]\n> Thinking...\n\nThe real answer.")
    assert not parsed.is_placeholder
    assert parsed.answer_text == "The real answer."
    fenced = bot("```diff\n+ UbiquityOS is thinking...\n```\n\nThe real answer.")
    assert fenced.answer_text == "The real answer."
    assert not bot("```diff\n+ added a line...\n```").is_placeholder


def test_a_stray_open_in_the_answer_does_not_hide_the_block_after_it() -> None:
    answer = "In Markdown, `<!--` starts a hidden comment; `<!-- x -->` is one."
    body = answer + "\n\n" + hidden(f"UbiquityOS - ask - 1 - @a - {ACTIONS}", {"caller": "x"})
    parsed = bot(body)
    assert parsed.dialect == "ubiquityos-v2.0.1+"
    assert parsed.plugin == "command-ask"
    assert parsed.metadata == {"caller": "x"}
    assert parsed.answer_text == answer


# ---------- markers
@pytest.mark.parametrize(
    ("marker", "name", "plugin", "kind"),
    [
        (
            "<!-- daemon-spec-rewriter - 2025-03-01T10:00:00Z -->",
            "daemon-spec-rewriter",
            "daemon-spec-rewriter",
            "marker",
        ),
        (
            "<!-- daemon-task-matcher:suggestions -->",
            "daemon-task-matcher",
            "daemon-task-matcher",
            "marker",
        ),
        (
            "<!-- @ubiquity-os/daemon-disqualifier update 2025-02-01T00:00:00Z -->",
            "daemon-disqualifier",
            "daemon-disqualifier",
            "log",
        ),
        (
            "<!-- Upstream LLM 502: bad gateway (request ab12) -->",
            "upstream-llm-error",
            "command-ask",
            "log",
        ),
    ],
)
def test_markers_on_bot_comments(marker: str, name: str, plugin: str, kind: str) -> None:
    parsed = bot(f"Visible text.\n\n{marker}")
    assert parsed.dialect == "marker"
    assert parsed.markers == (name,)
    assert parsed.blocks == ()  # never answer metadata
    assert parsed.metadata is None
    assert parsed.plugin == plugin
    assert parsed.comment_kind == kind
    assert parsed.answer_text == "Visible text."
    assert not is_bot_candidate(f"Visible text.\n\n{marker}")


def test_agent_marker_leaves_a_human_comment_human() -> None:
    body = (
        "@UbiquityOS please open a pull request.\n\n<!-- ubiquityos-agent run=1 status=queued -->"
    )
    parsed = human(body)
    assert parsed.dialect is None
    assert not parsed.is_bot_output
    assert parsed.markers == ("ubiquityos-agent",)
    assert parsed.comment_kind == "marker"
    assert parsed.answer_text == "@UbiquityOS please open a pull request."


def test_marker_next_to_a_header_block() -> None:
    url = "https://github.com/ubiquity-os-marketplace/daemon-disqualifier/actions/runs/9"
    body = (
        "@bob, please update.\n\n"
        + hidden(f"Ubiquity - ok - remindAssignees - abc1234 - {url}", {"caller": "x"})
        + "\n<!-- @ubiquity-os/daemon-disqualifier update 2025-05-01T00:00:00Z -->"
    )
    parsed = bot(body)
    assert parsed.dialect == "ubiquity-legacy-runurl"
    assert parsed.markers == ("daemon-disqualifier",)
    assert len(parsed.blocks) == 1
    assert parsed.answer_text == "@bob, please update."


def test_a_marker_name_must_end_there() -> None:
    assert human("x <!-- daemon-task-matchers -->").markers == ()


# ---------- author-only bots, humans
@pytest.mark.parametrize(
    "login", ["ubiquity-os", "ubiquity-os[bot]", "app/ubiquity-os", "UbiquiBot"]
)
def test_configured_bot_without_header_is_author_only(login: str) -> None:
    parsed = parse_comment("  A plain answer.  ", author_login=login, author_type=None)
    assert parsed.dialect == "author-only"
    assert parsed.is_bot_output
    assert parsed.answer_text == "A plain answer."
    assert parsed.comment_kind == "llm_answer"


def test_any_bot_type_without_header_is_author_only() -> None:
    parsed = parse_comment("Deployed.", author_login="github-actions", author_type="Bot")
    assert (parsed.dialect, parsed.is_bot_output, parsed.comment_kind) == (
        "author-only",
        True,
        "other",
    )
    review_bots = BotsConfig(logins=("coderabbitai",))
    parsed = parse_comment(
        "Nit: rename.", author_login="coderabbitai", author_type="Bot", bots=review_bots
    )
    assert parsed.comment_kind == "llm_answer"
    assert bot("").comment_kind == "other"  # an empty review that only holds inline comments


def test_human_comment() -> None:
    parsed = human("  /ask how does this work?  ")
    assert parsed.dialect is None and not parsed.is_bot_output
    assert parsed.comment_kind == "other"
    assert parsed.answer_text == "/ask how does this work?"
    assert parsed.plugin is None


def test_a_header_makes_bot_output_whoever_posts_it() -> None:
    parsed = human("Reply.\n" + hidden(f"UbiquityOS - ask - 1 - @a - {ACTIONS}", {}))
    assert parsed.is_bot_output and parsed.dialect == "ubiquityos-v2.0.1+"


# ---------- parse errors and robustness
def test_invalid_json_names_its_position() -> None:
    body = 'x\n<!-- Ubiquity - ok - run - abc\n{\n  "a": 1,\n}\n-->\nafter'
    parsed = bot(body)
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.metadata is None
    assert parsed.parse_error is not None
    assert parsed.parse_error.startswith("invalid JSON at line 3, column 1 of the block")
    assert parsed.answer_text == "x\n\nafter"


def test_unterminated_block_hides_the_rest() -> None:
    parsed = bot('visible\n<!-- UbiquityOS - ask - 1 - @a - http://x\n{\n  "a": 1\n}\nmore')
    assert parsed.metadata == {"a": 1}
    assert parsed.parse_error is not None and "unterminated block" in parsed.parse_error
    assert parsed.answer_text == "visible"


def test_text_between_json_and_close() -> None:
    parsed = bot('<!-- UbiquityOS - ask - 1 - @a - http://x\n{"a": 1} junk\n-->\nafter')
    assert parsed.metadata == {"a": 1}
    assert parsed.parse_error == "unexpected text after the JSON"
    assert parsed.answer_text == "after"


def test_header_that_closes_on_its_own_line_has_no_json() -> None:
    parsed = bot("<!-- UbiquityOS - ask - 1 - @a - http://x --> text")
    assert parsed.dialect == "ubiquityos-v2.0.1+"
    assert parsed.metadata is None and parsed.parse_error is None
    assert parsed.answer_text == "text"


def test_overlong_header_line() -> None:
    parsed = bot("<!-- UbiquityOS - " + "a" * 5000 + " -->after")
    assert parsed.dialect == "ubiquityos-unknown"
    assert parsed.parse_error is not None and "longer than 1024" in parsed.parse_error
    assert parsed.answer_text == "after"


@pytest.mark.parametrize(
    "body", [None, "", "   ", "<!--", "<!-->", "-->", "<!-- Ubiquity - ", "\ud800"]
)
def test_degenerate_bodies(body: str | None) -> None:
    parsed = bot(body)
    assert isinstance(parsed, ParsedComment)
    human(body)


def test_lone_surrogates_are_replaced_in_the_answer() -> None:
    parsed = bot("a\ud800b\n" + hidden(f"UbiquityOS - x - 1 - @a - {ACTIONS}", {"k": "\udfff"}))
    assert parsed.answer_text == "a\ufffdb"
    parsed.answer_text.encode("utf-8")


@pytest.mark.parametrize(
    "body",
    [
        '<!-- Ubiquity - undefined -  - undefined\n{"caller": "a\\ud800b"}\n-->',  # JSON escape
        '<!-- Ubiquity - C\ud800 - x\udfff - abc\n{"caller": "y"}\n-->',
        "<!-- UbiquityOS - c - v - @a\ud800 - https://x\ud800\n{}\n-->",
        "<!-- Ubiquity - a - b\ud800",  # in the parse error
    ],
)
def test_lone_surrogates_never_reach_a_stored_field(body: str) -> None:
    """Parquet and DuckDB need valid UTF-8: one surrogate in a field failed the whole page."""
    parsed = bot(body)
    assert parsed.is_bot_output
    for value in parsed.to_record().values():
        if isinstance(value, str):
            value.encode("utf-8")  # raises on a lone surrogate


def test_crlf_bodies_after_a_browser_edit() -> None:
    body = hidden(f"UbiquityOS - ask - 1 - @a - {ACTIONS}", {"k": 1}).replace("\n", "\r\n")
    parsed = bot("Edited answer.\r\n\r\n" + body)
    assert (parsed.dialect, parsed.metadata, parsed.run_url) == (
        "ubiquityos-v2.0.1+",
        {"k": 1},
        ACTIONS,
    )
    assert parsed.answer_text == "Edited answer."


def test_to_record_has_the_warehouse_columns() -> None:
    record = bot(hidden(f"UbiquityOS - ask - 1 - @a - {ACTIONS}", {"k": 1})).to_record()
    for column in ("dialect", "plugin", "caller", "metadata", "parse_error", "answer_text"):
        assert column in record
    json.dumps(record)


# ---------- custom dialects, families
def _acme_config() -> BotsConfig:
    return config_from_mapping(
        {
            "bots": {
                "custom_dialects": [
                    {
                        "name": "acme-assistant",
                        "header_pattern": r"<!-- acme-assistant (?P<payload>\{[^\n]*\}) -->",
                        "json": "payload",
                        "plugin": "assistant",
                        "authors": ["acme-assistant[bot]"],
                    },
                    {
                        "name": "acme-review",
                        "header_pattern": r"(?m)^<!-- acme-review v(?P<version>[0-9.]+)$",
                        "json": "after_header",
                        "plugin": "code-review",
                    },
                    {"name": "acme-sig", "header_pattern": r"— acme-bot", "json": "none"},
                ]
            }
        }
    ).bots


def test_custom_dialect_with_json_in_a_group() -> None:
    bots = _acme_config()
    body = 'Here is the fix.\n<!-- acme-assistant {"model": "x-1", "tokens": 12} -->'
    parsed = bot(body, login="acme-assistant", bots=bots)
    assert parsed.dialect == "acme-assistant"
    assert parsed.plugin == "assistant"
    assert parsed.metadata == {"model": "x-1", "tokens": 12}
    assert parsed.answer_text == "Here is the fix."
    assert parsed.comment_kind == "llm_answer"
    other = parse_comment(body, author_login="someone", author_type="Bot", bots=bots)
    assert other.dialect == "author-only"  # authors = ["acme-assistant"] only
    assert is_bot_candidate(body, bots) and not is_bot_candidate(body)


def test_the_crawler_recognises_custom_dialects_as_the_parser_does() -> None:
    """The crawler decides what lands: a custom header by a User must land (it is bot output),
    and an author filter must hold there too."""
    from harvester.config import config_from_mapping as load
    from harvester.operator import bot_rules

    bots = _acme_config()
    rules = bot_rules(load({"bots": bots.model_dump(by_alias=True)}))
    review = 'Looks good.\n<!-- acme-review v1.2\n{"caller": "x"}\n-->'
    user = {"__typename": "User", "login": "carol"}
    assert human(review, bots=bots).is_bot_output
    assert rules.reason(user, review) == "header"
    assistant = '<!-- acme-assistant {"model": "x"} -->'
    assert rules.reason({"__typename": "User", "login": "acme-assistant"}, assistant) == "header"
    assert rules.reason(user, assistant) is None  # authors = ["acme-assistant[bot]"]
    assert rules.reason(None, assistant) is None  # a ghost is no listed author
    assert rules.reason(user, "plain text") is None


def test_custom_dialects_read_bodies_with_lone_surrogates() -> None:
    """RE2 reads UTF-8, which cannot hold a lone surrogate: they are replaced first."""
    bots = _acme_config()
    body = 'x\ud800 y\n<!-- acme-review v1.2\n{"caller": "q\ud800"}\n-->'
    parsed = human(body, bots=bots)
    assert (parsed.dialect, parsed.version, parsed.parse_error) == ("acme-review", "1.2", None)
    assert parsed.metadata == {"caller": "q\ud800"}  # stored as JSON with a \\u escape
    assert is_bot_candidate(body, bots, author_login="carol")


def test_custom_dialect_with_json_after_the_header() -> None:
    bots = _acme_config()
    body = 'Looks good.\n<!-- acme-review v1.4.2\n{\n  "files": 3\n}\n-->\n'
    parsed = parse_comment(body, author_login="acme-review", author_type="Bot", bots=bots)
    assert (parsed.dialect, parsed.version, parsed.plugin) == (
        "acme-review",
        "1.4.2",
        "code-review",
    )
    assert parsed.metadata == {"files": 3}
    assert parsed.answer_text == "Looks good."
    assert parsed.is_bot_output


def test_custom_dialect_without_json() -> None:
    parsed = parse_comment(
        "Answer.\n— acme-bot", author_login="x", author_type="User", bots=_acme_config()
    )
    assert (parsed.dialect, parsed.metadata, parsed.answer_text) == ("acme-sig", None, "Answer.")


def test_families_can_be_switched_off() -> None:
    body = (
        "x\n"
        + hidden(f"UbiquityOS - a - 1 - @b - {ACTIONS}", {})
        + "\n<!-- daemon-task-matcher -->"
    )
    markers_only = BotsConfig(dialects=("markers",))
    parsed = human(body, bots=markers_only)
    assert parsed.dialect is None and parsed.markers == ("daemon-task-matcher",)
    assert "<!-- UbiquityOS" in parsed.answer_text
    assert bot(body, bots=BotsConfig(dialects=())).markers == ()


def test_names_stay_in_step_with_the_config() -> None:
    assert FAMILIES == harvester_config.BUILTIN_DIALECTS
    assert set(harvester_config.BUILTIN_DIALECTS) <= RESERVED_DIALECT_NAMES
    assert set(BUILTIN_DIALECT_NAMES) <= RESERVED_DIALECT_NAMES


# ---------- plugins, candidates
@pytest.mark.parametrize(
    ("url", "plugin"),
    [
        ("https://github.com/ubiquity-os-marketplace/command-ask/actions/runs/1", "command-ask"),
        ("https://github.com/acme/Text-Tool/actions/runs/1/job/2", "text-tool"),
        ("https://ubiquity-os-command-ask-main.ubiquity.workers.dev", "command-ask"),
        ("https://command-wallet-development.acme.workers.dev/x", "command-wallet"),
        ("https://daemon-pricing.acme.workers.dev", "daemon-pricing"),
        (
            "https://dash.cloudflare.com/17b9dd0e/workers/services/view/"
            "command-start-stop-main/production/observability/logs?granularity=0",
            "command-start-stop",
        ),
        (
            "https://dash.cloudflare.com/abc/workers/services/view/ubiquity-os-daemon-pricing",
            "daemon-pricing",
        ),
        ("https://console.deno.com/ubiquity-os/command-ask/observability/logs?x=1", "command-ask"),
        ("https://dash.deno.com/projects/ubiquity-os-daemon-pricing-main", "daemon-pricing"),
        ("https://text-conversation-rewards.deno.dev", "text-conversation-rewards"),
        ("http://localhost", None),
        ("https://example.com/run/1", None),
        (None, None),
    ],
)
def test_plugin_from_run_url(url: str | None, plugin: str | None) -> None:
    assert plugin_from_run_url(url) == plugin


@pytest.mark.parametrize(
    ("header", "plugin"),
    [
        ("Ubiquity - LLM Ground Truths and Token Usage - runPlugin - undefined", "command-ask"),
        (
            f"Ubiquity - GithubCommentModule - GithubCommentModule.getBodyContent - {SHA40}",
            "text-conversation-rewards",
        ),
    ],
)
def test_legacy_classes_name_their_plugin(header: str, plugin: str) -> None:
    parsed = bot("Answer.\n\n" + hidden(header, {"caller": "runPlugin"}))
    assert parsed.dialect == "ubiquity-legacy"
    assert parsed.plugin == plugin


def test_generic_callers_name_no_plugin() -> None:
    parsed = bot(hidden("Ubiquity - error - handler - abc1234", {"message": "no"}))
    assert parsed.plugin is None and parsed.comment_kind == "log"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<!-- Ubiquity - ok - x - y\n{}\n-->", True),
        ("<!-- UbiquityOS - x - 1 - @a - http://b\n{}\n-->", True),
        ('<!--\n{\n  "input": 1\n}\n--!>', True),
        ("**UbiquityOS finished @a's task in 3s** —— [View job](u)", True),
        ("plain text", False),
        ("<!-- Please describe the bug -->", False),
        ("<!-- daemon-task-matcher:suggestions -->", False),
        ("I mean <!-- Ubiquityness", False),
        ("", False),
        (None, False),
    ],
)
def test_is_bot_candidate(body: str | None, expected: bool) -> None:
    assert is_bot_candidate(body) is expected


@pytest.mark.parametrize(
    "body",
    [
        "<!--" + " " * 9 + f"UbiquityOS - c - v - @a - {ACTIONS}\n{{}}\n-->",
        "<!--" + "\t" * 9 + f"UbiquityOS - c - v - @a - {ACTIONS}\n{{}}\n-->",
        "<!--" + "\n" * 9 + '{"input": 1, "output": 2, "total": 3}\n-->',
    ],
)
def test_the_crawler_precheck_accepts_what_the_parser_reads(body: str) -> None:
    assert bot(body).dialect not in (None, "author-only")
    assert is_bot_candidate(body)
