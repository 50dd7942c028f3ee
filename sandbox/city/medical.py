"""Medical insurance (医保): enrolments and the last twelve months of settled claims.

Almost everyone is enrolled, employees in the employee scheme and everyone else in the
resident scheme. Claims come more often and cost more for the old, the seriously ill and
the disabled; the fund pays a larger share for employees and for inpatient care, and the
rest is the out-of-pocket cost a verification may count as hardship.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from math import exp
from typing import Final

from sandbox.city.context import CityContext
from sandbox.city.model import Cluster, Household, Person
from sandbox.city.rng import between
from sandbox.city.writer import Batch

_SCHEME_START: Final = date(2010, 1, 1)
_FUND_SHARE: Final = {  # (scheme, kind) -> (low, high) share paid by the fund
    ("employee", "inpatient"): (0.75, 0.88),
    ("employee", "outpatient"): (0.50, 0.70),
    ("employee", "pharmacy"): (0.0, 0.60),
    ("resident", "inpatient"): (0.50, 0.70),
    ("resident", "outpatient"): (0.30, 0.50),
    ("resident", "pharmacy"): (0.0, 0.30),
}
_CITY_HOSPITALS: Final = (
    "新乡医学院第一附属医院",
    "新乡市中心医院",
    "新乡市第一人民医院",
    "新乡市中医院",
)


def _rate(person: Person, age: int) -> float:
    base = 1.2 if age < 5 else 0.5 if age < 45 else 0.9 if age < 60 else 1.8 if age < 75 else 2.6
    return base + (2.5 if person.illness else 0.0) + (1.0 if person.disability else 0.0)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, product, count = exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def emit(rng: random.Random, ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    as_of = ctx.as_of
    for person, household in cluster.residents():
        if rng.random() < 0.015:
            continue  # not enrolled anywhere
        employee = person.wage_fen >= ctx.standards.minimum_wage_fen and person.wage_kind == "wage"
        scheme = "employee" if employee else "resident"
        earliest = max(person.birth, _SCHEME_START)
        since = earliest + timedelta(days=int(min(90, (as_of - earliest).days) * rng.random()))
        if employee:
            since = max(since, as_of - timedelta(days=int(365 * (1 + 14 * rng.random()))))
        status, until = ("ended", person.death) if person.death else ("active", None)
        if person.death is None and rng.random() < 0.025:
            status = "suspended"
        enrolment_id = f"YB{ctx.counters.enrolment + 1:012d}"
        ctx.counters.enrolment += 1
        batch.enrolments.append(
            (
                enrolment_id,
                person.id_number,
                scheme,
                household.county.code,
                since.isoformat(),
                until.isoformat() if until else None,
                status,
            )
        )
        _claims(rng, ctx, batch, person, household, scheme=scheme)


def _claims(
    rng: random.Random,
    ctx: CityContext,
    batch: Batch,
    person: Person,
    household: Household,
    *,
    scheme: str,
) -> None:
    as_of = ctx.as_of
    age = person.age(as_of)
    first = max(as_of - timedelta(days=365), person.birth)
    last = min(as_of - timedelta(days=1), person.death or as_of)
    if last <= first:
        return
    for _ in range(_poisson(rng, _rate(person, age))):
        settled = first + timedelta(days=int((last - first).days * rng.random()))
        inpatient = 0.08 + (0.1 if person.illness else 0.0) + (0.05 if age >= 65 else 0.0)
        draw = rng.random()
        kind = "inpatient" if draw < inpatient else "outpatient" if draw < 0.55 else "pharmacy"
        group = _diagnosis(rng, person, age, kind)
        if kind == "inpatient":
            median = 30_000 if group == "cancer" else 9_000
            total = int(min(max(median * exp(rng.gauss(0, 0.6)), 2_000), 300_000) * 100)
            hospital = (
                _CITY_HOSPITALS[int(rng.random() * 4)]
                if rng.random() < 0.4
                else f"{household.county.name}人民医院"
            )
        elif kind == "outpatient":
            total = between(rng, 80, 2_500) * 100
            hospital = (
                f"{household.township.name}卫生院"
                if rng.random() < 0.5
                else f"{household.county.name}中医院"
            )
        else:
            total = between(rng, 30, 600) * 100
            hospital = f"{household.county.name}{household.township.name}大药房"
        low, high = _FUND_SHARE[(scheme, kind)]
        fund = int(total * (low + (high - low) * rng.random()))
        claim_id = f"JS{as_of.year}{ctx.counters.claim + 1:010d}"
        ctx.counters.claim += 1
        batch.claims.append(
            (
                claim_id,
                person.id_number,
                settled.isoformat(),
                hospital,
                kind,
                group,
                total,
                fund,
                total - fund,
            )
        )


def _diagnosis(rng: random.Random, person: Person, age: int, kind: str) -> str:
    draw = rng.random()
    if person.illness and draw < 0.5:
        return "cancer" if draw < 0.25 else "chronic"
    if kind == "inpatient" and person.sex == "F" and 22 <= age <= 40 and draw < 0.65:
        return "maternity"
    if draw < 0.1:
        return "injury"
    if age >= 50 and draw < 0.6:
        return "chronic"
    return "other"
