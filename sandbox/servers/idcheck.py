"""Resident ID numbers as a department checks them at its door: shape, birth date, check digit.

python-stdnum's `ric.validate` also requires the area code to have existed in
the birth year, which rejects real numbers: people born before 1983 carry the
Xinxiang codes in force when their number was issued, not when they were
born. So the place is not checked here; the check digit (ISO 7064 MOD 11-2)
and the birth date are.
"""

from __future__ import annotations

import re

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


def is_valid_id_number(value: object) -> bool:
    if not isinstance(value, str) or _SHAPE.match(value) is None:
        return False
    if ric.calc_check_digit(value) != value[-1]:
        return False
    try:
        ric.get_birth_date(value)
    except (ValidationError, ValueError):
        return False
    return True
