"""Recording and revoking authorisations by hand, until the API's case workflow exists.

Each function opens the graph, does one thing, and closes it. Lookups by
household or person go through blind indexes: ID numbers and hukou numbers
are never sent to Neo4j in plain text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from neo4j import AsyncDriver

from graph.connection import open_driver
from graph.consent_store import (
    AuthorisationSummary,
    list_authorisations,
    revoke_authorisation,
)
from graph.migrations import apply_migrations
from graph.model import AuthorisationRecord
from graph.write_plans import household_key, person_key
from graph.writer import GraphWriter
from hub.ingest import field_protection
from hub.neo4j_setup import neo4j_target
from hub.settings import Settings

T = TypeVar("T")


async def _with_graph(settings: Settings, work: Callable[[AsyncDriver, str], Awaitable[T]]) -> T:
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        await apply_migrations(driver, target.database)
        return await work(driver, target.database)
    finally:
        await driver.close()


async def add_authorisation(settings: Settings, record: AuthorisationRecord) -> int:
    """Write one authorisation; returns the number of graph changes (0: already recorded)."""
    protection = field_protection(settings)

    async def write(driver: AsyncDriver, database: str) -> int:
        return (await GraphWriter(driver, database, protection).write([record])).changes

    return await _with_graph(settings, write)


async def revoke(settings: Settings, auth_no: str, on: date) -> date | None:
    async def work(driver: AsyncDriver, database: str) -> date | None:
        return await revoke_authorisation(driver, database, auth_no, on)

    return await _with_graph(settings, work)


async def find(
    settings: Settings,
    *,
    auth_no: str | None = None,
    hukou_no: str | None = None,
    id_number: str | None = None,
) -> list[AuthorisationSummary]:
    protection = field_protection(settings)
    hid = household_key(protection, hukou_no) if hukou_no else None
    pid = person_key(protection, id_number) if id_number else None

    async def work(driver: AsyncDriver, database: str) -> list[AuthorisationSummary]:
        return await list_authorisations(driver, database, auth_no=auth_no, hid=hid, pid=pid)

    return await _with_graph(settings, work)
