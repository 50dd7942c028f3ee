"""Who holds which assistance grant: the roll as the graph holds it, for many people at once.

`(:Person {pid})-[:RECEIVES]->(:Assistance {grant_id, category, region_code,
township_code, amount_fen, care_level, hid, valid_from, valid_to, ...})`,
written from civil affairs' roll export (`graph.write_plans.assistance_row`).

Every grant a person ever held comes back, not only the ones in force: the
API and the rules decide what to show (a grant that ended last month matters
to a review), and `AssistanceGrant.in_force` says whether it covered the day
asked about. Recorded time picks the fact versions: the current ones, or those
the hub held at `recorded_at`, so a report can be reproduced later. One UNWIND
query answers for every person asked about.

Pids are blind indexes: `graph.write_plans.person_key(protector, id_number)`
turns an ID number into one, so no ID number is ever sent to Neo4j.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from neo4j import AsyncDriver, RoutingControl

GRANTS_OF = """
UNWIND $pids AS pid
MATCH (:Person {pid: pid})-[:RECEIVES]->(a:Assistance)
WHERE CASE WHEN $recorded_at IS NULL THEN a.recorded_to IS NULL
      ELSE a.recorded_from <= $recorded_at
           AND (a.recorded_to IS NULL OR a.recorded_to > $recorded_at) END
RETURN pid, a.grant_id AS grant_id, a.category AS category, a.region_code AS region_code,
       a.township_code AS township_code, a.valid_from AS valid_from, a.valid_to AS valid_to,
       a.amount_fen AS amount_fen, a.care_level AS care_level, a.source AS source,
       a.fetched_at AS fetched_at, a.content_hash AS content_hash,
       a.recorded_from AS recorded_from
ORDER BY pid, valid_from, grant_id
"""
T = TypeVar("T")


@dataclass(frozen=True)
class AssistanceGrant:
    """One grant with its provenance; `source_record_id` is the grant number (plain by design).

    `amount_fen` is monthly, except for temporary assistance (one payment).
    """

    grant_id: str
    category: str  # dibao | tekun | low_income | temporary
    region_code: str
    township_code: str
    valid_from: date
    valid_to: date | None  # None: open-ended
    amount_fen: int
    care_level: str | None  # tekun only: full | half | self
    in_force: bool  # the grant's validity window covers the day asked about
    source: str
    source_record_id: str
    fetched_at: datetime
    content_hash: str
    recorded_from: datetime


async def assistance_of(
    driver: AsyncDriver,
    database: str,
    pids: list[str],
    at: date,
    recorded_at: datetime | None = None,
) -> dict[str, list[AssistanceGrant]]:
    """Every grant of each person, ordered by start; people with none are absent.

    `at` is valid time (sets `in_force`), `recorded_at` recorded time (None:
    what the hub holds now). Sealed fields (the hukou number) stay sealed.
    """
    records, _, _ = await driver.execute_query(
        GRANTS_OF,
        pids=list(dict.fromkeys(pids)),
        recorded_at=recorded_at,
        database_=database,
        routing_=RoutingControl.READ,
    )
    found: dict[str, list[AssistanceGrant]] = {}
    for r in records:
        found.setdefault(r["pid"], []).append(_grant(r, at))
    return found


def _grant(r: Mapping[str, Any], at: date) -> AssistanceGrant:
    valid_from = _date(r["valid_from"])
    valid_to = _date(r["valid_to"]) if r["valid_to"] is not None else None
    return AssistanceGrant(
        grant_id=r["grant_id"],
        category=r["category"],
        region_code=r["region_code"],
        township_code=r["township_code"],
        valid_from=valid_from,
        valid_to=valid_to,
        amount_fen=int(r["amount_fen"]),
        care_level=r["care_level"],
        in_force=valid_from <= at and (valid_to is None or at <= valid_to),
        source=r["source"],
        source_record_id=r["grant_id"],
        fetched_at=_native(r["fetched_at"], datetime),
        content_hash=r["content_hash"],
        recorded_from=_native(r["recorded_from"], datetime),
    )


def _date(value: object) -> date:
    native = _native(value, date)
    if isinstance(native, datetime):
        raise TypeError("an assistance date in the graph is a timestamp, not a date")
    return native


def _native(value: object, kind: type[T]) -> T:
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, kind):
        raise TypeError(f"an assistance property in the graph is not a {kind.__name__}")
    return native
