"""The built-in dialects by family, and the crawler's cheap "is this worth parsing" check.

`bots.dialects` in harvester.toml names the families that are on (`config.BUILTIN_DIALECTS`
must list exactly `FAMILIES`). Readers are asked in the order below at every `<!--`: headers
first, then markers, then token usage (the only one that has to decode JSON to know).
"""

from __future__ import annotations

import functools
import re

from harvester.config import BotsConfig
from harvester.dialects import names as N
from harvester.dialects.base import BlockReader
from harvester.dialects.markers import MarkerReader
from harvester.dialects.ubiquityos import TokenUsageReader, UbiquityHeaderReader

READERS: tuple[BlockReader, ...] = (UbiquityHeaderReader(), MarkerReader(), TokenUsageReader())
FAMILIES: tuple[str, ...] = N.FAMILIES


@functools.lru_cache(maxsize=64)
def readers_for(families: tuple[str, ...]) -> tuple[BlockReader, ...]:
    """The readers of the families that are on, in asking order."""
    return tuple(reader for reader in READERS if reader.family in families)


# A header line, a `<!--` right before JSON (token usage), or the Claude action's tracking
# line. Literal prefixes only, so the engine skips ahead without backtracking.
_CANDIDATE = re.compile(
    r"<!--[ \t]{0,8}Ubiquity(?:OS)? - "
    r"|<!--[ \t\r\n]{0,8}[\[{]"
    r"|\*\*(?:UbiquityOS|Claude) (?:finished @|is working)"
)


def is_bot_candidate(body: str | None, bots: BotsConfig | None = None) -> bool:
    """Whether a body carries a recognised header: the crawler asks this of every comment.

    One compiled regex over the body (plus each custom dialect's pattern when `bots` has
    some). Markers do not count: they do not make a comment bot output.
    """
    if not body:
        return False
    if _CANDIDATE.search(body) is not None:
        return True
    if bots is None:
        return False
    return any(dialect.regex().search(body) is not None for dialect in bots.custom_dialects)
