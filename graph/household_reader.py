"""A household as of a time point: who belonged, and the facts the hub held about them then.

Two times, because the graph is bitemporal: `window` is valid time (what was
true in the world: an income month, a balance date, an enrolment's span) and
`recorded_at` is our recorded time (what the hub knew at that moment: fact
versions between `recorded_from` and `recorded_to`). The same time point
therefore gives the same answer however many times it is read, which is what
a reproducible verification report needs. Neo4j shapes the nested result
(map projections), so Python touches each value once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import AsyncDriver, RoutingControl

AS_OF = """
MATCH (h:Household {hid: $hid})
CALL (h) {
  MATCH (p:Person)-[m:MEMBER_OF]->(h)
  WHERE m.valid_from <= $window_end AND (m.valid_to IS NULL OR m.valid_to >= $window_start)
  CALL (p) {
    MATCH (p)-[]->(f)
    WHERE f.vid IS NOT NULL
      AND f.recorded_from <= $recorded_at
      AND (f.recorded_to IS NULL OR f.recorded_to > $recorded_at)
      AND (f.valid_from IS NULL OR f.valid_from <= $window_end)
      AND (f.valid_to IS NULL OR f.valid_to >= $window_start)
    RETURN collect(f {kind: labels(f)[0], .*}) AS facts
  }
  RETURN collect({pid: p.pid, role: m.role, facts: facts}) AS members
}
RETURN h.region_code AS region_code, h.urban AS urban, members
"""


@dataclass(frozen=True)
class MemberAsOf:
    pid: str
    role: str
    facts: tuple[dict[str, Any], ...]

    def facts_of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.facts if f["kind"] == kind]


@dataclass(frozen=True)
class HouseholdAsOf:
    hid: str
    region_code: str
    urban: bool
    members: tuple[MemberAsOf, ...]


async def read_household_as_of(
    driver: AsyncDriver,
    database: str,
    hid: str,
    *,
    window: tuple[date, date],
    recorded_at: datetime,
) -> HouseholdAsOf | None:
    """None when no such household is in the graph. Sealed fields stay sealed."""
    records, _, _ = await driver.execute_query(
        AS_OF,
        hid=hid,
        window_start=window[0],
        window_end=window[1],
        recorded_at=recorded_at,
        database_=database,
        routing_=RoutingControl.READ,
    )
    if not records:
        return None
    row = records[0]
    members = tuple(
        MemberAsOf(m["pid"], m["role"], tuple(m["facts"]))
        for m in sorted(row["members"], key=lambda m: m["pid"])
    )
    return HouseholdAsOf(hid, row["region_code"], bool(row["urban"]), members)
