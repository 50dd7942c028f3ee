"""One person: name, birth date, and the attributes that follow from age.

Disability (about 6 % of people, grade 1 most severe), serious illness and schooling all
depend on age, so they are drawn here once the birth date is known.
"""

from __future__ import annotations

import random
from datetime import date

from sandbox.city import names
from sandbox.city.model import Person
from sandbox.city.reference import County
from sandbox.city.rng import Weighted

_DISABILITY_GRADE = Weighted([(1, 0.12), (2, 0.20), (3, 0.30), (4, 0.38)])
_PHONE_BY_AGE = ((14, 0.0), (18, 0.7), (70, 0.97), (80, 0.8), (200, 0.55))


def birth_for(rng: random.Random, as_of: date, age: float) -> date:
    """A birth date making someone `age` years old at `as_of` (whole years get a random day)."""
    if age == int(age):
        age += rng.random()
    return date.fromordinal(as_of.toordinal() - int(age * 365.2425) - 1)


def new_person(
    rng: random.Random,
    as_of: date,
    male: bool,
    age: float,
    origin: County,
    *,
    surname: str | None = None,
) -> Person:
    birth = birth_for(rng, as_of, age)
    family = surname or names.surname(rng)
    name = family + names.given_name(rng, male)
    person = Person("M" if male else "F", birth, origin, name, family)
    decorate(rng, person, as_of)
    return person


def decorate(rng: random.Random, person: Person, as_of: date) -> None:
    """Phone, disability, illness and school level, all by age."""
    age = person.age(as_of)
    for limit, share in _PHONE_BY_AGE:
        if age < limit:
            if rng.random() < share:
                person.phone = names.phone(rng)
            break
    disabled = 0.015 if age < 18 else 0.055 if age < 60 else 0.12 if age < 80 else 0.21
    person.disability = _DISABILITY_GRADE.pick(rng) if rng.random() < disabled else None
    person.illness = rng.random() < (0.008 if age < 45 else 0.025 if age < 60 else 0.06)
    person.school = school_level(rng, age)


def school_level(rng: random.Random, age: int) -> str | None:
    if 6 <= age <= 11:
        return "primary"
    if 12 <= age <= 14:
        return "junior"
    draw = rng.random()
    if 15 <= age <= 17:
        return "senior" if draw < 0.6 else "vocational" if draw < 0.95 else None
    if 18 <= age <= 21:
        return "undergraduate" if draw < 0.42 else "vocational" if draw < 0.55 else None
    if 22 <= age <= 24:
        return "graduate" if draw < 0.07 else None
    return None
