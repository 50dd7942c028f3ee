from __future__ import annotations

import pytest
from neo4j import AsyncDriver

from graph.health import read_health
from graph.migrations import apply_migrations, latest_version

pytestmark = pytest.mark.anyio


async def test_health_reads_version_and_counts(driver: AsyncDriver) -> None:
    empty = await read_health(driver, "neo4j")
    assert empty.node_count == 0
    assert empty.schema_version == 0
    assert empty.neo4j_version.startswith("5.26.")
    assert empty.neo4j_edition == "community"

    await apply_migrations(driver, "neo4j")
    await driver.execute_query("UNWIND range(1, 5) AS i CREATE (:Household {hid: 'h' + i})")
    after = await read_health(driver, "neo4j")
    assert after.schema_version == latest_version()
    assert after.node_count == 5 + latest_version()  # households + migration records
