"""What a household of each size is made of: singles, couples, parents and children,
three generations, grandparents with left-behind grandchildren.

The shares within each size were tuned by simulation so that the city as a whole has the
2020 census age mix of Xinxiang (23 % aged 0-14, 59 % aged 15-59, 18 % aged 60+) and
50.2 % men.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sandbox.city.draft import Draft, couple_aged, elder_age, family, uniform


def compose(d: Draft, size: int) -> None:
    """Fill `d` with `size` living members."""
    COMPOSERS[min(size, 5)](d, size, d.rng.random())


def _one(d: Draft, size: int, r: float) -> None:
    rng = d.rng
    if r < 0.40:
        d.add(d.person(rng.random() < 0.4, elder_age(rng, 62)), "head")
    else:
        age = uniform(rng, 35, 60) if r < 0.65 else uniform(rng, 18, 35)
        d.add(d.person(rng.random() < 0.7, age), "head")


def _two(d: Draft, size: int, r: float) -> None:
    rng = d.rng
    if r < 0.33:
        age = elder_age(rng)
        d.couple(age, max(age - uniform(rng, 0, 5), 56))
    elif r < 0.82:
        age = uniform(rng, 22, 35) if r < 0.55 else uniform(rng, 45, 60)
        d.couple(age, max(age - uniform(rng, 0, 4), 20))
    elif r < 0.92:
        parent = d.add(d.person(rng.random() < 0.35, uniform(rng, 28, 50)), "head")
        d.kids(None, parent, 1)
    else:
        _grandparents(d, 1, 1)


def _three(d: Draft, size: int, r: float) -> None:
    rng = d.rng
    if r < 0.66:
        family(d, uniform(rng, 23, 47), 1)
    elif r < 0.80:
        husband, wife = couple_aged(d, uniform(rng, 45, 58))
        d.kids(husband, wife, 1, min_age=18)
    elif r < 0.88:
        husband, _ = couple_aged(d, uniform(rng, 35, 55))
        d.elders_of(husband, 1)
    elif r < 0.94:
        _grandparents(d, 2, 1)
    else:
        parent = d.add(d.person(rng.random() < 0.3, uniform(rng, 30, 50)), "head")
        d.kids(None, parent, 2)


def _four(d: Draft, size: int, r: float) -> None:
    rng = d.rng
    if r < 0.60:
        family(d, uniform(rng, 26, 48), 2)
    elif r < 0.82:
        husband, _ = family(d, uniform(rng, 26, 45), 1)
        d.elders_of(husband, 1)
    elif r < 0.90:
        _grandparents(d, 2, 2)
    else:
        husband, wife = couple_aged(d, uniform(rng, 48, 60))
        (son,) = d.kids(husband, wife, 1, min_age=22)
        daughter_in_law = d.add(d.person(False, uniform(rng, 21, 30), local=False), "other")
        d.relate(son, daughter_in_law, "spouse", None)


def _large(d: Draft, size: int, r: float) -> None:
    """Five to seven: parents with three children, or three generations under one roof."""
    rng = d.rng
    if size == 5 and 0.40 <= r < 0.60:
        family(d, uniform(rng, 30, 48), 3)
        return
    elders = 2 if r < 0.40 or (size == 6 and r < 0.70) or size == 7 else 1
    husband, _ = family(d, uniform(rng, 26, 44), size - 2 - elders)
    d.elders_of(husband, elders)


def _grandparents(d: Draft, elders: int, grandchildren: int) -> None:
    """Left-behind grandchildren registered with their grandparents."""
    rng = d.rng
    if elders == 2:
        grandfather, grandmother = couple_aged(d, uniform(rng, 52, 72))
    else:
        grandmother = d.add(d.person(False, uniform(rng, 52, 75)), "head")
        grandfather = grandmother
    for _ in range(grandchildren):
        d.add(d.person(rng.random() < 0.52, uniform(rng, 2, 15), grandfather.surname), "grandchild")


COMPOSERS: Final[dict[int, Callable[[Draft, int, float], None]]] = {
    1: _one,
    2: _two,
    3: _three,
    4: _four,
    5: _large,
}
