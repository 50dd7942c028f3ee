"""Resident ID numbers (GB 11643-1999) that are valid, unique and true to their holder.

An ID number is a 6-digit area code, the birth date YYYYMMDD, a 3-digit sequence (odd for
men, even for women) and an ISO 7064 MOD 11-2 check character. The area code is the one
the holder's county used in the birth year (see `reference.County.lineage`), so a person
born in 长垣 in 1990 carries 410728 although the county has been 410783 since 2019.

Uniqueness, and why it is a fixed-size table rather than a function of the cluster index:
two people collide only when area code, birth date and sequence all agree, and the
sequence has 499 values per sex. A sequence derived from the cluster index alone cannot
be collision-free while birth dates are drawn freely: clusters whose indexes agree modulo
499 would collide whenever two of their members share an area and a birth date, which at
a million households happens thousands of times. Guaranteeing uniqueness that way would
mean deriving the birth date from the index too, which spoils the age structure.

So the sequence space is partitioned by what actually identifies a person's slot: one
16-bit counter per (area code, birth date, sex), held in a single preallocated array of
15 codes x ~46,000 days x 2 sexes (about 2.8 MB). Its size is fixed by the ID space, not
by the city: it is the same for 10 households and for 5 million, so memory stays flat.
The k-th person in a slot gets a permuted sequence (k * 263 + salt) mod 499, so numbers
look scattered rather than counting up from 001. Clusters are generated in index order,
so the allocation, like everything else, depends only on the seed and the size. The
average slot holds a dozen people in a city of 5 million households; should one ever
fill up, the birth date moves on by a day (callers use the date they get back).

A generator split across processes would give each process its own stride of the
sequence space (process i of n takes k = i, i + n, ...), keeping the same guarantee.
"""

from __future__ import annotations

from array import array
from datetime import date, timedelta
from typing import Final

WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS: Final = "10X98765432"  # indexed by the weighted sum modulo 11
SLOTS_PER_SEX: Final = 499  # a prime, so every multiplier permutes
_STRIDE: Final = 263


def check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def _digit_sums(first_weight_index: int, width: int, count: int) -> tuple[int, ...]:
    weights = WEIGHTS[first_weight_index : first_weight_index + width]
    return tuple(
        sum(int(d) * w for d, w in zip(f"{n:0{width}d}", weights, strict=True))
        for n in range(count)
    )


_YEAR_SUMS: Final = _digit_sums(6, 4, 10_000)
_MONTH_SUMS: Final = _digit_sums(10, 2, 13)
_DAY_SUMS: Final = _digit_sums(12, 2, 32)
_SEQUENCE_SUMS: Final = _digit_sums(14, 3, 1000)


class IdNumberFactory:
    """Hands out unique ID numbers for a city whose people are born on or after `first_day`."""

    def __init__(self, area_codes: tuple[str, ...], first_day: date, last_day: date) -> None:
        self._areas = {code: i for i, code in enumerate(area_codes)}
        self._area_sums = {
            code: sum(int(d) * w for d, w in zip(code, WEIGHTS, strict=False))
            for code in area_codes
        }
        self._first = first_day.toordinal()
        self._days = last_day.toordinal() - self._first + 1
        self._used = array("H", bytes(2 * len(area_codes) * self._days * 2))

    def issue(self, area_code: str, birth: date, male: bool) -> tuple[str, date]:
        """A fresh ID number and the birth date it encodes (normally `birth` itself)."""
        day = birth.toordinal() - self._first
        if not 0 <= day < self._days:
            raise ValueError(f"birth date {birth} is outside the city's range")
        area = self._areas[area_code]
        while True:
            slot = ((area * self._days + day) << 1) | male
            taken = self._used[slot]
            if taken < SLOTS_PER_SEX:
                break
            day += 1  # practically unreachable: a full slot moves the birth on by a day
            birth += timedelta(days=1)
        self._used[slot] = taken + 1
        k = (taken * _STRIDE + slot) % SLOTS_PER_SEX
        sequence = 2 * k + 1 if male else 2 * k + 2
        year, month, dom = birth.year, birth.month, birth.day
        total = (
            self._area_sums[area_code]
            + _YEAR_SUMS[year]
            + _MONTH_SUMS[month]
            + _DAY_SUMS[dom]
            + _SEQUENCE_SUMS[sequence]
        )
        number = f"{area_code}{year:04d}{month:02d}{dom:02d}{sequence:03d}"
        return number + CHECK_CHARACTERS[total % 11], birth
