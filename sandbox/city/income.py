"""Tax (税务): who earns what, and the monthly income records the tax bureau holds.

Working-age adults are employed (62 % in town, 28 % in the countryside, where farm
income leaves no tax record) at wages around 3,000-4,000 yuan a month, rarely below the
minimum wage or above 8,000. Some adults have business or occasional labour income, and
households that let a second property declare rent. Recipient households have no
recorded income unless a planted case gave them some; low-income households have one
earner whose pay puts them between 1.0 and 1.45 times the dibao standard per person.

Records cover the 12 latest periods already filed at the reference date (returns are
filed on the 10th of the following month), so a run on 2026-11-01 holds 2025-10..2026-09.
"""

from __future__ import annotations

import random
from math import exp
from typing import Final

from sandbox.city import codes
from sandbox.city.context import CityContext
from sandbox.city.model import Cluster, Payer, Person
from sandbox.city.rng import between
from sandbox.city.writer import Batch

RECIPIENT: Final = ("dibao", "tekun")
_SOCIAL_INSURANCE: Final = 0.105
_BRACKETS: Final = ((3_000_00, 0.03, 0), (12_000_00, 0.10, 210_00), (25_000_00, 0.20, 1_410_00),
                    (35_000_00, 0.25, 2_660_00), (55_000_00, 0.30, 4_410_00))  # fmt: skip


def income_tax_fen(gross_fen: int) -> int:
    """Monthly individual income tax on a wage, after the 5,000 yuan allowance and
    social insurance (monthly brackets)."""
    taxable = gross_fen - 5_000_00 - int(min(gross_fen, 20_000_00) * _SOCIAL_INSURANCE)
    if taxable <= 0:
        return 0
    for ceiling, rate, deduction in _BRACKETS:
        if taxable <= ceiling:
            return int(taxable * rate) - deduction
    return int(taxable * 0.35) - 7_160_00


def assign_jobs(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    minimum = ctx.standards.minimum_wage_fen
    poor = cluster.on_the_roll()
    for household in cluster.households:
        if household.status in RECIPIENT:
            continue
        people = [p for p in household.people() if p.death is None]
        if household.status == "low_income":
            workers = [p for p in people if 20 <= p.age(ctx.as_of) <= 55 and not p.wage_fen]
            if workers and rng.random() < 0.7:
                worker = workers[int(rng.random() * len(workers))]
                per_capita = ctx.standards.dibao_fen(household.urban) * (1.0 + 0.45 * rng.random())
                worker.wage_fen = round(per_capita * len(people) / 100) * 100
                worker.wage_kind = "wage" if worker.wage_fen >= minimum else "labour"
            continue
        share = 0.62 if household.urban else 0.28
        median = (380_000 if household.urban else 300_000) * household.level**0.4
        for person in people:
            age = person.age(ctx.as_of)
            if (
                person.wage_fen
                or not 18 <= age <= 59
                or person.school
                or person.disability in (1, 2)
            ):
                continue
            if id(person) in poor:
                continue
            if rng.random() < share * (0.75 if age > 50 else 1.0):
                wage = median * exp(rng.gauss(0, 0.33))
                person.wage_fen = int(min(max(wage, minimum), 2_500_000) / 1000) * 1000
                if rng.random() < 0.08:
                    person.wage_months = between(rng, 1, 11)


def emit(rng: random.Random, ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    for person, household in cluster.residents():
        if person.death is not None:
            continue
        pool = ctx.employers[household.county.code]
        poor = household.status != "none"
        if person.wage_fen:
            _wages(rng, ctx, batch, person, person.payer or pool[int(rng.random() * len(pool))])
        elif not poor and 25 <= person.age(ctx.as_of) <= 65 and rng.random() < 0.03:
            name = f"{household.township.name}{person.name}个体工商户"
            payer = Payer(name, codes.social_credit_code(household.county.code, rng, kind="92"))
            for k in range(12):
                gross = between(rng, 30, 150) * 10_000
                _record(ctx, batch, person, payer, k=k, category="business", gross=gross)
        if not poor and person.age(ctx.as_of) >= 18 and rng.random() < 0.04:
            payer = pool[int(rng.random() * len(pool))]
            for k in sorted(rng.sample(range(12), between(rng, 1, 3))):
                gross = between(rng, 8, 60) * 10_000
                _record(ctx, batch, person, payer, k=k, category="labour", gross=gross)
    for household in cluster.households:
        landlord = household.head()
        if household.rent_fen and landlord.death is None:
            payer = ctx.tax_office(household.county)
            for k in range(12):
                rent = household.rent_fen
                _record(ctx, batch, landlord, payer, k=k, category="rental", gross=rent)


def _wages(
    rng: random.Random, ctx: CityContext, batch: Batch, person: Person, payer: Payer
) -> None:
    """The monthly wage records of one earner (the bulk of the tax table: kept lean)."""
    kind, wage, first = person.wage_kind, person.wage_fen, 12 - person.wage_months
    grosses = [int(wage * (0.97 + 0.06 * rng.random())) for _ in range(first, 12)]
    if rng.random() < 0.2 and ctx.january >= first:
        grosses[ctx.january - first] = grosses[ctx.january - first] * 3 // 2  # new-year bonus
    seq = ctx.counters.income
    ctx.counters.income += len(grosses)
    year, name, tax_id, who = ctx.as_of.year, payer.name, payer.tax_id, person.id_number
    periods, filed = ctx.periods, ctx.filed_on
    batch.income.extend(
        [
            (f"T{year}{seq + i:010d}", who, periods[k], kind, name, tax_id, gross,
             income_tax_fen(gross) if kind == "wage" else 0, filed[k], seq + i)
            for i, (k, gross) in enumerate(zip(range(first, 12), grosses, strict=True), 1)
        ]
    )  # fmt: skip


def _record(
    ctx: CityContext,
    batch: Batch,
    person: Person,
    payer: Payer,
    *,
    k: int,
    category: str,
    gross: int,
) -> None:
    """One non-wage record for period number `k`: labour income is taxed at 20 % above 800
    yuan, business income at a 1 % deemed rate, rent at 5 %."""
    if category == "labour":
        tax = int((gross - 800_00) * 0.2) if gross > 800_00 else 0
    else:
        tax = gross // 100 if category == "business" else gross * 5 // 100
    ctx.counters.income += 1
    seq = ctx.counters.income
    batch.income.append(
        (f"T{ctx.as_of.year}{seq:010d}", person.id_number, ctx.periods[k], category, payer.name,
         payer.tax_id, gross, tax, ctx.filed_on[k], seq)
    )  # fmt: skip
