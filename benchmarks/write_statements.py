"""What Neo4j itself spends per fact: the writer's statement against bare CREATEs of the same rows.

    .venv/bin/python benchmarks/write_statements.py [--households 10000] [--seed 1]
        [--rows 40000] [--rounds 2]

Why: the writer's target, 30,000 facts/s on two cores, leaves 67 µs of CPU per fact for
the hub and Neo4j together. This measures the floor on Neo4j's side, so that a missed
target can be told apart from a slow statement. The rows are the writer's own: the first
`--rows` balance records of the benchmark city (`ingest.py` generates it), built by the
balance plan (blind indexes, a sealed source record id, content hash, Bolt temporals), in
batches of the writer's size, one managed transaction each, one batch at a time, against
the benchmark's Neo4j (port 7699, emptied first). Each statement runs once to warm the
JIT, then is timed, on an emptied label, `--rounds` times interleaved. Per row it prints
the wall time and Neo4j's CPU (all its threads, from /proc), and the same for the rows
without their long strings (every string property over 30 characters left out: the
record key, account reference, content hash and sealed source record id).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _city_records import stream  # noqa: E402 - after the path set-up
from _measure import process_cpu  # noqa: E402
from ingest import NEO4J_OPTIONS, ensure_city, fresh_neo4j  # noqa: E402
from neo4j import AsyncDriver, AsyncManagedTransaction  # noqa: E402

from authz.protection import FieldProtection  # noqa: E402
from graph.connection import Neo4jTarget, open_driver  # noqa: E402
from graph.local_server import LOCAL_USER, LocalNeo4j  # noqa: E402
from graph.migrations import apply_migrations  # noqa: E402
from graph.model import Record  # noqa: E402
from graph.write_plans import PLANS, Row  # noqa: E402
from graph.writer import DEFAULT_BATCH_SIZE, BoltTemporals  # noqa: E402

DATABASE = "neo4j"
LABEL = "BalanceSnapshot"
LONG_STRING = 30
STATEMENTS = {
    "writer's balance statement": PLANS["balance"].cypher,
    "CREATE, same properties, person link": f"""
UNWIND $rows AS row
MATCH (p:Person {{pid: row.pid}})
CREATE (p)-[:HAS_BALANCE]->(f:{LABEL})
SET f = row.props, f.vid = row.vid, f.recorded_from = $now""",
    "CREATE, same properties": f"""
UNWIND $rows AS row
CREATE (f:{LABEL})
SET f = row.props, f.vid = row.vid, f.recorded_from = $now""",
    "CREATE, vid only": f"""
UNWIND $rows AS row
CREATE (:{LABEL} {{vid: row.vid}})""",
}


def balance_records(city: Path, count: int) -> list[Record]:
    records: list[Record] = []
    for chunk in stream(city, datetime.now(UTC), clock=time.perf_counter):
        if chunk.table == "balance":
            records.extend(chunk.records)
            if len(records) >= count:
                break
    return records[:count]


def without_long_strings(row: Row) -> Row:
    props = {
        name: value
        for name, value in row["props"].items()
        if not (isinstance(value, str) and len(value) > LONG_STRING)
    }
    return {**row, "props": props}


def batches(rows: list[Row]) -> Iterator[list[Row]]:
    for start in range(0, len(rows), DEFAULT_BATCH_SIZE):
        yield rows[start : start + DEFAULT_BATCH_SIZE]


async def empty_label(driver: AsyncDriver) -> None:
    async with driver.session(database=DATABASE) as session:
        result = await session.run(
            f"MATCH (f:{LABEL}) CALL (f) {{ DETACH DELETE f }} IN TRANSACTIONS OF 10000 ROWS"
        )
        await result.consume()


async def write_all(driver: AsyncDriver, cypher: str, rows: list[Row], now: object) -> None:
    async with driver.session(database=DATABASE) as session:
        for batch in batches(rows):
            await session.execute_write(_run, cypher, batch, now)


async def _run(tx: AsyncManagedTransaction, cypher: str, rows: list[Row], now: object) -> None:
    result = await tx.run(cypher, rows=rows, now=now)
    await result.consume()


async def measure(args: argparse.Namespace, server: LocalNeo4j, neo4j_pid: int) -> None:
    city = ensure_city(args.households, args.seed)
    records = balance_records(city, args.rows)
    driver = await open_driver(Neo4jTarget(server.uri, LOCAL_USER, server.password(), DATABASE))
    try:
        await apply_migrations(driver, DATABASE)
        with tempfile.TemporaryDirectory() as keys:
            protection = FieldProtection.local(Path(keys))
            temporal = BoltTemporals()
            plan = PLANS["balance"]
            rows = [temporal.convert_row(plan.build_row(r, protection)) for r in records]
        now = temporal.convert(datetime.now(UTC))
        persons = sorted({row["pid"] for row in rows})
        await driver.execute_query(
            "UNWIND $pids AS pid MERGE (:Person {pid: pid})", pids=persons, database_=DATABASE
        )
        row_sets = {"as built": rows, "no long strings": [without_long_strings(r) for r in rows]}
        print(
            f"{len(rows):,} balance rows of {len(persons):,} persons, batches of "
            f"{DEFAULT_BATCH_SIZE:,}; µs per row\n"
        )
        print("| round | rows | statement | wall µs | Neo4j CPU µs | load |")
        print("|---:|---|---|---:|---:|---|")
        for round_no in range(1, args.rounds + 1):
            for row_set, chosen in row_sets.items():
                for name, cypher in STATEMENTS.items():
                    await empty_label(driver)
                    await write_all(driver, cypher, chosen, now)  # JIT warm-up
                    await empty_label(driver)
                    cpu = process_cpu(neo4j_pid)
                    started = time.perf_counter()
                    await write_all(driver, cypher, chosen, now)
                    wall = (time.perf_counter() - started) / len(chosen) * 1e6
                    spent = (process_cpu(neo4j_pid) - cpu) / len(chosen) * 1e6
                    load = os.getloadavg()[0]
                    print(
                        f"| {round_no} | {row_set} | {name} | {wall:.1f} | {spent:.1f} "
                        f"| {load:.1f} |",
                        flush=True,
                    )
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = LocalNeo4j(NEO4J_OPTIONS)
    try:
        asyncio.run(measure(args, server, fresh_neo4j(server)))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
