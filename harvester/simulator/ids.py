"""Global node ids in GitHub's modern shape (`IC_kwDO...`), reversible to (kind, index).

Real ids are opaque base64 of a msgpack payload behind a type prefix; clients must not parse
them. Ours are opaque to clients too, but the simulator can decode them without a lookup table,
which keeps a 1M-comment world small.
"""

from __future__ import annotations

import base64
import struct

# GraphQL type name -> prefix, as GitHub's next-generation ids use.
PREFIXES: dict[str, str] = {
    "Organization": "O",
    "Repository": "R",
    "Issue": "I",
    "PullRequest": "PR",
    "IssueComment": "IC",
    "PullRequestReview": "PRR",
    "PullRequestReviewComment": "PRRC",
    "PullRequestReviewThread": "PRRT",
    "UserContentEdit": "UCE",
    "Reaction": "REA",
    "User": "U",
    "Bot": "BOT",
    "Mannequin": "MQ",
}
_TYPES = {prefix: typename for typename, prefix in PREFIXES.items()}
_MAGIC = b"\x93\x00"  # the fixed head real ids carry before their payload


def encode(typename: str, index: int) -> str:
    payload = _MAGIC + struct.pack(">Q", index)
    return f"{PREFIXES[typename]}_kwDO{base64.urlsafe_b64encode(payload).decode().rstrip('=')}"


def decode(node_id: str) -> tuple[str, int] | None:
    """(typename, index), or None for anything that is not one of our ids."""
    prefix, sep, rest = node_id.partition("_kwDO")
    typename = _TYPES.get(prefix)
    if not sep or typename is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 10 or not raw.startswith(_MAGIC):
        return None
    return typename, struct.unpack(">Q", raw[2:])[0]
