"""Ingestion, composed: settings -> driver, keys, departments -> connectors -> sync runner.

Departments are pulled concurrently (one connector each, own HTTP client,
breaker and rate limit); within a department, partitions run in order so a
cursor is never advanced by two loops at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from neo4j import AsyncDriver

from authz.protection import FieldProtection
from connectors.base import Connector, DepartmentAccess
from connectors.civil_affairs import read_authorisations, read_roll
from connectors.consent_gate import ConsentGate
from connectors.errors import SkippableRecord
from connectors.http import CallPolicy, DepartmentClient
from connectors.registry import CONNECTORS
from connectors.sync import Progress, SyncRunner, SyncSummary
from graph.connection import open_driver
from graph.migrations import apply_migrations
from graph.model import Record, Source
from graph.writer import GraphWriter, WriteSummary
from hub.departments import load_departments
from hub.neo4j_setup import neo4j_target
from hub.settings import Settings


@dataclass(frozen=True)
class IngestRequest:
    mode: str  # "bulk" | "subjects"
    departments: Sequence[Source]
    today: date
    id_numbers: Sequence[str] = ()
    as_of: date | None = None
    max_pages: int | None = None


def field_protection(settings: Settings) -> FieldProtection:
    return FieldProtection.local(settings.local_key_dir)


def id_blind(protection: FieldProtection) -> Callable[[str], str]:
    def blind(value: str) -> str:
        return protection.blind(value, field="id_number")

    return blind


async def _write_export(
    settings: Settings, protection: FieldProtection, records: Sequence[Record]
) -> WriteSummary:
    """A civil-affairs export's records into the graph, on a driver of its own."""
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        await apply_migrations(driver, target.database)
        return await GraphWriter(driver, target.database, protection).write(records)
    finally:
        await driver.close()


async def import_authorisations(settings: Settings, export: Path) -> tuple[int, int]:
    """Civil affairs' authorisation register into the graph; (written, skipped)."""
    protection = field_protection(settings)
    parsed = read_authorisations(export, id_blind(protection))
    await _write_export(settings, protection, parsed.records)
    return len(parsed.records), len(parsed.skipped)


@dataclass(frozen=True)
class RollImport:
    """What a roll import did; `changes` is 0 when the graph already held this export."""

    read: int
    written: int
    changes: int
    skipped: tuple[SkippableRecord, ...]


async def import_roll(settings: Settings, export: Path) -> RollImport:
    """Civil affairs' assistance roll into the graph, one fact version per grant.

    Not consent-gated: the roll is the bureau's own data about its own
    recipients, not a department's answer about an applicant.
    """
    protection = field_protection(settings)
    parsed = read_roll(export, id_blind(protection))
    written = await _write_export(settings, protection, parsed.records)
    return RollImport(
        read=len(parsed.records) + len(parsed.skipped),
        written=len(parsed.records),
        changes=written.changes,
        skipped=tuple(parsed.skipped),
    )


async def run_ingest(
    settings: Settings, request: IngestRequest, progress: Progress | None = None
) -> list[SyncSummary]:
    """`hub ingest`: its own driver, migrations applied, then `ingest_with`."""
    _departments(settings, request)  # refuse bad configuration before connecting
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        await apply_migrations(driver, target.database)
        return await ingest_with(
            driver, target.database, field_protection(settings), settings, request, progress
        )
    finally:
        await driver.close()


def _departments(settings: Settings, request: IngestRequest) -> dict[Source, DepartmentAccess]:
    if settings.departments_file is None:
        raise ValueError("set HUB_DEPARTMENTS_FILE (or run `hub sandbox serve`, which writes one)")
    access = load_departments(settings.departments_file)
    missing = [s.value for s in request.departments if s not in access]
    if missing:
        raise ValueError(f"the departments file has no entry for {', '.join(missing)}")
    return access


async def ingest_with(  # noqa: PLR0917 - the composition's inputs, each needed
    driver: AsyncDriver,
    database: str,
    protection: FieldProtection,
    settings: Settings,
    request: IngestRequest,
    progress: Progress | None = None,
) -> list[SyncSummary]:
    """Pull the departments concurrently through a driver the caller owns (the hub's, say)."""
    access = _departments(settings, request)
    blind = id_blind(protection)
    async with AsyncExitStack() as stack:
        writer = GraphWriter(driver, database, protection)
        gate = ConsentGate(driver, database, blind)
        runner = SyncRunner(driver, database, writer, gate, request.today, protector=protection)
        connectors: list[Connector] = []
        for source in request.departments:
            http = httpx.AsyncClient(
                base_url=access[source].base_url, timeout=settings.department_timeout
            )
            stack.push_async_callback(http.aclose)
            kind = CONNECTORS[source]
            policy = CallPolicy(
                timeout=settings.department_timeout,
                rate=kind.outbound_rate,
                burst=kind.outbound_burst,
            )
            client = DepartmentClient(source.value, http, policy)
            connectors.append(kind(access[source], client, blind, reference_date=request.today))
        if request.mode == "bulk":
            jobs = [
                runner.bulk(c, progress=progress, max_pages=request.max_pages) for c in connectors
            ]
        else:
            as_of = request.as_of or request.today
            jobs = [runner.subjects(c, list(request.id_numbers), as_of) for c in connectors]
        return list(await asyncio.gather(*jobs))
    raise AssertionError("unreachable")  # pragma: no cover
