"""Planted cases that reshape one recipient household: a death kept on the roll, hidden
assets, wages, a job that lifted the household out of need, a tekun youth turning 18, a
severely ill member of a low-income household.

Each planter takes the household chosen by `planted.plant` and returns its `Case`, or
None when the household cannot carry the case (no one of the right age, say).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from sandbox.city.context import CityContext
from sandbox.city.draft import Draft, Place, family
from sandbox.city.model import Asset, Case, Cluster, Household, Person
from sandbox.city.rng import between

Planter = Callable[[random.Random, CityContext, Cluster, Household], Case | None]


def living(household: Household, ctx: CityContext, low: int = 0, high: int = 200) -> list[Person]:
    return [p for p in household.people() if p.death is None and low <= p.age(ctx.as_of) <= high]


def has_room(cluster: Cluster) -> bool:
    return len(cluster.households) < cluster.budget


def days_ago(ctx: CityContext, rng: random.Random, low: int, high: int) -> date:
    return ctx.as_of - timedelta(days=between(rng, low, high))


def deceased_on_roll(rng: random.Random, ctx: CityContext, c: Cluster, h: Household) -> Case | None:
    settled = {id(m.person) for m in h.open_members() if (ctx.as_of - m.since).days > 300}
    people = [p for p in living(h, ctx) if id(p) in settled]
    if not people:
        return None
    person = max(people, key=lambda p: p.age(ctx.as_of))
    person.death = days_ago(ctx, rng, 30, 240)
    h.on_roll_since = max(
        person.death - timedelta(days=between(rng, 200, 6 * 365)), h.registered_on
    )
    for member in h.members:
        if member.person is person:
            member.until = person.death
    return Case("deceased_on_roll", [person], [h], {"death_date": person.death.isoformat()})


def asset_planter(kind: str, low: int, high: int, min_age: int) -> Planter:
    def planter(rng: random.Random, ctx: CityContext, c: Cluster, h: Household) -> Case | None:
        people = living(h, ctx, min_age, 85)
        if not people:
            return None
        owner = people[int(rng.random() * len(people))]
        asset = Asset(kind, owner, h, between(rng, low, high) * 100_000)
        c.assets.append(asset)
        name = {"property": "hidden_second_home", "vehicle": "vehicle", "deposit": "large_deposit"}[
            kind
        ]
        return Case(name, [owner], [h], {"value_fen": asset.value_fen}, assets=[asset])

    return planter


def undeclared_wage(rng: random.Random, ctx: CityContext, c: Cluster, h: Household) -> Case | None:
    people = living(h, ctx, 18, 60)
    if not people:
        return None
    worker = people[int(rng.random() * len(people))]
    worker.wage_fen, worker.wage_months = between(rng, 25, 60) * 10_000, 12
    return Case("undeclared_wage", [worker], [h], {"monthly_wage_fen": worker.wage_fen})


def _rebuild(
    rng: random.Random,
    ctx: CityContext,
    c: Cluster,
    h: Household,
    build: Callable[[Draft], date | None],
) -> None:
    """Replace `h`'s members by a freshly built family (same place, status, wealth)."""
    d = Draft(rng, ctx, c, Place(h.county, h.township, h.urban))
    registered = build(d)
    fresh = d.finish(level=h.level, registered=registered, append=False)
    gone = {id(m.person) for m in h.members}
    c.relations[:] = [
        r for r in c.relations if id(r.source) not in gone and id(r.target) not in gone
    ]
    h.members, h.registered_on = fresh.members, fresh.registered_on


def income_rose_after_work(
    rng: random.Random, ctx: CityContext, c: Cluster, h: Household
) -> Case | None:
    workers = living(h, ctx, 20, 50)
    if len(living(h, ctx)) < (3 if h.urban else 4) or not workers:
        kids = 1 + int(rng.random() * 2) + (0 if h.urban else 1)

        def parents_with_children(d: Draft) -> None:
            family(d, 28 + rng.random() * 14, kids)

        _rebuild(rng, ctx, c, h, parents_with_children)
        workers = living(h, ctx, 20, 50)
    h.status, h.on_roll_since = "dibao", days_ago(ctx, rng, 365, 5 * 365)
    worker = workers[int(rng.random() * len(workers))]
    members = len(living(h, ctx))
    standard = ctx.standards.dibao_fen(h.urban)
    per_capita = round(standard * (1.02 + 0.43 * rng.random()))
    worker.wage_fen = round(per_capita * members / 100) * 100
    worker.wage_months = between(rng, 1, 6)
    detail = {
        "standard_fen": standard,
        "per_capita_fen": worker.wage_fen // members,
        "wage_from": ctx.periods[-worker.wage_months],
    }
    return Case("income_rose_after_work", [worker], [h], detail)


def tekun_minor_turning_18_student(
    rng: random.Random, ctx: CityContext, c: Cluster, h: Household
) -> Case | None:
    youth: list[Person] = []

    def orphan(d: Draft) -> date:
        eighteen = ctx.as_of + timedelta(days=between(rng, -364, 91))  # 18th birthday
        age = (ctx.as_of - eighteen).days / 365.2425 + 18
        person = d.add(d.person(rng.random() < 0.5, age), "head")
        person.birth = date(eighteen.year - 18, eighteen.month, min(eighteen.day, 28))
        person.school = (
            "senior" if person.age(ctx.as_of) < 18 or rng.random() < 0.5 else "vocational"
        )
        person.disability, person.illness = None, False
        father = d.person(True, age + 27, person.surname)
        mother = d.person(False, age + 25)
        for parent in (father, mother):
            parent.death = days_ago(ctx, rng, 4 * 365, 12 * 365)
            parent.phone = None
            d.add(parent, "parent", None, parent.death)
            d.relate(parent, person, "parent", person.birth)
        d.relate(father, mother, "spouse", None)
        youth.append(person)
        return father.birth + timedelta(days=25 * 365)

    _rebuild(rng, ctx, c, h, orphan)
    (person,) = youth
    h.status = "tekun"
    h.on_roll_since = max(m.until or ctx.as_of for m in h.members if m.until) + timedelta(days=45)
    eighteenth = date(person.birth.year + 18, person.birth.month, person.birth.day)
    detail = {
        "birth_date": person.birth.isoformat(),
        "turns_18_on": eighteenth.isoformat(),
        "school_level": person.school,
    }
    return Case("tekun_minor_turning_18_student", [person], [h], detail)


def single_person_candidate(
    rng: random.Random, ctx: CityContext, c: Cluster, h: Household
) -> Case | None:
    people = living(h, ctx)
    if not people:
        return None
    person = people[int(rng.random() * len(people))]
    if rng.random() < 0.6:
        person.disability = 1 + int(rng.random() * 2)
    else:
        person.illness = True
    detail = {"disability_grade": person.disability, "serious_illness": int(person.illness)}
    return Case("single_person_candidate", [person], [h], detail)
