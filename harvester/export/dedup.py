"""Exact and near-duplicate removal within one subset of one export.

An example's dedup text is what varies between examples (the question, or the code under
review, and the completion texts), not the thread context several answers share.
- **Exact**: equal once whitespace runs are collapsed and case is folded.
- **Near**: Jaccard similarity of word 3-gram shingles at or above `threshold` (default
  0.8: one changed word in a 30-word answer), estimated with MinHash (datasketch, 64
  permutations), found through LSH buckets, then confirmed on the estimate. The first
  example in the export's order wins, so which one is kept is deterministic.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from typing import Literal

from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 64
SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")

Verdict = Literal["exact", "near"]


def _hash32(data: bytes) -> int:
    return zlib.crc32(data)


# One set of permutations for every signature: drawing them per MinHash costs more than the
# hashing itself.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1).permutations
_SCHEME = MinHash(num_perm=NUM_PERM, seed=1).scheme


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Word `size`-grams of the lower-cased words (the words themselves for short texts)."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


class Deduplicator:
    """Remembers what it has kept; `check` says whether a new text repeats one of them."""

    def __init__(self, threshold: float = 0.8) -> None:
        self.threshold = threshold
        self._exact: set[bytes] = set()
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM) if threshold < 1 else None
        self._signatures: dict[int, LeanMinHash] = {}
        self.dropped: dict[Verdict, int] = {"exact": 0, "near": 0}

    def check(self, text: str) -> Verdict | None:
        """None (and remember `text`) when new; else why it is a duplicate (and count it)."""
        digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()
        if digest in self._exact:
            self.dropped["exact"] += 1
            return "exact"
        signature = None
        if self._lsh is not None:
            grams = shingles(text)
            if grams:
                signature = MinHash(
                    num_perm=NUM_PERM,
                    hashfunc=_hash32,
                    permutations=_PERMUTATIONS,
                    scheme=_SCHEME,
                )
                signature.update_batch(list(grams))
                for key in self._lsh.query(signature):
                    if self._signatures[key].jaccard(signature) >= self.threshold:
                        self.dropped["near"] += 1
                        return "near"
        self._exact.add(digest)
        if signature is not None and self._lsh is not None:
            key = len(self._signatures)
            self._signatures[key] = LeanMinHash(signature)
            self._lsh.insert(key, signature)
        return None
