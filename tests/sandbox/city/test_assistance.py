"""Civil affairs: the roll, applications, authorisations (授权书) and caseworkers."""

from __future__ import annotations

import re

from sandbox.city.reference import counties
from tests.sandbox.city.conftest import City

ALL_DEPARTMENTS = "public_security,housing,tax,banking,medical"


def living(city: City) -> int:
    return int(
        city.value("public_security", "SELECT count(*) FROM persons WHERE vital_status = 'alive'")
    )


def test_about_four_percent_of_people_get_dibao_or_tekun(city: City) -> None:
    people = living(city)
    on_roll = {g.id_number for g in city.open_grants("dibao", "tekun")}
    tekun = {g.id_number for g in city.open_grants("tekun")}
    low_income = {g.id_number for g in city.open_grants("low_income")}
    assert 0.030 < len(on_roll) / people < 0.046
    assert 0.002 < len(tekun) / people < 0.008
    assert 0.012 < len(low_income) / people < 0.03
    one_off = city.rows(
        "civil_affairs",
        "SELECT valid_from, valid_to, amount_fen FROM roll WHERE category = 'temporary'",
    )
    assert one_off
    assert all(start == end and amount > 0 for start, end, amount in one_off)


def test_amounts_follow_the_henan_standards(city: City) -> None:
    urban = dict(city.rows("public_security", "SELECT hukou_no, urban FROM households"))
    rows = city.rows("civil_affairs", "SELECT hukou_no, category, amount_fen, care_level FROM roll")
    for hukou, category, amount, care in rows:
        standard = 63_000 if urban[hukou] else 42_000
        if category == "dibao":
            assert 0.45 * standard - 1000 <= amount <= standard, (hukou, amount)
        elif category == "tekun":
            assert amount >= 1.3 * standard
            assert care in {"full", "half", "self"}
        elif category == "low_income":
            assert amount == 0
        assert (care is None) == (category != "tekun")


def test_grants_name_the_household_and_township(city: City) -> None:
    places = {
        h: (r, t)
        for h, r, t in city.rows(
            "public_security", "SELECT hukou_no, region_code, township_code FROM households"
        )
    }
    for hukou, region, township, start, end in city.rows(
        "civil_affairs",
        "SELECT hukou_no, region_code, township_code, valid_from, valid_to FROM roll",
    ):
        assert places[hukou] == (region, township)
        assert end is None or end >= start


def test_about_one_percent_of_households_have_applied(city: City) -> None:
    households = city.value("public_security", "SELECT count(*) FROM households")
    applications = city.rows(
        "civil_affairs", "SELECT hukou_no, applicant_id, status FROM applications"
    )
    assert 0.005 < len(applications) / households < 0.02
    heads = set(
        city.rows(
            "public_security", "SELECT hukou_no, id_number FROM memberships WHERE role = 'head'"
        )
    )
    assert all((hukou, applicant) in heads for hukou, applicant, _ in applications)
    assert {status for _, _, status in applications} == {"pending", "under_verification"}


def test_authorisations_are_mostly_valid_with_a_few_flaws(city: City) -> None:
    members: dict[str, set[str]] = {}
    for hukou, number in city.rows(
        "public_security", "SELECT hukou_no, id_number FROM memberships WHERE until IS NULL"
    ):
        members.setdefault(hukou, set()).add(number)
    signers: dict[str, set[str]] = {}
    for auth, number in city.rows(
        "civil_affairs", "SELECT auth_no, id_number FROM authorisation_signers"
    ):
        signers.setdefault(auth, set()).add(number)
    flaws = {"expired": 0, "revoked": 0, "unsigned": 0, "narrowed": 0, "valid": 0}
    auths = city.rows(
        "civil_affairs",
        "SELECT auth_no, hukou_no, departments, purpose, valid_from, valid_to, revoked_on"
        " FROM authorisations",
    )
    for auth, hukou, departments, purpose, start, end, revoked in auths:
        assert re.fullmatch(rf"SQ{hukou[1:7]}{start[:4]}\d{{6}}", auth)
        assert purpose in {"application", "review"}
        assert start < end
        if end < "2026-11-01":
            flaws["expired"] += 1
        elif revoked:
            flaws["revoked"] += 1
        elif departments != ALL_DEPARTMENTS:
            flaws["narrowed"] += 1
        elif not members.get(hukou, set()) <= signers.get(auth, set()):
            flaws["unsigned"] += 1
        else:
            assert start <= "2026-11-01"
            flaws["valid"] += 1
    assert flaws["valid"] > 0.85 * len(auths)
    assert all(count > 0 for count in flaws.values()), flaws
    recipients = {g.hukou_no for g in city.open_grants("dibao", "tekun")}
    covered = {hukou for _, hukou, *_ in auths}
    assert len(recipients - covered) <= 0.01 * len(recipients)


def test_caseworkers_are_people_of_the_city_and_not_on_the_roll(city: City) -> None:
    rows = city.rows(
        "civil_affairs", "SELECT staff_id, id_number, township_code, role FROM caseworkers"
    )
    assert len(rows) >= 20
    townships = {t.code for c in counties() for t in c.townships} | {
        c.code + "000" for c in counties()
    }
    people = {
        n
        for (n,) in city.rows(
            "public_security", "SELECT id_number FROM persons WHERE vital_status = 'alive'"
        )
    }
    on_roll = {n for (n,) in city.rows("civil_affairs", "SELECT id_number FROM roll")}
    for staff, number, township, role in rows:
        assert staff.startswith("MZ" + township)
        assert township in townships
        assert number in people
        assert number not in on_roll
        assert role == ("verification_centre" if township.endswith("000") else "caseworker")
