"""The sync loop on the real Neo4j and a real sandbox department (medical, the tiny city)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from neo4j import AsyncDriver, AsyncGraphDatabase
from neo4j.exceptions import ServiceUnavailable

from authz.protection import FieldProtection
from connectors.civil_affairs import read_authorisations
from connectors.consent_gate import ConsentGate
from connectors.departments.medical import MedicalConnector
from connectors.sync import SyncRunner
from graph.connection import Neo4jTarget, open_driver
from graph.errors import Neo4jUnavailable
from graph.ingest_state import load_cursor
from graph.migrations import apply_migrations
from graph.writer import GraphWriter
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from sandbox.store import CIVIL_AFFAIRS, database_path
from tests.connectors.cases import medical as medical_case
from tests.connectors.test_conformance import make_connector
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import AS_OF, PEOPLE, build_tiny_city

pytestmark = pytest.mark.anyio


@dataclass
class Setup:
    driver: AsyncDriver
    runner: SyncRunner
    connector: MedicalConnector
    city: Path
    protection: FieldProtection
    base_url: str


@pytest.fixture
async def setup(
    driver: AsyncDriver, tmp_path: Path, protection: FieldProtection
) -> AsyncIterator[Setup]:
    await apply_migrations(driver, "neo4j")
    city = tmp_path / "city"
    build_tiny_city(city)
    medical_case.seed(city)

    def blind(value: str) -> str:
        return protection.blind(value, field="id_number")

    consents = read_authorisations(database_path(city, CIVIL_AFFAIRS), blind)
    writer = GraphWriter(driver, "neo4j", protection)
    await writer.write(consents.records)
    gate = ConsentGate(driver, "neo4j", blind)
    runner = SyncRunner(
        driver, "neo4j", writer, gate, AS_OF, protector=protection, run_id="test-run"
    )
    with serve_app(medical_case.CASE.app(load_runtime(city, "medical"))) as base_url:
        connector = make_connector(medical_case.CASE, base_url, blind, 2)
        assert isinstance(connector, MedicalConnector)
        yield Setup(driver, runner, connector, city, protection, base_url)
        await connector.client.http.aclose()


async def count(driver: AsyncDriver, label: str) -> int:
    records, _, _ = await driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n")
    return int(records[0]["n"])


async def test_bulk_keeps_only_consented_people(setup: Setup) -> None:
    summary = await setup.runner.bulk(setup.connector)
    assert summary.dropped_without_consent == 2  # the outsider's enrolment and claim
    assert summary.written == medical_case.CASE.bulk_records - 2
    assert await count(setup.driver, "InsuranceEnrolment") == 2
    assert await count(setup.driver, "MedicalClaim") == 18
    for partition in setup.connector.partitions():
        saved = await load_cursor(setup.driver, "neo4j", setup.protection, "medical", partition)
        assert saved is not None
        assert saved.complete


async def test_a_second_run_changes_nothing(setup: Setup) -> None:
    await setup.runner.bulk(setup.connector)
    before = await count(setup.driver, "MedicalClaim")
    await setup.runner.bulk(setup.connector)
    assert await count(setup.driver, "MedicalClaim") == before


async def test_an_interrupted_run_resumes_to_the_same_graph(setup: Setup) -> None:
    first = await setup.runner.bulk(setup.connector, max_pages=3)
    assert first.pages == 3
    saved = await load_cursor(setup.driver, "neo4j", setup.protection, "medical", "enrolments")
    assert saved is not None
    assert saved.complete
    rest = await setup.runner.bulk(setup.connector)
    assert rest.pages > 1
    assert await count(setup.driver, "MedicalClaim") == 18
    assert await count(setup.driver, "InsuranceEnrolment") == 2


async def test_subject_mode_never_asks_about_the_unconsented(setup: Setup) -> None:
    summary = await setup.runner.subjects(setup.connector, [PEOPLE.head, PEOPLE.outsider], AS_OF)
    blinded_outsider = setup.protection.blind(PEOPLE.outsider, field="id_number")
    assert summary.refused_subjects == {blinded_outsider: "no_authorisation"}
    assert summary.written > 0
    log = load_runtime(setup.city, "medical").log.entries()
    asked = {digest for entry in log for digest in entry["ids"]}
    assert asked == {id_digest(PEOPLE.head)}


async def test_neo4j_down_means_the_cursor_does_not_move(
    setup: Setup, protection: FieldProtection, free_port: int
) -> None:
    dead = Neo4jTarget(f"bolt://127.0.0.1:{free_port}", "neo4j", "whatever-pass")
    with pytest.raises(Neo4jUnavailable):
        await open_driver(dead)
    # A writer whose server has gone away: every write fails.
    unreachable = AsyncGraphDatabase.driver(dead.uri, auth=(dead.user, dead.password))
    writer = GraphWriter(unreachable, "neo4j", protection)
    gate = ConsentGate(setup.driver, "neo4j", lambda v: protection.blind(v, field="id_number"))
    runner = SyncRunner(
        setup.driver, "neo4j", writer, gate, AS_OF, protector=protection, run_id="down"
    )
    try:
        with pytest.raises(ServiceUnavailable):
            await runner.bulk(setup.connector)
    finally:
        await unreachable.close()
    assert (
        await load_cursor(setup.driver, "neo4j", setup.protection, "medical", "enrolments") is None
    )
