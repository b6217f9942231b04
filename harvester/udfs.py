"""Text work the warehouse needs and SQL cannot do well: diffs, edit distance, phrases.

The build's Python stages call the batch functions at the end (`parse_rows`, `link_rows`,
`diff_rows`, `phrase_rows`) once per page of rows and get an Arrow table back. Why not DuckDB
Python UDFs: in DuckDB's Python package, scalar and Arrow UDFs need numpy, which this project
does not depend on; a batch function over a page is just as vectorised and keeps SQL in charge
of everything else. DuckDB's own `levenshtein` counts bytes, not characters (and is slower
than rapidfuzz's, used here).

Definitions (docs/warehouse.md repeats them for analysts):

- `edit_distance`: character-level Levenshtein distance (insertions, deletions, substitutions
  of one Unicode code point each), the unit of `feedback.trivial_edit_distance`.
- `similarity`: `1 - edit_distance / max(len(before), len(after))`, 1.0 for two empty texts.
- `line_diff`: a unified diff of the lines (`--- bot` / `+++ human`, 3 lines of context).
- `word_diff`: the after text with changes marked inline like `git diff --word-diff=plain`:
  `[-removed words-]{+added words+}`; words are runs of non-space characters, line breaks kept.
- `tokens`: the lower-cased runs of letters, digits and `_` (anything else separates words).
- `phrases`: the 1-3 token phrases of a text whose first and last token are content words
  (not in `STOP_WORDS`, not only digits): a phrase of stop words only is dropped, and so is
  "the config" (its "config" is kept) while "rate of change" stays.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa
from rapidfuzz.distance import Levenshtein

from harvester.config import BotsConfig
from harvester.dialects import parse_comment
from harvester.questions import ThreadComment, question_links


def levenshtein(a: str, b: str) -> int:
    """Character-level Levenshtein distance (unit-cost insertions, deletions and substitutions
    of code points), by rapidfuzz's bit-parallel C++ implementation."""
    return int(Levenshtein.distance(a, b))


def similarity(a: str, b: str, distance: int | None = None) -> float:
    """`1 - distance / max(len(a), len(b))`: 1.0 for equal texts, 0.0 for nothing in common."""
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    d = levenshtein(a, b) if distance is None else distance
    return 1.0 - d / longest


def line_diff(before: str, after: str, context: int = 3) -> str:
    """A unified diff of the two texts' lines, headed `--- bot` / `+++ human` ('' if equal)."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "bot", "human", lineterm="", n=context
    )
    return "\n".join(lines)


_SPACE_RUN = re.compile(r"(\s+)")


def _words(text: str, start: int, end: int) -> tuple[list[str], list[int], list[int]]:
    """The runs of non-space characters of `text[start:end]`, with where each starts and ends
    (one `re.split` and a running sum of lengths: no Python step per word)."""
    parts = _SPACE_RUN.split(text[start:end])  # word, space, word, ..., word ('' at an edge)
    bounds = list(itertools.accumulate(map(len, parts), initial=start))
    words, starts, ends = parts[0::2], bounds[0:-1:2], bounds[1::2]
    if words[-1] == "":
        del words[-1], starts[-1], ends[-1]
    if words and words[0] == "":
        del words[0], starts[0], ends[0]
    return words, starts, ends


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (a binary search of slice comparisons)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many words the two lists share at the start, and then at the end."""
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def _common_text_ends(before: str, after: str) -> tuple[int, int]:
    """How many characters the texts share at the start and then at the end, cut back to
    whole words: the start ends after a space (or is empty), the end starts with one."""
    head = _common_prefix(before, after)
    while head and not before[head - 1].isspace():
        head -= 1
    tail = _common_prefix(before[head:][::-1], after[head:][::-1])
    while tail and not before[len(before) - tail].isspace():
        tail -= 1
    return head, tail


def word_diff(before: str, after: str) -> str:
    """The after text with its word changes marked, as `git diff --word-diff=plain`:
    `[-removed-]` and `{+added+}`.

    Words are runs of non-space characters. Everything outside `[-...-]` is the after text
    exactly, whitespace and indentation included: drop the removals and unwrap the additions
    and you have `after` back; unwrap the removals and drop the additions and you have `before`
    with the after text's spacing. A change of whitespace alone therefore shows no marker.

    The text both start and end with (cut to whole words) is kept as it is and only the
    middle's words go to difflib (as GNU diff does): a human correction is mostly local, and
    the matcher's cost grows with the square of the words it is given.
    """
    head, tail = _common_text_ends(before, after)
    old, old_starts, old_ends = _words(before, head, len(before) - tail)
    new, new_starts, new_ends = _words(after, head, len(after) - tail)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    parts: list[str] = []
    pos = 0  # the after text is written up to here
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue  # written with the next change, or at the end
        if tag == "delete":
            if j1 < len(new):  # before the next word, with the space after it
                at, start, stop = new_starts[j1], old_starts[i1], old_starts[i2]
            elif i1 and j1:  # after the last word, with the space before it
                at, start, stop = new_ends[j1 - 1], old_ends[i1 - 1], old_ends[i2 - 1]
            else:  # every word of the middle went
                at, start, stop = head, old_starts[i1], old_ends[i2 - 1]
            parts += [after[pos:at], "[-", before[start:stop], "-]"]
            pos = at
            continue
        at = new_starts[j1]
        parts.append(after[pos:at])
        if tag == "replace":
            parts += ["[-", before[old_starts[i1] : old_ends[i2 - 1]], "-]"]
        parts += ["{+", after[at : new_ends[j2 - 1]], "+}"]
        pos = new_ends[j2 - 1]
    parts.append(after[pos:])
    return "".join(parts)


_STOP_WORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can cannot could couldn did didn do does doesn doing don down
during each either else etc even ever every few for from further get gets got had hadn has hasn
have haven having he her here hers herself him himself his how i if in into is isn it its
itself just let ll me might more most much must mustn my myself no nor not now of off on once
one only or other ought our ours ourselves out over own per quite rather re really s same shall
shan she should shouldn so some such t than that the their theirs them themselves then there
these they this those though through thus to too under until up upon us ve very via was wasn
we were weren what when where whether which while who whom whose why will with won would
wouldn yet you your yours yourself yourselves d m o y ain http https www com github
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
"""English function words (and URL noise): a phrase may not start or end with one."""

MAX_PHRASE_WORDS = 3
_TOKEN = re.compile(r"[^\W]+")


def tokens(text: str) -> list[str]:
    """Lower-cased words: runs of letters, digits and `_`."""
    return _TOKEN.findall(text.lower())


def _is_content(token: str) -> bool:
    # not only digits (any script's: `\w` takes them all) and `_`; tokens are never empty
    if token in STOP_WORDS:
        return False
    letters = token.replace("_", "")
    return letters != "" and not letters.isdigit()


def phrases(text: str) -> set[str]:
    """The distinct 1-3 word phrases of `text` that start and end with a content word."""
    return _token_phrases(tokens(text))


def _token_phrases(words: Sequence[str]) -> set[str]:
    content = [_is_content(w) for w in words]
    found: set[str] = set()
    add = found.add
    count = len(words)
    for i, word in enumerate(words):
        if not content[i]:
            continue
        add(word)
        for end in range(i + 1, min(i + MAX_PHRASE_WORDS, count)):
            if content[end]:
                add(" ".join(words[i : end + 1]))
    return found


def phrase_changes(before: str, after: str) -> tuple[set[str], set[str]]:
    """`(phrases(after) - phrases(before), phrases(before) - phrases(after))`, without
    listing every phrase of both texts.

    A phrase inside the tokens both texts start or end with is in both, so only the phrases
    that overlap the changed middle are candidates; a candidate is in the other text exactly
    when its tokens occur there in a row (its edges are content words wherever it occurs).
    """
    old, new = tokens(before), tokens(after)
    head, tail = _common_ends(old, new)
    return _phrases_not_in(new, head, tail, old), _phrases_not_in(old, head, tail, new)


def _phrases_not_in(words: Sequence[str], head: int, tail: int, other: Sequence[str]) -> set[str]:
    reach = MAX_PHRASE_WORDS - 1
    middle = words[max(0, head - reach) : len(words) - tail + reach]
    haystack = f" {' '.join(other)} "
    return {phrase for phrase in _token_phrases(middle) if f" {phrase} " not in haystack}


def compare(before: str, after: str) -> tuple[str, str, int, float]:
    """`(line_diff, word_diff, edit_distance, similarity)` of one correction."""
    distance = levenshtein(before, after)
    return (
        line_diff(before, after),
        word_diff(before, after),
        distance,
        similarity(before, after, distance),
    )


# ---------- batch functions of the build's Python stages (one call per page of rows)
STAGE_GC_THRESHOLD = (50_000, 20, 100)
"""The cyclic GC's thresholds while batch functions run. They allocate millions of
short-lived, acyclic objects (parsed records, metadata dicts); at Python's default (700
allocations) the collector runs so often that parsing is ~10% slower (BENCHMARKS.md)."""


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the block with `STAGE_GC_THRESHOLD`, then restore the caller's thresholds."""
    old = gc.get_threshold()
    gc.set_threshold(*STAGE_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)


PARSED_SCHEMA = pa.schema(
    [
        ("parse_key", pa.uint64()),
        ("dialect", pa.string()),
        ("is_bot_output", pa.bool_()),
        ("plugin", pa.string()),
        ("comment_kind", pa.string()),
        ("caller", pa.string()),
        ("header_name", pa.string()),
        ("header_class", pa.string()),
        ("version", pa.string()),
        ("instigator", pa.string()),
        ("run_url", pa.string()),
        ("metadata", pa.string()),
        ("markers", pa.list_(pa.string())),
        ("answer_text", pa.string()),
        ("is_placeholder", pa.bool_()),
        ("parse_error", pa.string()),
    ]
)
QUESTION_LINK_SCHEMA = pa.schema(
    [
        ("thread_key", pa.uint64()),
        ("answer_comment_id", pa.string()),
        ("question_comment_id", pa.string()),
        ("question_rule", pa.string()),
    ]
)
CORRECTION_DIFF_SCHEMA = pa.schema(
    [
        ("pair_key", pa.uint64()),
        ("diff", pa.string()),
        ("word_diff", pa.string()),
        ("edit_distance", pa.int64()),
        ("similarity", pa.float64()),
        ("added_phrases", pa.list_(pa.string())),
        ("removed_phrases", pa.list_(pa.string())),
    ]
)
TEXT_PHRASES_SCHEMA = pa.schema([("text_key", pa.uint64()), ("phrases", pa.list_(pa.string()))])


def _json_text(value: Any) -> str | None:
    """Metadata as compact JSON text (orjson: a tenth of `json.dumps`'s time on the parse path).

    What orjson refuses falls back to the standard encoder with ASCII escapes: lone surrogates
    (Parquet and DuckDB need valid UTF-8) and integers past 64 bits.
    """
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


_PARSED_ATTRIBUTES = tuple(
    name for name in PARSED_SCHEMA.names if name not in ("parse_key", "metadata", "markers")
)


def parse_rows(rows: Sequence[tuple[Any, ...]], bots: BotsConfig) -> pa.Table:
    """`(parse_key, body, author_login, author_type)` rows through `parse_comment`.

    The columns are `ParsedComment.to_record()`'s, read off the parsed objects column by
    column (building a record dict per row costs more than the rest of this function).
    """
    parsed = [
        parse_comment(body, author_login=login, author_type=author_type, bots=bots)
        for _, body, login, author_type in rows
    ]
    columns: dict[str, list[Any]] = {
        "parse_key": [row[0] for row in rows],
        "metadata": [_json_text(item.metadata) for item in parsed],
        "markers": [list(item.markers) for item in parsed],
    }
    for name in _PARSED_ATTRIBUTES:
        columns[name] = [getattr(item, name) for item in parsed]
    return pa.Table.from_pydict(columns, schema=PARSED_SCHEMA)


def link_rows(rows: Sequence[tuple[Any, ...]], bots: BotsConfig) -> pa.Table:
    """Question links of whole threads (`harvester.questions`), from rows of
    `(thread_key, thread_id, comment_id, kind, author_login, author_type, is_bot, body,
    created_at, reply_to_id, is_answer)` sorted by thread then time."""
    out: dict[str, list[Any]] = {name: [] for name in QUESTION_LINK_SCHEMA.names}
    thread: list[ThreadComment] = []
    answers: list[str] = []
    key: Any = None

    def flush() -> None:
        for link in question_links(thread, bots=bots, answer_ids=answers):
            out["thread_key"].append(key)
            out["answer_comment_id"].append(link.answer_id)
            out["question_comment_id"].append(link.question_id)
            out["question_rule"].append(link.rule)
        thread.clear()
        answers.clear()

    current = None
    for row in rows:
        thread_key, thread_id, cid, kind, login, author_type, is_bot, body, created, reply_to = row[
            :10
        ]
        if thread_id != current and thread:
            flush()
        current, key = thread_id, thread_key
        thread.append(
            ThreadComment(cid, kind, login, author_type, body, created, reply_to, bool(is_bot))
        )
        if row[10]:
            answers.append(cid)
    if thread:
        flush()
    return pa.Table.from_pydict(out, schema=QUESTION_LINK_SCHEMA)


def diff_rows(rows: Sequence[tuple[Any, ...]], bots: BotsConfig | None = None) -> pa.Table:
    """`(pair_key, before_text, after_text)` rows: diffs, distance, similarity, and the
    phrases the human added and removed (`phrases(after) - phrases(before)` and back)."""
    out: dict[str, list[Any]] = {name: [] for name in CORRECTION_DIFF_SCHEMA.names}
    for key, before, after in rows:
        before, after = before or "", after or ""
        diff, words, distance, similar = compare(before, after)
        added, removed = phrase_changes(before, after)
        for name, value in (
            ("pair_key", key),
            ("diff", diff),
            ("word_diff", words),
            ("edit_distance", distance),
            ("similarity", similar),
            ("added_phrases", sorted(added)),
            ("removed_phrases", sorted(removed)),
        ):
            out[name].append(value)
    return pa.Table.from_pydict(out, schema=CORRECTION_DIFF_SCHEMA)


def phrase_rows(rows: Sequence[tuple[Any, ...]], bots: BotsConfig | None = None) -> pa.Table:
    """`(text_key, text)` rows: the distinct phrases of each text, sorted."""
    keys: list[Any] = []
    found: list[list[str]] = []
    for key, text in rows:
        keys.append(key)
        found.append(sorted(phrases(text or "")))
    return pa.Table.from_arrays(
        [pa.array(keys, pa.uint64()), pa.array(found, pa.list_(pa.string()))],
        schema=TEXT_PHRASES_SCHEMA,
    )
