"""Cases, verification requests and flags: the caseworker's side of the graph.

`(:Case {case_id, status, category, organisation, township_code, region_code,
opened_by, opened_at, closed_at})-[:FOR_HOUSEHOLD]->(:Household)`;
`(:VerificationRequest {request_id, status, purpose, as_of, requested_by,
requested_at, finished_at, outcome})-[:FOR_CASE]->(:Case)`;
`(:Flag {flag_id, rule_id, severity, status, raised_at, resolved_at,
resolved_by, resolution_enc})-[:ON_CASE]->(:Case)`.

The case copies its household's township and county when opened so that
jurisdiction questions ("is this case in my county?") need no second read.
Free text a person writes (a flag's resolution) may name people, so it is
sealed like any personal field. The graph stores and fetches; who may do what
is decided in `authz`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from neo4j import AsyncDriver, Record, RoutingControl

from graph.protection import FieldProtector
from graph.values import native as _native

CaseRecordRow = TypeVar("CaseRecordRow")


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class VerificationStatus(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class FlagStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class HouseholdPlace:
    """Where a household is: all a jurisdiction question needs."""

    hid: str
    township_code: str
    region_code: str


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    hid: str
    status: CaseStatus
    category: str
    organisation: str
    township_code: str
    region_code: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None

    @property
    def place(self) -> HouseholdPlace:
        return HouseholdPlace(self.hid, self.township_code, self.region_code)


@dataclass(frozen=True)
class VerificationRow:
    request_id: str
    case_id: str
    status: VerificationStatus
    purpose: str
    as_of: date
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class FlagRow:
    flag_id: str
    case_id: str
    rule_id: str
    severity: str
    status: FlagStatus
    raised_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_enc: str | None


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


# --- households ------------------------------------------------------------------------------

PLACES = """
UNWIND $hids AS hid
MATCH (h:Household {hid: hid})
RETURN h.hid AS hid, h.township_code AS township_code, h.region_code AS region_code
"""


async def household_places(
    driver: AsyncDriver, database: str, hids: Iterable[str]
) -> dict[str, HouseholdPlace]:
    records, _, _ = await driver.execute_query(
        PLACES, hids=list(hids), database_=database, routing_=RoutingControl.READ
    )
    return {
        r["hid"]: HouseholdPlace(r["hid"], r["township_code"] or "", r["region_code"] or "")
        for r in records
    }


# --- cases -----------------------------------------------------------------------------------

_CASE_FIELDS = """c.case_id AS case_id, h.hid AS hid, c.status AS status, c.category AS category,
       c.organisation AS organisation, c.township_code AS township_code,
       c.region_code AS region_code, c.opened_by AS opened_by, c.opened_at AS opened_at,
       c.closed_at AS closed_at"""

OPEN_CASE = f"""
MATCH (h:Household {{hid: $hid}})
CREATE (c:Case {{case_id: $case_id, status: 'open', category: $category,
                organisation: $organisation, township_code: h.township_code,
                region_code: h.region_code, opened_by: $opened_by, opened_at: $now}})
CREATE (c)-[:FOR_HOUSEHOLD]->(h)
RETURN {_CASE_FIELDS}
"""

CASES_BY_ID = f"""
UNWIND $case_ids AS case_id
MATCH (c:Case {{case_id: case_id}})-[:FOR_HOUSEHOLD]->(h:Household)
RETURN {_CASE_FIELDS}
"""

CLOSE_CASE = f"""
MATCH (c:Case {{case_id: $case_id}})-[:FOR_HOUSEHOLD]->(h:Household)
SET c.status = 'closed', c.closed_at = coalesce(c.closed_at, $now)
RETURN {_CASE_FIELDS}
"""

_CASE_FILTER = """($township IS NULL OR c.township_code = $township)
  AND ($organisation IS NULL OR c.organisation = $organisation)
  AND ($regions IS NULL OR c.region_code IN $regions
       OR substring(c.region_code, 0, 4) + '00' IN $regions)
  AND ($status IS NULL OR c.status = $status)"""

LIST_CASES = f"""
MATCH (c:Case)-[:FOR_HOUSEHOLD]->(h:Household)
WHERE {_CASE_FILTER}
  AND ($after IS NULL OR c.case_id > $after)
RETURN {_CASE_FIELDS}
ORDER BY c.case_id LIMIT $limit
"""

COUNT_CASES = f"""
MATCH (c:Case)
WHERE {_CASE_FILTER}
RETURN count(c) AS total
"""

OPEN_CASES_FOR = """
UNWIND $hids AS hid
MATCH (c:Case {status: 'open', organisation: $organisation})-[:FOR_HOUSEHOLD]->
      (:Household {hid: hid})
RETURN DISTINCT hid
"""


def _case(r: Any) -> CaseRow:  # noqa: ANN401 - a neo4j Record
    return CaseRow(
        case_id=r["case_id"],
        hid=r["hid"],
        status=CaseStatus(r["status"]),
        category=r["category"],
        organisation=r["organisation"],
        township_code=r["township_code"] or "",
        region_code=r["region_code"] or "",
        opened_by=r["opened_by"],
        opened_at=_native(r["opened_at"]),
        closed_at=_native(r["closed_at"]),
    )


async def open_case(
    driver: AsyncDriver,
    database: str,
    *,
    hid: str,
    category: str,
    organisation: str,
    opened_by: str,
) -> CaseRow | None:
    """A new open case for the household; None when the household is not in the graph."""
    records, _, _ = await driver.execute_query(
        OPEN_CASE,
        hid=hid,
        case_id=_new_id("case"),
        category=category,
        organisation=organisation,
        opened_by=opened_by,
        now=datetime.now(UTC),
        database_=database,
    )
    return _case(records[0]) if records else None


async def cases_by_id(
    driver: AsyncDriver, database: str, case_ids: Iterable[str]
) -> dict[str, CaseRow]:
    records, _, _ = await driver.execute_query(
        CASES_BY_ID, case_ids=list(case_ids), database_=database, routing_=RoutingControl.READ
    )
    return {r["case_id"]: _case(r) for r in records}


async def close_case(driver: AsyncDriver, database: str, case_id: str) -> CaseRow | None:
    records, _, _ = await driver.execute_query(
        CLOSE_CASE, case_id=case_id, now=datetime.now(UTC), database_=database
    )
    return _case(records[0]) if records else None


@dataclass(frozen=True)
class CaseFilter:
    """Which cases: by township and office (caseworkers) or by region codes (centres)."""

    township: str | None = None
    organisation: str | None = None
    regions: tuple[str, ...] | None = None
    status: CaseStatus | None = None

    def params(self) -> dict[str, Any]:
        return {
            "township": self.township,
            "organisation": self.organisation,
            "regions": None if self.regions is None else list(self.regions),
            "status": None if self.status is None else self.status.value,
        }


async def list_cases(
    driver: AsyncDriver,
    database: str,
    where: CaseFilter,
    *,
    after: str | None = None,
    limit: int = 20,
) -> list[CaseRow]:
    """Cases in key order after `after` (keyset pagination)."""
    records, _, _ = await driver.execute_query(
        LIST_CASES,
        **where.params(),
        after=after,
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [_case(r) for r in records]


async def count_cases(driver: AsyncDriver, database: str, where: CaseFilter) -> int:
    """How many cases `list_cases` pages through with the same filter."""
    records, _, _ = await driver.execute_query(
        COUNT_CASES, **where.params(), database_=database, routing_=RoutingControl.READ
    )
    return int(records[0]["total"])


async def households_with_open_case(
    driver: AsyncDriver, database: str, hids: Iterable[str], organisation: str
) -> set[str]:
    """Which of these households the organisation has an open case for."""
    records, _, _ = await driver.execute_query(
        OPEN_CASES_FOR,
        hids=list(hids),
        organisation=organisation,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return {r["hid"] for r in records}


# --- verification requests -------------------------------------------------------------------

_VERIFICATION_FIELDS = """v.request_id AS request_id, c.case_id AS case_id, v.status AS status,
       v.purpose AS purpose, v.as_of AS as_of, v.requested_by AS requested_by,
       v.requested_at AS requested_at, v.finished_at AS finished_at, v.outcome AS outcome"""

REQUEST_VERIFICATION = f"""
MATCH (c:Case {{case_id: $case_id}})
CREATE (v:VerificationRequest {{request_id: $request_id, status: 'requested',
        purpose: $purpose, as_of: $as_of, requested_by: $requested_by, requested_at: $now}})
CREATE (v)-[:FOR_CASE]->(c)
RETURN {_VERIFICATION_FIELDS}
"""

VERIFICATIONS_OF = f"""
UNWIND $case_ids AS case_id
MATCH (v:VerificationRequest)-[:FOR_CASE]->(c:Case {{case_id: case_id}})
RETURN {_VERIFICATION_FIELDS}
ORDER BY v.requested_at, v.request_id
"""

FINISH_VERIFICATION = f"""
MATCH (v:VerificationRequest {{request_id: $request_id}})-[:FOR_CASE]->(c:Case)
SET v.status = $status, v.outcome = $outcome,
    v.finished_at = CASE WHEN $status IN ['completed', 'failed'] THEN $now ELSE NULL END
RETURN {_VERIFICATION_FIELDS}
"""


def _verification(r: Any) -> VerificationRow:  # noqa: ANN401 - a neo4j Record
    return VerificationRow(
        request_id=r["request_id"],
        case_id=r["case_id"],
        status=VerificationStatus(r["status"]),
        purpose=r["purpose"],
        as_of=_native(r["as_of"]),
        requested_by=r["requested_by"],
        requested_at=_native(r["requested_at"]),
        finished_at=_native(r["finished_at"]),
        outcome=r["outcome"],
    )


async def _per_case(
    driver: AsyncDriver,
    database: str,
    cypher: str,
    case_ids: Iterable[str],
    row_of: Callable[[Record], CaseRecordRow],
) -> dict[str, list[CaseRecordRow]]:
    """The rows a `case_id`-keyed read returns, grouped by case (verifications, flags)."""
    records, _, _ = await driver.execute_query(
        cypher, case_ids=list(case_ids), database_=database, routing_=RoutingControl.READ
    )
    found: dict[str, list[CaseRecordRow]] = {}
    for r in records:
        found.setdefault(r["case_id"], []).append(row_of(r))
    return found


async def request_verification(
    driver: AsyncDriver,
    database: str,
    *,
    case_id: str,
    purpose: str,
    as_of: date,
    requested_by: str,
) -> VerificationRow | None:
    records, _, _ = await driver.execute_query(
        REQUEST_VERIFICATION,
        case_id=case_id,
        request_id=_new_id("ver"),
        purpose=purpose,
        as_of=as_of,
        requested_by=requested_by,
        now=datetime.now(UTC),
        database_=database,
    )
    return _verification(records[0]) if records else None


async def verifications_of(
    driver: AsyncDriver, database: str, case_ids: Iterable[str]
) -> dict[str, list[VerificationRow]]:
    return await _per_case(driver, database, VERIFICATIONS_OF, case_ids, _verification)


async def set_verification_status(
    driver: AsyncDriver,
    database: str,
    request_id: str,
    status: VerificationStatus,
    outcome: str | None = None,
) -> VerificationRow | None:
    """Move a request along; `outcome` is a short summary without personal data."""
    records, _, _ = await driver.execute_query(
        FINISH_VERIFICATION,
        request_id=request_id,
        status=status.value,
        outcome=outcome,
        now=datetime.now(UTC),
        database_=database,
    )
    return _verification(records[0]) if records else None


# --- flags -----------------------------------------------------------------------------------

_FLAG_FIELDS = """f.flag_id AS flag_id, c.case_id AS case_id, f.rule_id AS rule_id,
       f.severity AS severity, f.status AS status, f.raised_at AS raised_at,
       f.resolved_at AS resolved_at, f.resolved_by AS resolved_by,
       f.resolution_enc AS resolution_enc"""

RAISE_FLAG = f"""
MATCH (c:Case {{case_id: $case_id}})
CREATE (f:Flag {{flag_id: $flag_id, rule_id: $rule_id, severity: $severity, status: 'open',
                raised_at: $now}})
CREATE (f)-[:ON_CASE]->(c)
RETURN {_FLAG_FIELDS}
"""

FLAGS_OF = f"""
UNWIND $case_ids AS case_id
MATCH (f:Flag)-[:ON_CASE]->(c:Case {{case_id: case_id}})
RETURN {_FLAG_FIELDS}
ORDER BY f.raised_at, f.flag_id
"""

FLAGS_BY_ID = f"""
UNWIND $flag_ids AS flag_id
MATCH (f:Flag {{flag_id: flag_id}})-[:ON_CASE]->(c:Case)
RETURN {_FLAG_FIELDS}
"""

RESOLVE_FLAG = f"""
MATCH (f:Flag {{flag_id: $flag_id}})-[:ON_CASE]->(c:Case)
SET f.status = 'resolved', f.resolved_at = $now, f.resolved_by = $resolved_by,
    f.resolution_enc = $resolution_enc
RETURN {_FLAG_FIELDS}
"""


def _flag(r: Any) -> FlagRow:  # noqa: ANN401 - a neo4j Record
    return FlagRow(
        flag_id=r["flag_id"],
        case_id=r["case_id"],
        rule_id=r["rule_id"],
        severity=r["severity"],
        status=FlagStatus(r["status"]),
        raised_at=_native(r["raised_at"]),
        resolved_at=_native(r["resolved_at"]),
        resolved_by=r["resolved_by"],
        resolution_enc=r["resolution_enc"],
    )


async def raise_flag(
    driver: AsyncDriver, database: str, *, case_id: str, rule_id: str, severity: str
) -> FlagRow | None:
    """A finding (疑点) for a human to review; raised by the rules engine and comparisons."""
    records, _, _ = await driver.execute_query(
        RAISE_FLAG,
        case_id=case_id,
        flag_id=_new_id("flag"),
        rule_id=rule_id,
        severity=severity,
        now=datetime.now(UTC),
        database_=database,
    )
    return _flag(records[0]) if records else None


async def flags_of(
    driver: AsyncDriver, database: str, case_ids: Iterable[str]
) -> dict[str, list[FlagRow]]:
    return await _per_case(driver, database, FLAGS_OF, case_ids, _flag)


async def flags_by_id(
    driver: AsyncDriver, database: str, flag_ids: Iterable[str]
) -> dict[str, FlagRow]:
    records, _, _ = await driver.execute_query(
        FLAGS_BY_ID, flag_ids=list(flag_ids), database_=database, routing_=RoutingControl.READ
    )
    return {r["flag_id"]: _flag(r) for r in records}


async def resolve_flag(
    driver: AsyncDriver,
    database: str,
    protector: FieldProtector,
    *,
    flag_id: str,
    resolved_by: str,
    reason: str,
) -> FlagRow | None:
    """Resolve with a written reason, sealed because people write names into reasons."""
    sealed = protector.seal(reason, node_key=flag_id, field="resolution")
    records, _, _ = await driver.execute_query(
        RESOLVE_FLAG,
        flag_id=flag_id,
        resolved_by=resolved_by,
        resolution_enc=sealed,
        now=datetime.now(UTC),
        database_=database,
    )
    return _flag(records[0]) if records else None
