"""The text functions of the build: edit distance, diffs, phrases, batch functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harvester import udfs
from harvester.config import BotsConfig


def dp_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab é\n日", max_size=80), st.text(alphabet="ab é\n日", max_size=80))
def test_levenshtein_is_the_character_edit_distance(a: str, b: str) -> None:
    assert udfs.levenshtein(a, b) == dp_levenshtein(a, b) == udfs.levenshtein(b, a)


def test_levenshtein_counts_characters_not_bytes() -> None:
    assert udfs.levenshtein("héllo", "hello") == 1
    assert udfs.levenshtein("日本", "日本語") == 1
    assert udfs.levenshtein("", "abc") == 3 and udfs.levenshtein("same", "same") == 0
    long = "word " * 2000
    assert udfs.levenshtein(long, long.replace("word", "ward", 1) + "tail") == 5


def test_similarity() -> None:
    assert udfs.similarity("", "") == 1.0
    assert udfs.similarity("abcd", "abcx") == 0.75
    assert udfs.similarity("abc", "") == 0.0


def test_diffs() -> None:
    assert (
        udfs.line_diff("a\nb\nc", "a\nB\nc")
        == "--- bot\n+++ human\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c"
    )
    assert udfs.line_diff("same", "same") == ""
    assert udfs.word_diff("use the old file\nthen run", "use the new file\nthen run it") == (
        "use the [-old-]{+new+} file\nthen run {+it+}"
    )
    assert udfs.word_diff("drop these words", "drop") == "drop[- these words-]"
    assert udfs.word_diff("a b c", "a c") == "a [-b -]c"
    # indentation and blank lines are the after text's
    assert udfs.word_diff("plugins:\n- uses: x", "plugins:\n  - uses: y") == (
        "plugins:\n  - uses: [-x-]{+y+}"
    )
    assert udfs.word_diff("```", "```\n\nUpdate now") == "```\n\n{+Update now+}"
    assert udfs.word_diff("a b", "a\u00a0 b") == "a\u00a0 b"  # whitespace alone: no marker


_SPACES = list(" \n\r\t\x0b\x0c\x1c\x85\xa0\u2028\u3000")  # what `\s` matches, some of it
_DIFF_TEXT = st.lists(st.sampled_from(["a", "b", "ab", "c", *_SPACES]), max_size=30).map("".join)


@settings(max_examples=300)
@given(_DIFF_TEXT, st.integers(0, 40), st.integers(0, 40))
def test_words_are_the_non_space_runs_with_their_offsets(text: str, a: int, b: int) -> None:
    start, end = min(a, b, len(text)), min(max(a, b), len(text))
    found = list(re.finditer(r"\S+", text[start:end]))
    assert udfs._words(text, start, end) == (
        [m.group() for m in found],
        [start + m.start() for m in found],
        [start + m.end() for m in found],
    )


def _drop(marked: str, keep: str) -> str:
    """The text a word diff holds on one side: `keep` is `+` (after) or `-` (before)."""
    removed, added = r"\[-(.*?)-\]", r"\{\+(.*?)\+\}"
    kept, dropped = (added, removed) if keep == "+" else (removed, added)
    return re.sub(kept, r"\1", re.sub(dropped, "", marked, flags=re.S), flags=re.S)


@settings(max_examples=500)
@given(_DIFF_TEXT, _DIFF_TEXT)
def test_word_diff_is_the_after_text_with_the_change_marked(before: str, after: str) -> None:
    diff = udfs.word_diff(before, after)
    assert _drop(diff, "+") == after  # exactly, whitespace included
    assert _drop(diff, "-").split() == before.split()  # the words, in the after text's spacing
    if before.split() == after.split():
        assert diff == after
    else:
        assert "[-" in diff or "{+" in diff


def test_word_diff_keeps_the_common_start_and_end_unmarked() -> None:
    before = "keep these words then an old word and the same ending here"
    after = "keep these words then a new word and the same ending here"
    assert udfs.word_diff(before, after) == (
        "keep these words then [-an old-]{+a new+} word and the same ending here"
    )


_PHRASE_TEXT = st.lists(
    st.sampled_from(["config", "worker", "the", "of", "2", "Deploy", "deploy,", "a"]), max_size=25
).map(" ".join)


def test_numbers_of_any_script_are_not_content_words() -> None:
    found = udfs.phrases("use 2 retries, ٣٣ workers, 10² calls, 1_000_000 rows and _ here")
    assert {"use 2 retries", "retries", "workers", "calls", "rows"} <= found
    assert not found & {"2", "٣٣", "10²", "²", "1_000_000", "_", "rows and _"}


@settings(max_examples=400)
@given(_PHRASE_TEXT, _PHRASE_TEXT)
def test_phrase_changes_are_the_set_differences_of_phrases(before: str, after: str) -> None:
    added, removed = udfs.phrase_changes(before, after)
    assert added == udfs.phrases(after) - udfs.phrases(before)
    assert removed == udfs.phrases(before) - udfs.phrases(after)


def test_phrases_skip_stop_word_edges_and_numbers() -> None:
    found = udfs.phrases("Set the rate of change in the Config file, version 2 of it.")
    assert "rate of change" in found and "config file" in found and "config" in found
    assert not any(
        p.split()[0] in udfs.STOP_WORDS or p.split()[-1] in udfs.STOP_WORDS for p in found
    )
    assert "2" not in found and "version 2" not in found
    assert udfs.phrases("the of and") == set()
    assert udfs.tokens("The .ubiquity-os.config.yml, café") == [
        "the",
        "ubiquity",
        "os",
        "config",
        "yml",
        "café",
    ]


def test_batch_functions_return_their_schemas() -> None:
    bots = BotsConfig()
    parsed = udfs.parse_rows(
        [(1, "Thinking...", "ubiquity-os", "Bot"), (2, None, "x", "User")], bots
    )
    assert parsed.schema == udfs.PARSED_SCHEMA
    assert parsed.column("is_placeholder").to_pylist() == [True, False]
    diffs = udfs.diff_rows([(7, "keep the old file", "keep the new file")])
    assert diffs.schema == udfs.CORRECTION_DIFF_SCHEMA
    row = diffs.to_pylist()[0]
    assert (row["edit_distance"], row["added_phrases"], row["removed_phrases"]) == (
        3,
        ["keep the new", "new", "new file"],
        ["keep the old", "old", "old file"],
    )
    texts = udfs.phrase_rows([(5, "a good answer"), (6, None)])
    assert texts.schema == udfs.TEXT_PHRASES_SCHEMA
    assert texts.to_pylist() == [
        {"text_key": 5, "phrases": ["answer", "good", "good answer"]},
        {"text_key": 6, "phrases": []},
    ]
    t = datetime(2025, 1, 1, tzinfo=UTC)
    links = udfs.link_rows(
        [
            (9, "T", "Q", "issue_comment", "alice", "User", False, "/ask why?", t, None, False),
            (
                9,
                "T",
                "A",
                "issue_comment",
                "ubiquity-os",
                "Bot",
                True,
                None,
                t.replace(hour=1),
                None,
                True,
            ),
        ],
        bots,
    )
    assert links.to_pylist() == [
        {
            "thread_key": 9,
            "answer_comment_id": "A",
            "question_comment_id": "Q",
            "question_rule": "invocation",
        }
    ]


def test_parse_rows_holds_exactly_what_to_record_says() -> None:
    """The column-wise shaping of `parse_rows` agrees with `ParsedComment.to_record`."""
    from harvester.dialects import parse_comment

    bots = BotsConfig()
    fixtures = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "ubiquity"
    bodies = [p.read_text(encoding="utf-8") for p in sorted(fixtures.glob("*.md"))]
    bodies += [
        'x <!-- UbiquityOS - ask - 1 - @a - https://github.com/o/r/actions/runs/1\n{"k": "&amp;"}\n-->',
        "> [!CAUTION]\n> failed <!-- ubiquity-os-llm-response -->",
        "Thinking...",
        "",
    ]
    rows = [(i, body, "ubiquity-os", "Bot") for i, body in enumerate(bodies)]
    table = udfs.parse_rows(rows, bots).to_pylist()
    for (key, body, login, author_type), got in zip(rows, table, strict=True):
        want = parse_comment(body, author_login=login, author_type=author_type, bots=bots)
        record = want.to_record()
        record["metadata"] = udfs._json_text(record["metadata"])
        assert got == {"parse_key": key, **record}
