"""Planted cases: each kind is in the ground truth, and the tables show it.

Every kind has a detector here, written only against the SQLite tables (the way the hub
will look at them). A detector must find exactly the people the ground truth names:
finding fewer means a case is not visible in the data, finding more means natural
households trip the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from sandbox.city import PlantRates
from tests.sandbox.city.conftest import AS_OF, City


def ids(city: City, department: str, sql: str) -> set[str]:
    return {row[0] for row in city.rows(department, sql)}


def recipients(city: City) -> set[str]:
    return {g.id_number for g in city.open_grants("dibao", "tekun")}


def deceased_on_roll(city: City) -> set[str]:
    dead = ids(
        city, "public_security", "SELECT id_number FROM persons WHERE death_date IS NOT NULL"
    )
    return recipients(city) & dead


def roll_two_counties(city: City) -> set[str]:
    regions: dict[str, set[str]] = {}
    for grant in city.open_grants("dibao", "tekun"):
        regions.setdefault(grant.id_number, set()).add(grant.region_code)
    return {person for person, found in regions.items() if len(found) > 1}


def two_households(city: City) -> set[str]:
    return ids(
        city,
        "public_security",
        "SELECT id_number FROM memberships WHERE until IS NULL"
        " GROUP BY id_number HAVING count(*) > 1",
    )


def hidden_second_home(city: City) -> set[str]:
    """A recipient owning a property other than the home they are registered at."""
    homes = dict(city.rows("public_security", "SELECT hukou_no, address FROM households"))
    addresses: dict[str, set[str]] = {}
    for number, hukou in city.rows(
        "public_security", "SELECT id_number, hukou_no FROM memberships WHERE until IS NULL"
    ):
        addresses.setdefault(number, set()).add(homes[hukou])
    owned = city.rows(
        "housing",
        "SELECT o.id_number, p.address FROM property_owners o JOIN properties p USING (cert_no)"
        " WHERE p.status != 'cancelled'",
    )
    elsewhere = {number for number, place in owned if place not in addresses.get(number, set())}
    return recipients(city) & elsewhere


def vehicle(city: City) -> set[str]:
    cars = ids(
        city,
        "public_security",
        "SELECT owner_id FROM vehicles WHERE status = 'registered' AND value_fen >= 5000000",
    )
    return recipients(city) & cars


def large_deposit(city: City) -> set[str]:
    rich = ids(
        city,
        "banking",
        "SELECT a.id_number FROM accounts a JOIN balances b USING (account_no)"
        " WHERE b.balance_fen > 5000000",
    )
    return recipients(city) & rich


def undeclared_wage(city: City) -> set[str]:
    earners = ids(
        city,
        "tax",
        "SELECT id_number FROM income WHERE category = 'wage'"
        " GROUP BY id_number HAVING count(DISTINCT period) >= 10",
    )
    return recipients(city) & earners


def income_rose_after_work(city: City) -> set[str]:
    """A dibao household whose new wages (begun within six periods) lift its per-capita
    income to 1.0-1.5 times the standard."""
    periods = [p for (p,) in city.rows("tax", "SELECT DISTINCT period FROM income ORDER BY period")]
    starts = dict(
        city.rows(
            "tax", "SELECT id_number, min(period) FROM income WHERE category = 'wage' GROUP BY 1"
        )
    )
    latest = dict(
        city.rows("tax", "SELECT id_number, gross_fen FROM income WHERE period = ?", periods[-1])
    )
    sizes = dict(
        city.rows(
            "public_security",
            "SELECT hukou_no, count(*) FROM memberships WHERE until IS NULL GROUP BY 1",
        )
    )
    urban = dict(city.rows("public_security", "SELECT hukou_no, urban FROM households"))
    flagged = set()
    for grant in city.open_grants("dibao"):
        if starts.get(grant.id_number, "") < periods[-6]:
            continue
        standard = 63_000 if urban[grant.hukou_no] else 42_000
        if 0.95 <= latest[grant.id_number] / sizes[grant.hukou_no] / standard <= 1.55:
            flagged.add(grant.id_number)
    return flagged


def tekun_minor_turning_18_student(city: City) -> set[str]:
    tekun = {g.id_number for g in city.open_grants("tekun")}
    flagged = set()
    for number, birth, school in city.rows(
        "public_security", "SELECT id_number, birth_date, school_level FROM persons"
    ):
        born = date.fromisoformat(birth)
        eighteenth = date(born.year + 18, born.month, min(born.day, 28))
        age = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
        soon = 0 <= (eighteenth - AS_OF).days <= 92
        if number in tekun and school and (age == 18 or soon):
            flagged.add(number)
    return flagged


def caseworker_relative(city: City) -> set[str]:
    workers = ids(city, "civil_affairs", "SELECT id_number FROM caseworkers")
    children: dict[str, set[str]] = {}
    relatives: dict[str, set[str]] = {}
    for source, target, kind in city.rows(
        "public_security", "SELECT from_id, to_id, kind FROM relations WHERE kind != 'supporter'"
    ):
        relatives.setdefault(source, set()).add(target)
        relatives.setdefault(target, set()).add(source)
        if kind == "parent":
            children.setdefault(source, set()).add(target)
    for siblings in children.values():  # children of one parent are each other's siblings
        for child in siblings:
            relatives[child] |= siblings - {child}
    return {person for person in recipients(city) if relatives.get(person, set()) & workers}


def single_person_candidate(city: City) -> set[str]:
    low = {g.hukou_no for g in city.open_grants("low_income")}
    on_roll = {g.hukou_no for g in city.open_grants("dibao", "tekun")}
    severe = city.rows(
        "public_security",
        "SELECT p.id_number, m.hukou_no FROM persons p JOIN memberships m USING (id_number)"
        " WHERE m.until IS NULL AND p.vital_status = 'alive'"
        " AND (p.disability_grade IN (1, 2) OR p.serious_illness = 1)",
    )
    return {number for number, hukou in severe if hukou in low - on_roll}


DETECTORS: dict[str, Callable[[City], set[str]]] = {
    "deceased_on_roll": deceased_on_roll,
    "roll_two_counties": roll_two_counties,
    "two_households": two_households,
    "hidden_second_home": hidden_second_home,
    "vehicle": vehicle,
    "large_deposit": large_deposit,
    "undeclared_wage": undeclared_wage,
    "income_rose_after_work": income_rose_after_work,
    "tekun_minor_turning_18_student": tekun_minor_turning_18_student,
    "caseworker_relative": caseworker_relative,
    "single_person_candidate": single_person_candidate,
}


def test_every_kind_has_a_detector() -> None:
    assert set(DETECTORS) == set(PlantRates.kinds())


def test_every_kind_is_planted_and_counted(planted_city: City) -> None:
    found = {kind: len(planted_city.cases(kind)) for kind in PlantRates.kinds()}
    assert all(count >= 2 for count in found.values()), found
    assert planted_city.manifest.planted == found


def planted(city: City, kind: str) -> set[str]:
    """The people a case of `kind` makes suspicious: its first person, and for a caseworker's
    relatives every recipient related to the caseworker."""
    found = set()
    for case in city.cases(kind):
        found.add(case["id_numbers"][0])
        found.update(case["detail"].get("other_related_recipients", []))
    return found


@pytest.mark.parametrize("kind", PlantRates.kinds())
def test_detector_finds_exactly_the_planted_cases(planted_city: City, kind: str) -> None:
    assert DETECTORS[kind](planted_city) == planted(planted_city, kind)


@pytest.mark.parametrize("kind", PlantRates.kinds())
def test_default_rates_plant_few_and_nature_plants_none(city: City, kind: str) -> None:
    assert DETECTORS[kind](city) == planted(city, kind)


def test_default_rates_make_about_four_percent_of_recipient_households_suspicious(
    city: City,
) -> None:
    households = {g.hukou_no for g in city.open_grants("dibao", "tekun")}
    suspicious = {
        case["hukou_nos"][0] for case in city.truth if case["case"] != "single_person_candidate"
    }
    assert 0.015 < len(suspicious) / len(households) < 0.08


def test_ground_truth_names_real_records(planted_city: City) -> None:
    people = ids(planted_city, "public_security", "SELECT id_number FROM persons")
    households = ids(planted_city, "public_security", "SELECT hukou_no FROM households")
    grants = {g.grant_id for g in planted_city.open_grants("dibao", "tekun", "low_income")}
    staff = dict(planted_city.rows("civil_affairs", "SELECT staff_id, id_number FROM caseworkers"))
    for case in planted_city.truth:
        assert set(case["id_numbers"]) <= people
        assert set(case["hukou_nos"]) <= households
        assert set(case["detail"]["grant_ids"]) <= grants
        assert case["detail"]["grant_ids"]
        if case["case"] == "caseworker_relative":
            assert staff[case["detail"]["staff_id"]] == case["id_numbers"][1]
        if case["case"] == "roll_two_counties":
            assert len(case["detail"]["grant_ids"]) == 2


def test_planted_assets_are_where_the_ground_truth_says(planted_city: City) -> None:
    for case in planted_city.cases("vehicle"):
        owner, value = planted_city.rows(
            "public_security",
            "SELECT owner_id, value_fen FROM vehicles WHERE plate = ?",
            case["detail"]["plate"],
        )[0]
        assert owner == case["id_numbers"][0]
        assert value >= 5_000_000
    for case in planted_city.cases("hidden_second_home"):
        owners = planted_city.rows(
            "housing",
            "SELECT id_number, share_pct FROM property_owners WHERE cert_no = ?",
            case["detail"]["cert_no"],
        )
        assert owners == [(case["id_numbers"][0], 100)]
    for case in planted_city.cases("large_deposit"):
        highest = planted_city.value(
            "banking",
            "SELECT max(balance_fen) FROM balances WHERE account_no = ?",
            case["detail"]["account_no"],
        )
        assert highest > 5_000_000
    for case in planted_city.cases("deceased_on_roll"):
        death = planted_city.value(
            "public_security",
            "SELECT death_date FROM persons WHERE id_number = ?",
            case["id_numbers"][0],
        )
        assert death == case["detail"]["death_date"]
        assert (
            planted_city.value(
                "public_security",
                "SELECT count(*) FROM changes WHERE kind = 'death' AND id_number = ?",
                case["id_numbers"][0],
            )
            == 1
        )
