"""Custom dialects: other teams' bots' headers, described in harvester.toml.

A `[[bots.custom_dialects]]` table gives a regular expression that finds the header (RE2
syntax, matched by RE2 in linear time: `config.compile_header_pattern`), where its JSON is
(`after_header`: the text after the header line up to `-->`; `none`; or a named group), a
fixed plugin, and the authors whose comments it applies to. Named groups `caller`, `version`
(or `revision`), `instigator`, `run_url` (or `url`), `class` and `plugin` fill the header
fields of the same names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from harvester.config import CustomDialect, HeaderMatch, normalise_login
from harvester.dialects.base import (
    Json,
    MetadataBlock,
    field_value,
    looks_escaped,
    without_surrogates,
)
from harvester.dialects.base import unescape_strings as _unescape
from harvester.dialects.scan import Payload, Scanner, read_payload

_GROUP_FIELDS = {
    "caller": "caller",
    "version": "version",
    "revision": "version",
    "instigator": "instigator",
    "run_url": "run_url",
    "url": "run_url",
    "class": "header_class",
    "plugin": "plugin",
}


def custom_blocks(
    body: str, dialects: Sequence[CustomDialect], author_login: str | None
) -> list[MetadataBlock]:
    """Every match of every custom dialect that applies to this author, in body order."""
    author = normalise_login(author_login) if author_login else None
    blocks: list[MetadataBlock] = []
    matchable = without_surrogates(body)  # RE2 reads UTF-8; the same offsets
    for dialect in dialects:
        if dialect.authors and author not in dialect.authors:
            continue
        scan = Scanner(body)
        for found in dialect.regex().finditer(matchable):
            if found.end() > found.start():
                blocks.append(_block(scan, dialect, found))
    blocks.sort(key=lambda block: block.start)
    return blocks


def _block(scan: Scanner, dialect: CustomDialect, found: HeaderMatch) -> MetadataBlock:
    fields: dict[str, str | None] = {}
    for group, text in found.groupdict().items():
        if group in _GROUP_FIELDS and text is not None:
            written = text.removeprefix("@") if group == "instigator" else text
            fields[_GROUP_FIELDS[group]] = field_value(written)
    if dialect.plugin:
        fields["plugin"] = dialect.plugin
    if dialect.json_payload == "after_header":
        payload = _after_header(scan, found)
    elif dialect.json_payload == "none":
        payload = _comment_end(scan, found, Payload(None, None, found.end(), None))
    else:
        group = dialect.json_payload
        index = dialect.regex().groupindex[group]
        payload = _comment_end(scan, found, _group_json(found, group, index))
    value = payload.value
    if payload.span is not None and looks_escaped(scan.body[payload.span[0] : payload.span[1]]):
        value = _unescape(value)
    return MetadataBlock(
        dialect=dialect.name,
        start=found.start(),
        end=max(payload.end, found.end()),
        header_class=fields.get("header_class"),
        caller=fields.get("caller"),
        version=fields.get("version"),
        instigator=fields.get("instigator"),
        run_url=fields.get("run_url"),
        metadata=value,
        json_span=payload.span,
        plugin=fields.get("plugin"),
        error=payload.error,
    )


def _closes_itself(found: HeaderMatch) -> bool:
    text = found.group(0) or ""
    return "-->" in text or "--!>" in text


def _comment_end(scan: Scanner, found: HeaderMatch, payload: Payload) -> Payload:
    """A header that opens an HTML comment without closing it runs to the comment's close."""
    if not (found.group(0) or "").startswith("<!--") or _closes_itself(found):
        return payload
    close, length = scan.next_close(found.end())
    if close < 0:
        error = "unterminated block: no --> after the header"
        return Payload(payload.value, payload.span, scan.size, error)
    return Payload(payload.value, payload.span, close + length, payload.error)


def _after_header(scan: Scanner, found: HeaderMatch) -> Payload:
    """JSON on the header's own line (`<!-- bot {...} -->`) or on the lines after it."""
    if _closes_itself(found):
        return Payload(None, None, found.end(), None)
    body = scan.body
    at = scan.skip_inline_space(found.end())
    if at < scan.size and body[at] in "{[":
        return read_payload(scan, at)
    line_end = found.end() if body[found.end() - 1] == "\n" else scan.next_newline(found.end())
    return read_payload(scan, line_end)


def _group_json(found: HeaderMatch, group: str, index: int) -> Payload:
    text = found.group(group)
    if text is None or not text.strip():
        return Payload(None, None, found.end(), None)
    try:
        value: Json = json.loads(text)
    except json.JSONDecodeError as exc:
        error = f"invalid JSON in group {group!r} at column {exc.pos + 1}: {exc.msg}"
        return Payload(None, None, found.end(), error)
    except (RecursionError, ValueError) as exc:
        return Payload(None, None, found.end(), f"invalid JSON in group {group!r}: {exc!s:.80}")
    return Payload(value, found.span(index), found.end(), None)
