"""Authorisations in the graph, read back as consent facts for `authz` to decide on.

`(:Person)-[:SIGNED {signed_on}]->(:Authorisation {auth_no, departments,
valid_from, valid_to, revoked_on})-[:FOR_HOUSEHOLD]->(:Household)`. The
graph only fetches; `authz.consent.decide_consent` decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from neo4j import AsyncDriver, RoutingControl

from authz.consent import SignedAuthorisation

SIGNED_BY = """
UNWIND $pids AS pid
MATCH (:Person {pid: pid})-[:SIGNED]->(a:Authorisation)
RETURN pid, a.auth_no AS auth_no, a.departments AS departments,
       a.valid_from AS valid_from, a.valid_to AS valid_to, a.revoked_on AS revoked_on
"""


async def authorisations_signed_by(
    driver: AsyncDriver, database: str, pids: Iterable[str]
) -> dict[str, list[SignedAuthorisation]]:
    """Every authorisation each person signed (valid or not: the decision is authz's)."""
    records, _, _ = await driver.execute_query(
        SIGNED_BY, pids=list(pids), database_=database, routing_=RoutingControl.READ
    )
    found: dict[str, list[SignedAuthorisation]] = defaultdict(list)
    for r in records:
        found[r["pid"]].append(
            SignedAuthorisation(
                auth_no=r["auth_no"],
                departments=frozenset(r["departments"]),
                valid_from=_date(r["valid_from"]),
                valid_to=_date(r["valid_to"]),
                revoked_on=_date(r["revoked_on"]) if r["revoked_on"] is not None else None,
            )
        )
    return dict(found)


def _date(value: object) -> date:
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, date):
        raise TypeError("an authorisation date in the graph is not a date")
    return native


REVOKE = """
MATCH (a:Authorisation {auth_no: $auth_no})
SET a.revoked_on = CASE WHEN a.revoked_on IS NULL OR a.revoked_on > $on THEN $on
                        ELSE a.revoked_on END,
    a.recorded_at = $now
RETURN a.revoked_on AS revoked_on
"""

LIST = """
MATCH (a:Authorisation)
WHERE ($auth_no IS NULL OR a.auth_no = $auth_no)
  AND ($hid IS NULL OR EXISTS { (a)-[:FOR_HOUSEHOLD]->(:Household {hid: $hid}) })
  AND ($pid IS NULL OR EXISTS { (:Person {pid: $pid})-[:SIGNED]->(a) })
RETURN a.auth_no AS auth_no, a.departments AS departments, a.purpose AS purpose,
       a.valid_from AS valid_from, a.valid_to AS valid_to, a.revoked_on AS revoked_on,
       COUNT { (:Person)-[:SIGNED]->(a) } AS signers
ORDER BY a.auth_no LIMIT $limit
"""


@dataclass(frozen=True)
class AuthorisationSummary:
    auth_no: str
    departments: tuple[str, ...]
    purpose: str
    valid_from: date
    valid_to: date
    revoked_on: date | None
    signers: int

    def as_signed(self) -> SignedAuthorisation:
        return SignedAuthorisation(
            self.auth_no,
            frozenset(self.departments),
            self.valid_from,
            self.valid_to,
            self.revoked_on,
        )


async def revoke_authorisation(
    driver: AsyncDriver, database: str, auth_no: str, on: date
) -> date | None:
    """Revoke from `on` (an earlier revocation stands); the revocation date, None if unknown."""
    records, _, _ = await driver.execute_query(
        REVOKE, auth_no=auth_no, on=on, now=datetime.now(UTC), database_=database
    )
    return _date(records[0]["revoked_on"]) if records else None


async def list_authorisations(
    driver: AsyncDriver,
    database: str,
    *,
    auth_no: str | None = None,
    hid: str | None = None,
    pid: str | None = None,
    limit: int = 200,
) -> list[AuthorisationSummary]:
    records, _, _ = await driver.execute_query(
        LIST,
        auth_no=auth_no,
        hid=hid,
        pid=pid,
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [
        AuthorisationSummary(
            auth_no=r["auth_no"],
            departments=tuple(r["departments"]),
            purpose=r["purpose"],
            valid_from=_date(r["valid_from"]),
            valid_to=_date(r["valid_to"]),
            revoked_on=_date(r["revoked_on"]) if r["revoked_on"] is not None else None,
            signers=int(r["signers"]),
        )
        for r in records
    ]
