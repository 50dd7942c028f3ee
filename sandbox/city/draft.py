"""The tools households are built with: a place, ages, and a `Draft` household.

A `Draft` collects members with the date each joined (marriage, birth) and the
relations among them, then `finish` registers the household when its head set it up, so
recent registrations, marriages and births become the 'move' and 'birth' entries of the
change feed. A few households also get a member who died in the last two years.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from math import exp
from typing import NamedTuple

from sandbox.city.context import CityContext
from sandbox.city.model import Cluster, Household, Member, Person, Relation
from sandbox.city.people import new_person
from sandbox.city.reference import County, Township
from sandbox.city.rng import between

RECENT_DEATH_SHARE = 0.06
_HUKOU_START = date(1958, 1, 1)


class Place(NamedTuple):
    county: County
    township: Township
    urban: bool


def pick_place(rng: random.Random, ctx: CityContext, county: County | None = None) -> Place:
    county = county or ctx.county_choice.pick(rng)
    urban = rng.random() < county.urban_share
    options = [t for t in county.townships if (t.urban_capable if urban else t.rural_capable)]
    return Place(county, options[int(rng.random() * len(options))], urban)


def uniform(rng: random.Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def elder_age(rng: random.Random, low: float = 60) -> float:
    return low + min(98 - low, rng.expovariate(1 / 10.5))


def _on_or_before(day: date, limit: date) -> date:
    return min(day, limit)


class Draft:
    """A household being put together: its members, their joining dates and relations."""

    def __init__(
        self, rng: random.Random, ctx: CityContext, cluster: Cluster, place: Place
    ) -> None:
        self.rng, self.ctx, self.cluster, self.place = rng, ctx, cluster, place
        self.members: list[tuple[Person, str, date | None, date | None]] = []

    def person(
        self, male: bool, age: float, surname: str | None = None, local: bool = True
    ) -> Person:
        origin = self.place.county
        if not local and self.rng.random() < 0.25:
            origin = self.ctx.county_choice.pick(self.rng)
        return new_person(self.rng, self.ctx.as_of, male, age, origin, surname=surname)

    def add(
        self, person: Person, role: str, joined: date | None = None, until: date | None = None
    ) -> Person:
        self.members.append((person, role, joined, until))
        return person

    def relate(self, source: Person, target: Person, kind: str, since: date | None) -> None:
        self.cluster.relations.append(Relation(source, target, kind, since))

    def couple(
        self, husband_age: float, wife_age: float, roles: tuple[str, str] = ("head", "spouse")
    ) -> tuple[Person, Person]:
        husband = self.add(self.person(True, husband_age), roles[0])
        wife = self.person(False, wife_age, local=False)
        married = wife.birth + timedelta(days=int(uniform(self.rng, 21, 27) * 365.25))
        married = max(married, husband.birth + timedelta(days=7300))
        married = _on_or_before(married, self.ctx.as_of - timedelta(days=1))
        self.add(wife, roles[1], married)
        self.relate(husband, wife, "spouse", married)
        return husband, wife

    def kids(
        self,
        father: Person | None,
        mother: Person,
        count: int,
        role: str = "child",
        min_age: float = 0,
    ) -> list[Person]:
        mother_age = (self.ctx.as_of - mother.birth).days / 365.2425
        surname = father.surname if father else mother.surname
        result = []
        gap = uniform(self.rng, 21, 30)
        for _ in range(count):
            age = max(mother_age - gap, min_age + self.rng.random() * 2)
            age = min(age, mother_age - 18)
            child = self.add(self.person(self.rng.random() < 0.52, age, surname), role)
            child.birth = max(child.birth, mother.birth + timedelta(days=18 * 366))
            for parent in (father, mother):
                if parent is not None:
                    self.relate(parent, child, "parent", child.birth)
            result.append(child)
            gap += uniform(self.rng, 2, 5)
        return result

    def elders_of(
        self, child: Person, count: int, roles: tuple[str, str] = ("parent", "parent")
    ) -> list[Person]:
        """The parents of `child` (both, or one of them), living in this household."""
        child_age = (self.ctx.as_of - child.birth).days / 365.2425
        father_age = min(child_age + uniform(self.rng, 24, 32), 98.0)
        pair = [self.person(True, father_age, child.surname)]
        pair.append(self.person(False, max(father_age - uniform(self.rng, 0, 4), child_age + 20)))
        chosen = pair if count == 2 else [pair[int(self.rng.random() * 2)]]
        if count == 2:
            self.relate(pair[0], pair[1], "spouse", None)
        for elder, role in zip(chosen, roles, strict=False):
            self.add(elder, role)
            self.relate(elder, child, "parent", child.birth)
        return chosen

    def recent_death(self) -> None:
        """Maybe add a member who died in the last two years (a widowed elder's spouse, or a
        parent of the head)."""
        if self.rng.random() >= RECENT_DEATH_SHARE:
            return
        as_of, rng = self.ctx.as_of, self.rng
        died = as_of - timedelta(days=between(rng, 1, 730))
        paired = {id(r.source) for r in self.cluster.relations if r.kind == "spouse"}
        paired |= {id(r.target) for r in self.cluster.relations if r.kind == "spouse"}
        head = next(p for p, role, _, _ in self.members if role == "head")
        widowed = [p for p, _, _, _ in self.members if p.age(as_of) >= 60 and id(p) not in paired]
        if widowed:
            partner_age = max(widowed[0].age(as_of) + uniform(rng, -3, 5), 61)
            late = self.person(not widowed[0].male, partner_age, local=False)
            self.relate(late, widowed[0], "spouse", None)
            role = "spouse" if widowed[0] is head else "parent"
        elif 30 <= head.age(as_of) <= 68 and not any(r == "parent" for _, r, _, _ in self.members):
            parent_age = min(head.age(as_of) + uniform(rng, 24, 32), 99.0)
            late = self.person(
                rng.random() < 0.5, parent_age, head.surname if rng.random() < 0.8 else None
            )
            self.relate(late, head, "parent", head.birth)
            role = "parent"
        else:
            return
        late.disability, late.school, late.phone, late.death = None, None, None, died
        self.add(late, role, None, died)

    def finish(
        self, level: float | None = None, registered: date | None = None, append: bool = True
    ) -> Household:
        """The household, registered when its head set it up (or on `registered`)."""
        head = next(p for p, role, _, _ in self.members if role == "head")
        limit = self.ctx.as_of - timedelta(days=1)
        if registered is None:
            registered = head.birth + timedelta(days=int(uniform(self.rng, 20, 30) * 365.25))
            if registered > limit:  # a young head: set up some time since turning 18
                adult = head.birth + timedelta(days=int(18 * 365.25))
                span = max((limit - adult).days, 0)
                registered = limit - timedelta(days=int(span * self.rng.random()))
        registered = min(max(registered, _HUKOU_START), limit)
        rng = self.rng
        household = Household(
            county=self.place.county,
            township=self.place.township,
            urban=self.place.urban,
            registered_on=registered,
            members=[],
            level=level if level is not None else exp(rng.gauss(0, 0.55)),
        )
        for person, role, joined, until in self.members:
            since = max(registered, joined or registered, person.birth)
            if role == "parent" and rng.random() < 0.3:
                since = registered + timedelta(days=int((limit - registered).days * rng.random()))
            if until is not None:
                since = min(since, until)
            household.members.append(Member(person, role, since, until))
        if append:
            self.cluster.households.append(household)
        return household


def couple_aged(d: Draft, wife_age: float) -> tuple[Person, Person]:
    return d.couple(wife_age + uniform(d.rng, 0, 4), wife_age)


def family(d: Draft, mother_age: float, children: int) -> tuple[Person, Person]:
    husband, wife = couple_aged(d, mother_age)
    d.kids(husband, wife, children)
    return husband, wife
