from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from neo4j import AsyncDriver

from authz.consent import decide_consent
from authz.protection import FieldProtection
from graph.consent_store import authorisations_signed_by
from graph.migrations import apply_migrations
from graph.model import AuthorisationRecord, Signature, Source
from graph.write_plans import person_key
from graph.writer import GraphWriter
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def authorisation(revoked_on: date | None = None, *signers: str) -> AuthorisationRecord:
    return AuthorisationRecord(
        source=Source.CIVIL_AFFAIRS,
        source_record_id="SQ4107022026000001",
        fetched_at=NOW,
        auth_no="SQ4107022026000001",
        hukou_no="H41070200000001",
        departments=(Source.TAX, Source.BANKING),
        purpose="application",
        valid_from=date(2026, 6, 1),
        valid_to=date(2027, 5, 31),
        revoked_on=revoked_on,
        signatures=tuple(Signature(id_number=s, signed_on=date(2026, 6, 1)) for s in signers),
    )


async def test_signers_are_read_back_and_decided(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    await apply_migrations(driver, "neo4j")
    writer = GraphWriter(driver, "neo4j", protection)
    await writer.write([authorisation(None, PEOPLE.head, PEOPLE.spouse)], now=NOW)
    head, child = person_key(protection, PEOPLE.head), person_key(protection, PEOPLE.child)
    found = await authorisations_signed_by(driver, "neo4j", [head, child])
    assert child not in found
    assert decide_consent(found[head], "tax", date(2026, 11, 1)).auth_no == "SQ4107022026000001"
    assert not decide_consent(found[head], "housing", date(2026, 11, 1)).allowed

    assert (await writer.write([authorisation(None, PEOPLE.head, PEOPLE.spouse)])).changes == 0
    revoked = await writer.write([authorisation(date(2026, 10, 1), PEOPLE.head)])
    assert revoked.properties_set > 0
    after = await authorisations_signed_by(
        driver, "neo4j", [head, person_key(protection, PEOPLE.spouse)]
    )
    assert list(after) == [head]  # the spouse's signature is gone from the new version
    assert not decide_consent(after[head], "tax", date(2026, 11, 1)).allowed
