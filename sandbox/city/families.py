"""Households and family clusters with the age structure of Xinxiang's 2020 census.

Most clusters are one household drawn from a size distribution with mean ≈ 3.12 and a
composition by size (singles, couples, parents with children, three generations). About
one cluster in ten is an elderly household with one to three households of adult
children elsewhere, each child carrying a legal support duty ('supporter' relation) to
the parents. The shares were tuned by simulation together with `compositions`.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sandbox.city.compositions import compose
from sandbox.city.context import CityContext
from sandbox.city.draft import Draft, Place, couple_aged, elder_age, pick_place, uniform
from sandbox.city.model import Cluster, Household, Person
from sandbox.city.rng import Weighted

SIZES = Weighted([(1, 0.11), (2, 0.20), (3, 0.22), (4, 0.235), (5, 0.135), (6, 0.07), (7, 0.03)])
FAMILY_CLUSTER_SHARE = 0.10


def build_cluster(rng: random.Random, ctx: CityContext, index: int, budget: int) -> Cluster:
    """A family cluster of at most `budget` households."""
    cluster = Cluster(index=index, households=[], budget=budget)
    place = pick_place(rng, ctx)
    if budget >= 2 and rng.random() < FAMILY_CLUSTER_SHARE:
        elders_and_children(rng, ctx, cluster, place, 1 + int(rng.random() ** 1.6 * 3))
    else:
        standalone(rng, ctx, cluster, place, SIZES.pick(rng))
    return cluster


def standalone(
    rng: random.Random, ctx: CityContext, cluster: Cluster, place: Place, size: int
) -> Household:
    """One household of `size` living members, its composition drawn by size."""
    d = Draft(rng, ctx, cluster, place)
    compose(d, size)
    d.recent_death()
    return d.finish()


def elders_and_children(
    rng: random.Random, ctx: CityContext, cluster: Cluster, place: Place, children: int
) -> None:
    """An elderly household and the separate households of its adult children."""
    d = Draft(rng, ctx, cluster, place)
    if rng.random() < 0.55:
        elders = [d.add(d.person(rng.random() < 0.35, elder_age(rng, 64)), "head")]
    else:
        elders = list(couple_aged(d, elder_age(rng, 62)))
    d.recent_death()
    d.finish()
    mother_age = (ctx.as_of - elders[-1].birth).days / 365.2425
    for _ in range(min(children, cluster.budget - len(cluster.households))):
        draw = rng.random()
        county = place.county if draw < 0.8 else None
        where = place if draw < 0.5 else pick_place(rng, ctx, county)
        adult_child(
            rng, ctx, cluster, where, elders, age=max(mother_age - uniform(rng, 22, 36), 22)
        )


def adult_child(
    rng: random.Random,
    ctx: CityContext,
    cluster: Cluster,
    place: Place,
    parents: list[Person],
    *,
    age: float,
) -> Person:
    """A household headed by an adult child of `parents`, who supports them."""
    d = Draft(rng, ctx, cluster, place)
    male = rng.random() < 0.5
    child = d.person(male, age, parents[0].surname if parents[0].male else None)
    if age >= 24 and rng.random() < 0.85:
        other_age = age + uniform(rng, -3, 4)
        if male:
            d.add(child, "head")
            partner = d.add(d.person(False, max(other_age - 1, 21), local=False), "spouse")
            d.relate(child, partner, "spouse", None)
            mother, father = partner, child
        else:
            father = d.add(d.person(True, max(other_age + 1, 22), local=False), "head")
            d.add(child, "spouse")
            d.relate(father, child, "spouse", None)
            mother = child
        d.kids(father, mother, int(rng.random() * 2.9))
    else:
        d.add(child, "head")
    for parent in parents:
        d.relate(parent, child, "parent", child.birth)
        sixty = parent.birth + timedelta(days=int(60 * 365.25))
        d.relate(
            child, parent, "supporter", max(child.birth + timedelta(days=int(18 * 365.25)), sixty)
        )
    d.finish()
    return child
