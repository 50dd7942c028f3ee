"""Reading a household as of a valid-time window and a recorded time, on the real Neo4j."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from neo4j import AsyncDriver

from authz.protection import FieldProtection
from graph.household_reader import HouseholdAsOf, read_household_as_of
from graph.migrations import apply_migrations
from graph.write_plans import household_key, person_key
from graph.writer import GraphWriter
from tests.graph.records import HUKOU, household_records
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
YEAR = (date(2025, 11, 1), date(2026, 10, 31))


@pytest.fixture
async def written(driver: AsyncDriver, protection: FieldProtection) -> str:
    await apply_migrations(driver, "neo4j")
    writer = GraphWriter(driver, "neo4j", protection)
    await writer.write(household_records(gross_fen=450000), now=T1)
    await writer.write(household_records(gross_fen=520000), now=T2)
    return household_key(protection, HUKOU)


def wages(household: HouseholdAsOf | None, pid: str) -> list[int]:
    assert household is not None
    member = next(m for m in household.members if m.pid == pid)
    return [f["gross_fen"] for f in member.facts_of("IncomeRecord")]


async def test_recorded_time_selects_what_the_hub_knew_then(
    driver: AsyncDriver, written: str, protection: FieldProtection
) -> None:
    head = person_key(protection, PEOPLE.head)
    before = await read_household_as_of(
        driver, "neo4j", written, window=YEAR, recorded_at=T2 - timedelta(seconds=1)
    )
    after = await read_household_as_of(driver, "neo4j", written, window=YEAR, recorded_at=T2)
    assert wages(before, head) == [450000]
    assert wages(after, head) == [520000]
    again = await read_household_as_of(driver, "neo4j", written, window=YEAR, recorded_at=T2)
    assert again == after  # the same time point gives the same answer


async def test_valid_time_selects_what_was_true_then(
    driver: AsyncDriver, written: str, protection: FieldProtection
) -> None:
    head = person_key(protection, PEOPLE.head)
    earlier_year = (date(2024, 11, 1), date(2025, 10, 31))
    old = await read_household_as_of(driver, "neo4j", written, window=earlier_year, recorded_at=T2)
    assert old is not None
    assert wages(old, head) == []  # the income month 2026-10 lies outside that window
    assert {m.role for m in old.members} == {"head", "spouse", "child"}


async def test_before_anything_was_recorded_there_are_no_facts(
    driver: AsyncDriver, written: str
) -> None:
    early = await read_household_as_of(
        driver, "neo4j", written, window=YEAR, recorded_at=T1 - timedelta(days=1)
    )
    assert early is not None
    assert all(member.facts == () for member in early.members)


async def test_unknown_household(driver: AsyncDriver) -> None:
    assert await read_household_as_of(driver, "neo4j", "nope", window=YEAR, recorded_at=T2) is None
