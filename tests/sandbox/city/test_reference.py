"""Regions, townships and standards as loaded from sandbox/reference."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.city.reference import all_area_codes, counties, county_by_code, standards

CURRENT = {
    "410702", "410703", "410704", "410711", "410721", "410724",
    "410725", "410726", "410727", "410781", "410782", "410783",
}  # fmt: skip


def test_the_twelve_current_county_level_units() -> None:
    assert {c.code for c in counties()} == CURRENT
    assert county_by_code("410783").name == "长垣市"


def test_lineages_follow_the_renamings() -> None:
    assert county_by_code("410783").area_code(2018) == "410728"
    assert county_by_code("410783").area_code(2019) == "410783"
    assert county_by_code("410781").area_code(1975) == "410722"
    assert county_by_code("410781").area_code(1988) == "410781"
    assert county_by_code("410782").area_code(1987) == "410723"
    assert county_by_code("410703").area_code(1960) == "410703"
    assert set(all_area_codes()) == CURRENT | {"410722", "410723", "410728"}


def test_townships_have_nine_digit_codes_and_chinese_names() -> None:
    seen = set()
    for county in counties():
        assert 8 <= len(county.townships) <= 15, county.code
        for township in county.townships:
            assert township.code.startswith(county.code)
            assert len(township.code) == 9
            assert township.name.endswith(("街道", "镇", "乡"))
            assert township.code not in seen
            seen.add(township.code)
        assert any(t.urban_capable for t in county.townships)
        assert any(t.rural_capable for t in county.townships)


def test_townships_do_not_depend_on_anything_but_the_county() -> None:
    counties.cache_clear()
    first = [t.name for c in counties() for t in c.townships]
    counties.cache_clear()
    assert [t.name for c in counties() for t in c.townships] == first


def test_standards_in_force() -> None:
    now = standards(date(2026, 11, 1))
    assert (now.dibao_urban_fen, now.dibao_rural_fen) == (63_000, 42_000)
    assert now.tekun_fen(urban=True) >= 1.3 * 63_000
    assert now.minimum_wage_fen == 200_000


def test_a_date_before_every_standard_is_known_is_refused() -> None:
    with pytest.raises(ValueError, match="tekun"):
        standards(date(2021, 10, 1))
