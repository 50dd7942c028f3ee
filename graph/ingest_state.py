"""Ingestion bookkeeping in the graph: a cursor per (department, partition), and the quarantine.

The cursor is saved only after the page it follows was written, so a crash
repeats at most one page (at-least-once delivery); the writer is idempotent,
which makes the effect exactly-once. Cursors are sealed like personal fields:
some departments page by ID number (`after=<id>`), so a cursor can be one.
A quarantined record keeps its source, reason and a blind-index reference to
the person, never its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from neo4j import AsyncDriver, RoutingControl

from graph.protection import FieldProtector


@dataclass(frozen=True)
class SavedCursor:
    cursor: str | None
    complete: bool


@dataclass(frozen=True)
class QuarantineEntry:
    source: str
    kind: str
    reason: str
    subject_ref: str | None
    run_id: str


def state_key(source: str, partition: str) -> str:
    return f"{source}/{partition}"


async def load_cursor(
    driver: AsyncDriver, database: str, protector: FieldProtector, source: str, partition: str
) -> SavedCursor | None:
    key = state_key(source, partition)
    records, _, _ = await driver.execute_query(
        "MATCH (s:ConnectorState {key: $key}) "
        "RETURN s.cursor_enc AS cursor, s.complete AS complete",
        key=key,
        database_=database,
        routing_=RoutingControl.READ,
    )
    if not records:
        return None
    sealed = records[0]["cursor"]
    cursor = protector.open(sealed, node_key=key, field="cursor") if sealed else None
    return SavedCursor(cursor, bool(records[0]["complete"]))


async def save_cursor(
    driver: AsyncDriver,
    database: str,
    protector: FieldProtector,
    source: str,
    partition: str,
    *,
    saved: SavedCursor,
    run_id: str,
) -> None:
    key = state_key(source, partition)
    sealed = protector.seal(saved.cursor, node_key=key, field="cursor") if saved.cursor else None
    await driver.execute_query(
        "MERGE (s:ConnectorState {key: $key}) "
        "SET s.source = $source, s.partition = $partition, s.cursor_enc = $cursor, "
        "s.complete = $complete, s.run_id = $run_id, s.updated_at = $now",
        key=key,
        source=source,
        partition=partition,
        cursor=sealed,
        complete=saved.complete,
        run_id=run_id,
        now=datetime.now(UTC),
        database_=database,
    )


async def quarantine(driver: AsyncDriver, database: str, entries: Iterable[QuarantineEntry]) -> int:
    rows = [
        {
            "qid": hashlib.sha256(
                f"{e.source}|{e.kind}|{e.reason}|{e.subject_ref}".encode()
            ).hexdigest(),
            "source": e.source,
            "kind": e.kind,
            "reason": e.reason,
            "subject_ref": e.subject_ref,
            "run_id": e.run_id,
        }
        for e in entries
    ]
    if rows:
        await driver.execute_query(
            "UNWIND $rows AS row "
            "MERGE (q:Quarantined {qid: row.qid}) "
            "ON CREATE SET q.source = row.source, q.kind = row.kind, q.reason = row.reason, "
            "q.subject_ref = row.subject_ref, q.first_seen = $now, q.seen = 0 "
            "SET q.seen = q.seen + 1, q.last_seen = $now, q.last_run_id = row.run_id",
            rows=rows,
            now=datetime.now(UTC),
            database_=database,
        )
    return len(rows)
