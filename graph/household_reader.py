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

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from neo4j import AsyncDriver, RoutingControl

from graph.values import native as _native

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
    RETURN collect(f {.*, kind: labels(f)[0], __TEMPORALS__}) AS facts
  }
  CALL (p) {
    MATCH (p)-[r:SPOUSE_OF|PARENT_OF|SUPPORTS]-(q:Person)
    RETURN collect({type: type(r), from_pid: startNode(r).pid, to_pid: endNode(r).pid,
                    since: r.valid_from,
                    other: q {.pid, .id_number_enc, .name_enc, .sex, .birth_date}}) AS relations
  }
  RETURN collect({pid: p.pid, role: m.role, since: m.valid_from, until: m.valid_to,
                  person: p {.id_number_enc, .name_enc, .sex, .birth_date, .vital_status,
                             .death_date, .disability_grade, .school_level, .serious_illness},
                  facts: facts, relations: relations}) AS members
}
RETURN h.region_code AS region_code, h.township_code AS township_code,
       h.township_name AS township_name, h.urban AS urban, h.hukou_no_enc AS hukou_no_enc,
       members
"""


# Temporal fact properties travel as ISO strings: the driver's pure-Python hydration of
# DATE and DATETIME values was the largest single cost of an API household read (~100
# values per household), and fromisoformat does the same in C.
FACT_DATES = (
    "valid_from", "valid_to", "registered_on", "occurred_on", "filed_on", "opened_on",
    "closed_on", "as_of", "bought_on", "matures_on", "settled_on",
)  # fmt: skip
FACT_TIMES = ("fetched_at", "recorded_from", "recorded_to")
AS_OF = AS_OF.replace(
    "__TEMPORALS__", ", ".join(f"{k}: toString(f.{k})" for k in FACT_DATES + FACT_TIMES)
)


@dataclass(frozen=True)
class Relation:
    """A family or support tie of a member; `other` is the person at the far end."""

    type: str  # SPOUSE_OF | PARENT_OF | SUPPORTS
    from_pid: str
    to_pid: str
    since: date | None
    other: dict[str, Any]


@dataclass(frozen=True)
class MemberAsOf:
    pid: str
    role: str
    facts: tuple[dict[str, Any], ...]
    since: date | None = None
    until: date | None = None
    person: dict[str, Any] = field(default_factory=dict)  # plain attributes and sealed fields
    relations: tuple[Relation, ...] = ()

    def facts_of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.facts if f["kind"] == kind]


@dataclass(frozen=True)
class HouseholdAsOf:
    hid: str
    region_code: str
    urban: bool
    members: tuple[MemberAsOf, ...]
    township_code: str = ""
    township_name: str = ""
    hukou_no_enc: str | None = None

    def relations(self) -> list[Relation]:
        """Every tie touching a member, once (a tie between two members is seen from both)."""
        seen: dict[tuple[str, str, str], Relation] = {}
        for member in self.members:
            for relation in member.relations:
                seen.setdefault((relation.type, relation.from_pid, relation.to_pid), relation)
        return [seen[k] for k in sorted(seen)]


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
    members = tuple(_member(m) for m in sorted(row["members"], key=lambda m: m["pid"]))
    return HouseholdAsOf(
        hid,
        row["region_code"],
        bool(row["urban"]),
        members,
        township_code=row["township_code"] or "",
        township_name=row["township_name"] or "",
        hukou_no_enc=row["hukou_no_enc"],
    )


def _member(row: dict[str, Any]) -> MemberAsOf:
    return MemberAsOf(
        row["pid"],
        row["role"],
        tuple(_fact(f) for f in row["facts"]),
        since=_native(row["since"]),
        until=_native(row["until"]),
        person={k: _native(v) for k, v in row["person"].items()},
        relations=tuple(
            Relation(
                r["type"],
                r["from_pid"],
                r["to_pid"],
                _native(r["since"]),
                {k: _native(v) for k, v in r["other"].items()},
            )
            for r in row["relations"]
        ),
    )


def _datetime(text: str) -> datetime:
    """Neo4j writes up to nanoseconds; Python reads up to microseconds."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        head, dot, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        return datetime.fromisoformat(f"{head}{dot}{rest[: min(digits, 6)]}{rest[digits:]}")


_PARSERS: dict[str, Any] = {
    **dict.fromkeys(FACT_DATES, date.fromisoformat),
    **dict.fromkeys(FACT_TIMES, _datetime),
}


def _fact(row: dict[str, Any]) -> dict[str, Any]:
    """A fact's properties with temporal strings parsed; absent properties stay absent."""
    return {k: _PARSERS[k](v) if k in _PARSERS else v for k, v in row.items() if v is not None}
