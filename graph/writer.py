"""The graph writer: records in, UNWIND batches in managed transactions out.

Records are grouped by kind, turned into rows (encryption and blind indexes
happen while building rows, never in Cypher), and written in batches of
`batch_size` rows, one managed transaction per batch; the driver retries a
batch on transient errors (deadlocks, leader changes), which is safe because
every statement is idempotent: writing the same batch twice changes nothing.

Why lanes: Neo4j runs one transaction on one core, and it is the slower side
(about 70 µs of its CPU per fact against about 40 µs of ours), so with one
batch at a time the second core idles. A kind's rows are split into `lanes`
by the node each row locks (its person or household), and each lane commits
its own batches one after another in a session of its own: two lanes never
write to the same person, so they neither wait for each other's locks nor
deadlock (a rare one, say a person in two households, is a transient error the
driver retries). Kinds whose rows lock several persons (relations, properties
with co-owners, authorisations) use one lane. A kind's first batch is sent
only after every batch of the kinds before it committed, so entities are
still written before facts, and `write` returns only when everything
committed (the sync loop saves its cursor after that).

Why batches overlap the building of rows: the next batch is built while the
lanes commit, so the client's CPU and Neo4j's overlap.

Why temporal values are converted here: the driver turns every `date` and
`datetime` into its Bolt structure in pure Python, even with the Rust codec
(about 50 µs a row, more than building the row). The same structures, built
once per distinct value (`fetched_at` is shared by a whole page), cost about
2 µs a row; Neo4j receives exactly what the driver would have sent, so the
stored DATE and DATETIME properties are unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession
from neo4j._codec.packstream import Structure  # the driver's own Bolt structure

from graph.model import Record
from graph.protection import FieldProtector
from graph.write_plans import (
    PLANS,
    Row,
    WritePlan,
    plan_key,
    record_identity,
    returning_version,
)

DEFAULT_BATCH_SIZE = 2000
DEFAULT_LANES = 2
# Rows built between two yields to the event loop, so batches in flight can commit meanwhile.
BUILD_SLICE = 100
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class WriteSummary:
    """What a write did; `changes` counts graph changes, 0 on a repeated write."""

    records: Counter[str] = field(default_factory=Counter)
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0
    batches: int = 0

    @property
    def changes(self) -> int:
        return self.nodes_created + self.relationships_created + self.properties_set

    def add(self, other: WriteSummary) -> None:
        self.records.update(other.records)
        self.nodes_created += other.nodes_created
        self.relationships_created += other.relationships_created
        self.properties_set += other.properties_set
        self.batches += other.batches


class GraphWriter:
    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        protector: FieldProtector,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lanes: int = DEFAULT_LANES,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        self._driver = driver
        self._database = database
        self._protector = protector
        self._batch_size = batch_size
        self._lanes = lanes

    async def write(
        self, records: Iterable[Record], *, now: datetime | None = None
    ) -> WriteSummary:
        """Write records of any kinds; `now` is the recorded time of every change made.

        Of several versions of one source record in one call only the last is
        written: the others would be recorded and closed at the same instant,
        invisible at any recorded time.
        """
        recorded_at = now or datetime.now(UTC)
        grouped = _latest_by_kind(records)
        summary = WriteSummary()
        temporal = BoltTemporals()
        now_value = temporal.convert(recorded_at)
        async with contextlib.AsyncExitStack() as stack:
            sessions = [self._driver.session(database=self._database) for _ in range(self._lanes)]
            lanes = [
                _Lane(await stack.enter_async_context(session), self._protector)
                for session in sessions
            ]
            try:
                for key in PLANS:  # a fixed order: entities first, then facts
                    kind_records = grouped.get(key)
                    if kind_records:
                        plan = PLANS[key]
                        used = lanes if plan.lane_key is not None else lanes[:1]
                        await self._write_kind(plan, kind_records, used, lanes, temporal, now_value)
                for lane in lanes:
                    summary.add(await lane.drain())
            finally:
                for lane in lanes:
                    await lane.cancel()
        return summary

    async def _write_kind(  # noqa: PLR0917 - one kind's whole context
        self,
        plan: WritePlan,
        records: Sequence[Record],
        used: list[_Lane],
        every_lane: list[_Lane],
        temporal: BoltTemporals,
        now: object,
    ) -> None:
        """Build a kind's rows slice by slice and send each lane's batch as it fills."""
        buffers: list[_Batch] = [_Batch() for _ in used]
        earlier_kinds_committed = False

        async def send(lane: int) -> None:
            nonlocal earlier_kinds_committed
            if not earlier_kinds_committed:  # the barrier between kinds
                for other in every_lane:
                    await other.wait()
                earlier_kinds_committed = True
            await used[lane].send(plan, buffers[lane], now)
            buffers[lane] = _Batch()

        lane_key = plan.lane_key
        for start in range(0, len(records), BUILD_SLICE):
            for record in records[start : start + BUILD_SLICE]:
                row = temporal.convert_row(plan.build_row(record, self._protector))
                lane = hash(lane_key(row)) % len(used) if lane_key is not None else 0
                batch = buffers[lane]
                batch.rows.append(row)
                batch.records.append(record)
                if len(batch.rows) >= self._batch_size:
                    await send(lane)
            await asyncio.sleep(0)  # let the batches in flight receive their answers
        for lane in range(len(used)):
            if buffers[lane].rows:
                await send(lane)


@dataclass
class _Batch:
    """A batch's rows and the records they were built from (kept for returning content)."""

    rows: list[Row] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


class _Lane:
    """One session committing one batch at a time; the next is queued behind it."""

    def __init__(self, session: AsyncSession, protector: FieldProtector) -> None:
        self._session = session
        self._protector = protector
        self._in_flight: asyncio.Task[WriteSummary] | None = None
        self.done = WriteSummary()

    async def wait(self) -> None:
        """Until the batch in flight (if any) committed; its failure is raised here."""
        if self._in_flight is not None:
            task, self._in_flight = self._in_flight, None
            self.done.add(await task)

    async def send(self, plan: WritePlan, batch: _Batch, now: object) -> None:
        await self.wait()
        self._in_flight = asyncio.create_task(self._write(plan, batch, now))

    async def _write(self, plan: WritePlan, batch: _Batch, now: object) -> WriteSummary:
        summary, closed = await _write_batch(self._session, plan, batch.rows, now)
        if closed and plan.returning_cypher is not None:
            returning = plan.returning_cypher
            summary.add(await self._write_returning(plan, returning, batch, set(closed), now))
        return summary

    async def _write_returning(
        self, plan: WritePlan, returning: str, batch: _Batch, closed: set[str], now: object
    ) -> WriteSummary:
        """Rows whose version exists but is closed: content returning to an earlier
        version's becomes a new version (the record's next of that content); the rest
        (the open version has this content too) were written before and are left."""
        pairs = [
            (r, rec) for r, rec in zip(batch.rows, batch.records, strict=True) if r["vid"] in closed
        ]
        generations = await self._session.execute_read(
            _generations, returning, [row for row, _ in pairs]
        )
        again = [
            returning_version(row, record, self._protector, generations[row["vid"]])
            for row, record in pairs
            if row["vid"] in generations
        ]
        if not again:
            return WriteSummary()
        summary, _ = await _write_batch(self._session, plan, again, now)
        summary.records.clear()  # counted once, with the batch they came in
        summary.batches = 0
        return summary

    async def drain(self) -> WriteSummary:
        await self.wait()
        done, self.done = self.done, WriteSummary()
        return done

    async def cancel(self) -> None:
        if self._in_flight is not None:
            self._in_flight.cancel()
            with contextlib.suppress(BaseException):
                await self._in_flight
            self._in_flight = None


def _latest_by_kind(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Records grouped by plan, the last version of each source record only."""
    grouped: dict[str, dict[object, Record]] = defaultdict(dict)
    for record in records:
        latest = grouped[plan_key(record)]
        identity = record_identity(record)
        latest.pop(identity, None)  # a later version moves to the end: input order is kept
        latest[identity] = record
    return {key: list(latest.values()) for key, latest in grouped.items()}


class BoltTemporals:
    """Turns `date` and UTC `datetime` values inside rows into Bolt structures, each once.

    Assumes Bolt 5 (Neo4j 5, which the write plans' `CALL (x) {}` syntax
    requires): a datetime with a fixed offset is structure `I` (UTC epoch
    seconds, nanoseconds, offset seconds), as the driver sends it. Naive
    datetimes and named time zones are left to the driver.
    """

    def __init__(self) -> None:
        self._seen: dict[object, Structure] = {}

    def convert(self, value: Any) -> Any:  # noqa: ANN401 - any row value, same shape back
        kind = type(value)
        if kind is dict:
            return {name: self.convert(item) for name, item in value.items()}
        if kind is list:
            return [self.convert(item) for item in value]
        if kind is date or (kind is datetime and isinstance(value.tzinfo, timezone)):
            known = self._seen.get(value)
            if known is None:
                known = self._seen[value] = _structure(value)
            return known
        return value

    def convert_row(self, row: Row) -> Row:
        """`convert` for a row the writer has just built, in place and without recursing
        into plain values: the rows' strings and numbers are most of what they hold."""
        for name, value in row.items():
            kind = type(value)
            if kind is dict:
                self.convert_row(value)
            elif kind is not str and kind is not int and value is not None:
                row[name] = self.convert(value)
        return row


def _structure(value: date) -> Structure:
    if isinstance(value, datetime):
        delta = value - _EPOCH
        offset = value.utcoffset() or timedelta(0)
        seconds = delta.days * 86400 + delta.seconds
        return Structure(b"I", seconds, delta.microseconds * 1000, int(offset.total_seconds()))
    return Structure(b"D", value.toordinal() - _EPOCH_DAY)


async def _write_batch(
    session: AsyncSession, plan: WritePlan, rows: list[Row], now: object
) -> tuple[WriteSummary, list[str]]:
    """The batch's summary, and the `vid`s of rows whose version exists but is closed."""
    counters, closed = await session.execute_write(_run, plan.cypher, rows, now)
    summary = WriteSummary(
        records=Counter({plan.kind: len(rows)}),
        nodes_created=counters["nodes_created"],
        relationships_created=counters["relationships_created"],
        properties_set=counters["properties_set"],
        batches=1,
    )
    return summary, closed


async def _run(
    tx: AsyncManagedTransaction, cypher: str, rows: list[Row], now: object
) -> tuple[dict[str, int], list[str]]:
    result = await tx.run(cypher, rows=rows, now=now)
    closed = [str(record["closed"]) async for record in result]
    counters = (await result.consume()).counters
    counts = {
        "nodes_created": counters.nodes_created,
        "relationships_created": counters.relationships_created,
        "properties_set": counters.properties_set,
    }
    return counts, closed


async def _generations(tx: AsyncManagedTransaction, cypher: str, rows: list[Row]) -> dict[str, int]:
    result = await tx.run(cypher, rows=rows)
    return {str(record["vid"]): int(record["generation"]) async for record in result}
