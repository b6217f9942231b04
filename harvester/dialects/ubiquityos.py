"""The UbiquityOS dialects: every header generation of docs/ubiquity-metadata.md.

Hidden blocks (`<!-- NAME - f1 - f2 - f3[ - f4]`, then JSON, then `-->`):
- `Ubiquity - CLASS - CALLER - REVISION`: UbiquiBot and plugin-local copies, 2024
  (`ubiquity-legacy`); with `- RUN_URL` appended by daemon-disqualifier
  (`ubiquity-legacy-runurl`); with CLASS `ubiquity-os-llm-response`, command-ask's answers of
  Oct 2024 - Feb 2025 (`command-ask-llm`); `Ubiquity - undefined -  - undefined`, plugin SDK v1 of
  Nov 2024, whose caller field is empty (`sdk-v1`).
- `UbiquityOS - ...` in three field orders: `@INSTIGATOR - RUN_URL - CALLER - VERSION`
  (SDK of 20 Dec 2024 - 2 Jan 2025), `RUN_URL - CALLER - VERSION - @INSTIGATOR` (SDK v2.0.0),
  `CALLER - VERSION - @INSTIGATOR - RUN_URL` (SDK v2.0.1 to now). The instigator (`@...`, which
  may be an org display name with spaces) and the run URL (`http...`) are told apart by their
  shape, not their position; CALLER comes before VERSION in every order.
- `<!--` + JSON token usage + `--!>`: command-ask, Jul - Oct 2024, no header (`token-usage`).

Visible text: since Sep 2025 `/ask` answers come from a Claude-based action that writes no JSON,
only a tracking line `**UbiquityOS finished @user's task in 12s** —— [View job](URL)` and a `---`
separator before the answer (`claude-action`). Since Jan 2025 answers start as a placeholder
(`Thinking...`) that the bot edits into the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harvester.dialects import names as N
from harvester.dialects.base import (
    MAX_HEADER_CHARS,
    Json,
    MetadataBlock,
    field_value,
    looks_escaped,
    unescape_strings,
)
from harvester.dialects.scan import Scanner, read_payload

_NAMES = ("UbiquityOS", "Ubiquity")  # longest first: "Ubiquity" is a prefix of "UbiquityOS"
_PREFIXES = tuple(f"{name} - " for name in _NAMES)
LLM_RESPONSE_CLASS = "ubiquity-os-llm-response"


@dataclass(slots=True)
class HeaderFields:
    dialect: str
    header_class: str | None = None
    caller: str | None = None
    version: str | None = None
    instigator: str | None = None
    run_url: str | None = None
    error: str | None = None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _is_run_url(text: str) -> bool:
    """daemon-disqualifier's RUN_URL: `${repository.html_url}/actions/runs/${runId}`, which is
    `undefined/actions/runs/...` when the event had no repository."""
    return _is_url(text) or "/actions/runs/" in text or field_value(text) is None


def _instigator(text: str) -> str | None:
    return field_value(text.removeprefix("@"))


def legacy_fields(parts: list[str]) -> HeaderFields:
    """`Ubiquity - ...` headers: CLASS - CALLER - REVISION[ - RUN_URL]."""
    if len(parts) == 3:
        cls, caller, revision = parts
        if cls == LLM_RESPONSE_CLASS:
            dialect = N.COMMAND_ASK_LLM
        elif field_value(cls) is None and field_value(caller) is None:
            dialect = N.SDK_V1
        else:
            dialect = N.UBIQUITY_LEGACY
        return HeaderFields(dialect, field_value(cls), field_value(caller), field_value(revision))
    if len(parts) == 4 and _is_run_url(parts[3]):
        cls, caller, revision, url = parts
        return HeaderFields(
            N.UBIQUITY_LEGACY_RUN_URL,
            field_value(cls),
            field_value(caller),
            field_value(revision),
            run_url=field_value(url),
        )
    return HeaderFields(
        N.UBIQUITY_UNKNOWN,
        run_url=next((part for part in parts if _is_url(part)), None),
        error=f"unknown header shape: {len(parts)} fields after 'Ubiquity' "
        "(expected CLASS - CALLER - REVISION[ - RUN_URL])",
    )


# Where the instigator (@) and the run URL (u) sit in each SDK generation; f = caller, version.
_SDK_ORDERS: dict[tuple[str, ...], str] = {
    ("@", "u", "f", "f"): N.UBIQUITYOS_INSTIGATOR_FIRST,
    ("u", "f", "f", "@"): N.UBIQUITYOS_V2_0_0,
    ("f", "f", "@", "u"): N.UBIQUITYOS_V2_0_1,
}
# When only one of the two has its shape (a run URL written as `undefined`, an instigator
# without its `@`), that one's position still names the generation.
_BY_INSTIGATOR = {0: N.UBIQUITYOS_INSTIGATOR_FIRST, 3: N.UBIQUITYOS_V2_0_0, 2: N.UBIQUITYOS_V2_0_1}
_BY_URL = {1: N.UBIQUITYOS_INSTIGATOR_FIRST, 0: N.UBIQUITYOS_V2_0_0, 3: N.UBIQUITYOS_V2_0_1}
_LAYOUTS = {dialect: order for order, dialect in _SDK_ORDERS.items()}


def _shape(part: str) -> str:
    return "@" if part.startswith("@") else "u" if _is_url(part) else "f"


def _merge_instigator(parts: list[str]) -> list[str]:
    """An instigator (an org display name) holding ` - ` was split: join it back together."""
    if len(parts) <= 4:
        return parts
    at = [i for i, part in enumerate(parts) if part.startswith("@")]
    if len(at) != 1:
        return parts
    i = at[0]
    while len(parts) > 4 and i + 1 < len(parts) and not _is_url(parts[i + 1]):
        parts[i : i + 2] = [f"{parts[i]} - {parts[i + 1]}"]
    return parts


def _sdk_dialect(shapes: tuple[str, ...]) -> str | None:
    found = _SDK_ORDERS.get(shapes)
    if found is not None:
        return found
    by_at = _BY_INSTIGATOR.get(shapes.index("@")) if shapes.count("@") == 1 else None
    by_url = _BY_URL.get(shapes.index("u")) if shapes.count("u") == 1 else None
    if by_at and by_url and by_at != by_url:
        return None
    return by_at or by_url


def sdk_fields(parts: list[str]) -> HeaderFields:
    """`UbiquityOS - ...` headers in any of the three field orders."""
    parts = _merge_instigator(parts)
    dialect = _sdk_dialect(tuple([_shape(p) for p in parts])) if len(parts) == 4 else None
    if dialect is None:
        return HeaderFields(
            N.UBIQUITYOS_UNKNOWN,
            instigator=next((_instigator(p) for p in parts if p.startswith("@")), None),
            run_url=next((p for p in parts if _is_url(p)), None),
            error=f"unknown header shape: {len(parts)} fields after 'UbiquityOS' (expected "
            "CALLER, VERSION, an @instigator and a run URL in one of the SDK's orders)",
        )
    layout = _LAYOUTS[dialect]
    plain = [p for p, role in zip(parts, layout, strict=True) if role == "f"]
    return HeaderFields(
        dialect,
        caller=field_value(plain[0]),
        version=field_value(plain[1]),
        instigator=_instigator(parts[layout.index("@")]),
        run_url=field_value(parts[layout.index("u")]),
    )


class UbiquityHeaderReader:
    """Hidden blocks that open with a `Ubiquity -` or `UbiquityOS -` header line."""

    family = N.FAMILY_UBIQUITYOS

    def read(self, scan: Scanner, start: int, head: int) -> MetadataBlock | None:
        body = scan.body
        if body.startswith(_PREFIXES[0], head):
            name = _NAMES[0]
        elif body.startswith(_PREFIXES[1], head):
            name = _NAMES[1]
        else:
            return None
        fields_at = head + len(name) + 3
        line_end = scan.next_newline(fields_at)
        close, close_length = scan.next_close(fields_at)
        on_line = 0 <= close < line_end  # `<!-- UbiquityOS - a - b - @c - d -->`: no JSON
        header_end = close if on_line else line_end
        if header_end - fields_at > MAX_HEADER_CHARS:
            return _overlong(scan, start, fields_at, name)
        scan.steps += header_end - fields_at
        parts = [part.strip() for part in body[fields_at:header_end].split(" - ")]
        fields = legacy_fields(parts) if name == "Ubiquity" else sdk_fields(parts)
        if on_line:
            return _block(start, close + close_length, name, fields, None, None, fields.error)
        payload = read_payload(scan, line_end)
        error = "; ".join(e for e in (fields.error, payload.error) if e) or None
        value = _unescaped(body, payload.value, payload.span)
        return _block(start, payload.end, name, fields, value, payload.span, error)


def _unescaped(body: str, value: Json, span: tuple[int, int] | None) -> Json:
    if span is not None and looks_escaped(body[span[0] : span[1]]):
        return unescape_strings(value)
    return value


def _block(
    start: int,
    end: int,
    name: str,
    fields: HeaderFields,
    value: Json,
    span: tuple[int, int] | None,
    error: str | None,
) -> MetadataBlock:
    return MetadataBlock(
        dialect=fields.dialect,
        start=start,
        end=end,
        header_name=name,
        header_class=fields.header_class,
        caller=fields.caller,
        version=fields.version,
        instigator=fields.instigator,
        run_url=fields.run_url,
        metadata=value,
        json_span=span,
        plugin="command-ask" if fields.dialect == N.COMMAND_ASK_LLM else None,
        error=error,
    )


def _overlong(scan: Scanner, start: int, fields_at: int, name: str) -> MetadataBlock:
    """A header line too long to be one: the block is its HTML comment, with an error."""
    close, length = scan.next_close(fields_at)
    end = close + length if close >= 0 else scan.size
    unknown = N.UBIQUITYOS_UNKNOWN if name == "UbiquityOS" else N.UBIQUITY_UNKNOWN
    error = f"unknown header shape: header line longer than {MAX_HEADER_CHARS} characters"
    if close < 0:
        error += "; unterminated block: no --> after it"
    return MetadataBlock(unknown, start, end, header_name=name, error=error)


_TOKEN_KEYS = frozenset(
    {
        "input",
        "output",
        "total",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "promptTokens",
        "completionTokens",
        "totalTokens",
    }
)


def _counts_tokens(value: Json) -> bool:
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("tokenUsage"), dict):
        return True
    return any(isinstance(value.get(key), int) for key in _TOKEN_KEYS)


class TokenUsageReader:
    """command-ask, Jul - Oct 2024: `<!--`, the token usage as JSON, then `--!>`, no header.

    Other tools hide JSON in comments too, so a block counts only when it has command-ask's
    malformed `--!>` close or token counts in it; anything else is left alone.
    """

    family = N.FAMILY_UBIQUITYOS

    def read(self, scan: Scanner, start: int, head: int) -> MetadataBlock | None:
        body = scan.body
        at = scan.skip_space(head)
        if at >= scan.size or body[at] not in "{[":
            return None
        decoded = scan.decode_json(at)
        if decoded.end < 0:
            return None
        after = scan.skip_space(decoded.end)
        length = scan.close_length_at(after)
        if not length or not (length == 4 or _counts_tokens(decoded.value)):
            return None
        span = (at, decoded.end)
        return MetadataBlock(
            N.TOKEN_USAGE,
            start,
            after + length,
            metadata=_unescaped(body, decoded.value, span),
            json_span=span,
            plugin="command-ask",
        )


# ---------- visible text
_TRACKING = re.compile(
    r"[ \t]*\*\*(?P<bot>UbiquityOS|Claude) "
    r"(?:finished @(?P<user>[^\n*']{1,100})'s task(?: in [^\n*]{1,40})?|(?P<busy>is working))"
    r"[^\n*]{0,10}\*\*(?P<rest>[^\n]{0,1000})"
)
_VIEW_JOB = re.compile(r"\[View job\]\((?P<url>[^)\s]{1,500})\)")
_RULE = re.compile(r"[ \t]*-{3,}[ \t]*(?:\r?\n|$)")


@dataclass(slots=True)
class Tracking:
    block: MetadataBlock
    busy: bool  # "is working": the job has not finished, what follows is not an answer yet


def read_tracking_line(scan: Scanner) -> Tracking | None:
    """The Claude action's tracking line at the top of the body, and the `---` after it."""
    body = scan.body
    start = scan.skip_space(0)
    found = _TRACKING.match(body, start)
    if found is None:
        return None
    end = found.end()
    after = scan.skip_space(end)
    rule = _RULE.match(body, after)
    if rule is not None:
        end = rule.end()
    scan.steps += end - start
    job = _VIEW_JOB.search(found.group("rest"))
    block = MetadataBlock(
        N.CLAUDE_ACTION,
        start,
        end,
        header_name=found.group("bot"),
        instigator=field_value(found.group("user")),
        run_url=job.group("url") if job else None,
        plugin="command-ask" if found.group("bot") == "UbiquityOS" else None,
    )
    return Tracking(block, busy=found.group("busy") is not None)


# Jan 2025 on: the bot posts one of these, then edits its own comment into the answer.
_PLACEHOLDERS = frozenset(
    {"thinking...", "ubiquityos is thinking...", "ubiquityos is working...", "claude is working..."}
)
_ALERT_LINE = re.compile(r"\[![A-Za-z]{1,20}\]")
_PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
_MAX_PLACEHOLDER_CHARS = 200


def is_placeholder_text(text: str) -> bool:
    """`Thinking...`, `> [!TIP]\\n> Thinking...`, `UbiquityOS is thinking...` (any case, `…`),
    also as the SDK's `logger.ok` wrote it until mid-2025: a `diff` block, the line after `+ `."""
    if len(text) > _MAX_PLACEHOLDER_CHARS or ("..." not in text and "…" not in text):
        return False
    words: list[str] = []
    in_diff = False
    for line in text.replace("…", "...").splitlines():
        line = line.strip().lstrip(">").strip()
        if line.startswith("```"):
            in_diff = line[3:].strip().lower() == "diff"
            continue
        if in_diff and line.startswith(("+", "!")):
            line = line[1:].strip()
        if line and not _ALERT_LINE.fullmatch(line):
            words.append(line)
    return " ".join(words).strip("*_ ").lower() in _PLACEHOLDERS


def drop_leading_placeholder(text: str) -> str:
    """The text without a placeholder paragraph in front (left there when the bot appended)."""
    head = text[:_MAX_PLACEHOLDER_CHARS]
    if "..." not in head and "…" not in head:  # every placeholder has one
        return text
    brk = _PARAGRAPH_BREAK.search(text, 0, _MAX_PLACEHOLDER_CHARS)
    if brk is not None and is_placeholder_text(text[: brk.start()]):
        return text[brk.end() :].strip()
    return text
