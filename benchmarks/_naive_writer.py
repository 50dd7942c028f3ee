"""The baseline the graph writer is compared with: one statement per record, no batching.

The straightforward way to load records: for each record, build its row exactly as
the writer does (same blind indexes, same encryption, same properties) and send one
`driver.execute_query` that writes it, so each record is its own transaction and its
own round trips. The statement is the writer's own for that kind of record, with
`UNWIND $rows AS row` replaced by `WITH $row AS row`: the same graph results, so the
only difference measured is batching (UNWIND of up to 2,000 rows per transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from neo4j import AsyncDriver

from graph.model import Record
from graph.protection import FieldProtector
from graph.write_plans import PLANS, WritePlan, plan_key

UNWIND = "UNWIND $rows AS row"


def per_record_cypher(plan: WritePlan) -> str:
    """The plan's statement for a single `$row` instead of a list of `$rows`.

    Every `UNWIND $rows AS row` is replaced: fact statements also read the rows in a
    first subquery (the persons merged once per batch).
    """
    if UNWIND not in plan.cypher:
        raise ValueError(f"the {plan.kind} statement has no {UNWIND!r}")
    return plan.cypher.replace(UNWIND, "WITH $row AS row")


class NaiveWriter:
    def __init__(self, driver: AsyncDriver, database: str, protector: FieldProtector) -> None:
        self._driver = driver
        self._database = database
        self._protector = protector
        self._cypher = {key: per_record_cypher(plan) for key, plan in PLANS.items()}

    async def write(self, records: Iterable[Record], *, now: datetime | None = None) -> int:
        """Write records one by one, in the order given; returns how many were written."""
        recorded_at = now or datetime.now(UTC)
        written = 0
        for record in records:
            key = plan_key(record)
            row = PLANS[key].build_row(record, self._protector)
            await self._driver.execute_query(
                self._cypher[key], row=row, now=recorded_at, database_=self._database
            )
            written += 1
        return written
