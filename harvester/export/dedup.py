"""Exact and near-duplicate removal within one subset of one export.

An example's dedup text is what varies between examples (the question, or the code under
review, and the completion texts), not the thread context several answers share.
- **Exact**: equal once whitespace runs are collapsed and case is folded.
- **Near**: Jaccard similarity of word 3-gram shingles at or above `threshold` (default
  0.8: one changed word in a 30-word answer), estimated with a 128-value MinHash signature,
  found through datasketch's LSH buckets (tuned to miss few: candidates are confirmed on the
  estimate anyway). The first example in the export's order wins, so which one is kept is
  deterministic.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from typing import Literal

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")

Verdict = Literal["exact", "near"]


_RNG = np.random.default_rng(20_24)
# Multiply-shift hashing: odd 64-bit multipliers, the high 32 bits of the product.
_MULTIPLY = _RNG.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_ADD = _RNG.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_SHIFT = np.uint64(32)


def signature(grams: set[bytes]) -> np.ndarray:
    """The MinHash signature (NUM_PERM 32-bit minima) of a set of shingles, in one numpy pass
    (building a datasketch MinHash per text costs more than this whole function)."""
    hashed = np.fromiter((zlib.crc32(g) for g in grams), dtype=np.uint64, count=len(grams))
    with np.errstate(over="ignore"):
        permuted = (hashed[:, None] * _MULTIPLY + _ADD) >> _SHIFT
    minima: np.ndarray = permuted.min(axis=0).astype(np.uint32)
    return minima


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
        self._lsh = (
            MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=(0.1, 0.9))
            if threshold < 1
            else None
        )
        self._signatures: dict[int, np.ndarray] = {}
        self.dropped: dict[Verdict, int] = {"exact": 0, "near": 0}

    def check(self, text: str) -> Verdict | None:
        """None (and remember `text`) when new; else why it is a duplicate (and count it)."""
        return self.check_key(*dedup_key(text, self._lsh is not None))

    def check_key(self, digest: bytes, sig: np.ndarray | None) -> Verdict | None:
        """`check` on a `dedup_key` computed beforehand (in a worker process, say)."""
        if digest in self._exact:
            self.dropped["exact"] += 1
            return "exact"
        lean = None
        if self._lsh is not None and sig is not None:
            lean = LeanMinHash(seed=1, hashvalues=sig, scheme="affine32")
            for key in self._lsh.query(lean):
                similar = np.count_nonzero(self._signatures[key] == sig) / NUM_PERM
                if similar >= self.threshold:
                    self.dropped["near"] += 1
                    return "near"
        self._exact.add(digest)
        if lean is not None and self._lsh is not None and sig is not None:
            key = len(self._signatures)
            self._signatures[key] = sig
            self._lsh.insert(key, lean)
        return None


def dedup_key(text: str, near: bool = True) -> tuple[bytes, np.ndarray | None]:
    """The exact-match digest of `text` and, for near duplicates, its MinHash signature."""
    digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()
    grams = shingles(text) if near else set()
    return digest, signature(grams) if grams else None
