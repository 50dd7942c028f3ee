"""Public security (户籍): identities, households, persons, memberships, relations, the feed.

Identities are issued here, before any other department writes a row, because every
other table refers to people by ID number and to households by hukou number. The change
feed holds the births, deaths and moves of the last three years: a membership that began
at birth is a birth, any other recent membership a move.
"""

from __future__ import annotations

import random

from sandbox.city import codes, names
from sandbox.city.context import CityContext
from sandbox.city.model import Cluster
from sandbox.city.writer import Batch


def issue_identities(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    for household in cluster.households:
        household.hukou_no = codes.hukou_no(household.county.code, ctx.counters.household)
        ctx.counters.household += 1
        household.address = names.address(
            rng, household.county, household.township, household.urban
        )
    for person in cluster.persons():
        area = person.origin.area_code(person.birth.year)
        person.id_number, person.birth = ctx.ids.issue(area, person.birth, person.male)


def emit(ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    feed_start, counters = ctx.feed_start, ctx.counters
    for person in cluster.persons():
        batch.persons.append(
            (
                person.id_number,
                person.name,
                person.sex,
                person.birth.isoformat(),
                person.phone,
                "alive" if person.death is None else "deceased",
                person.death.isoformat() if person.death else None,
                person.disability,
                person.school,
                int(person.illness),
            )
        )
    died_in: dict[int, tuple[str, str]] = {}
    for household in cluster.households:
        hukou, region = household.hukou_no, household.county.code
        batch.households.append(
            (
                hukou,
                region,
                household.township.code,
                household.township.name,
                int(household.urban),
                household.address,
                household.registered_on.isoformat(),
            )
        )
        for member in household.members:
            person = member.person
            since = member.since.isoformat()
            until = member.until.isoformat() if member.until else None
            batch.memberships.append((hukou, person.id_number, member.role, since, until))
            if member.since >= feed_start:
                kind = "birth" if member.since == person.birth else "move"
                batch.changes.append(
                    (since, counters.change, kind, person.id_number, hukou, region)
                )
                counters.change += 1
            if person.death is not None and (
                member.until == person.death or id(person) not in died_in
            ):
                died_in[id(person)] = (hukou, region)
    for person in cluster.persons():
        if person.death is not None and person.death >= feed_start:
            hukou, region = died_in[id(person)]
            row = (
                person.death.isoformat(),
                counters.change,
                "death",
                person.id_number,
                hukou,
                region,
            )
            batch.changes.append(row)
            counters.change += 1
    seen: set[tuple[str, str, str]] = set()
    for relation in cluster.relations:
        source, target = relation.source.id_number, relation.target.id_number
        if relation.kind == "spouse" and target < source:
            source, target = target, source
        key = (source, target, relation.kind)
        if key not in seen:
            seen.add(key)
            began = relation.since.isoformat() if relation.since else None
            batch.relations.append((source, target, relation.kind, began))
