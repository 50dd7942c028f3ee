"""Civil affairs: who is on the roll, who has applied, the 授权书 and the caseworkers.

A household's chance of being poor grows when it is rural, elderly-only, holds a
severely ill or disabled member or is a single parent with children; the base rate is
tuned so that about 3.8 % of people are on dibao or tekun (Henan 2022) and about 2 % are
low-income. Tekun goes to people living alone with nobody bound to support them. Amounts
follow the Henan standards at the reference date: dibao pays the gap between the standard
and the household's assessed income (45-100 % of the standard per person), tekun at least
1.3 times the standard, low-income status carries no money, temporary help is one-off.

Natural recipients never trip a suspicion rule; only planted cases do (see `planted`).
Authorisations cover recipient and applicant households, signed by every member and
normally valid for a year around the reference date; a few untouched households get an
expired, revoked, unsigned or narrowed one, so the hub's consent checks have work to do.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from sandbox import store
from sandbox.city import codes
from sandbox.city.context import CityContext
from sandbox.city.model import Cluster, Grant, Household, Person
from sandbox.city.rng import Weighted, between
from sandbox.city.writer import Batch

CATEGORY_PREFIX: Final = {"dibao": "DB", "tekun": "TK", "low_income": "DS", "temporary": "LS"}
ONGOING: Final = ("dibao", "tekun", "low_income")
_CARE = Weighted([("self", 0.6), ("half", 0.25), ("full", 0.15)])
_APPLIED = Weighted([("dibao", 0.8), ("tekun", 0.05), ("low_income", 0.1), ("temporary", 0.05)])
POOR_BASE_RATE: Final = 0.016
TEKUN_SHARE: Final = 0.35
APPLICATION_RATE: Final = 0.01
CASEWORKER_DRAW: Final = 0.02
CENTRE_SHARE: Final = 0.12  # of new staff, the share sent to the county verification centre
CENTRE_STAFF: Final = 2


def _month_end(day: date) -> date:
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def assign_status(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    """Decide each household's assistance status; poor households get a low wealth level."""
    supported = {id(r.target) for r in cluster.relations if r.kind == "supporter"}
    for household in cluster.households:
        people = household.people()
        if not people:
            continue
        draw = rng.random()
        if _tekun_eligible(ctx, people, supported) and draw < TEKUN_SHARE:
            household.status = "tekun"
            continue
        odds = _poverty_odds(ctx, household, people)
        if draw < odds:
            household.status = "dibao"
        elif draw < odds * 1.6:
            household.status = "low_income"
        elif draw < odds * 1.6 + APPLICATION_RATE:
            household.applicant = True
            household.level = min(household.level, 0.8)
        if household.status == "low_income":
            for person in people:  # severe cases in low-income households are planted only
                person.illness = False
                if person.disability in (1, 2):
                    person.disability = 3
    for household in cluster.households:
        if household.status != "none":
            household.level = min(household.level, 0.3) * (0.5 + rng.random())


def _tekun_eligible(ctx: CityContext, people: list[Person], supported: set[int]) -> bool:
    """Someone living alone, old or severely disabled, whom nobody is bound to support."""
    if len(people) != 1 or id(people[0]) in supported:
        return False
    age = people[0].age(ctx.as_of)
    return age >= 60 or (age >= 20 and people[0].disability in (1, 2))


def _poverty_odds(ctx: CityContext, household: Household, people: list[Person]) -> float:
    ages = [p.age(ctx.as_of) for p in people]
    odds = POOR_BASE_RATE * (1.0 if household.urban else 1.8) / max(household.level, 0.5)
    if min(ages) >= 60:
        odds *= 2.6
    if any(p.disability in (1, 2) or p.illness for p in people):
        odds *= 3.0
    roles = {m.role for m in household.open_members()}
    if "spouse" not in roles and "child" in roles and min(ages) < 18:
        odds *= 3.0
    return odds


def make_grants(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    """Roll entries for every recipient household (planted cases may have added more)."""
    keep_open = {id(p) for c in cluster.cases if c.kind == "deceased_on_roll" for p in c.persons}
    as_of = ctx.as_of
    for household in cluster.households:
        if household.status in ONGOING:
            start = household.on_roll_since or max(
                as_of - timedelta(days=between(rng, 60, 2900)), household.registered_on
            )
            _grants(rng, ctx, cluster, household, household.status, start, keep_open=keep_open)
            if rng.random() < 0.1:
                paid = as_of - timedelta(days=between(rng, 10, 360))
                amount = between(rng, 5, 30) * 10_000
                head = household.head()
                cluster.grants.append(Grant(head, household, "temporary", paid, paid, amount))
        elif not household.applicant and household.level < 1 and rng.random() < 0.005:
            start = as_of - timedelta(days=between(rng, 3 * 365, 8 * 365))
            end = min(
                start + timedelta(days=between(rng, 365, 3 * 365)), as_of - timedelta(days=90)
            )
            start = max(start, household.registered_on)
            _grants(rng, ctx, cluster, household, "dibao", start, end=end)


def _grants(  # noqa: PLR0917 - the roll entries of one household
    rng: random.Random,
    ctx: CityContext,
    cluster: Cluster,
    household: Household,
    category: str,
    start: date,
    *,
    end: date | None = None,
    keep_open: frozenset[int] | set[int] = frozenset(),
) -> None:
    standard = ctx.standards.dibao_fen(household.urban)
    care = None
    if category == "dibao":
        amount = round(standard * (0.45 + 0.55 * rng.random()) / 1000) * 1000
    elif category == "tekun":
        amount, care = ctx.standards.tekun_fen(household.urban), _CARE.pick(rng)
    else:
        amount = 0
    for member in household.members:
        person = member.person
        if member.until is not None and member.until <= start:
            continue
        valid_to = end
        if person.death is not None and id(person) not in keep_open:
            valid_to = _month_end(person.death)
        elif member.until is not None and id(person) not in keep_open:
            valid_to = member.until
        valid_from = max(start, member.since)
        if valid_to is not None and valid_to < valid_from:
            continue
        cluster.grants.append(
            Grant(person, household, category, valid_from, valid_to, amount, care)
        )


def choose_caseworkers(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    """Now and then, a working-age adult of a cluster with no roll entries, applications or
    planted cases becomes a caseworker of their township (or of the county's verification
    centre) until the quotas are full; so natural caseworkers have no relatives on the roll."""
    if cluster.cases or cluster.grants or any(h.applicant for h in cluster.households):
        return
    if rng.random() >= CASEWORKER_DRAW:
        return
    to_centre = rng.random() < CENTRE_SHARE
    for household in cluster.households:
        for person in household.people():
            if not 25 <= person.age(ctx.as_of) <= 55 or person.disability in (1, 2):
                continue
            township, county = household.township, household.county
            in_township = ctx.caseworkers_filled.get(township.code, 0)
            in_centre = ctx.centre_filled.get(county.code, 0)
            if in_centre < CENTRE_STAFF and (
                to_centre or in_township >= ctx.caseworker_quota[township.code]
            ):
                ctx.centre_filled[county.code] = in_centre + 1
                cluster.caseworkers.append((person, county.code + "000", "verification_centre"))
                person.payer = ctx.civil_affairs(county)
            elif in_township < ctx.caseworker_quota[township.code]:
                ctx.caseworkers_filled[township.code] = in_township + 1
                cluster.caseworkers.append((person, township.code, "caseworker"))
                person.payer = ctx.government(township)
            else:
                return
            person.wage_fen = between(rng, 35, 55) * 10_000
            person.wage_months = 12
            return


def emit(rng: random.Random, ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    """Rows of the roll, applications, authorisations and caseworkers."""
    counters, as_of = ctx.counters, ctx.as_of
    for grant in cluster.grants:
        household = grant.household
        county = household.county.code
        grant.grant_id = (
            f"{CATEGORY_PREFIX[grant.category]}{county}{codes.scatter(counters.grant, 10**8):08d}"
        )
        counters.grant += 1
        batch.roll.append(
            (
                grant.grant_id,
                grant.person.id_number,
                household.hukou_no,
                grant.category,
                county,
                household.township.code,
                grant.valid_from.isoformat(),
                grant.valid_to.isoformat() if grant.valid_to else None,
                grant.amount_fen,
                grant.care_level,
            )
        )
    involved = {id(h) for case in cluster.cases for h in case.households}
    for household in cluster.households:
        if household.applicant:
            head = household.head()
            counters.application += 1
            submitted = as_of - timedelta(days=between(rng, 3, 75))
            status = "pending" if rng.random() < 0.6 else "under_verification"
            batch.applications.append(
                (
                    f"AP{household.county.code}{codes.scatter(counters.application, 10**8):08d}",
                    household.hukou_no,
                    head.id_number,
                    _APPLIED.pick(rng),
                    household.township.code,
                    submitted.isoformat(),
                    status,
                )
            )
            planted = id(household) in involved
            _authorisation(rng, ctx, household, batch, purpose="application", planted=planted)
        elif household.status in ONGOING:
            planted = id(household) in involved
            _authorisation(rng, ctx, household, batch, purpose="review", planted=planted)
    for person, township_code, role in cluster.caseworkers:
        counters.staff[township_code] = counters.staff.get(township_code, 0) + 1
        staff_id = f"MZ{township_code}{counters.staff[township_code]:03d}"
        batch.caseworkers.append((staff_id, person.id_number, township_code, role))
        for case in cluster.cases:
            if person in case.staff:
                case.detail["staff_id"] = staff_id


def _authorisation(
    rng: random.Random,
    ctx: CityContext,
    household: Household,
    batch: Batch,
    *,
    purpose: str,
    planted: bool,
) -> None:
    as_of = ctx.as_of
    current = household.open_members()
    if current:
        valid_from = as_of - timedelta(days=between(rng, 0, 330))
        valid_from = max([valid_from, *(m.since for m in current)])
    else:  # everyone has died since signing
        valid_from = min(m.until or as_of for m in household.members) - timedelta(
            days=between(rng, 20, 60)
        )
    anomaly = 1.0 if planted else rng.random()
    if anomaly < 0.03:
        valid_from = as_of - timedelta(days=between(rng, 400, 700))
    valid_to = valid_from + timedelta(days=364)
    revoked = None
    if 0.03 <= anomaly < 0.05:
        revoked = (
            valid_from + timedelta(days=int((as_of - valid_from).days * rng.random()))
        ).isoformat()
    signers = [
        m.person
        for m in household.members
        if m.since <= valid_from and (m.until is None or m.until > valid_from)
    ]
    if 0.05 <= anomaly < 0.08 and len(signers) >= 2:
        signers.pop(int(rng.random() * len(signers)))
    departments = list(store.DEPARTMENTS)
    if 0.08 <= anomaly < 0.10:
        departments.pop(int(rng.random() * len(departments)))
    ctx.counters.authorisation += 1
    auth_no = (
        f"SQ{household.county.code}{valid_from.year}"
        f"{codes.scatter(ctx.counters.authorisation, 10**6, 123_457):06d}"
    )
    batch.authorisations.append(
        (
            auth_no,
            household.hukou_no,
            ",".join(departments),
            purpose,
            valid_from.isoformat(),
            valid_to.isoformat(),
            revoked,
        )
    )
    signed = valid_from.isoformat()
    batch.authorisation_signers.extend((auth_no, p.id_number, signed) for p in signers)
