from __future__ import annotations

import pytest
from neo4j import AsyncDriver
from neo4j.exceptions import ConstraintError

from graph.errors import MigrationError
from graph.migrations import (
    MIGRATIONS,
    Migration,
    applied_versions,
    apply_migrations,
    latest_version,
)

pytestmark = pytest.mark.anyio


async def drop_schema(driver: AsyncDriver) -> None:
    records, _, _ = await driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name")
    for record in records:
        await driver.execute_query(f"DROP CONSTRAINT `{record['name']}` IF EXISTS")


async def constraint_names(driver: AsyncDriver) -> set[str]:
    records, _, _ = await driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name")
    return {str(r["name"]) for r in records}


async def test_first_run_applies_everything_then_nothing(driver: AsyncDriver) -> None:
    await drop_schema(driver)
    assert await apply_migrations(driver, "neo4j") == [m.version for m in MIGRATIONS]
    assert {"schema_migration_version", "person_pid", "household_hid"} <= await constraint_names(
        driver
    )
    assert await apply_migrations(driver, "neo4j") == []
    versions = await applied_versions(driver, "neo4j")
    assert max(versions) == latest_version()


async def test_constraints_are_enforced(driver: AsyncDriver) -> None:
    await apply_migrations(driver, "neo4j")
    await driver.execute_query("CREATE (:Person {pid: 'blind-1'})")
    with pytest.raises(ConstraintError):
        await driver.execute_query("CREATE (:Person {pid: 'blind-1'})")


async def test_an_edited_migration_is_refused(driver: AsyncDriver) -> None:
    await apply_migrations(driver, "neo4j")
    first = MIGRATIONS[0]
    edited = Migration(first.version, first.name, (*first.statements, "RETURN 1"))
    with pytest.raises(MigrationError, match="was changed after it was applied"):
        await apply_migrations(driver, "neo4j", (edited, *MIGRATIONS[1:]))


async def test_versions_must_have_no_gaps(driver: AsyncDriver) -> None:
    gappy = (MIGRATIONS[0], Migration(len(MIGRATIONS) + 2, "skips one", ("RETURN 1",)))
    with pytest.raises(MigrationError, match="without gaps"):
        await apply_migrations(driver, "neo4j", gappy)


async def test_a_new_migration_applies_alone(driver: AsyncDriver) -> None:
    await apply_migrations(driver, "neo4j")
    extra = Migration(
        len(MIGRATIONS) + 1,
        "test index",
        ("CREATE INDEX test_only_index IF NOT EXISTS FOR (n:TestOnly) ON (n.key)",),
    )
    try:
        assert await apply_migrations(driver, "neo4j", (*MIGRATIONS, extra)) == [extra.version]
    finally:
        await driver.execute_query("DROP INDEX test_only_index IF EXISTS")
        await driver.execute_query(
            "MATCH (m:SchemaMigration {version: $v}) DELETE m", v=extra.version
        )
