"""Resident ID numbers (GB 11643-1999) as the hub accepts them from any source.

18 characters: 6-digit area code, birth date YYYYMMDD, 3-digit sequence (odd
for men), and an ISO 7064 MOD 11-2 check character. The area code is not
checked against a table: numbers keep the code in force when they were issued,
so retired codes (410728 长垣县) are legitimate.
"""

from __future__ import annotations

import re
from datetime import date

_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    """Upper-case and strip; the 'x' check character is written both ways in the wild."""
    return value.strip().upper()


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid resident ID number, or None when it is (never echoes it)."""
    if _SHAPE.match(value) is None:
        return "not 17 digits followed by a digit or X"
    if check_character(value[:17]) != value[17]:
        return "check character does not match"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth date is not a date"
    return None


def birth_date_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
