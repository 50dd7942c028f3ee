"""The graph writer against the real Neo4j: idempotence, versions, provenance, no plain PII."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from neo4j import AsyncDriver
from neo4j import Record as Neo4jRecord
from neo4j._codec.hydration.bolt.v2.hydration_handler import HydrationHandler
from neo4j._codec.packstream.v1 import Packer
from neo4j.time import Date, DateTime

from authz.errors import DecryptionFailed
from authz.protection import FieldProtection
from graph.migrations import apply_migrations
from graph.model import BalanceRecord, IncomeRecord, Record, Source
from graph.write_plans import PLANS, person_key
from graph.writer import BoltTemporals, GraphWriter
from tests.graph.records import ACCOUNT, FETCHED, HUKOU, NAMES, household_records
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


async def income_versions(driver: AsyncDriver, protection: FieldProtection) -> list[Neo4jRecord]:
    """The household head's income versions, oldest first."""
    records, _, _ = await driver.execute_query(
        "MATCH (:Person {pid: $pid})-[:EARNED]->(i:IncomeRecord) "
        "RETURN i.gross_fen AS gross, i.recorded_from AS since, i.recorded_to AS until, "
        "i.vid AS vid, i.source_record_id_enc AS sealed ORDER BY since",
        pid=person_key(protection, PEOPLE.head),
    )
    return records


async def test_a_changed_fact_becomes_a_new_version(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(household_records(gross_fen=450000), now=T1)
    changed = await writer.write(household_records(gross_fen=520000), now=T2)
    assert changed.nodes_created == 1
    records = await income_versions(driver, protection)
    assert (records[0]["gross"], records[0]["since"].to_native()) == (450000, T1)
    assert records[0]["until"].to_native() == T2
    assert (records[1]["gross"], records[1]["until"]) == (520000, None)


async def test_content_returning_to_an_earlier_version_is_a_new_version(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    t3, t4 = T2 + timedelta(days=1), T2 + timedelta(days=2)
    await writer.write(household_records(gross_fen=450000), now=T1)
    await writer.write(household_records(gross_fen=520000), now=T2)
    back = await writer.write(household_records(gross_fen=450000), now=t3)
    assert back.nodes_created == 1
    again = await writer.write(household_records(gross_fen=450000), now=t4)
    assert again.changes == 0
    records = await income_versions(driver, protection)
    history = [
        (r["gross"], r["since"].to_native(), r["until"] and r["until"].to_native()) for r in records
    ]
    assert history == [(450000, T1, T2), (520000, T2, t3), (450000, t3, None)]
    assert len({r["vid"] for r in records}) == 3
    opened = protection.open(
        records[2]["sealed"], node_key=records[2]["vid"], field="source_record_id"
    )
    assert opened == "T20261000000001"


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


async def test_batch_size_and_lanes_must_be_positive(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        GraphWriter(driver, "neo4j", protection, batch_size=0)
    with pytest.raises(ValueError, match="lanes"):
        GraphWriter(driver, "neo4j", protection, lanes=0)


async def test_only_the_last_version_of_a_record_in_one_write_is_written(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    later = [r for r in household_records(gross_fen=520000) if isinstance(r, IncomeRecord)]
    await writer.write([*household_records(gross_fen=450000), *later], now=T1)
    records, _, _ = await driver.execute_query(
        "MATCH (:Person {pid: $pid})-[:EARNED]->(i:IncomeRecord) "
        "RETURN i.gross_fen AS gross, i.recorded_to AS until",
        pid=person_key(protection, PEOPLE.head),
    )
    assert [(r["gross"], r["until"]) for r in records] == [(520000, None)]


def _monthly_balances() -> list[Record]:
    """Enough facts about three people for several batches in every lane."""
    return [
        BalanceRecord(
            source=Source.BANKING,
            source_record_id=f"B-{person}-{month:02d}",
            fetched_at=FETCHED,
            id_number=person,
            account_no=ACCOUNT,
            as_of=date(2026, month, 1),
            balance_fen=1000 * month,
        )
        for person in NAMES
        for month in range(1, 13)
    ]


async def _graph_without_ciphertexts(driver: AsyncDriver) -> list[object]:
    """Every node and relationship, keyed by what the writer merges on; ciphertexts left
    out (their nonces differ between writes)."""
    records, _, _ = await driver.execute_query(
        "MATCH (n) WHERE NOT n:SchemaMigration "
        "RETURN labels(n) AS what, properties(n) AS props, null AS ends UNION ALL "
        "MATCH (a)-[r]->(b) RETURN [type(r)] AS what, properties(r) AS props, "
        "[coalesce(a.pid, a.hid, a.vid), coalesce(b.pid, b.hid, b.vid)] AS ends"
    )
    rows = [
        (r["what"], r["ends"], {k: v for k, v in r["props"].items() if not k.endswith("_enc")})
        for r in records
    ]
    return sorted(rows, key=repr)


async def test_lanes_write_the_same_graph_as_one_batch_at_a_time(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    await apply_migrations(driver, "neo4j")
    records = [*household_records(), *_monthly_balances()]
    one_lane = GraphWriter(driver, "neo4j", protection, batch_size=2, lanes=1)
    await one_lane.write(records, now=T1)
    expected = await _graph_without_ciphertexts(driver)
    await driver.execute_query("MATCH (n) DETACH DELETE n")
    three_lanes = GraphWriter(driver, "neo4j", protection, batch_size=2, lanes=3)
    summary = await three_lanes.write(records, now=T1)
    assert summary.records["balance"] == 1 + 36  # the household's own balance + 36
    assert await _graph_without_ciphertexts(driver) == expected
    again = await three_lanes.write(records, now=T2)
    assert again.changes == 0


async def test_a_version_another_writer_creates_meanwhile_is_written_once(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    """The other writer's uncommitted version holds its uniqueness lock: our existence
    check waits for it and then finds the version, instead of creating a second one."""
    income = next(r for r in household_records() if isinstance(r, IncomeRecord))
    row = PLANS["income"].build_row(income, protection)
    async with driver.session() as other:
        tx = await other.begin_transaction()
        await tx.run(
            "CREATE (:IncomeRecord {vid: $vid, record_key: $key, recorded_from: $t})",
            vid=row["vid"],
            key=row["props"]["record_key"],
            t=T1,
        )
        ours = asyncio.create_task(writer.write([income], now=T1))
        await asyncio.sleep(1.0)
        assert not ours.done()  # waiting for the other writer's lock
        await tx.commit()
        await ours
    count = await scalar(
        driver, "MATCH (f:IncomeRecord {vid: $vid}) RETURN count(f)", vid=row["vid"]
    )
    assert count == 1


class _Bytes:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> None:
        self.data += chunk


def _packed(value: object) -> bytes:
    """What the driver itself sends for a value over Bolt 5."""
    out = _Bytes()
    hooks = HydrationHandler().new_hydration_scope().dehydration_hooks
    Packer(out).pack(value, dehydration_hooks=hooks)  # type: ignore[no-untyped-call]
    return bytes(out.data)


async def test_temporal_values_are_sent_as_the_driver_would_send_them() -> None:
    east8 = timezone(timedelta(hours=8))
    values = [
        date(2026, 11, 1),
        date(1969, 12, 31),
        date(1, 1, 1),
        datetime(2026, 11, 1, 8, 0, 0, 123456, tzinfo=UTC),
        datetime(1960, 2, 29, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 8, 0, tzinfo=east8),
        datetime(2026, 11, 1, 8, 0),  # naive: left to the driver
        "2026-11-01",
        None,
    ]
    row = {"props": {"values": values}, "owners": [{"since": values[0]}]}
    converted = BoltTemporals().convert(row)
    assert _packed(converted) == _packed(row)


async def test_stored_temporal_types_are_unchanged(
    writer: GraphWriter, driver: AsyncDriver
) -> None:
    await writer.write(household_records(), now=T1)
    records, _, _ = await driver.execute_query(
        "MATCH (i:IncomeRecord) RETURN i.fetched_at AS fetched, i.valid_from AS since, "
        "i.recorded_from AS recorded LIMIT 1"
    )
    fetched, since, recorded = records[0]["fetched"], records[0]["since"], records[0]["recorded"]
    assert isinstance(fetched, DateTime)
    assert fetched.to_native() == FETCHED
    assert isinstance(since, Date)
    assert isinstance(recorded, DateTime)
    assert recorded.to_native() == T1


class _FailingAfter:
    """A protector that fails on its n-th seal, as a broken key store would mid-write."""

    def __init__(self, inner: FieldProtection, seals: int) -> None:
        self.inner = inner
        self.left = seals

    def blind(self, value: str, *, field: str) -> str:
        return self.inner.blind(value, field=field)

    def seal(self, value: str, *, node_key: str, field: str) -> str:
        self.left -= 1
        if self.left < 0:
            raise RuntimeError("key store unavailable")
        return self.inner.seal(value, node_key=node_key, field=field)

    def open(self, token: str, *, node_key: str, field: str) -> str:
        return self.inner.open(token, node_key=node_key, field=field)


async def test_a_failure_while_the_next_batch_is_built_stops_the_write(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    await apply_migrations(driver, "neo4j")
    failing = GraphWriter(driver, "neo4j", _FailingAfter(protection, 12), batch_size=1)
    with pytest.raises(RuntimeError, match="key store unavailable"):
        await failing.write(household_records(), now=T1)
    assert await scalar(driver, "MATCH (f) WHERE f.vid IS NOT NULL RETURN count(f)") == 0


async def test_two_writers_of_the_same_records_at_once_write_each_version_once(
    driver: AsyncDriver, protection: FieldProtection
) -> None:
    await apply_migrations(driver, "neo4j")
    records = [*household_records(), *_monthly_balances()]
    writers = [GraphWriter(driver, "neo4j", protection, batch_size=4) for _ in range(2)]
    await asyncio.gather(*(writer.write(records, now=T1) for writer in writers))
    versions = await scalar(
        driver, "MATCH (f) WHERE f.vid IS NOT NULL RETURN count(f) - count(DISTINCT f.vid)"
    )
    balances = await scalar(driver, "MATCH (:Person)-[:HAS_BALANCE]->(b) RETURN count(b)")
    assert (versions, balances) == (0, 1 + 36)
