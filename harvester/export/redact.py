"""Redaction of secrets and personal data from exported text.

Patterns are the publicly documented shapes of credentials (GitHub's token prefixes, AWS access
key ids, PEM private keys, Slack, OpenAI, Google keys, JWTs), credentials in URLs and
`Authorization:` headers, `key = value` assignments of secret-looking names, and e-mail
addresses. Every regex is anchored on a literal prefix or is a bounded character-class run, so
none can backtrack badly on a 1 MB body. Each match becomes `[redacted-KIND]`; counts per kind
go into the export's manifest.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Order matters: a private key block may contain things that look like other secrets.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]{0,20000}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[^\n]*)"
        ),
    ),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b"),
    ),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,200}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,200}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    (
        "api-token",
        re.compile(
            r"\b(?:[spr]k_(?:live|test)_[A-Za-z0-9]{16,200}|npm_[A-Za-z0-9]{36}"
            r"|glpat-[A-Za-z0-9_-]{20,100}|hf_[A-Za-z0-9]{30,100}"
            r"|SG\.[A-Za-z0-9_-]{16,100}\.[A-Za-z0-9_-]{16,100}|ya29\.[A-Za-z0-9_-]{20,2000}"
            r"|xapp-[A-Za-z0-9-]{10,200})"
        ),
    ),
    (
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{8,2000}"),
    ),
    (
        "auth-header",
        re.compile(
            r"(?i)(?P<keep>\b(?:authorization:\s{0,3}(?:bearer|token|basic)|bearer)\s{1,3})"
            r"[A-Za-z0-9._~+/=-]{16,2000}"
        ),
    ),
    ("url-credentials", re.compile(r"(?P<keep>://)[^/\s:@]{1,200}:[^/\s@]{1,200}(?=@)")),
    (
        "secret-assignment",
        re.compile(
            r"(?i)(?P<keep>\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?key|client[_-]?secret"
            r"|account[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token"
            r"|token|password|passwd)[\"']?\s{0,3}[:=]\s{0,3}[\"']?)"
            r"(?=[^\s\"',;]{0,200}\d)[^\s\"',;]{8,200}"
        ),
    ),
    (
        "email",
        re.compile(
            r"(?<![A-Za-z0-9._%+-])(?!git@)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
        ),
    ),
)

KINDS = tuple(kind for kind, _ in PATTERNS)

# Literal substrings without which a pattern cannot match (lower-cased: checked against the
# lower-cased text): most texts hold none, and `in` is far cheaper than a regex scan.
NEEDLES: dict[str, tuple[str, ...]] = {
    "private-key": ("private key",),
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "aws-access-key": ("akia", "asia", "agpa", "aida", "aroa"),
    "openai-key": ("sk-",),
    "slack-token": ("xox",),
    "google-api-key": ("aiza",),
    "api-token": ("k_live_", "k_test_", "npm_", "glpat-", "hf_", "sg.", "ya29.", "xapp-"),
    "jwt": ("eyj",),
    "auth-header": ("bearer", "authorization"),
    "url-credentials": ("://",),
    "secret-assignment": ("key", "secret", "token", "passw"),
    "email": ("@",),
}


_NEEDLE_RES = {kind: re.compile("|".join(map(re.escape, n))) for kind, n in NEEDLES.items()}
CACHE_SIZE = 4_096


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """`text` with every match replaced, and the matches per kind."""
    found: Counter[str] = Counter()
    lower = text.lower()
    for kind, pattern in PATTERNS:
        if not _NEEDLE_RES[kind].search(lower):
            continue
        repl = (
            rf"\g<keep>[redacted-{kind}]" if "keep" in pattern.groupindex else f"[redacted-{kind}]"
        )
        text, n = pattern.subn(repl, text)
        if n:
            found[kind] += n
    return text, found


@dataclass
class Redactor:
    """Replaces secrets and e-mail addresses; counts what it replaced, per kind and per text
    written. Recent texts are remembered (a thread body is in the prompt of every answer of
    its thread), and counted again each time."""

    counts: Counter[str] = field(default_factory=Counter)
    texts_changed: int = 0
    _cache: dict[str, tuple[str, Counter[str]]] = field(default_factory=dict, repr=False)

    def __call__(self, text: str) -> str:
        return self.redact(text)

    def redact(self, text: str) -> str:
        cached = self._cache.get(text)
        if cached is None:
            cached = redact_text(text)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[text] = cached
        result, found = cached
        if found:
            self.counts.update(found)
            self.texts_changed += 1
        return result

    def as_dict(self) -> dict[str, int]:
        return {kind: self.counts.get(kind, 0) for kind in KINDS}


def contains_secret(text: str) -> bool:
    """Whether any pattern matches (case-insensitive for lower-cased phrases)."""
    return any(pattern.search(text) for _, pattern in PATTERNS) or bool(_LOWER_TOKEN.search(text))


# Lower-cased tokens (phrase weights are lower-cased): the token prefixes in any case.
_LOWER_TOKEN = re.compile(
    r"(?i)\b(?:gh[pousr]_[a-z0-9]{20,}|github_pat_[a-z0-9_]{20,}|(?:akia|asia)[0-9a-z]{16}|"
    r"sk_(?:proj|ant|live|test)_[a-z0-9_]{16,}|xox[abposr]_[a-z0-9_]{10,}|aiza[0-9a-z_]{35})"
)


_WORDS = re.compile(r"[a-z0-9_]+")


def sensitive_words(text: str) -> set[str]:
    """Lower-cased words (as phrase weights tokenise) of the secrets and e-mail local parts in
    `text`: a phrase holding one of them would leak a piece of it."""
    words: set[str] = set()
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            found = match.group(0)
            if kind == "email":
                words |= set(_WORDS.findall(found.split("@", 1)[0].lower()))
            else:
                words |= {w for w in _WORDS.findall(found.lower()) if len(w) >= 8}
    return words


def candidate_words(found: str) -> set[str]:
    """`sensitive_words` of a candidate DuckDB found, plus its long words unless it is an
    e-mail address (a private key's body lines, a value after `password=`)."""
    words = sensitive_words(found)
    if "@" not in found or "://" in found:
        words |= {w for w in _WORDS.findall(found.lower()) if len(w) >= 8}
    return words
