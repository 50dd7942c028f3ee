"""Authorisations in the graph, read back as consent facts for `authz` to decide on.

`(:Person)-[:SIGNED {signed_on}]->(:Authorisation {auth_no, departments,
valid_from, valid_to, revoked_on})-[:FOR_HOUSEHOLD]->(:Household)`. The
graph only fetches; `authz.consent.decide_consent` decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

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
