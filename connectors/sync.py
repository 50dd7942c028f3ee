"""The sync loop: pull, gate, write, quarantine, advance the cursor — in that order.

Bulk mode (batch comparison): per department and partition, resume from the
saved cursor, pull a page, drop records nobody consented to, write the rest,
quarantine what could not be parsed, then save the cursor. A crash between
writing and saving repeats one page; writes are idempotent, so the graph ends
the same. If Neo4j is unavailable the write fails and the cursor is not
advanced.

Why a page is fetched while the one before it is stored: fetching waits on
the department and storing waits on Neo4j, so the next page (after the
current page's cursor, or the next partition's first) is asked for while the
current one is gated and written. It is only fetched, never stored, before
the current page's cursor is saved, so a crash still repeats at most one
page. Consent in bulk mode is read once per run (see `connectors.consent_gate`).

Subject mode (verification): the consent gate picks the ID numbers each
department may be asked about and the authorisation number to show; refused
people are never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from neo4j import AsyncDriver

from connectors.base import BulkPage, Connector, Parsed, SubjectQuery
from connectors.consent_gate import BulkConsent, ConsentGate
from graph.ingest_state import QuarantineEntry, SavedCursor, load_cursor, quarantine, save_cursor
from graph.protection import FieldProtector
from graph.writer import GraphWriter

Progress = Callable[[str, int], None]  # (department, records pulled so far)


@dataclass
class SyncSummary:
    """Per department. `pulled`: what the department sent (items dropped unread count once)."""

    source: str
    pulled: int = 0
    written: int = 0
    quarantined: int = 0
    duplicates: int = 0
    dropped_without_consent: int = 0
    refused_subjects: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    retried: int = 0


@dataclass(frozen=True)
class _Fetched:
    partition: str
    cursor: str | None  # the page follows this cursor
    page: BulkPage


async def _fetch(connector: Connector, partition: str, cursor: str | None) -> _Fetched:
    return _Fetched(partition, cursor, await connector.fetch_bulk_page(partition, cursor))


class SyncRunner:
    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        writer: GraphWriter,
        gate: ConsentGate,
        today: date,
        *,
        protector: FieldProtector,
        run_id: str | None = None,
    ) -> None:
        self._driver = driver
        self._database = database
        self._protector = protector
        self._writer = writer
        self._gate = gate
        self.today = today
        self.run_id = run_id or uuid.uuid4().hex

    async def bulk(
        self,
        connector: Connector,
        partitions: Sequence[str] | None = None,
        progress: Progress | None = None,
        max_pages: int | None = None,
    ) -> SyncSummary:
        """Every partition to its end (or `max_pages` pages in all), resuming where it stopped.

        Partitions are stored one after another, each page after the one
        before it; only the fetching runs one page ahead, into the next
        partition when the current one ends.
        """
        source = connector.source.value
        summary = SyncSummary(source)
        consent = await self._gate.for_bulk(source, self.today)
        queue = list(partitions or connector.partitions())
        upcoming: asyncio.Task[_Fetched] | None = None
        if queue and (max_pages is None or max_pages > 0):
            upcoming = asyncio.create_task(self._first_page(connector, queue.pop(0)))
        try:
            while upcoming is not None:
                fetched, upcoming = await upcoming, None
                next_cursor = fetched.page.next_cursor
                done = next_cursor is None
                if max_pages is None or summary.pages + 1 < max_pages:
                    if not done:
                        upcoming = asyncio.create_task(
                            _fetch(connector, fetched.partition, next_cursor)
                        )
                    elif queue:
                        upcoming = asyncio.create_task(self._first_page(connector, queue.pop(0)))
                await self._store_page(connector, consent, fetched.page, summary)
                summary.pages += 1
                await save_cursor(
                    self._driver,
                    self._database,
                    self._protector,
                    source,
                    fetched.partition,
                    saved=SavedCursor(fetched.cursor if done else next_cursor, done),
                    run_id=self.run_id,
                )
                if progress is not None:
                    progress(source, summary.pulled)
        finally:
            if upcoming is not None:
                upcoming.cancel()
                with contextlib.suppress(BaseException):
                    await upcoming
        summary.retried = connector.client.stats.retries
        return summary

    async def _first_page(self, connector: Connector, partition: str) -> _Fetched:
        """A partition's first page of this run, where its saved cursor says to start."""
        source = connector.source.value
        saved = await load_cursor(self._driver, self._database, self._protector, source, partition)
        cursor = connector.resume_from(partition, saved.cursor, saved.complete) if saved else None
        return await _fetch(connector, partition, cursor)

    async def _store_page(
        self, connector: Connector, consent: BulkConsent, page: BulkPage, summary: SyncSummary
    ) -> None:
        items, unread = consent.filter_items(page.items, connector.subject_of)
        summary.dropped_without_consent += unread
        summary.pulled += unread
        parsed = connector.parse(items, datetime.now(UTC))
        await self._store(connector, parsed, summary, consent)

    async def subjects(
        self, connector: Connector, id_numbers: Sequence[str], as_of: date
    ) -> SyncSummary:
        source = connector.source.value
        summary = SyncSummary(source)
        plan = await self._gate.plan_subjects(id_numbers, source, self.today)
        summary.refused_subjects = plan.refused
        for auth_no, allowed in sorted(plan.by_authorisation.items()):
            parsed = await connector.pull_subjects(SubjectQuery(tuple(allowed), auth_no, as_of))
            await self._store(connector, parsed, summary)
        summary.retried = connector.client.stats.retries
        return summary

    async def _store(
        self,
        connector: Connector,
        parsed: Parsed,
        summary: SyncSummary,
        consent: BulkConsent | None = None,
    ) -> None:
        """Write what `consent` keeps (everything: subject mode asked only consented people)."""
        source = connector.source.value
        records = parsed.records
        if consent is not None:
            records, dropped = consent.filter_records(records)
            summary.dropped_without_consent += dropped
        if records:
            await self._writer.write(records)
        summary.quarantined += await quarantine(
            self._driver,
            self._database,
            (
                QuarantineEntry(source, s.kind, s.reason, s.subject_ref, self.run_id)
                for s in parsed.skipped
            ),
        )
        summary.pulled += len(parsed.records) + len(parsed.skipped) + parsed.duplicates
        summary.written += len(records)
        summary.duplicates += parsed.duplicates
