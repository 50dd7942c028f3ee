"""Seeded randomness: one independent stream per cluster, and fast weighted choices.

Each family cluster draws from its own `random.Random`, derived from (seed, purpose,
index) through BLAKE2b, so what a cluster contains depends only on the seed and its
index: never on how many clusters came before it were buffered, or on the order rows
are flushed in.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


def derive(seed: int, purpose: str, index: int) -> random.Random:
    """An independent generator for `purpose` number `index` of the city with `seed`."""
    digest = hashlib.blake2b(f"{purpose}:{seed}:{index}".encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


class Weighted(Generic[T]):
    """A fixed weighted choice, drawn with one `random()` and a bisection."""

    __slots__ = ("_cumulative", "_total", "_values")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs:
            raise ValueError("a weighted choice needs at least one value")
        self._values = tuple(value for value, _ in pairs)
        self._cumulative = tuple(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self._values[bisect(self._cumulative, rng.random() * self._total)]


def between(rng: random.Random, low: int, high: int) -> int:
    """A whole number from low to high inclusive: `randint` at a quarter of the cost."""
    return low + int(rng.random() * (high - low + 1))
