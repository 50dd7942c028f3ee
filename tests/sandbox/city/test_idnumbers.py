"""ID numbers: the published check algorithm, stdnum's opinion, birth dates, area codes,
uniqueness."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from sandbox.city.idnumbers import IdNumberFactory, check_character
from sandbox.city.reference import all_area_codes
from tests.sandbox.city.conftest import City

# GB 11643-1999 as published, written out independently of the generator
PUBLISHED_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
PUBLISHED_CHECK = dict(enumerate("10X98765432"))

# the birth years each area code may carry (the CSV's years; earliest codes reach back)
YEARS = {
    "410722": (0, 1987),
    "410781": (1988, 9999),
    "410723": (0, 1987),
    "410782": (1988, 9999),
    "410728": (0, 2018),
    "410783": (2019, 9999),
}


def published_check(body: str) -> str:
    return PUBLISHED_CHECK[
        sum(int(d) * w for d, w in zip(body, PUBLISHED_WEIGHTS, strict=False)) % 11
    ]


def stdnum_valid(number: str) -> bool:
    try:
        return ric.is_valid(number)
    except KeyError:  # stdnum's birthplace lookup fails on some codes
        return False


def test_check_character_matches_a_known_number() -> None:
    assert check_character("11010519491231002") == "X"  # the standard's own example
    assert published_check("11010519491231002") == "X"


def test_every_id_number_is_well_formed(city: City) -> None:
    rows = city.rows("public_security", "SELECT id_number, birth_date, sex FROM persons")
    assert len(rows) > 10_000
    for number, birth, sex in rows:
        assert len(number) == 18, number
        assert number[-1] == published_check(number[:17]), number
        assert number[-1] == ric.calc_check_digit(number), number
        assert number[6:14] == birth.replace("-", ""), number
        assert int(number[16]) % 2 == (1 if sex == "M" else 0), number


def test_stdnum_accepts_numbers_of_people_born_after_the_renamings(city: City) -> None:
    """stdnum checks the area code against the birth year; every code of ours is current
    from 1989 on, so everyone born since must pass."""
    rows = city.rows("public_security", "SELECT id_number FROM persons WHERE birth_date >= '1989'")
    invalid = [number for (number,) in rows if not stdnum_valid(number)]
    assert rows
    assert invalid == []


def test_area_codes_are_the_ones_valid_in_the_birth_year(city: City) -> None:
    rows = city.rows("public_security", "SELECT id_number, birth_date FROM persons")
    codes = {number[:6] for number, _ in rows}
    assert codes <= set(all_area_codes())
    assert {"410728", "410783", "410722", "410781"} <= codes
    for number, birth in rows:
        first, last = YEARS.get(number[:6], (0, 9999))
        assert first <= int(birth[:4]) <= last, (number, birth)


def test_changyuan_people_born_before_2019_keep_410728(city: City) -> None:
    rows = city.rows(
        "public_security",
        "SELECT p.id_number, p.birth_date FROM persons p JOIN memberships m USING (id_number)"
        " JOIN households h USING (hukou_no) WHERE h.region_code = '410783'",
    )
    old = [number for number, birth in rows if birth < "2019"]
    assert old
    assert sum(number.startswith("410728") for number in old) > 0.6 * len(old)
    assert not any(number.startswith("410783") for number in old)


def test_id_numbers_are_unique(city: City) -> None:
    total = city.value("public_security", "SELECT count(*) FROM persons")
    distinct = city.value("public_security", "SELECT count(DISTINCT id_number) FROM persons")
    assert total == distinct


def test_a_crowded_birth_date_still_gives_unique_numbers() -> None:
    factory = IdNumberFactory(("410702",), date(2000, 1, 1), date(2001, 1, 1))
    issued = [factory.issue("410702", date(2000, 6, 1), male=True) for _ in range(600)]
    numbers = [number for number, _ in issued]
    assert len(set(numbers)) == 600
    assert all(int(n[16]) % 2 == 1 and n[-1] == published_check(n[:17]) for n in numbers)
    moved = [birth for _, birth in issued if birth != date(2000, 6, 1)]
    assert len(moved) == 600 - 499  # the slot holds 499 men; the rest move on a day
    assert all(n[6:14] == b.strftime("%Y%m%d") for n, b in issued)


def test_a_birth_date_outside_the_range_is_refused() -> None:
    factory = IdNumberFactory(("410702",), date(2000, 1, 1), date(2001, 1, 1))
    with pytest.raises(ValueError, match="outside"):
        factory.issue("410702", date(1999, 12, 31), male=False)
