"""What every dialect shares: the block record, JSON values and the SDK's HTML-entity escaping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from harvester.dialects.scan import Scanner

Json: TypeAlias = dict[str, "Json"] | list["Json"] | str | int | float | bool | None

# A header line longer than this is not a header (real ones are under 300 characters); the
# bound keeps a 1 MB line of `<!-- UbiquityOS - ` repeats from being split over and over.
MAX_HEADER_CHARS = 1024


@dataclass(slots=True)
class MetadataBlock:
    """One hidden block (or, for `claude-action`, one tracking line) and what it says.

    `start`/`end` are offsets in the body (`body[start:end]` is the whole block). Header fields
    are as written, except that JavaScript non-values (`undefined`, `null`, empty) become None
    and the instigator loses its `@`. `metadata` is the parsed JSON with the SDK's HTML
    entities unescaped in string values; `json_span` is where its text is in the body.

    Read-only by convention. Not `frozen`: that costs a few microseconds per object on a path
    that makes millions of them (the parse records are the build's slowest Python stage).
    """

    dialect: str
    start: int
    end: int
    header_name: str | None = None
    header_class: str | None = None
    caller: str | None = None
    version: str | None = None
    instigator: str | None = None
    run_url: str | None = None
    metadata: Json = None
    json_span: tuple[int, int] | None = None
    plugin: str | None = None  # set when the dialect itself names the plugin
    marker: str | None = None  # set on marker blocks only
    error: str | None = None


class BlockReader(Protocol):
    """A dialect that reads hidden blocks: `read` looks at the `<!--` at `start`.

    `head` is the index just past `<!--` and any spaces or tabs. It returns the block, or None
    when the comment is not this dialect's (the next dialect is asked, and if none knows it the
    comment is left in the answer text as it is).
    """

    family: str

    def read(self, scan: Scanner, start: int, head: int) -> MetadataBlock | None: ...


_JS_NON_VALUES = frozenset({"", "undefined", "null"})


def field_value(text: str | None) -> str | None:
    """A header field as written, or None for JavaScript's way of writing nothing."""
    if text is None:
        return None
    text = text.strip()
    return None if text in _JS_NON_VALUES else text


# The SDK and command-ask escape `<`, `>`, `--` (and rewards `` ` ``) in the JSON text; `&amp;`
# is undone too for generators that escaped it. One pass, so `&amp;lt;` stays `&lt;`.
_ENTITY = re.compile(r"&(?:lt|gt|#45|#96|amp);")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&#45;": "-", "&#96;": "`", "&amp;": "&"}


def _unescape_text(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text) if "&" in text else text


def looks_escaped(json_text: str) -> bool:
    """Whether a block's JSON text was written by an escaping generator.

    Escaping generators never leave `<`, `>` or `--` in the text; legacy generators (which do
    not escape) usually do, and then `&lt;` in them is literal. Deciding by the text, not by
    the header, also covers plugin-local legacy headers that did escape.
    """
    return "&" in json_text and not any(mark in json_text for mark in ("<", ">", "--"))


def unescape_strings(value: Json) -> Json:
    """`value` with HTML entities undone in every string value (keys untouched).

    Iterative, because a JSON value the decoder accepted can be nested nearly as deep as the
    recursion limit. Containers are the decoder's fresh objects, so they are updated in place.
    """
    if isinstance(value, str):
        return _unescape_text(value)
    stack: list[dict[str, Json] | list[Json]] = []
    if isinstance(value, dict | list):
        stack.append(value)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():  # replacing values while iterating is allowed
                if isinstance(item, str):
                    node[key] = _unescape_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
        else:
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = _unescape_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return value


def first_string(value: Json, key: str) -> str | None:
    """`value[key]` when `value` is an object and that is a non-empty string."""
    if isinstance(value, dict):
        found = value.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate (from a JSON `\\ud800` escape) replaced by U+FFFD: one
    character for one, so offsets stay. UTF-8 (Parquet, DuckDB, RE2) cannot hold them."""
    try:
        text.encode("utf-8")  # C speed; fails exactly when a surrogate is in the text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
