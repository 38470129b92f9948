"""Which variant a reader is in: a pure function of the experiment's salt and the reader's key.

The key is `ReaderIdentity.split_key`, what the meter counts under: "u:<account id>" for a
signed-in reader, "a:<meter cookie id>" for one who is not. Nothing is stored, so every process
and every door (page, print view, API, feeds) puts a reader in the same variant, and the
dashboard finds a reader's variant from the key the funnel recorded. A request with no key (a
signed-out reader whose request brought no cookie yet) is shown the control.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypeVar

BUCKETS = 10_000  # a weight in whole percent is 100 buckets


class Weighted(Protocol):
    @property
    def weight(self) -> int: ...


V = TypeVar("V", bound=Weighted)


def bucket(salt: str, key: str) -> int:
    """0..BUCKETS-1, uniform over keys: the first 8 bytes of SHA-256(salt ":" key)."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def pick(salt: str, key: str | None, variants: Sequence[V]) -> V:
    """The variant `key` falls in, by cumulative weight (the weights sum to 100); the first
    (the control) for no key."""
    if key is None or len(variants) == 1:
        return variants[0]
    point = bucket(salt, key)
    edge = 0
    for variant in variants:
        edge += variant.weight * BUCKETS // 100
        if point < edge:
            return variant
    return variants[-1]
