"""The in-memory shape of one family cluster, before it becomes rows.

A cluster is a few households bound by kinship (elderly parents and the households of
their adult children, or a single household). It lives only while it is generated and
written, so memory stays flat however large the city is. Objects compare by identity:
two people with the same attributes are still two people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sandbox.city.reference import County, Township


@dataclass(frozen=True, slots=True)
class Payer:
    """An employer as the tax bureau knows it."""

    name: str
    tax_id: str  # unified social credit code


@dataclass(slots=True, eq=False)
class Person:
    sex: str  # 'M' | 'F'
    birth: date
    origin: County  # where the ID number was issued (its lineage gives the area code)
    name: str
    surname: str  # the start of `name`: one character, or two (欧阳)
    id_number: str = ""
    phone: str | None = None
    death: date | None = None
    disability: int | None = None
    school: str | None = None
    illness: bool = False
    wage_fen: int = 0  # monthly gross wage; 0 when not employed
    wage_months: int = 12  # how many of the last 12 periods the wage was paid
    wage_kind: str = "wage"  # the tax category of that income: wage|labour
    payer: Payer | None = None  # None: an employer from the county's pool

    @property
    def male(self) -> bool:
        return self.sex == "M"

    def age(self, on: date) -> int:
        years = on.year - self.birth.year
        return years - 1 if (on.month, on.day) < (self.birth.month, self.birth.day) else years


@dataclass(slots=True, eq=False)
class Member:
    person: Person
    role: str  # head|spouse|child|parent|grandchild|sibling|other
    since: date
    until: date | None = None


@dataclass(slots=True, eq=False)
class Household:
    county: County
    township: Township
    urban: bool
    registered_on: date
    members: list[Member]
    level: float = 1.0  # relative wealth: 1 is typical
    status: str = "none"  # none|dibao|tekun|low_income
    applicant: bool = False
    planted: str | None = None
    on_roll_since: date | None = None  # set by a planted case that needs a given start
    rent_fen: int = 0  # monthly rent earned from a let property
    hukou_no: str = ""
    address: str = ""

    def open_members(self) -> list[Member]:
        return [m for m in self.members if m.until is None]

    def people(self) -> list[Person]:
        return [m.person for m in self.members if m.until is None]

    def head(self) -> Person:
        return next(m.person for m in self.members if m.role == "head")


@dataclass(slots=True, eq=False)
class Relation:
    source: Person
    target: Person
    kind: str  # spouse|parent|supporter
    since: date | None


@dataclass(slots=True, eq=False)
class Grant:
    """One roll entry; amounts are monthly except for temporary assistance."""

    person: Person
    household: Household
    category: str  # dibao|tekun|low_income|temporary
    valid_from: date
    valid_to: date | None
    amount_fen: int
    care_level: str | None = None
    grant_id: str = ""


@dataclass(slots=True, eq=False)
class Asset:
    """An asset a planted case adds on top of what the household would own anyway."""

    kind: str  # property|vehicle|deposit
    owner: Person
    household: Household
    value_fen: int
    code: str = ""  # cert_no, plate or account_no, filled in when written


@dataclass(slots=True, eq=False)
class Case:
    """A planted case; rendered to ground truth once every identifier is known."""

    kind: str
    persons: list[Person]
    households: list[Household]
    detail: dict[str, Any] = field(default_factory=dict)
    assets: list[Asset] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    staff: list[Person] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Cluster:
    index: int
    households: list[Household]
    relations: list[Relation] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    caseworkers: list[tuple[Person, str, str]] = field(default_factory=list)  # township code
    budget: int = 1  # how many households the cluster may hold in total
    _everyone: list[Person] | None = None
    _placed: list[tuple[Person, Household]] | None = None

    def seal(self) -> None:
        """The cluster's shape is final: remember who is in it, for the writers."""
        self._everyone = None
        self._everyone = self.persons()
        self._placed = self.residents()

    def residents(self) -> list[tuple[Person, Household]]:
        """Every person once, with their household: the first one they still belong to, or
        for the dead and the departed, the first one they belonged to."""
        if self._placed is not None:
            return self._placed
        found: dict[int, tuple[Person, Household]] = {}
        for open_only in (True, False):
            for household in self.households:
                for member in household.members:
                    if open_only == (member.until is None):
                        found.setdefault(id(member.person), (member.person, household))
        order = {id(p): i for i, p in enumerate(self.persons())}
        return sorted(found.values(), key=lambda pair: order[id(pair[0])])

    def on_the_roll(self) -> set[int]:
        """Ids of everyone still in a household on dibao, tekun or low-income status (a
        person planted in two households is poor in both)."""
        return {
            id(m.person)
            for h in self.households
            if h.status != "none"
            for m in h.members
            if m.until is None
        }

    def persons(self) -> list[Person]:
        """Every person once, in first-seen order."""
        if self._everyone is not None:
            return self._everyone
        seen: dict[int, Person] = {}
        for household in self.households:
            for member in household.members:
                seen.setdefault(id(member.person), member.person)
        return list(seen.values())
