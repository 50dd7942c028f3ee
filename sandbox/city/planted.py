"""Planted cases: the suspicious situations the hub must find, and their ground truth.

After a cluster's households have their assistance status, each recipient household
(dibao or tekun) draws at most one kind at the rates of `PlantRates`; a low-income
household may draw `single_person_candidate`. A planter reshapes the household or adds
what the case needs (a death, an old household in another county, a second home, a
car, a deposit, wages, a caseworker relative) and returns a `Case`. Kinds that need an
extra household are skipped when the cluster has no household left in its budget.

Ground truth is rendered only after every identifier has been issued, one JSON line per
case: {"case", "id_numbers", "hukou_nos", "detail"}, in generation order.
"""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Final

from sandbox.city import kinship, planters
from sandbox.city.context import CityContext
from sandbox.city.model import Cluster
from sandbox.city.planters import Planter
from sandbox.city.rates import RECIPIENT_KINDS


def plant(rng: random.Random, ctx: CityContext, cluster: Cluster) -> None:
    rates = ctx.rate_table
    for household in list(cluster.households):
        kind: str | None = None
        if household.status in ("dibao", "tekun"):
            draw = rng.random()
            for candidate in RECIPIENT_KINDS:
                draw -= rates[candidate]
                if draw < 0:
                    kind = candidate
                    break
        elif household.status == "low_income" and rng.random() < rates["single_person_candidate"]:
            kind = "single_person_candidate"
        if kind is None:
            continue
        case = PLANTERS[kind](rng, ctx, cluster, household)
        if case is not None:
            household.planted = kind
            cluster.cases.append(case)


PLANTERS: Final[dict[str, Planter]] = {
    "deceased_on_roll": planters.deceased_on_roll,
    "roll_two_counties": kinship.roll_two_counties,
    "two_households": kinship.two_households,
    "hidden_second_home": planters.asset_planter("property", 350, 1200, 22),
    "vehicle": planters.asset_planter("vehicle", 80, 260, 20),
    "large_deposit": planters.asset_planter("deposit", 60, 400, 20),
    "undeclared_wage": planters.undeclared_wage,
    "income_rose_after_work": planters.income_rose_after_work,
    "tekun_minor_turning_18_student": planters.tekun_minor_turning_18_student,
    "caseworker_relative": kinship.caseworker_relative,
    "single_person_candidate": planters.single_person_candidate,
}


def render(cluster: Cluster, as_of: date) -> list[str]:
    """Ground-truth lines of the cluster's cases (after identifiers are issued)."""
    lines = []
    for case in cluster.cases:
        detail = dict(case.detail)
        grants = [
            g.grant_id
            for g in cluster.grants
            if g.person in case.persons
            and g.category != "temporary"
            and (g.valid_to is None or g.valid_to >= as_of)
        ]
        detail["grant_ids"] = grants
        if case.staff:
            related = kinship.related_recipients(cluster, case, as_of)
            detail["other_related_recipients"] = [p.id_number for p in related]
        for asset in case.assets:
            detail[
                {"property": "cert_no", "vehicle": "plate", "deposit": "account_no"}[asset.kind]
            ] = asset.code
        record = {
            "case": case.kind,
            "id_numbers": [p.id_number for p in case.persons],
            "hukou_nos": [h.hukou_no for h in case.households],
            "detail": detail,
        }
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return lines
