"""The built-in dialects by family, and the crawler's cheap "is this worth parsing" check.

`bots.dialects` in harvester.toml names the families that are on (`config.BUILTIN_DIALECTS`
must list exactly `FAMILIES`). Readers are asked in the order below at every `<!--`: headers
first, then markers, then token usage (the only one that has to decode JSON to know).
"""

from __future__ import annotations

import functools
import re

from harvester.config import BotsConfig, normalise_login
from harvester.dialects import names as N
from harvester.dialects.base import BlockReader, without_surrogates
from harvester.dialects.markers import MarkerReader
from harvester.dialects.ubiquityos import TokenUsageReader, UbiquityHeaderReader

READERS: tuple[BlockReader, ...] = (UbiquityHeaderReader(), MarkerReader(), TokenUsageReader())
FAMILIES: tuple[str, ...] = N.FAMILIES


@functools.lru_cache(maxsize=64)
def readers_for(families: tuple[str, ...]) -> tuple[BlockReader, ...]:
    """The readers of the families that are on, in asking order."""
    return tuple(reader for reader in READERS if reader.family in families)


# A header line, a `<!--` right before JSON (token usage), or the Claude action's tracking
# line: the spaces the readers skip (any number), then a literal. Linear: each run of spaces
# follows its own `<!--`, so no character is read by two attempts.
_CANDIDATE = re.compile(
    r"<!--[ \t]*Ubiquity(?:OS)? - "
    r"|<!--[ \t\r\n]*[\[{]"
    r"|\*\*(?:UbiquityOS|Claude) (?:finished @|is working)"
)


def is_bot_candidate(
    body: str | None, bots: BotsConfig | None = None, *, author_login: str | None = None
) -> bool:
    """Whether a body carries a recognised header: the crawler asks this of every comment.

    One compiled regex over the body, plus each custom dialect of `bots` that applies to
    `author_login` (every one when it is None; `""`, a ghost, only those without `authors`),
    as the parser reads them: a match must not be empty. Markers do not count: they do not
    make a comment bot output.
    """
    if not body:
        return False
    if _CANDIDATE.search(body) is not None:
        return True
    return bots is not None and has_custom_header(body, bots, author_login=author_login)


def has_custom_header(body: str, bots: BotsConfig, *, author_login: str | None = None) -> bool:
    """Whether a custom dialect of `bots` that applies to `author_login` matches `body` (the
    custom half of `is_bot_candidate`)."""
    if not bots.custom_dialects:
        return False
    author = normalise_login(author_login) if author_login else None
    matchable = without_surrogates(body)  # RE2 reads UTF-8
    return any(
        found.end() > found.start()
        for dialect in bots.custom_dialects
        if author_login is None or not dialect.authors or author in dialect.authors
        for found in dialect.regex().finditer(matchable)
    )
