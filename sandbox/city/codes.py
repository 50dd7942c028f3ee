"""Unique identifiers made from running counters, so uniqueness needs no memory.

Every identifier that must be unique comes from a counter that grows in generation
order. Identifiers that are primary keys of big tables (household numbers, accounts,
income records, claims) ascend with the counter, so SQLite appends instead of inserting
at random; the others (certificates, plates, grants) pass through a multiplicative
bijection modulo their capacity, which keeps them unique but scattered, as real ones look.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Final

_USCC_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_PLATE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, as on real plates
_PLATE_CAPACITY: Final = 34 * 34 * 34 * 100
_LUHN_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def scatter(n: int, capacity: int, multiplier: int = 7_654_321) -> int:
    """A bijection of 0..capacity-1 (the multiplier must be coprime to the capacity)."""
    if not 0 <= n < capacity:
        raise OverflowError(f"counter {n} exceeds the identifier capacity {capacity}")
    return (n * multiplier + 12_345) % capacity


def hukou_no(region_code: str, index: int) -> str:
    """'H' + current county code + 8 digits, ascending (appends keep SQLite inserts cheap)."""
    if index >= 10**8:
        raise OverflowError(f"household number {index} exceeds 8 digits")
    return f"H{region_code}{index + 1:08d}"


def certificate_no(year: int, registry: str, index: int) -> str:
    """豫(2019)新乡市不动产权第0012345号: the number is unique city-wide."""
    return f"豫({year}){registry}不动产权第{scatter(index, 10**7, 3_141_593):07d}号"


def plate(index: int) -> str:
    """豫G· and five characters: three letters or digits, then two digits."""
    n = scatter(index, _PLATE_CAPACITY, 1_234_567)
    n, tail = divmod(n, 100)
    n, c3 = divmod(n, 34)
    c1, c2 = divmod(n, 34)
    return f"豫G·{_PLATE_CHARS[c1]}{_PLATE_CHARS[c2]}{_PLATE_CHARS[c3]}{tail:02d}"


def luhn_digit(body: str) -> str:
    """The Luhn check digit of `body` (bank card numbers)."""
    reverse = body[::-1]
    total = sum(_LUHN_DOUBLED[int(d)] for d in reverse[::2]) + sum(int(d) for d in reverse[1::2])
    return str(-total % 10)


def _luhn_chunks(doubled_first: bool) -> tuple[int, ...]:
    """Luhn sums of every 3-digit chunk, by whether its last digit is doubled."""
    table = []
    for n in range(1000):
        digits = [n // 100, n // 10 % 10, n % 10]
        total = 0
        for position, digit in enumerate(reversed(digits)):
            total += _LUHN_DOUBLED[digit] if (position % 2 == 0) == doubled_first else digit
        table.append(total)
    return tuple(table)


@cache
def _bin_sum(bin_prefix: str) -> int:
    """The BIN's share of the Luhn sum (it sits at positions 9-14 from the right)."""
    digits = enumerate(reversed(bin_prefix), 9)
    return sum(_LUHN_DOUBLED[int(d)] if i % 2 == 0 else int(d) for i, d in digits)


_CHUNK_DOUBLED_LAST: Final = _luhn_chunks(True)
_CHUNK_PLAIN_LAST: Final = _luhn_chunks(False)


def account_no(bin_prefix: str, index: int) -> str:
    """A bank card number: 6-digit BIN, 9 ascending digits, Luhn check digit (16 digits)."""
    if index >= 9 * 10**8:
        raise OverflowError(f"account number {index} exceeds 9 digits")
    tail = index + 100_000_000
    high, rest = divmod(tail, 1_000_000)
    middle, low = divmod(rest, 1000)
    total = _bin_sum(bin_prefix)
    total += _CHUNK_DOUBLED_LAST[low] + _CHUNK_PLAIN_LAST[middle] + _CHUNK_DOUBLED_LAST[high]
    return f"{bin_prefix}{tail:09d}{-total % 10}"


def organisation_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = f"{rng.randrange(10**8):08d}"
    remainder = 11 - sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("0" if remainder == 11 else "X" if remainder == 10 else str(remainder))


def social_credit_code(area_code: str, rng: random.Random, kind: str = "91") -> str:
    """An 18-character unified social credit code (GB 32100): 91 enterprise, 11 government."""
    body = f"{kind}{area_code}{organisation_code(rng)}"
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[-total % 31]
