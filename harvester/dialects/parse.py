"""`parse_comment`: what a comment body says about itself, and the answer a reader sees.

Pure and total: any body (None, 1 MB, broken JSON, lone surrogates) gives a `ParsedComment`;
whatever is wrong with it is a short `parse_error`, never an exception.

Who wrote it: a recognised header makes a comment bot output whoever its author is (bots that
post through a user token exist); without one, the author decides: a `Bot`, or a login listed
in `bots.logins`, makes it `author-only` bot output (`marker` when it carries markers). A marker
on a human's comment (`<!-- ubiquityos-agent ... -->`) leaves it human.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from harvester.config import BotsConfig
from harvester.dialects import names as N
from harvester.dialects.base import Json, MetadataBlock, first_string, without_surrogates
from harvester.dialects.custom import custom_blocks
from harvester.dialects.markers import BY_NAME
from harvester.dialects.plugins import infer_plugin
from harvester.dialects.registry import readers_for
from harvester.dialects.scan import OPEN, Scanner, scan_blocks
from harvester.dialects.ubiquityos import (
    Tracking,
    drop_leading_placeholder,
    is_placeholder_text,
    read_tracking_line,
)

_MAX_ERROR_CHARS = 300


@dataclass(slots=True)
class TokenUsage:
    input: int | None
    output: int | None
    total: int | None


@dataclass(slots=True)
class ParsedComment:
    """One comment body, read.

    `dialect` is the primary block's (the first metadata block in the body), `author-only` or
    `marker` for bot comments without one, None for human comments. Header fields and
    `metadata` are the primary block's; `blocks` holds every metadata block in body order
    (markers are listed by name in `markers` only). `answer_text` is the body without metadata
    blocks, markers, the visible ```json copy a fatal log puts before its hidden block, the
    Claude action's tracking line and `---`, and placeholders; stripped.

    Read-only by convention (not `frozen`, for speed: see `MetadataBlock`).
    """

    dialect: str | None
    is_bot_output: bool
    plugin: str | None
    comment_kind: N.CommentKind
    answer_text: str
    header_name: str | None = None
    header_class: str | None = None
    caller: str | None = None
    version: str | None = None
    instigator: str | None = None
    run_url: str | None = None
    metadata: Json = None
    blocks: tuple[MetadataBlock, ...] = ()
    markers: tuple[str, ...] = ()
    is_placeholder: bool = False
    parse_error: str | None = None

    @property
    def all_metadata(self) -> list[Json]:
        """The JSON of every block, in body order (the primary one first)."""
        return [block.metadata for block in self.blocks]

    @property
    def payload(self) -> Json:
        """The primary metadata without command-ask's legacy `{"metadata": ..., "caller"}` wrap."""
        inner = self.metadata.get("metadata") if isinstance(self.metadata, dict) else None
        return inner if isinstance(inner, dict) else self.metadata

    @property
    def comment_kind_key(self) -> str | None:
        """SDK >= 3.9's `"commentKind"` (e.g. "command-response"), when written."""
        return first_string(self.payload, "commentKind")

    @property
    def ground_truths(self) -> tuple[str, ...]:
        found = self.payload.get("groundTruths") if isinstance(self.payload, dict) else None
        if not isinstance(found, list):
            return ()
        return tuple(item for item in found if isinstance(item, str))

    @property
    def token_usage(self) -> TokenUsage | None:
        """LLM token counts: SDK `tokenUsage`, the legacy wrap, or a token-usage block."""
        payload = self.payload
        if not isinstance(payload, dict):
            return None
        usage = payload.get("tokenUsage", payload if self.dialect == N.TOKEN_USAGE else None)
        if not isinstance(usage, dict):
            return None
        counts = [usage.get(key) for key in ("input", "output", "total")]
        ints = [
            value if isinstance(value, int) and not isinstance(value, bool) else None
            for value in counts
        ]
        return None if ints == [None, None, None] else TokenUsage(*ints)

    def to_record(self) -> dict[str, Any]:
        """The flat fields the warehouse stores (metadata as the parsed JSON value)."""
        return {
            "dialect": self.dialect,
            "is_bot_output": self.is_bot_output,
            "plugin": self.plugin,
            "comment_kind": self.comment_kind,
            "caller": self.caller,
            "header_name": self.header_name,
            "header_class": self.header_class,
            "version": self.version,
            "instigator": self.instigator,
            "run_url": self.run_url,
            "metadata": self.metadata,
            "markers": list(self.markers),
            "answer_text": self.answer_text,
            "is_placeholder": self.is_placeholder,
            "parse_error": self.parse_error,
        }


@functools.cache
def default_bots() -> BotsConfig:
    """The `[bots]` section of a harvester.toml that has none."""
    return BotsConfig()


def parse_comment(
    body: str | None,
    *,
    author_login: str | None,
    author_type: str | None,
    bots: BotsConfig | None = None,
) -> ParsedComment:
    """Read a comment body: dialect, header fields, metadata, plugin, kind, answer text.

    `author_type` is the GraphQL `__typename` of the author (`Bot`, `User`, ...).
    """
    return parse_with_steps(body, author_login=author_login, author_type=author_type, bots=bots)[0]


def parse_with_steps(
    body: str | None,
    *,
    author_login: str | None,
    author_type: str | None,
    bots: BotsConfig | None = None,
) -> tuple[ParsedComment, int]:
    """`parse_comment`, plus the characters its scanner examined (for complexity tests)."""
    text = body or ""
    scan = Scanner(text)
    try:
        parsed = _parse(scan, author_login, author_type, bots or default_bots())
    except Exception as exc:  # a body must never stop a run; say what happened instead
        parsed = _failed(text, author_login, author_type, bots or default_bots(), exc)
    return parsed, scan.steps


def _parse(
    scan: Scanner, author_login: str | None, author_type: str | None, bots: BotsConfig
) -> ParsedComment:
    found, tracking = _find_blocks(scan, author_login, bots)
    configured = author_login is not None and bots.is_bot_login(author_login)
    if not found:
        return _plain(scan, by_bot=configured or author_type == "Bot", configured=configured)
    metadata_blocks = tuple(block for block in found if block.marker is None)
    markers = tuple(dict.fromkeys(block.marker for block in found if block.marker is not None))
    primary = metadata_blocks[0] if metadata_blocks else None
    if primary is not None:
        dialect: str | None = primary.dialect
    elif configured or author_type == "Bot":
        dialect = N.MARKER if markers else N.AUTHOR_ONLY
    else:
        dialect = None  # a human's comment with a marker: the author decides
    is_bot_output = dialect is not None
    visible = _visible_text(scan, found)
    # Only bots post placeholders: a human writing "Thinking..." meant it.
    placeholder = is_bot_output and (
        is_placeholder_text(visible) or (tracking is not None and tracking.busy)
    )
    answer = "" if placeholder else drop_leading_placeholder(visible) if is_bot_output else visible
    plugin = infer_plugin(found) if is_bot_output else None
    kind = _comment_kind(
        dialect,
        metadata_blocks,
        markers,
        answer,
        placeholder=placeholder,
        configured=configured,
        plugin=plugin,
    )
    errors = tuple(dict.fromkeys(block.error for block in found if block.error))
    # Header fields are slices of the body: they hold a lone surrogate only when it does. The
    # caller may come from the JSON, where a `\ud800` escape makes one in a clean body.
    clean = _storable_or_none if _has_surrogate(scan.body) else _same
    return ParsedComment(
        dialect=dialect,
        is_bot_output=is_bot_output,
        plugin=clean(plugin),
        comment_kind=kind,
        answer_text=_storable(answer),
        header_name=clean(primary.header_name) if primary else None,
        header_class=clean(primary.header_class) if primary else None,
        caller=_storable_or_none(_caller(primary)),
        version=clean(primary.version) if primary else None,
        instigator=clean(primary.instigator) if primary else None,
        run_url=clean(primary.run_url) if primary else None,
        metadata=primary.metadata if primary else None,
        blocks=metadata_blocks,
        markers=markers,
        is_placeholder=placeholder,
        parse_error=clean(_joined(errors)),
    )


def _find_blocks(
    scan: Scanner, author_login: str | None, bots: BotsConfig
) -> tuple[list[MetadataBlock], Tracking | None]:
    """Every block in body order: the tracking line, hidden blocks, custom dialects' headers."""
    body = scan.body
    tracking = None
    if N.FAMILY_UBIQUITYOS in bots.dialects and body.lstrip().startswith("**"):
        tracking = read_tracking_line(scan)
    found = scan_blocks(scan, readers_for(bots.dialects)) if OPEN in body else []
    if bots.custom_dialects:
        found = _merge(found, custom_blocks(body, bots.custom_dialects, author_login))
    if tracking is not None:
        found = [tracking.block, *(b for b in found if b.start >= tracking.block.end)]
    return found, tracking


def _plain(scan: Scanner, *, by_bot: bool, configured: bool) -> ParsedComment:
    """A body with no block at all, the common case: only the author and placeholders count."""
    visible = scan.body.strip()
    scan.steps += scan.size
    placeholder = by_bot and is_placeholder_text(visible)
    answer = "" if placeholder else drop_leading_placeholder(visible) if by_bot else visible
    if not by_bot:
        kind: N.CommentKind = N.OTHER
    elif placeholder or (configured and answer):
        kind = N.LLM_ANSWER
    else:
        kind = N.OTHER
    return ParsedComment(
        dialect=N.AUTHOR_ONLY if by_bot else None,
        is_bot_output=by_bot,
        plugin=None,
        comment_kind=kind,
        answer_text=_storable(answer),
        is_placeholder=placeholder,
    )


def _merge(builtin: list[MetadataBlock], custom: list[MetadataBlock]) -> list[MetadataBlock]:
    """Both lists in body order; a block overlapping an earlier one is dropped.

    At the same start a custom block wins: the user described that header on purpose.
    """
    ordered = sorted(
        [(block.start, 0, block) for block in custom]
        + [(block.start, 1, block) for block in builtin],
        key=lambda item: (item[0], item[1]),
    )
    kept: list[MetadataBlock] = []
    for _, _, block in ordered:
        if not kept or block.start >= kept[-1].end:
            kept.append(block)
    return kept


def _visible_text(scan: Scanner, blocks: list[MetadataBlock]) -> str:
    """The body between the blocks, stripped (a fatal log's visible JSON copy left out)."""
    body = scan.body
    parts: list[str] = []
    pos = 0
    for block in blocks:
        if block.start < pos:
            continue
        cut = block.start
        if block.json_span is not None:
            cut = _before_visible_copy(scan, pos, block.start, block.json_span)
        parts.append(body[pos:cut])
        pos = block.end
    parts.append(body[pos:])
    scan.steps += scan.size
    return "".join(parts).strip()


def _before_visible_copy(scan: Scanner, pos: int, start: int, span: tuple[int, int]) -> int:
    """Where a ```json copy of the block's JSON starts, right before the block; else `start`.

    The logger of the SDK and of the plugins' legacy copies shows a fatal error's metadata as
    ```json + the same JSON + ``` directly before the hidden block.
    """
    body = scan.body
    scan.steps += 2 * (start - pos)  # the slice, and at worst one backward search through it
    segment = body[pos:start].rstrip()
    if not segment.endswith("```"):
        return start
    opening = segment.rfind("```json", 0, len(segment) - 3)
    if opening < 0:
        return start
    shown = segment[opening + len("```json") : len(segment) - 3].strip()
    if shown != body[span[0] : span[1]].strip():
        return start
    return pos + opening


_LLM_DIALECTS = frozenset({N.COMMAND_ASK_LLM, N.TOKEN_USAGE, N.CLAUDE_ACTION})
_ERROR_CLASSES = frozenset({"error", "fatal"})
_ERROR_ALERT = re.compile(r"> *\[!(?:CAUTION|WARNING)\]", re.IGNORECASE)
_DIFF_ERROR_LINE = re.compile(r"(?m)^[!-]")
_NOT_QUOTED_LINE = re.compile(r"(?m)^(?!>)")


def _comment_kind(
    dialect: str | None,
    blocks: tuple[MetadataBlock, ...],
    markers: tuple[str, ...],
    answer: str,
    *,
    placeholder: bool,
    configured: bool,
    plugin: str | None,
) -> N.CommentKind:
    """What the comment is. The rules, in order (the first that holds decides):

    human comment: `marker` when it carries one, else `other`; a placeholder: `llm_answer`;
    author-only: `llm_answer` for a configured bot login (one configures LLM bots), `other` for
    any other Bot or an empty body; marker-only: the marker's kind; custom dialect:
    `llm_answer`; LLM evidence (`tokenUsage` or `groundTruths`, command-ask and Claude
    dialects): `llm_answer`; an upstream-LLM marker, an error (legacy class error/fatal, a
    `stack` in the JSON, a CAUTION/WARNING alert or a ```diff with `!`/`-` lines) or a daemon
    plugin: `log`; a `command-*` plugin: `command_response`; a bare ```diff or alert (the
    logger's ok/info messages): `log`; anything else a plugin wrote: `command_response`.
    SDK 3.9's `"commentKind": "command-response"` decides nothing: it is written on every
    response to a command, logs included.
    """
    if dialect is None:
        return N.MARKER_KIND if markers else N.OTHER
    if placeholder:
        return N.LLM_ANSWER
    if dialect == N.AUTHOR_ONLY:
        return N.LLM_ANSWER if configured and answer else N.OTHER
    if dialect == N.MARKER:
        return N.LOG if any(BY_NAME[name].kind == N.LOG for name in markers) else N.MARKER_KIND
    if dialect not in N.BUILTIN_DIALECT_NAMES:
        return N.LLM_ANSWER if answer else N.OTHER
    if dialect in _LLM_DIALECTS or any(_has_llm_metadata(block.metadata) for block in blocks):
        return N.LLM_ANSWER
    if N.MARK_UPSTREAM_LLM_ERROR in markers or _is_error(blocks[0], answer):
        return N.LOG
    if plugin is not None and plugin.startswith("daemon-"):
        return N.LOG
    if plugin is not None and plugin.startswith("command-"):
        return N.COMMAND_RESPONSE
    return N.LOG if _is_log_message(answer) else N.COMMAND_RESPONSE


def _has_llm_metadata(value: Json) -> bool:
    if not isinstance(value, dict):
        return False
    inner = value.get("metadata")
    for candidate in (value, inner):
        if isinstance(candidate, dict) and (
            "tokenUsage" in candidate or "groundTruths" in candidate
        ):
            return True
    return False


def _is_error(primary: MetadataBlock, answer: str) -> bool:
    if (primary.header_class or "").lower() in _ERROR_CLASSES:
        return True
    if isinstance(primary.metadata, dict) and "stack" in primary.metadata:
        return True
    if _ERROR_ALERT.match(answer):
        return True
    return answer.startswith("```diff") and _DIFF_ERROR_LINE.search(answer, 7) is not None


def _is_log_message(answer: str) -> bool:
    """A single ```diff block or a single `> [!NOTE]`-style alert: the logger's rendering."""
    if answer.startswith("```diff") and answer.endswith("```"):
        return answer.count("```") == 2
    return answer.startswith("> [!") and _NOT_QUOTED_LINE.search(answer) is None


def _caller(primary: MetadataBlock | None) -> str | None:
    """The header's CALLER, else the JSON's `caller` (SDK v1 leaves the header field empty)."""
    if primary is None:
        return None
    return primary.caller or first_string(primary.metadata, "caller")


def _joined(errors: tuple[str, ...]) -> str | None:
    if not errors:
        return None
    text = "; ".join(errors)
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _same(text: str | None) -> str | None:
    return text


def _storable_or_none(text: str | None) -> str | None:
    return None if text is None else _storable(text)


def _storable(text: str) -> str:
    """Lone surrogates (from a JSON `\\ud800` escape) replaced: Parquet needs valid UTF-8."""
    return without_surrogates(text)


def _failed(
    body: str, author_login: str | None, author_type: str | None, bots: BotsConfig, exc: Exception
) -> ParsedComment:
    by_bot = author_type == "Bot" or (author_login is not None and bots.is_bot_login(author_login))
    return ParsedComment(
        dialect=N.AUTHOR_ONLY if by_bot else None,
        is_bot_output=by_bot,
        plugin=None,
        comment_kind=N.OTHER,
        answer_text=_storable(body.strip()),
        parse_error=f"internal parser error ({type(exc).__name__}: {exc!s:.120}); "
        "please report this body",
    )
