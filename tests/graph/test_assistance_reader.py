"""Assistance grants in the real Neo4j: written as fact versions, read back per person and as of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from neo4j import AsyncDriver

from authz.protection import FieldProtection
from graph.assistance_reader import AssistanceGrant, assistance_of
from graph.migrations import apply_migrations
from graph.model import AssistanceRecord
from graph.write_plans import household_key, person_key
from graph.writer import GraphWriter
from tests.graph.records import FETCHED, HUKOU
from tests.graph.records import assistance_grant as grant
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AT = date(2026, 11, 1)


def roll(head_amount: int = 44000) -> list[AssistanceRecord]:
    return [
        grant("DB41070200000001", PEOPLE.head, amount_fen=head_amount),
        grant("DB41070200000002", PEOPLE.spouse),
        grant(
            "LS41070200000003",
            PEOPLE.head,
            "temporary",
            date(2025, 6, 10),
            date(2025, 6, 10),
            150000,
        ),
        grant(
            "TK41070200000004",
            PEOPLE.elder,
            "tekun",
            date(2020, 1, 1),
            date(2026, 12, 31),
            90000,
            "full",
        ),
    ]


@pytest.fixture
async def writer(driver: AsyncDriver, protection: FieldProtection) -> GraphWriter:
    await apply_migrations(driver, "neo4j")
    return GraphWriter(driver, "neo4j", protection, batch_size=3)


async def test_every_grant_of_each_person_in_one_read(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(roll(), now=T1)
    head, elder, child = (
        person_key(protection, i) for i in (PEOPLE.head, PEOPLE.elder, PEOPLE.child)
    )
    found = await assistance_of(driver, "neo4j", [head, elder, child, head], AT)
    assert set(found) == {head, elder}  # the child holds nothing; a repeated pid is asked once
    assert [(g.grant_id, g.category, g.in_force) for g in found[head]] == [
        ("DB41070200000001", "dibao", True),
        ("LS41070200000003", "temporary", False),
    ]
    dibao = found[head][0]
    assert dibao == AssistanceGrant(
        grant_id="DB41070200000001",
        category="dibao",
        region_code="410702",
        township_code="410702001",
        valid_from=date(2024, 3, 1),
        valid_to=None,
        amount_fen=44000,
        care_level=None,
        in_force=True,
        source="civil_affairs",
        source_record_id="DB41070200000001",
        fetched_at=FETCHED,
        content_hash=roll()[0].content_hash(),
        recorded_from=T1,
    )
    (tekun,) = found[elder]
    assert (tekun.care_level, tekun.valid_to, tekun.in_force) == ("full", date(2026, 12, 31), True)
    later = await assistance_of(driver, "neo4j", [elder], date(2027, 1, 1))
    assert not later[elder][0].in_force
    assert await assistance_of(driver, "neo4j", [], AT) == {}


async def test_a_changed_grant_is_a_new_version_readable_as_of_either_time(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(roll(head_amount=44000), now=T1)
    again = await writer.write(roll(head_amount=44000), now=T2 - timedelta(days=1))
    assert again.changes == 0
    changed = await writer.write(roll(head_amount=52000), now=T2)
    assert changed.nodes_created == 1
    head = person_key(protection, PEOPLE.head)

    def dibao(found: dict[str, list[AssistanceGrant]]) -> list[int]:
        return [g.amount_fen for g in found[head] if g.category == "dibao"]

    assert dibao(await assistance_of(driver, "neo4j", [head], AT)) == [52000]
    assert dibao(await assistance_of(driver, "neo4j", [head], AT, recorded_at=T2)) == [52000]
    before = await assistance_of(driver, "neo4j", [head], AT, recorded_at=T2 - timedelta(seconds=1))
    assert dibao(before) == [44000]
    assert before[head][0].recorded_from == T1
    assert await assistance_of(driver, "neo4j", [head], AT, recorded_at=T1 - timedelta(1)) == {}


async def test_assistance_nodes_hold_no_plain_identifiers(
    writer: GraphWriter, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await writer.write(roll(), now=T1)
    records, _, _ = await driver.execute_query(
        "MATCH (a:Assistance) RETURN a.vid AS vid, properties(a) AS props"
    )
    assert len(records) == 4
    dump = repr([r["props"] for r in records])
    assert [s for s in (HUKOU, PEOPLE.head, PEOPLE.spouse, PEOPLE.elder) if s in dump] == []
    for r in records:
        props = r["props"]
        assert props["hid"] == household_key(protection, HUKOU)
        assert protection.open(props["hukou_no_enc"], node_key=r["vid"], field="hukou_no") == HUKOU
        assert "recorded_to" not in props  # the current version: never closed
        assert props["source"] == "civil_affairs"
    linked, _, _ = await driver.execute_query(
        "MATCH (p:Person)-[:RECEIVES]->(a:Assistance) RETURN p.pid AS pid, a.grant_id AS grant"
    )
    assert {(r["pid"], r["grant"]) for r in linked} == {
        (person_key(protection, r.id_number), r.grant_id) for r in roll()
    }


async def test_grant_versions_are_unique_by_constraint(
    writer: GraphWriter, driver: AsyncDriver
) -> None:
    records, _, _ = await driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
        "WHERE 'Assistance' IN labelsOrTypes RETURN properties, type"
    )
    assert [(r["properties"], r["type"]) for r in records] == [(["vid"], "UNIQUENESS")]
    indexes, _, _ = await driver.execute_query(
        "SHOW INDEXES YIELD labelsOrTypes, properties WHERE 'Assistance' IN labelsOrTypes "
        "RETURN properties"
    )
    assert {tuple(r["properties"]) for r in indexes} >= {("vid",), ("record_key",), ("hid",)}
