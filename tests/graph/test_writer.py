"""The graph writer against the real Neo4j: idempotence, versions, provenance, no plain PII."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from neo4j import AsyncDriver

from authz.errors import DecryptionFailed
from authz.protection import FieldProtection
from graph.migrations import apply_migrations
from graph.write_plans import person_key
from graph.writer import GraphWriter
from tests.graph.records import ACCOUNT, HUKOU, NAMES, household_records
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def writer(driver: AsyncDriver, protection: FieldProtection) -> GraphWriter:
    await apply_migrations(driver, "neo4j")
    return GraphWriter(driver, "neo4j", protection, batch_size=3)


async def scalar(driver: AsyncDriver, cypher: str, **params: object) -> object:
    records, _, _ = await driver.execute_query(cypher, params)
    return records[0][0]


async def test_writes_every_kind_with_provenance(writer: GraphWriter, driver: AsyncDriver) -> None:
    summary = await writer.write(household_records(), now=T1)
    assert summary.records["person"] == 3
    assert summary.batches >= 8
    assert await scalar(driver, "MATCH (p:Person) RETURN count(p)") == 4  # + the deceased elder
    assert await scalar(driver, "MATCH (:Person)-[m:MEMBER_OF]->(:Household) RETURN count(m)") == 3
    assert await scalar(driver, "MATCH ()-[r:SPOUSE_OF]->() RETURN count(r)") == 1
    assert (
        await scalar(driver, "MATCH (:Person)-[o:OWNS]->(:Property) RETURN sum(o.share_pct)") == 100
    )
    missing = await scalar(
        driver,
        "MATCH (f) WHERE f.vid IS NOT NULL AND (f.source IS NULL OR f.fetched_at IS NULL "
        "OR f.content_hash IS NULL OR f.source_record_id_enc IS NULL OR f.recorded_from IS NULL) "
        "RETURN count(f)",
    )
    assert missing == 0


async def test_rewriting_the_same_records_changes_nothing(
    writer: GraphWriter, driver: AsyncDriver
) -> None:
    await writer.write(household_records(), now=T1)
    again = await writer.write(household_records(), now=T2)
    assert again.changes == 0
    assert await scalar(driver, "MATCH (n) WHERE n.recorded_from = $t RETURN count(n)", t=T2) == 0


async def test_a_changed_fact_becomes_a_new_version(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(household_records(gross_fen=450000), now=T1)
    changed = await writer.write(household_records(gross_fen=520000), now=T2)
    assert changed.nodes_created == 1
    records, _, _ = await driver.execute_query(
        "MATCH (:Person {pid: $pid})-[:EARNED]->(i:IncomeRecord) "
        "RETURN i.gross_fen AS gross, i.recorded_from AS since, i.recorded_to AS until "
        "ORDER BY since",
        pid=person_key(protection, PEOPLE.head),
    )
    assert (records[0]["gross"], records[0]["since"].to_native()) == (450000, T1)
    assert records[0]["until"].to_native() == T2
    assert (records[1]["gross"], records[1]["until"]) == (520000, None)


async def test_no_plain_personal_data_is_stored(writer: GraphWriter, driver: AsyncDriver) -> None:
    await writer.write(household_records(), now=T1)
    records, _, _ = await driver.execute_query(
        "MATCH (n) RETURN properties(n) AS props UNION ALL "
        "MATCH ()-[r]->() RETURN properties(r) AS props"
    )
    dump = repr([r["props"] for r in records])
    secrets = [
        *NAMES,
        *NAMES.values(),
        PEOPLE.elder,
        HUKOU,
        ACCOUNT,
        "13800001234",
        "平原路8号",
        "建设路12号",
        "豫G12345",
    ]
    leaked = [s for s in secrets if s in dump]
    assert leaked == []


async def test_sealed_fields_open_only_on_their_node(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(household_records(), now=T1)
    pid = person_key(protection, PEOPLE.head)
    records, _, _ = await driver.execute_query(
        "MATCH (p:Person {pid: $pid}) RETURN p.name_enc AS name, p.id_number_enc AS id", pid=pid
    )
    assert protection.open(records[0]["name"], node_key=pid, field="name") == NAMES[PEOPLE.head]
    assert protection.open(records[0]["id"], node_key=pid, field="id_number") == PEOPLE.head
    other = person_key(protection, PEOPLE.spouse)
    with pytest.raises(DecryptionFailed):
        protection.open(records[0]["name"], node_key=other, field="name")


async def test_batch_size_must_be_positive(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        GraphWriter(driver, "neo4j", protection, batch_size=0)
