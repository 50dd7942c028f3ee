"""Households and families: sizes, age mix, sexes, relations, memberships, the feed."""

from __future__ import annotations

import itertools
from datetime import date

from tests.sandbox.city.conftest import AS_OF, City

LIVING = (  # people alive and still registered somewhere
    "SELECT birth_date, sex, disability_grade, school_level FROM persons p"
    " WHERE p.vital_status = 'alive' AND EXISTS"
    " (SELECT 1 FROM memberships m WHERE m.id_number = p.id_number AND m.until IS NULL)"
)


def age(birth: str, on: date = AS_OF) -> int:
    born = date.fromisoformat(birth)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_mean_household_size_is_xinxiangs(city: City) -> None:
    sizes = city.rows(
        "public_security",
        "SELECT count(*) FROM memberships m JOIN persons p USING (id_number)"
        " WHERE m.until IS NULL AND p.vital_status = 'alive' GROUP BY m.hukou_no",
    )
    assert len(sizes) >= 4900
    mean = sum(size for (size,) in sizes) / len(sizes)
    assert 3.12 - 0.15 <= mean <= 3.12 + 0.15
    assert {size for (size,) in sizes} >= {1, 2, 3, 4, 5, 6}


def test_age_mix_and_sex_ratio_follow_the_2020_census(city: City) -> None:
    people = [(birth, sex) for birth, sex, _, _ in city.rows("public_security", LIVING)]
    ages = [age(birth) for birth, _ in people]
    share = {
        "0-14": sum(a <= 14 for a in ages) / len(ages),
        "15-59": sum(15 <= a <= 59 for a in ages) / len(ages),
        "60+": sum(a >= 60 for a in ages) / len(ages),
    }
    assert abs(share["0-14"] - 0.232) < 0.025, share
    assert abs(share["15-59"] - 0.592) < 0.03, share
    assert abs(share["60+"] - 0.177) < 0.025, share
    assert max(ages) <= 105
    males = sum(sex == "M" for _, sex in people) / len(people)
    assert abs(males - 0.502) < 0.015


def test_urban_share(city: City) -> None:
    assert abs(city.value("public_security", "SELECT avg(urban) FROM households") - 0.584) < 0.03


def test_parents_are_old_enough_and_spouses_adults(city: City) -> None:
    births = dict(city.rows("public_security", "SELECT id_number, birth_date FROM persons"))
    relations = city.rows("public_security", "SELECT from_id, to_id, kind, since FROM relations")
    kinds = {kind for _, _, kind, _ in relations}
    assert kinds == {"parent", "spouse", "supporter"}
    for source, target, kind, since in relations:
        if kind == "parent":
            assert age(births[source], date.fromisoformat(births[target])) >= 16, (source, target)
        elif kind == "spouse":
            assert source < target
            assert age(births[source]) >= 18
            assert age(births[target]) >= 18
            if since:
                assert age(births[source], date.fromisoformat(since)) >= 18
                assert age(births[target], date.fromisoformat(since)) >= 18


def test_supporters_are_adult_children_living_elsewhere(city: City) -> None:
    rows = city.rows(
        "public_security",
        "SELECT s.from_id, s.to_id, p.kind IS NOT NULL,"
        " (SELECT hukou_no FROM memberships WHERE id_number = s.from_id AND until IS NULL),"
        " (SELECT hukou_no FROM memberships WHERE id_number = s.to_id AND until IS NULL)"
        " FROM relations s LEFT JOIN relations p"
        " ON p.from_id = s.to_id AND p.to_id = s.from_id AND p.kind = 'parent'"
        " WHERE s.kind = 'supporter'",
    )
    assert len(rows) > 100
    for _, _, is_child, home, parents_home in rows:
        assert is_child
        assert home != parents_home


def test_households_have_one_head_and_sane_dates(city: City) -> None:
    heads = city.rows(
        "public_security",
        "SELECT hukou_no, sum(role = 'head') FROM memberships GROUP BY hukou_no",
    )
    assert all(count == 1 for _, count in heads)
    bad = city.value(
        "public_security",
        "SELECT count(*) FROM memberships m JOIN persons p USING (id_number)"
        " WHERE m.since < p.birth_date OR m.until < m.since OR m.since > '2026-11-01'",
    )
    assert bad == 0


def test_health_and_schooling(city: City) -> None:
    people = [
        (birth, grade, school) for birth, _, grade, school in city.rows("public_security", LIVING)
    ]
    disabled = [grade for _, grade, _ in people if grade is not None]
    assert 0.045 < len(disabled) / len(people) < 0.075
    assert set(disabled) == {1, 2, 3, 4}
    levels = {"primary": (6, 11), "junior": (12, 14), "senior": (15, 19), "vocational": (15, 21)}
    levels |= {"undergraduate": (18, 21), "graduate": (22, 24)}
    for birth, _, level in people:
        if level is not None:
            low, high = levels[level]
            assert low <= age(birth) <= high, (birth, level)
    assert sum(6 <= age(b) <= 11 and level == "primary" for b, _, level in people) > 100


def test_deaths_births_and_moves_reach_the_feed_in_order(city: City) -> None:
    deceased = city.rows(
        "public_security",
        "SELECT id_number, death_date FROM persons WHERE vital_status = 'deceased'",
    )
    assert deceased
    assert all(death for _, death in deceased)
    assert (
        city.value(
            "public_security",
            "SELECT count(*) FROM persons WHERE vital_status = 'alive' AND death_date IS NOT NULL",
        )
        == 0
    )
    changes = city.rows(
        "public_security", "SELECT seq, kind, id_number, occurred_on FROM changes ORDER BY seq"
    )
    assert {kind for _, kind, _, _ in changes} == {"death", "birth", "move"}
    dates = [occurred for _, _, _, occurred in changes]
    assert dates == sorted(dates)
    assert all(b > a for (a, *_), (b, *_) in itertools.pairwise(changes))
    died = {(number, "death", death) for number, death in deceased if death >= "2023-11-02"}
    assert died <= {(number, kind, occurred) for _, kind, number, occurred in changes}
