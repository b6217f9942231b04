"""The pure steps of an export: redaction, dedup, splits, prompts, record checks."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.export.dedup import Deduplicator, shingles
from harvester.export.prompts import TRUNCATED, prompt_messages, truncate, user_message
from harvester.export.redact import Redactor, candidate_words, contains_secret, sensitive_words
from harvester.export.splits import split_of, thread_fraction
from harvester.export.validate import openai_problems, trl_problems

GH = "ghp_" + "x" * 36  # fake tokens and keys, built so that no scanner mistakes them
BEGIN = "-----" + "BEGIN "
CASES = [
    ("token " + GH, "github-token"),
    ("pat " + "github_pat_" + "11AAAAAAA0123456789_" + "x" * 30, "github-token"),  # fake
    ("ghs_" + "Ab1" * 12, "github-token"),
    ("key AKIAIOSFODNN7EXAMPLE here", "aws-access-key"),
    ("sk-proj-" + "a1B2" * 8, "openai-key"),
    ("xoxb-1234567890-abcdefghij", "slack-token"),
    ("AIza" + "B" * 35, "google-api-key"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
    ),
    ("Authorization: Bearer abcdefghijklmnop1234567890", "auth-header"),
    ("clone https://bob:s3cr3tpass@example.com/repo.git", "url-credentials"),
    ("password=hunter22 in the env", "secret-assignment"),
    ("API_KEY: 'abcd1234efgh5678'", "secret-assignment"),
    (
        f"{BEGIN}OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
        "private-key",
    ),
    ("mail jane.doe+ci@mail.example.org now", "email"),
    ("stripe sk_live_" + "x1" * 12, "api-token"),
    ("npm npm_" + "a" * 36, "api-token"),
    ("gitlab glpat-" + "x1" * 10, "api-token"),
    ("hub hf_" + "AbCd" * 9, "api-token"),
    ("AccountKey=abcd1234EFGH5678==", "secret-assignment"),
    ("token: 'abc123def456ghi'", "secret-assignment"),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_each_kind_is_redacted_and_counted(text: str, kind: str) -> None:
    redactor = Redactor()
    out = redactor(text)
    assert f"[redacted-{kind}]" in out
    assert redactor.counts[kind] == 1 and redactor.texts_changed == 1
    assert not contains_secret(out.replace(f"[redacted-{kind}]", ""))


@pytest.mark.parametrize(
    "text",
    [
        "@UbiquityOS please review, and ping @alice",
        "npm i @ubiquity-os/plugin-sdk@1.2.3",
        "git clone git@github.com:ubiquity/work.ubq.fi.git",
        "Set the token in the config, then restart the key worker.",
        "password is required; the secret: keep it safe",
        "see https://github.com/org/repo/issues/1#issuecomment-123",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    redactor = Redactor()
    assert redactor(text) == text
    assert sum(redactor.counts.values()) == 0


def test_a_private_key_block_goes_whole_even_unterminated() -> None:
    redactor = Redactor()
    out = redactor(f"a\n{BEGIN}RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----\nb")
    assert out == "a\n[redacted-private-key]\nb"
    assert redactor(f"{BEGIN}PRIVATE KEY----- MIIEvQ").startswith("[redacted-private-key]")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab@.-_:/ghp_xAKIA0=\n sk"), max_size=300))
def test_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once = Redactor()(text)
    assert Redactor()(once) == once


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("a@" * 500_000, None),
        ("x" * 1_000_000 + "@", None),
        (f"{BEGIN}PRIVATE KEY-----" * 30_000, "private-key"),
        ("ghp_" * 250_000, None),
        ("password=" * 100_000, None),
    ],
)
def test_adversarial_megabyte_bodies_finish(body: str, kind: str | None) -> None:
    # bounded quantifiers only: the suite's timeout catches a blow-up
    redactor = Redactor()
    out = redactor(body)
    if kind is None:
        assert out == body and sum(redactor.counts.values()) == 0
    else:
        assert out.startswith(f"[redacted-{kind}]") and redactor.counts[kind] > 0
        assert "PRIVATE KEY" not in out.replace("[redacted-private-key]", "")


def test_sensitive_words_are_the_pieces_a_phrase_could_leak() -> None:
    words = sensitive_words(f"write jane.doe@x.example, use {GH}")
    assert {"jane", "doe", GH.lower()} <= words
    assert "write" not in words


def test_dedup_exact_near_and_distinct() -> None:
    text = (
        "The config file lives in .ubiquity-os.config.yml at the root of the repository; set "
        "the plugin url and the allowed commands there, then restart the kernel worker so "
        "that it reads the file again. Plugins listed under plugins are called in order, and "
        "each one receives the settings written under its with key."
    )
    dedup = Deduplicator(0.8)
    assert dedup.check(text) is None
    assert dedup.check("  " + text.upper().replace(" ", "\n ")) == "exact"
    assert dedup.check(text.replace("restart", "reboot")) == "near"
    assert dedup.check("A different answer: wait for the rate limit to reset.") is None
    assert dedup.dropped == {"exact": 1, "near": 1}
    assert Deduplicator(1.0).check(text) is None
    assert shingles("one two") == {b"one two"}


def test_splits_are_stable_and_follow_the_shares() -> None:
    assert split_of("I_abc", 0.9, 0.05) == split_of("I_abc", 0.9, 0.05)
    counts = Counter(split_of(f"I_{i}", 0.8, 0.1) for i in range(20_000))
    assert abs(counts["train"] / 20_000 - 0.8) < 0.02
    assert abs(counts["validation"] / 20_000 - 0.1) < 0.02
    assert 0 <= thread_fraction("x") < 1
    assert split_of("I_abc", 1.0, 0.0) == "train"


def test_truncate_cuts_at_a_line_or_word_end() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four five", 14) == "one two three" + TRUNCATED
    assert truncate("x" * 50, 10) == "x" * 10 + TRUNCATED
    assert truncate("anything", 0) == ""


def test_review_comment_prompt_has_file_and_hunk() -> None:
    row = {
        "org": "o",
        "repo": "r",
        "thread_kind": "pull_request",
        "thread_number": 7,
        "thread_title": "Retry",
        "thread_body": "",
        "path": "src/a.py",
        "diff_hunk": "@@ -1 +1 @@\n-a\n+b",
        "question_text": "/ask is this safe?",
        "question_author_login": "bob",
        "kind": "review_comment",
    }
    text = user_message(row, 100)
    assert text == (
        "Repository: o/r\n\nPull request #7: Retry\n\nFile: src/a.py\n```diff\n"
        "@@ -1 +1 @@\n-a\n+b\n```\n\nQuestion from @bob:\n/ask is this safe?"
    )
    assert prompt_messages("hi", None) == [{"role": "user", "content": "hi"}]
    assert prompt_messages("hi", "  ")[0]["role"] == "user"


def _msg(role: str, content: str = "x", **extra: object) -> dict[str, object]:
    return {"role": role, "content": content, **extra}


def test_openai_cookbook_rules_catch_bad_records() -> None:
    good = {"messages": [_msg("system"), _msg("user"), _msg("assistant", weight=1)]}
    assert openai_problems(good, "sft") == []
    bad = {
        "no assistant": {"messages": [_msg("user")]},
        "unknown role": {"messages": [_msg("human"), _msg("assistant")]},
        "empty content": {"messages": [_msg("user", " "), _msg("assistant")]},
        "extra key": {"messages": [_msg("user", tool="x"), _msg("assistant")]},
        "weight on user": {"messages": [_msg("user", weight=1), _msg("assistant")]},
        "null weight": {"messages": [_msg("user"), _msg("assistant", weight=None)]},
        "missing messages": {"prompt": []},
    }
    for why, record in bad.items():
        assert openai_problems(record, "sft"), why
    assert openai_problems(["not", "a", "dict"], "sft")
    dpo = {
        "input": {"messages": [_msg("user")]},
        "preferred_output": [_msg("assistant", "a")],
        "non_preferred_output": [_msg("assistant", "b")],
    }
    assert openai_problems(dpo, "dpo") == []
    assert openai_problems(
        {**dpo, "preferred_output": [_msg("assistant"), _msg("assistant")]}, "dpo"
    )
    assert openai_problems({**dpo, "input": {"messages": [_msg("assistant")]}}, "dpo")


def test_trl_shapes() -> None:
    prompt = [_msg("system"), _msg("user")]
    assert trl_problems({"prompt": prompt, "completion": [_msg("assistant")]}, "sft") == []
    assert trl_problems({"prompt": prompt, "completion": [_msg("user")]}, "sft")
    assert trl_problems(
        {"prompt": [_msg("user"), _msg("system")], "completion": [_msg("assistant")]}, "sft"
    )
    assert trl_problems({"prompt": prompt, "completion": [_msg("assistant")], "label": 1}, "kto")
    same = {
        "prompt": prompt,
        "chosen": [_msg("assistant", "a")],
        "rejected": [_msg("assistant", "a")],
    }
    assert trl_problems(same, "preference") == ["chosen and rejected are the same text"]


def _reference_redact(text: str) -> str:
    from harvester.export.redact import PATTERNS

    for kind, pattern in PATTERNS:
        keep = "keep" in pattern.groupindex
        text = pattern.sub(rf"\g<keep>[redacted-{kind}]" if keep else f"[redacted-{kind}]", text)
    return text


def test_every_kind_has_needles() -> None:
    from harvester.export.redact import KINDS, NEEDLES

    assert set(NEEDLES) == set(KINDS)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([c for c, _ in CASES] + ["plain words", "Key: ", "@", "://x:y@", "\n"]),
        max_size=6,
    ).map(" ".join)
)
def test_needle_prefilter_and_cache_change_nothing(text: str) -> None:
    redactor = Redactor()
    assert redactor(text) == _reference_redact(text)
    assert redactor(text) == _reference_redact(text)  # from the cache, counted again
    assert sum(redactor.counts.values()) % 2 == 0


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_duckdb_candidates_cover_what_redaction_finds(text: str, kind: str) -> None:
    import duckdb

    from harvester.export.job import SENSITIVE_CANDIDATES

    found = duckdb.sql(
        "select unnest(regexp_extract_all($t, $p)) as f",
        params={"t": text, "p": SENSITIVE_CANDIDATES},
    ).fetchall()
    covered = set().union(*(candidate_words(f) for (f,) in found)) if found else set()
    assert sensitive_words(text) <= covered, kind
