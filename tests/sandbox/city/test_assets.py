"""What the other departments hold: homes, vehicles, wages, bank balances, medical claims."""

from __future__ import annotations

from statistics import median

from tests.sandbox.city.conftest import City


def test_most_households_own_their_home_and_some_own_more(city: City) -> None:
    owners = city.rows(
        "housing",
        "SELECT o.id_number, p.usage FROM property_owners o JOIN properties p USING (cert_no)"
        " WHERE p.status != 'cancelled'",
    )
    members = dict(
        city.rows(
            "public_security", "SELECT id_number, hukou_no FROM memberships WHERE until IS NULL"
        )
    )
    owning = {members[number] for number, _ in owners if number in members}
    households = city.value("public_security", "SELECT count(*) FROM households")
    assert 0.7 < len(owning) / households < 0.95
    usages = {usage for _, usage in owners}
    assert usages == {"residential", "rural_homestead", "commercial"}
    shares = city.rows("housing", "SELECT sum(share_pct) FROM property_owners GROUP BY cert_no")
    assert all(total == 100 for (total,) in shares)


def test_about_thirty_percent_of_households_have_a_vehicle(city: City) -> None:
    vehicles = city.rows(
        "public_security",
        "SELECT owner_id, kind, value_fen FROM vehicles WHERE status = 'registered'",
    )
    homes = dict(
        city.rows(
            "public_security", "SELECT id_number, hukou_no FROM memberships WHERE until IS NULL"
        )
    )
    with_vehicle = {homes[owner] for owner, _, _ in vehicles if owner in homes}
    households = city.value("public_security", "SELECT count(*) FROM households")
    assert 0.25 < len(with_vehicle) / households < 0.38
    cars = [value for _, kind, value in vehicles if kind == "car"]
    assert 2_000_000 < median(cars) < 15_000_000


def test_wages_are_monthly_and_of_xinxiang_size(city: City) -> None:
    wages = city.rows(
        "tax",
        "SELECT id_number, period, gross_fen, tax_fen, payer_tax_id FROM income"
        " WHERE category = 'wage'",
    )
    periods = sorted({period for _, period, _, _, _ in wages})
    assert len(periods) == 12
    assert periods[-1] == "2026-09"
    per_person: dict[str, list[int]] = {}
    for number, _, gross, tax, payer in wages:
        per_person.setdefault(number, []).append(gross)
        assert 0 <= tax < gross
        assert len(payer) == 18
    assert sum(len(months) == 12 for months in per_person.values()) > 0.8 * len(per_person)
    monthly = [median(months) for months in per_person.values()]
    assert 300_000 < median(monthly) < 450_000
    assert sum(200_000 <= m <= 800_000 for m in monthly) > 0.9 * len(monthly)
    categories = {c for (c,) in city.rows("tax", "SELECT DISTINCT category FROM income")}
    assert {"wage", "labour", "business", "rental"} <= categories
    seqs = [s for (s,) in city.rows("tax", "SELECT seq FROM income ORDER BY rowid")]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_twelve_month_end_balances_per_account(city: City) -> None:
    ends = [
        d for (d,) in city.rows("banking", "SELECT DISTINCT as_of FROM balances ORDER BY as_of")
    ]
    assert ends[0] == "2025-11-30"
    assert ends[-1] == "2026-10-31"
    assert len(ends) == 12
    counts = city.rows("banking", "SELECT count(*) FROM balances GROUP BY account_no")
    assert max(count for (count,) in counts) == 12
    assert sum(count == 12 for (count,) in counts) > 0.9 * len(counts)
    adults = city.value(
        "public_security",
        "SELECT count(*) FROM persons WHERE birth_date <= '2008-11-01' AND vital_status = 'alive'",
    )
    holders = city.value("banking", "SELECT count(DISTINCT id_number) FROM accounts")
    assert holders > 0.75 * adults
    assert city.value("banking", "SELECT count(*) FROM products WHERE matures_on <= bought_on") == 0


def test_nearly_everyone_is_insured_and_the_old_pay_more(city: City) -> None:
    people = city.value("public_security", "SELECT count(*) FROM persons")
    enrolled = city.value("medical", "SELECT count(DISTINCT id_number) FROM enrolments")
    assert enrolled > 0.97 * people
    assert (
        city.value(
            "medical",
            "SELECT count(*) FROM claims"
            " WHERE out_of_pocket_fen != total_fen - fund_paid_fen OR fund_paid_fen < 0",
        )
        == 0
    )
    births = dict(city.rows("public_security", "SELECT id_number, birth_date FROM persons"))
    spent: dict[str, int] = {}
    for number, paid in city.rows("medical", "SELECT id_number, out_of_pocket_fen FROM claims"):
        spent[number] = spent.get(number, 0) + paid
    old = [spent.get(n, 0) for n, b in births.items() if b < "1961"]
    young = [spent.get(n, 0) for n, b in births.items() if "1981" < b < "2006"]
    assert sum(old) / len(old) > 2 * sum(young) / len(young)
