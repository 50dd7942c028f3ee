"""Versioned, idempotent schema migrations.

Each migration is a numbered list of schema statements (constraints and indexes
with `IF NOT EXISTS`). Applied migrations are recorded as `(:SchemaMigration)`
nodes carrying a checksum of their statements, so that a migration edited after
it ran is caught instead of silently diverging between servers. Every MERGE key
the hub uses gets its uniqueness constraint here, before any code merges on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from neo4j import AsyncDriver, RoutingControl

from graph.errors import MigrationError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256("\n".join(self.statements).encode()).hexdigest()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "core keys: migrations, persons, households",
        (
            "CREATE CONSTRAINT schema_migration_version IF NOT EXISTS "
            "FOR (m:SchemaMigration) REQUIRE m.version IS UNIQUE",
            "CREATE CONSTRAINT person_pid IF NOT EXISTS FOR (p:Person) REQUIRE p.pid IS UNIQUE",
            "CREATE CONSTRAINT household_hid IF NOT EXISTS "
            "FOR (h:Household) REQUIRE h.hid IS UNIQUE",
        ),
    ),
    Migration(
        2,
        "source facts: version keys, record keys, account references",
        (
            *(
                statement
                for label in (
                    "Vehicle",
                    "DeathRecord",
                    "Property",
                    "IncomeRecord",
                    "BankAccount",
                    "BalanceSnapshot",
                    "FinancialProduct",
                    "InsuranceEnrolment",
                    "MedicalClaim",
                )
                for statement in (
                    f"CREATE CONSTRAINT {label.lower()}_vid IF NOT EXISTS "
                    f"FOR (f:{label}) REQUIRE f.vid IS UNIQUE",
                    f"CREATE INDEX {label.lower()}_record_key IF NOT EXISTS "
                    f"FOR (f:{label}) ON (f.record_key)",
                )
            ),
            "CREATE INDEX bankaccount_account_ref IF NOT EXISTS "
            "FOR (f:BankAccount) ON (f.account_ref)",
            "CREATE INDEX balancesnapshot_account_ref IF NOT EXISTS "
            "FOR (f:BalanceSnapshot) ON (f.account_ref)",
        ),
    ),
    Migration(
        3,
        "consent and ingestion bookkeeping: authorisations, connector state, quarantine",
        (
            "CREATE CONSTRAINT authorisation_auth_no IF NOT EXISTS "
            "FOR (a:Authorisation) REQUIRE a.auth_no IS UNIQUE",
            "CREATE CONSTRAINT connector_state_key IF NOT EXISTS "
            "FOR (s:ConnectorState) REQUIRE s.key IS UNIQUE",
            "CREATE CONSTRAINT quarantined_qid IF NOT EXISTS "
            "FOR (q:Quarantined) REQUIRE q.qid IS UNIQUE",
        ),
    ),
    Migration(
        4,
        "the assistance roll: grant version keys, record keys, households",
        (
            "CREATE CONSTRAINT assistance_vid IF NOT EXISTS "
            "FOR (f:Assistance) REQUIRE f.vid IS UNIQUE",
            "CREATE INDEX assistance_record_key IF NOT EXISTS FOR (f:Assistance) ON (f.record_key)",
            "CREATE INDEX assistance_hid IF NOT EXISTS FOR (f:Assistance) ON (f.hid)",
        ),
    ),
    Migration(
        5,
        "case work: cases, verification requests, flags",
        (
            "CREATE CONSTRAINT case_case_id IF NOT EXISTS FOR (c:Case) REQUIRE c.case_id IS UNIQUE",
            "CREATE INDEX case_place IF NOT EXISTS FOR (c:Case) ON (c.township_code, c.status)",
            "CREATE INDEX case_region IF NOT EXISTS FOR (c:Case) ON (c.region_code)",
            "CREATE CONSTRAINT verification_request_id IF NOT EXISTS "
            "FOR (v:VerificationRequest) REQUIRE v.request_id IS UNIQUE",
            "CREATE CONSTRAINT flag_flag_id IF NOT EXISTS FOR (f:Flag) REQUIRE f.flag_id IS UNIQUE",
        ),
    ),
)


def latest_version(migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    return max((m.version for m in migrations), default=0)


async def applied_versions(driver: AsyncDriver, database: str) -> dict[int, str]:
    """Applied migration versions with the checksum recorded when each ran."""
    records, _, _ = await driver.execute_query(
        "MATCH (m:SchemaMigration) RETURN m.version AS version, m.checksum AS checksum",
        database_=database,
        routing_=RoutingControl.READ,
    )
    return {int(r["version"]): str(r["checksum"]) for r in records}


async def apply_migrations(
    driver: AsyncDriver, database: str, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[int]:
    """Apply what is missing, in order; returns the versions applied by this call.

    Safe to run from several processes at once: statements are `IF NOT EXISTS`
    and the record of a migration is a MERGE under a uniqueness constraint.
    """
    _check_sequence(migrations)
    done = await applied_versions(driver, database)
    applied: list[int] = []
    for migration in migrations:
        recorded = done.get(migration.version)
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(
                    f"schema migration {migration.version} ({migration.name}) was changed after it "
                    "was applied to this database. Add a new migration instead of editing one."
                )
            continue
        for statement in migration.statements:
            await driver.execute_query(statement, database_=database)
        await driver.execute_query(
            "MERGE (m:SchemaMigration {version: $version}) "
            "ON CREATE SET m.name = $name, m.checksum = $checksum, m.applied_at = $now",
            version=migration.version,
            name=migration.name,
            checksum=migration.checksum,
            now=datetime.now(UTC),
            database_=database,
        )
        applied.append(migration.version)
    return applied


def _check_sequence(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration versions must run 1..n without gaps, got {versions}")
