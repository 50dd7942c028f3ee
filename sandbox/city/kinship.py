"""Planted cases built on family ties: a person registered in two households, a grant
left open in the county someone moved away from, a caseworker whose relative is on the
roll.

These need a second household in the cluster (the parents' or a relative's), so they
are skipped when the cluster has used its household budget. A person who already has
parents in the cluster is never given new ones.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sandbox.city.context import CityContext
from sandbox.city.draft import Draft, Place, pick_place
from sandbox.city.families import adult_child
from sandbox.city.model import Case, Cluster, Grant, Household, Person
from sandbox.city.planters import days_ago, has_room, living
from sandbox.city.rng import between


def roll_two_counties(
    rng: random.Random, ctx: CityContext, c: Cluster, h: Household
) -> Case | None:
    people = [p for p in living(h, ctx, 22, 70) if not _parents_in(c, p)]
    if not people or not has_room(c):
        return None
    person = people[int(rng.random() * len(people))]
    old_county = rng.choice([county for county in ctx.counties if county != h.county])
    moved = days_ago(ctx, rng, 180, 900)
    old = _parents_household(rng, ctx, c, pick_place(rng, ctx, old_county), person, left=moved)
    person.origin = old_county
    for member in h.members:
        if member.person is person:
            member.since = max(member.since, moved)
    standard = ctx.standards.dibao_fen(old.urban)
    granted = max(
        moved - timedelta(days=between(rng, 365, 4 * 365)), person.birth + timedelta(days=6600)
    )
    amount = round(standard * (0.5 + 0.5 * rng.random()) / 1000) * 1000
    c.grants.append(Grant(person, old, "dibao", granted, None, amount))
    detail = {"region_codes": [h.county.code, old_county.code], "moved_on": moved.isoformat()}
    return Case("roll_two_counties", [person], [h, old], detail)


def two_households(rng: random.Random, ctx: CityContext, c: Cluster, h: Household) -> Case | None:
    people = [p for p in living(h, ctx, 16, 70) if not _parents_in(c, p)]
    if not people or not has_room(c):
        return None
    person = people[int(rng.random() * len(people))]
    place = Place(h.county, h.township, h.urban) if rng.random() < 0.6 else pick_place(rng, ctx)
    other = _parents_household(rng, ctx, c, place, person, left=None)
    return Case("two_households", [person], [h, other], {})


def caseworker_relative(
    rng: random.Random, ctx: CityContext, c: Cluster, h: Household
) -> Case | None:
    people = living(h, ctx, 20, 90)
    if not people or not has_room(c):
        return None
    recipient = max(people, key=lambda p: p.age(ctx.as_of))
    age = recipient.age(ctx.as_of)
    place = Place(h.county, h.township, h.urban)
    parents = _parents_in(c, recipient)
    if age >= 52:
        partner = [
            m.person for m in h.open_members() if m.role == "spouse" and m.person is not recipient
        ]
        parents = [recipient, *partner[:1]]
        relative = adult_child(rng, ctx, c, place, parents, age=age - 22 - rng.random() * 5)
        relation = "child"
    elif parents:
        relative = adult_child(rng, ctx, c, place, parents, age=max(age + rng.uniform(-5, 5), 25))
        relation = "sibling"
    else:
        relative = _sibling(rng, ctx, c, place, recipient, age=max(age + rng.uniform(-5, 5), 25))
        relation = "sibling"
    relative.wage_fen, relative.wage_months = between(rng, 35, 55) * 10_000, 12
    relative.payer = ctx.government(h.township)
    c.caseworkers.append((relative, h.township.code, "caseworker"))
    case = Case(
        "caseworker_relative", [recipient, relative], [h, c.households[-1]], {"relation": relation}
    )
    case.staff = [relative]
    return case


def related_recipients(c: Cluster, case: Case, as_of: date) -> list[Person]:
    """Everyone with an open dibao or tekun grant, besides the case's recipient, related to
    its caseworker: asked once the cluster's grants exist, as other cases in the cluster
    may add relatives to the roll (or keep a dead one on it)."""
    kin = _kin(c, case.staff[0])
    found = {
        id(g.person): g.person
        for g in c.grants
        if g.category in ("dibao", "tekun")
        and (g.valid_to is None or g.valid_to >= as_of)
        and id(g.person) in kin
        and g.person is not case.persons[0]
    }
    return list(found.values())


def _parents_household(
    rng: random.Random,
    ctx: CityContext,
    c: Cluster,
    place: Place,
    child: Person,
    *,
    left: date | None,
) -> Household:
    """The household of `child`'s parents, which `child` belongs to until `left` (None: still)."""
    d = Draft(rng, ctx, c, place)
    d.elders_of(child, 2 if rng.random() < 0.6 else 1, roles=("head", "spouse"))
    d.add(child, "child", child.birth, left)
    return d.finish()


def _sibling(
    rng: random.Random, ctx: CityContext, c: Cluster, place: Place, person: Person, *, age: float
) -> Person:
    """A sibling of `person`, living with their parents (who appear for the first time)."""
    d = Draft(rng, ctx, c, place)
    elders = d.elders_of(person, 2 if rng.random() < 0.6 else 1, roles=("head", "spouse"))
    sibling = d.add(d.person(rng.random() < 0.5, age, person.surname), "child")
    for elder in elders:
        d.relate(elder, sibling, "parent", sibling.birth)
    d.finish()
    return sibling


def _parents_in(c: Cluster, person: Person) -> list[Person]:
    return [r.source for r in c.relations if r.kind == "parent" and r.target is person]


def _kin(c: Cluster, person: Person) -> set[int]:
    """Spouses, parents, children and siblings (through a shared parent) of `person`."""
    parents = {id(p) for p in _parents_in(c, person)}
    kin = set()
    for relation in c.relations:
        if relation.kind in ("spouse", "parent"):
            if relation.source is person:
                kin.add(id(relation.target))
            elif relation.target is person:
                kin.add(id(relation.source))
        if relation.kind == "parent" and id(relation.source) in parents:
            kin.add(id(relation.target))
    kin.discard(id(person))
    return kin
