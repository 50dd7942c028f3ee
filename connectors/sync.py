"""The sync loop: pull, gate, write, quarantine, advance the cursor — in that order.

Bulk mode (batch comparison): per department and partition, resume from the
saved cursor, pull a page, drop records nobody consented to, write the rest,
quarantine what could not be parsed, then save the cursor. A crash between
writing and saving repeats one page; writes are idempotent, so the graph ends
the same. If Neo4j is unavailable the write fails and the cursor is not
advanced.

Subject mode (verification): the consent gate picks the ID numbers each
department may be asked about and the authorisation number to show; refused
people are never sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from neo4j import AsyncDriver

from connectors.base import Connector, Parsed, SubjectQuery
from connectors.consent_gate import ConsentGate
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
        """Every partition to its end (or `max_pages` pages in all), resuming where it stopped."""
        source = connector.source.value
        summary = SyncSummary(source)
        for partition in partitions or connector.partitions():
            saved = await load_cursor(
                self._driver, self._database, self._protector, source, partition
            )
            cursor = (
                connector.resume_from(partition, saved.cursor, saved.complete) if saved else None
            )
            while max_pages is None or summary.pages < max_pages:
                page = await connector.fetch_bulk_page(partition, cursor)
                items, unread = await self._gate.filter_items(
                    page.items, connector.subject_of, source, self.today
                )
                summary.dropped_without_consent += unread
                summary.pulled += unread
                parsed = connector.parse(items, datetime.now(UTC))
                await self._store(connector, parsed, summary)
                next_cursor = page.next_cursor
                summary.pages += 1
                done = next_cursor is None
                position = cursor if done else next_cursor
                await save_cursor(
                    self._driver,
                    self._database,
                    self._protector,
                    source,
                    partition,
                    saved=SavedCursor(position, done),
                    run_id=self.run_id,
                )
                if progress is not None:
                    progress(source, summary.pulled)
                if done:
                    break
                cursor = next_cursor
        summary.retried = connector.client.stats.retries
        return summary

    async def subjects(
        self, connector: Connector, id_numbers: Sequence[str], as_of: date
    ) -> SyncSummary:
        source = connector.source.value
        summary = SyncSummary(source)
        plan = await self._gate.plan_subjects(id_numbers, source, self.today)
        summary.refused_subjects = plan.refused
        for auth_no, allowed in sorted(plan.by_authorisation.items()):
            parsed = await connector.pull_subjects(SubjectQuery(tuple(allowed), auth_no, as_of))
            await self._store(connector, parsed, summary, gate=False)
        summary.retried = connector.client.stats.retries
        return summary

    async def _store(
        self, connector: Connector, parsed: Parsed, summary: SyncSummary, gate: bool = True
    ) -> None:
        source = connector.source.value
        records = parsed.records
        if gate:
            records, dropped = await self._gate.filter_records(records, source, self.today)
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
