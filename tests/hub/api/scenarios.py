"""The household of tests/graph/records.py with authorisations in every state a test needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from neo4j import AsyncDriver

from authz.protection import FieldProtection
from graph.migrations import apply_migrations
from graph.model import DEPARTMENT_SOURCES, AuthorisationRecord, Record, Signature, Source
from graph.write_plans import household_key
from graph.writer import GraphWriter
from tests.graph.records import HUKOU, NAMES, household_records

MEMBERS = tuple(NAMES)  # head, spouse, child
TODAY = datetime.now(UTC).date()


def authorisation(
    auth_no: str = "SQ4107022026000001",
    *,
    departments: Sequence[Source] = DEPARTMENT_SOURCES,
    valid_from: date | None = None,
    valid_to: date | None = None,
    revoked_on: date | None = None,
    signers: Sequence[str] = MEMBERS,
) -> AuthorisationRecord:
    return AuthorisationRecord(
        source=Source.CIVIL_AFFAIRS,
        source_record_id=auth_no,
        fetched_at=datetime.now(UTC),
        auth_no=auth_no,
        hukou_no=HUKOU,
        departments=tuple(departments),
        purpose="application",
        valid_from=valid_from or TODAY - timedelta(days=30),
        valid_to=valid_to or TODAY + timedelta(days=150),
        revoked_on=revoked_on,
        signatures=tuple(
            Signature(id_number=s, signed_on=TODAY - timedelta(days=30)) for s in signers
        ),
    )


CONSENT_STATES: dict[str, list[AuthorisationRecord]] = {
    "valid": [authorisation()],
    "none": [],
    "revoked": [authorisation(revoked_on=TODAY - timedelta(days=1))],
    "expired": [
        authorisation(valid_from=TODAY - timedelta(days=400), valid_to=TODAY - timedelta(days=1))
    ],
}


async def write_household(
    driver: AsyncDriver, protection: FieldProtection, extra: Sequence[Record] = ()
) -> str:
    """The household's records from all five departments (+ extra); its household key."""
    await apply_migrations(driver, "neo4j")
    writer = GraphWriter(driver, "neo4j", protection)
    await writer.write([*household_records(), *extra])
    return household_key(protection, HUKOU)
