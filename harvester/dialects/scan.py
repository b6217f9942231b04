"""One forward pass over a comment body that finds its hidden blocks, in linear time.

The hard part is where a block ends. Legacy generators do not escape their JSON, so a string
in it may hold `--` or even `-->`; HTML would end the comment there, but the bot's data goes on.
So a block with JSON ends at the first close after the JSON value: `json.JSONDecoder.raw_decode`
reads exactly one value from the header's end (it knows where strings are, needs no end marker
and cannot backtrack), then only whitespace may come before `-->` (or `--!>`, the malformed
close of command-ask's 2024 token-usage blocks, which HTML also accepts).

Every search moves forward. A `Scanner` counts the characters its primitives examine
(`steps`), which is what the complexity tests measure: on a body of n characters it stays
below a small multiple of n, whatever the body holds. Three things keep it there:
- the next newline and the next close are cached: asking again from an earlier position
  inside the same stretch costs nothing;
- the JSON decoder never starts inside text an earlier decode already read (a block that
  opens in there would be inside that JSON's strings), so decodes cover disjoint stretches;
- a decode that fails without saying how far it read (nesting deeper than the recursion
  limit, an integer past Python's digit limit) switches JSON decoding off for the rest of
  the body. No real bot writes either;
- so do `MAX_JSON_FAILURES` failed decodes: each costs O(position), as the decoder's error
  counts the lines before it (counted in `steps`), so a body of thousands of `<!--[1,-->`
  would otherwise take quadratic time. Real bodies hold a few blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harvester.dialects.base import BlockReader, Json, MetadataBlock

OPEN = "<!--"
_CLOSES = ("-->", "--!>")
_CLOSE = re.compile("--!?>")  # the earlier of the two: a literal prefix, nothing to backtrack
_SPACE = re.compile(r"[ \t\r\n]*")
_INLINE_SPACE = re.compile(r"[ \t]*")
_DECODER = json.JSONDecoder()
MAX_JSON_FAILURES = 16


class _NextMatch:
    """The next index of `needle` at or after a position, remembered between questions.

    When the answer for position p is c (or "none"), it is also the answer for every position
    in [p, c], so only a question past c searches again: each character is searched once.
    """

    __slots__ = ("asked", "found", "needle")

    def __init__(self, needle: str) -> None:
        self.needle = needle
        self.asked = -1  # no question yet
        self.found = -1

    def lookup(self, scan: Scanner, pos: int) -> int:
        if 0 <= self.asked <= pos and (self.found < 0 or pos <= self.found):
            return self.found
        self.asked = pos
        self.found = scan.find(self.needle, pos)
        return self.found


@dataclass(slots=True)
class Decoded:
    """A JSON value read from the body, or why none could be (`error`, `resume`)."""

    value: Json = None
    end: int = -1  # index just past the value; -1 when it failed
    error: str | None = None
    resume: int = -1  # where a failed block's close is searched from


class Scanner:
    """The body being read, with forward-only search primitives that count their work."""

    __slots__ = (
        "_close",
        "_close_asked",
        "_newline",
        "body",
        "json_failures",
        "json_read_to",
        "size",
        "steps",
    )

    def __init__(self, body: str) -> None:
        self.body = body
        self.size = len(body)
        self.steps = 0
        self.json_read_to = 0  # the decoder has read everything before this index
        self.json_failures = 0
        self._newline: _NextMatch | None = None  # made on first use: most bodies need none
        self._close_asked = -1  # as _NextMatch, for either close: one search finds both
        self._close: tuple[int, int] = (-1, 0)

    def find(self, needle: str, pos: int) -> int:
        found = self.body.find(needle, pos)
        self.steps += (found + len(needle) if found >= 0 else self.size) - pos
        return found

    def next_open(self, pos: int) -> int:
        return self.find(OPEN, pos)

    def next_newline(self, pos: int) -> int:
        """Index of the next `\\n` at or after `pos`, or the body's length when none."""
        if self._newline is None:
            self._newline = _NextMatch("\n")
        found = self._newline.lookup(self, pos)
        return found if found >= 0 else self.size

    def next_close(self, pos: int) -> tuple[int, int]:
        """(index, length) of the next `-->` or `--!>` at or after `pos`; (-1, 0) when none."""
        found = self._close[0]
        if 0 <= self._close_asked <= pos and (found < 0 or pos <= found):
            return self._close
        self._close_asked = pos
        match = _CLOSE.search(self.body, pos)
        self.steps += (match.end() if match else self.size) - pos
        self._close = (match.start(), match.end() - match.start()) if match else (-1, 0)
        return self._close

    def close_length_at(self, pos: int) -> int:
        """Length of the close that starts exactly at `pos`, else 0."""
        self.steps += 1
        for close in _CLOSES:
            if self.body.startswith(close, pos):
                return len(close)
        return 0

    def skip_space(self, pos: int) -> int:
        return self._skip(_SPACE, pos)

    def skip_inline_space(self, pos: int) -> int:
        return self._skip(_INLINE_SPACE, pos)

    def _skip(self, pattern: re.Pattern[str], pos: int) -> int:
        found = pattern.match(self.body, pos)
        end = found.end() if found else pos
        self.steps += end - pos + 1
        return end

    def decode_json(self, pos: int) -> Decoded:
        """One JSON value starting at `pos` (see the module docstring for the guarantees)."""
        if pos < self.json_read_to:
            return Decoded(error="JSON inside an earlier block's JSON", resume=pos)
        if self.json_failures >= MAX_JSON_FAILURES:
            return Decoded(
                error=f"not decoded: {MAX_JSON_FAILURES} invalid JSON values before it in "
                "this body",
                resume=pos,
            )
        try:
            value, end = _DECODER.raw_decode(self.body, pos)
        except json.JSONDecodeError as exc:
            # An unterminated string is reported at its start, but was read to the body's end.
            read_to = self.size if exc.msg.startswith("Unterminated string") else exc.pos + 1
            self.steps += read_to - pos + exc.pos  # the error counted the lines before exc.pos
            self.json_read_to = read_to
            self.json_failures += 1
            return Decoded(error=self._describe(exc, pos), resume=max(exc.pos, pos))
        except (RecursionError, ValueError) as exc:
            self.steps += self.size - pos
            self.json_read_to = self.size
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:80]
            return Decoded(error=f"invalid JSON: {reason}", resume=pos)
        self.steps += end - pos
        self.json_read_to = end
        return Decoded(value=value, end=end)

    def _describe(self, exc: json.JSONDecodeError, start: int) -> str:
        """The decoder's message with a line and column counted from the JSON's first line."""
        at = max(exc.pos, start)
        line = self.body.count("\n", start, at) + 1
        column = at - (self.body.rfind("\n", start, at) + 1 if line > 1 else start) + 1
        return f"invalid JSON at line {line}, column {column} of the block: {exc.msg}"


@dataclass(slots=True)
class Payload:
    """The JSON after a header, and where the block that holds it ends."""

    value: Json
    span: tuple[int, int] | None
    end: int
    error: str | None


def read_payload(scan: Scanner, pos: int) -> Payload:
    """The optional JSON value from `pos` on, then the close that ends the block.

    A block with no close is unterminated: HTML hides the rest of the body, so does this.
    """
    start = scan.skip_space(pos)
    if start >= scan.size:
        return Payload(None, None, scan.size, "unterminated block: no --> after the header")
    length = scan.close_length_at(start)
    if length:
        return Payload(None, None, start + length, None)
    decoded = scan.decode_json(start)
    if decoded.end < 0:
        return _closed_after(scan, decoded.resume, None, None, decoded.error)
    span = (start, decoded.end)
    after = scan.skip_space(decoded.end)
    length = scan.close_length_at(after)
    if length:
        return Payload(decoded.value, span, after + length, None)
    return _closed_after(scan, after, decoded.value, span, "unexpected text after the JSON")


def _closed_after(
    scan: Scanner, pos: int, value: Json, span: tuple[int, int] | None, error: str | None
) -> Payload:
    close, length = scan.next_close(pos)
    if close < 0:
        note = "unterminated block: no --> after it"
        return Payload(value, span, scan.size, f"{error}; {note}" if error else note)
    return Payload(value, span, close + length, error)


def scan_blocks(scan: Scanner, readers: Sequence[BlockReader]) -> list[MetadataBlock]:
    """Every block the readers recognise, in body order, in one forward pass.

    An HTML comment no reader knows stays in the answer text, and the search goes on right
    after its `<!--`, not at its close: in Markdown a `<!--` inside a code span or block is
    text (an answer about HTML), and the bot's own block after it must still be found.
    """
    blocks: list[MetadataBlock] = []
    pos = 0
    while pos < scan.size:
        start = scan.next_open(pos)
        if start < 0:
            break
        head = scan.skip_inline_space(start + len(OPEN))
        block = None
        for reader in readers:
            block = reader.read(scan, start, head)
            if block is not None:
                break
        if block is None:
            pos = start + len(OPEN)
            continue
        blocks.append(block)
        pos = block.end
    return blocks
