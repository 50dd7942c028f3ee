"""The graph writer: records in, UNWIND batches in managed transactions out.

Records are grouped by kind, turned into rows (encryption and blind indexes
happen while building rows, never in Cypher), and written in batches of
`batch_size` rows, one managed transaction per batch; the driver retries a
batch on transient errors (deadlocks, leader changes), which is safe because
every statement is idempotent: writing the same batch twice changes nothing.

Why batches overlap: building a batch's rows costs the client about as much
CPU as Neo4j spends committing one, so the next batch is built while the
previous one commits. Only one batch is ever in flight and each is sent only
after the one before it committed, so the order (entities before facts) and
the all-or-nothing result of `write` are those of a plain loop.

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
from graph.write_plans import PLANS, Row, WritePlan, plan_key

DEFAULT_BATCH_SIZE = 2000
# Rows built between two yields to the event loop, so an in-flight batch can commit meanwhile.
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
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._driver = driver
        self._database = database
        self._protector = protector
        self._batch_size = batch_size

    async def write(
        self, records: Iterable[Record], *, now: datetime | None = None
    ) -> WriteSummary:
        """Write records of any kinds; `now` is the recorded time of every change made."""
        recorded_at = now or datetime.now(UTC)
        grouped: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            grouped[plan_key(record)].append(record)
        summary = WriteSummary()
        temporal = BoltTemporals()
        now_value = temporal.convert(recorded_at)
        in_flight: asyncio.Task[WriteSummary] | None = None
        async with self._driver.session(database=self._database) as session:
            try:
                for key in PLANS:  # a fixed order: entities first, then facts
                    plan, kind_records = PLANS[key], grouped.get(key, [])
                    for start in range(0, len(kind_records), self._batch_size):
                        batch = kind_records[start : start + self._batch_size]
                        rows = await self._build_rows(plan, batch, temporal)
                        if in_flight is not None:
                            summary.add(await in_flight)
                        in_flight = asyncio.create_task(
                            _write_batch(session, plan, rows, now_value)
                        )
                if in_flight is not None:
                    summary.add(await in_flight)
                    in_flight = None
            finally:
                if in_flight is not None:
                    in_flight.cancel()
                    with contextlib.suppress(BaseException):
                        await in_flight
        return summary

    async def _build_rows(
        self, plan: WritePlan, records: Sequence[Record], temporal: BoltTemporals
    ) -> list[Row]:
        rows: list[Row] = []
        for start in range(0, len(records), BUILD_SLICE):
            for record in records[start : start + BUILD_SLICE]:
                rows.append(temporal.convert(plan.build_row(record, self._protector)))
            await asyncio.sleep(0)  # let the batch in flight receive its answer and commit
        return rows


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


def _structure(value: date) -> Structure:
    if isinstance(value, datetime):
        delta = value - _EPOCH
        offset = value.utcoffset() or timedelta(0)
        seconds = delta.days * 86400 + delta.seconds
        return Structure(b"I", seconds, delta.microseconds * 1000, int(offset.total_seconds()))
    return Structure(b"D", value.toordinal() - _EPOCH_DAY)


async def _write_batch(
    session: AsyncSession, plan: WritePlan, rows: list[Row], now: object
) -> WriteSummary:
    counters = await session.execute_write(_run, plan.cypher, rows, now)
    return WriteSummary(
        records=Counter({plan.kind: len(rows)}),
        nodes_created=counters["nodes_created"],
        relationships_created=counters["relationships_created"],
        properties_set=counters["properties_set"],
        batches=1,
    )


async def _run(
    tx: AsyncManagedTransaction, cypher: str, rows: list[Row], now: object
) -> dict[str, Any]:
    result = await tx.run(cypher, rows=rows, now=now)
    counters = (await result.consume()).counters
    return {
        "nodes_created": counters.nodes_created,
        "relationships_created": counters.relationships_created,
        "properties_set": counters.properties_set,
    }
