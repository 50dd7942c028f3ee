"""One measurement of `benchmarks/ingest.py`, in its own process; prints a JSON report.

    python benchmarks/_measure.py {writer,naive,e2e} --city DIR --neo4j-pid PID
        [--sandbox-pid PID] [--every N] [--profile FILE]

The graph and the keys come from the hub's own settings (NEO4J_URI, NEO4J_PASSWORD,
HUB_KEY_DIR, HUB_DEPARTMENTS_FILE in the environment), so `e2e` runs exactly the code
path of `hub consent import` + `hub ingest --mode bulk`. The parent gives each run an
empty, freshly started Neo4j; before the timed part, about 10,000 records of the city go
through the writer and the graph is emptied again, so the JVM is warm (a fresh JVM spends
its first minute compiling). The report names the PackStream codec the driver really uses
(`rust` or `python`), the CPU seconds this process, Neo4j and the sandbox servers spent
during the timed part, and how many transactions the driver retried (deadlocks).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _city_records import TABLES, count_rows, stream  # noqa: E402 - after the path set-up
from _naive_writer import NaiveWriter  # noqa: E402
from neo4j import AsyncDriver  # noqa: E402

from connectors.sync import SyncSummary  # noqa: E402
from graph.connection import open_driver  # noqa: E402
from graph.migrations import apply_migrations  # noqa: E402
from graph.model import DEPARTMENT_SOURCES, Record  # noqa: E402
from graph.protection import FieldProtector  # noqa: E402
from graph.write_plans import PLANS, Row  # noqa: E402
from graph.writer import GraphWriter  # noqa: E402
from hub.ingest import (  # noqa: E402
    IngestRequest,
    field_protection,
    import_authorisations,
    run_ingest,
)
from hub.neo4j_setup import neo4j_target  # noqa: E402
from hub.settings import Settings  # noqa: E402

Report = dict[str, Any]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_RECORDS = 10_000
E2E_WARM_PAGES = 3  # per department


def active_codec() -> str:
    """The PackStream codec the driver picked at import: its Rust one, or pure Python."""
    from neo4j._codec.packstream import v1  # noqa: PLC0415 - private, read only here

    return "rust" if getattr(v1, "_rust_pack", None) is not None else "python"


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of another process (all its threads), from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds spent by this process, Neo4j and the sandbox since `start()`."""

    def __init__(self, neo4j_pid: int, sandbox_pid: int | None) -> None:
        self._pids = {"neo4j": neo4j_pid, "sandbox": sandbox_pid}
        self._start: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {
            "bench": time.process_time(),
            **{name: process_cpu(pid) for name, pid in self._pids.items()},
        }

    def start(self) -> None:
        self._start = self._now()

    def spent(self) -> dict[str, float]:
        now = self._now()
        return {name: now[name] - self._start[name] for name in now}


class RetryCounter(logging.Handler):
    """Counts the driver's "Transaction failed and will be retried" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "will be retried" in record.getMessage():
            self.retries += 1


@contextmanager
def timed_row_builders() -> Iterator[list[float]]:
    """Every plan's `build_row` (blind indexes, encryption, content hash), in CPU seconds.

    CPU, not wall time: the writer builds rows while a batch is in flight, and on a
    busy machine wall time would count other processes' turns as row building.
    """
    spent = [0.0]
    originals = dict(PLANS)

    def timed(build: Callable[[Any, FieldProtector], Row]) -> Callable[[Any, FieldProtector], Row]:
        def wrapper(record: Any, protector: FieldProtector) -> Row:  # noqa: ANN401 - any record
            started = time.process_time()
            try:
                return build(record, protector)
            finally:
                spent[0] += time.process_time() - started

        return wrapper

    for key, plan in originals.items():
        PLANS[key] = replace(plan, build_row=timed(plan.build_row))
    try:
        yield spent
    finally:
        PLANS.update(originals)


async def wipe(driver: AsyncDriver, database: str) -> None:
    async with driver.session(database=database) as session:
        result = await session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        )
        await result.consume()
    await apply_migrations(driver, database)


async def graph_size(driver: AsyncDriver, database: str) -> dict[str, int]:
    nodes, _, _ = await driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    rels, _, _ = await driver.execute_query(
        "MATCH ()-[r]->() RETURN count(r) AS n", database_=database
    )
    return {"nodes": int(nodes[0]["n"]), "relationships": int(rels[0]["n"])}


def sample_every(city: Path, records: int) -> int:
    """Every how many rows to take for a sample of about `records` records."""
    return max(1, round(sum(count_rows(city, table) for table in TABLES) / records))


async def warm_up(
    driver: AsyncDriver, database: str, protector: FieldProtector, city: Path
) -> None:
    """About WARM_UP_RECORDS records through the writer, then an empty graph again."""
    every = sample_every(city, WARM_UP_RECORDS)
    fetched_at = datetime.now(UTC)
    writer = GraphWriter(driver, database, protector)
    for chunk in stream(city, fetched_at, every=every, clock=time.perf_counter):
        await writer.write(chunk.records)
    await wipe(driver, database)


async def measure_writer(
    driver: AsyncDriver, database: str, protector: FieldProtector, city: Path, cpu: CpuMeter
) -> Report:
    """All records of the city through `GraphWriter`, one `write` per chunk of a table.

    `cpu` covers the whole loop, reading the input included; the writer's own client CPU
    is `client_cpu` (measured around each `write`), of which `row_seconds` built rows.
    """
    writer = GraphWriter(driver, database, protector)
    fetched_at = datetime.now(UTC)
    tables: dict[str, defaultdict[str, float]] = {}
    cpu.start()
    with timed_row_builders() as row_seconds:
        for chunk in stream(city, fetched_at, clock=time.perf_counter):
            built_before = row_seconds[0]
            cpu_before = time.process_time()
            started = time.perf_counter()
            await writer.write(chunk.records)
            seconds = time.perf_counter() - started
            client_cpu = time.process_time() - cpu_before
            stats = tables.setdefault(chunk.table, defaultdict(float))
            stats["records"] += len(chunk.records)
            stats["invalid"] += chunk.invalid
            stats["input_seconds"] += chunk.build_seconds
            stats["write_seconds"] += seconds
            stats["row_seconds"] += row_seconds[0] - built_before
            stats["client_cpu"] += client_cpu
    spent = cpu.spent()
    total: defaultdict[str, float] = defaultdict(float)
    for stats in tables.values():
        for name, value in stats.items():
            total[name] += value
    return {
        "records": int(total["records"]),
        "invalid": int(total["invalid"]),
        "seconds": total["write_seconds"],
        "row_seconds": total["row_seconds"],
        "client_cpu": total["client_cpu"],
        "input_seconds": total["input_seconds"],
        "cpu": spent,
        "tables": {name: dict(stats) for name, stats in tables.items()},
        "graph": await graph_size(driver, database),
    }


async def measure_naive(  # noqa: PLR0917 - the measurement's whole context
    driver: AsyncDriver,
    database: str,
    protector: FieldProtector,
    city: Path,
    every: int,
    cpu: CpuMeter,
) -> Report:
    """The same sample (every `every`-th row of each table) through the writer, then naive."""
    fetched_at = datetime.now(UTC)
    sample: list[Record] = [
        record
        for chunk in stream(city, fetched_at, every=every, clock=time.perf_counter)
        for record in chunk.records
    ]
    cpu.start()
    started = time.perf_counter()
    await GraphWriter(driver, database, protector).write(sample)
    writer_seconds = time.perf_counter() - started
    writer_cpu = cpu.spent()
    writer_graph = await graph_size(driver, database)
    await wipe(driver, database)
    cpu.start()
    started = time.perf_counter()
    await NaiveWriter(driver, database, protector).write(sample)
    naive_seconds = time.perf_counter() - started
    return {
        "every": every,
        "records": len(sample),
        "writer_seconds": writer_seconds,
        "naive_seconds": naive_seconds,
        "writer_cpu": writer_cpu,
        "naive_cpu": cpu.spent(),
        "writer_graph": writer_graph,
        "naive_graph": await graph_size(driver, database),
    }


def summary_dict(summary: SyncSummary, seconds: float) -> Report:
    return {
        "department": summary.source,
        "pulled": summary.pulled,
        "written": summary.written,
        "dropped": summary.dropped_without_consent,
        "quarantined": summary.quarantined,
        "duplicates": summary.duplicates,
        "pages": summary.pages,
        "retried": summary.retried,
        "seconds": seconds,
    }


async def warm_up_e2e(settings: Settings, city: Path) -> None:
    """A few bulk pages of every department, then an empty graph again.

    The writer's warm-up leaves the ingest path's own statements (consent, cursors,
    quarantine, small batches) cold: without this, Neo4j's JIT compiler took about
    half of Neo4j's CPU during the timed run (15 of 25 s, read per thread from /proc).
    """
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    today = date.fromisoformat(manifest["as_of"])
    await import_authorisations(settings, city / "civil_affairs.sqlite")
    warm = IngestRequest("bulk", list(DEPARTMENT_SOURCES), today=today, max_pages=E2E_WARM_PAGES)
    await run_ingest(settings, warm)
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        await wipe(driver, target.database)
    finally:
        await driver.close()


async def measure_e2e(
    settings: Settings, city: Path, cpu: CpuMeter, profile: Path | None
) -> Report:
    """`hub consent import`, then `hub ingest --mode bulk` of the five departments."""
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    today = date.fromisoformat(manifest["as_of"])
    started = time.perf_counter()
    imported, skipped = await import_authorisations(settings, city / "civil_affairs.sqlite")
    import_seconds = time.perf_counter() - started
    request = IngestRequest("bulk", list(DEPARTMENT_SOURCES), today=today)
    last_page: dict[str, float] = {}

    def progress(source: str, pulled: int) -> None:
        last_page[source] = time.perf_counter()

    profiler = cProfile.Profile() if profile else None
    cpu.start()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    summaries = await run_ingest(settings, request, progress)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    spent = cpu.spent()
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    return {
        "authorisations": imported,
        "authorisations_skipped": skipped,
        "import_seconds": import_seconds,
        "seconds": seconds,
        "pulled": sum(s.pulled for s in summaries),
        "written": sum(s.written for s in summaries),
        "dropped": sum(s.dropped_without_consent for s in summaries),
        "departments": [
            summary_dict(s, last_page.get(s.source, started) - started) for s in summaries
        ],
        "cpu": spent,
    }


async def measure(args: argparse.Namespace) -> Report:
    settings = Settings()
    target = neo4j_target(settings)
    protector = field_protection(settings)
    cpu = CpuMeter(args.neo4j_pid, args.sandbox_pid)
    retries = RetryCounter()
    logging.getLogger("neo4j").addHandler(retries)
    report: Report = {"phase": args.phase, "codec": active_codec()}
    driver = await open_driver(target)
    try:
        report["server"] = (await driver.get_server_info()).agent
        await apply_migrations(driver, target.database)
        await warm_up(driver, target.database, protector, args.city)
        retries.retries = 0
        if args.phase == "writer":
            report.update(await measure_writer(driver, target.database, protector, args.city, cpu))
        elif args.phase == "naive":
            report.update(
                await measure_naive(driver, target.database, protector, args.city, args.every, cpu)
            )
    finally:
        await driver.close()
    if args.phase == "e2e":
        await warm_up_e2e(settings, args.city)
        report.update(await measure_e2e(settings, args.city, cpu, args.profile))
    report["driver_retries"] = retries.retries
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("writer", "naive", "e2e"))
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--neo4j-pid", type=int, required=True)
    parser.add_argument("--sandbox-pid", type=int)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    print(f"codec: {active_codec()}", file=sys.stderr)
    print(json.dumps(asyncio.run(measure(args))))


if __name__ == "__main__":
    main()
