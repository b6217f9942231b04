"""Deterministic splits by thread: every example of one issue or pull request lands in the same
split, so a test split never shares a conversation with train.

The split is a function of the thread id alone (BLAKE2b of it, read as a fraction of 2^64), so
a thread keeps its split night after night as new threads arrive, and on every machine.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")


def thread_fraction(thread_id: str) -> float:
    """A uniform number in [0, 1) fixed by the thread id."""
    digest = hashlib.blake2b(thread_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_of(thread_id: str, train: float, validation: float) -> str:
    """`train`, `validation` or `test` for this thread, with the given shares."""
    u = thread_fraction(thread_id)
    if u < train:
        return "train"
    if u < train + validation:
        return "validation"
    return "test"
