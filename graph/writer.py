"""The graph writer: records in, UNWIND batches in managed transactions out.

Records are grouped by kind, turned into rows (encryption and blind indexes
happen while building rows, never in Cypher), and written in batches of
`batch_size` rows, one managed transaction per batch; the driver retries a
batch on transient errors (deadlocks, leader changes), which is safe because
every statement is idempotent: writing the same batch twice changes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import AsyncDriver, AsyncManagedTransaction

from graph.model import Record
from graph.protection import FieldProtector
from graph.write_plans import PLANS, Row, WritePlan, plan_key

DEFAULT_BATCH_SIZE = 2000


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
        grouped: dict[str, list[Row]] = defaultdict(list)
        for record in records:
            key = plan_key(record)
            grouped[key].append(PLANS[key].build_row(record, self._protector))
        summary = WriteSummary()
        for key in PLANS:  # a fixed order: entities first, then facts
            rows = grouped.get(key)
            if rows:
                summary.add(await self._write_rows(PLANS[key], rows, recorded_at))
        return summary

    async def _write_rows(self, plan: WritePlan, rows: list[Row], now: datetime) -> WriteSummary:
        summary = WriteSummary(records=Counter({plan.kind: len(rows)}))
        async with self._driver.session(database=self._database) as session:
            for start in range(0, len(rows), self._batch_size):
                batch = rows[start : start + self._batch_size]
                counters = await session.execute_write(_run, plan.cypher, batch, now)
                summary.nodes_created += counters["nodes_created"]
                summary.relationships_created += counters["relationships_created"]
                summary.properties_set += counters["properties_set"]
                summary.batches += 1
        return summary


async def _run(
    tx: AsyncManagedTransaction, cypher: str, rows: list[Row], now: datetime
) -> dict[str, Any]:
    result = await tx.run(cypher, rows=rows, now=now)
    counters = (await result.consume()).counters
    return {
        "nodes_created": counters.nodes_created,
        "relationships_created": counters.relationships_created,
        "properties_set": counters.properties_set,
    }
