"""Bulk ingest: the graph writer alone, a naive per-record writer, and end to end over HTTP.

    .venv/bin/python benchmarks/ingest.py [--sizes 10000 100000] [--seed 1]
        [--rust {with,without,both}] [--skip-writer] [--skip-e2e] [--skip-naive]
        [--naive-sample 20000] [--profile]

For each city size (generated once into .cache/bench-ingest/, reused after) and each
driver codec (with neo4j-rust-ext, and without it: the child runs under
`_no_rust.py`, which makes `neo4j._rust` unimportable; the child reports the codec it
really got), three measurements, each in its own child process (`_measure.py`) against
an empty, freshly started Neo4j of our own on port 7699 (.cache/bench-neo4j), warmed
up with about 10,000 records written and deleted again before anything is timed:

- writer: every record of the five departments' SQLite files (read directly: the writer
  is measured, not the consent gate, so no record is left out), through `GraphWriter`,
  one `write` per 20,000 records of a table. Records/s counts domain records (facts:
  persons, households, memberships, relations, fact versions); reading SQLite and
  validating the records is not timed. Row building (blind indexes, encryption,
  content hashes) is timed apart; of the rest, what this process spent on CPU is the
  driver (PackStream, temporal values), and the remainder is waiting for Neo4j.
- naive: a sample (every n-th row of each table, about --naive-sample records) through
  `GraphWriter`, then, on an emptied graph, one `driver.execute_query` per record
  (`_naive_writer.py`). Ratio = writer rate / naive rate, on the same sample and
  against the full writer run.
- e2e: the five sandbox departments served over HTTP (`hub sandbox serve`), then
  `hub.ingest.import_authorisations` and `hub.ingest.run_ingest` in bulk mode for all
  five, the hub's own code path. Pulled = records the departments sent (the consent gate
  drops those nobody consented to); written = records that reached the graph.

--profile adds one e2e run of the smallest size under cProfile (with the Rust codec)
and prints where the hub process spent its time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _children import stop_child  # noqa: E402 - after the path set-up
from _city_records import TABLES, count_rows  # noqa: E402
from _profile_summary import summarise  # noqa: E402

from graph.local_server import LOCAL_USER, LocalNeo4j, LocalNeo4jOptions  # noqa: E402
from sandbox.city import generate_city  # noqa: E402

WORK = ROOT / ".cache" / "bench-ingest"
NEO4J_OPTIONS = LocalNeo4jOptions(
    home=ROOT / ".cache" / "bench-neo4j",
    jar_cache=ROOT / ".cache" / "neo4j",
    bolt_port=7699,
    heap="2g",
    pagecache="1g",
)
DEPARTMENTS_FILE = "hub-departments.json"
HUB_SANDBOX = (sys.executable, "-m", "hub", "sandbox", "serve")
SANDBOX_START_TIMEOUT = 120.0
WRITER_TARGET = 30_000  # records (facts) per second
E2E_TARGET = 10_000  # records pulled per second
RATIO_TARGET = 10.0
CODECS = {"with": "rust", "without": "python"}
Report = dict[str, Any]


@dataclass
class SizeResults:
    households: int
    total_rows: int
    runs: dict[str, dict[str, Report]] = field(default_factory=dict)  # mode -> phase -> report


# --- the world each measurement runs in -------------------------------------------------------


def ensure_city(households: int, seed: int) -> Path:
    """The city of this size and seed, generated on first use."""
    city = WORK / f"city-{households}-{seed}"
    manifest = city / "manifest.json"
    if manifest.exists():
        known = json.loads(manifest.read_text(encoding="utf-8"))
        if known["households"] == households and known["seed"] == seed:
            return city
    log(f"generating a city of {households:,} households (seed {seed})")
    generate_city(city, households=households, seed=seed)
    return city


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any HUB_* / NEO4J_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "NEO4J_"))}
    env.update(extra)
    return env


@contextmanager
def sandbox(city: Path) -> Iterator[tuple[Path, int]]:
    """The five department servers (one child process); yields (departments file, pid)."""
    departments = city / DEPARTMENTS_FILE
    departments.unlink(missing_ok=True)
    with (WORK / "sandbox.log").open("ab") as log_file:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*HUB_SANDBOX, "--data", str(city), "--port-base", "0"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=clean_env(),
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + SANDBOX_START_TIMEOUT
            while not departments.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the sandbox did not start; see {WORK / 'sandbox.log'}")
                time.sleep(0.1)
            yield departments, child.pid
        finally:
            stop_child(child)


def fresh_neo4j(server: LocalNeo4j) -> int:
    """Our Neo4j, stopped, its store deleted, started again; returns its pid."""
    server.stop()
    shutil.rmtree(server.home / "data", ignore_errors=True)
    status = server.start()
    if status.pid is None:
        raise SystemExit("the benchmark Neo4j did not report its pid")
    return status.pid


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- one measurement in a child process --------------------------------------------------------


def run_phase(  # noqa: PLR0917 - one call per measurement, every argument needed
    phase: str,
    mode: str,
    city: Path,
    server: LocalNeo4j,
    sandbox_run: tuple[Path, int] | None,
    extra: list[str],
) -> Report:
    neo4j_pid = fresh_neo4j(server)
    measure = [str(HERE / "_measure.py"), phase, "--city", str(city), "--neo4j-pid"]
    measure += [str(neo4j_pid), *extra]
    if sandbox_run is not None:
        measure += ["--sandbox-pid", str(sandbox_run[1])]
    runner = [] if mode == "with" else [str(HERE / "_no_rust.py")]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as state:
        env = clean_env(
            NEO4J_URI=server.uri,
            NEO4J_USER=LOCAL_USER,
            NEO4J_PASSWORD=server.password(),
            HUB_STATE_DIR=state,
            HUB_KEY_DIR=str(Path(state) / "keys"),
        )
        if sandbox_run is not None:
            env["HUB_DEPARTMENTS_FILE"] = str(sandbox_run[0])
        load_before = os.getloadavg()[0]
        log(f"{phase}, {mode} rust ext, load {load_before:.1f}")
        result = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
            [sys.executable, *runner, *measure],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
    report: Report = json.loads(result.stdout.strip().splitlines()[-1])
    report["load"] = [load_before, os.getloadavg()[0]]
    if report["codec"] != CODECS[mode]:
        raise SystemExit(f"asked for {mode} the Rust extension, the child used {report['codec']}")
    return report


def measure_size(
    households: int, args: argparse.Namespace, server: LocalNeo4j, modes: list[str]
) -> SizeResults:
    city = ensure_city(households, args.seed)
    total = sum(count_rows(city, table) for table in TABLES)
    every = max(1, round(total / args.naive_sample))
    results = SizeResults(households, total)
    for mode in modes:
        runs = results.runs.setdefault(mode, {})
        if not args.skip_writer:
            runs["writer"] = run_phase("writer", mode, city, server, None, [])
        if not args.skip_naive:
            runs["naive"] = run_phase("naive", mode, city, server, None, ["--every", str(every)])
    if not args.skip_e2e:
        with sandbox(city) as sandbox_run:
            for mode in modes:
                results.runs.setdefault(mode, {})["e2e"] = run_phase(
                    "e2e", mode, city, server, sandbox_run, []
                )
    return results


def profile_e2e(households: int, seed: int, server: LocalNeo4j) -> Path:
    city = ensure_city(households, seed)
    stats = WORK / f"e2e-{households}.prof"
    with sandbox(city) as sandbox_run:
        report = run_phase("e2e", "with", city, server, sandbox_run, ["--profile", str(stats)])
    print(f"\n### Profile: e2e, {households:,} households, under cProfile\n")
    print(
        f"{report['pulled']:,} pulled in {report['seconds']:.1f} s under the profiler;"
        f" CPU s: hub {report['cpu']['bench']:.1f}, sandbox {report['cpu']['sandbox']:.1f},"
        f" Neo4j {report['cpu']['neo4j']:.1f}\n"
    )
    return stats


# --- the report ---------------------------------------------------------------------------------


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def loads(report: Report) -> str:
    return f"{report['load'][0]:.1f}-{report['load'][1]:.1f}"


def print_writer(results: SizeResults) -> None:
    print(
        "\n| writer | codec | records | seconds | records/s | row build s | driver CPU s"
        " | waiting for Neo4j s | CPU s Neo4j | input s (untimed) | load |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode, runs in results.runs.items():
        if "writer" not in runs:
            continue
        w = runs["writer"]
        print(
            f"| {mode} rust ext | {w['codec']} | {w['records']:,} | {w['seconds']:.1f}"
            f" | {rate(w['records'], w['seconds']):,.0f} | {w['row_seconds']:.1f}"
            f" | {w['client_cpu'] - w['row_seconds']:.1f} | {w['seconds'] - w['client_cpu']:.1f}"
            f" | {w['cpu']['neo4j']:.1f} | {w['input_seconds']:.1f} | {loads(w)} |"
        )


def print_writer_tables(results: SizeResults) -> None:
    """Per table, µs per record: row building, driver CPU, waiting for Neo4j."""
    modes = list(results.runs)
    head = " | ".join(f"{m}: rows | {m}: driver | {m}: Neo4j | {m}: records/s" for m in modes)
    print(f"\n| table (µs per record) | records | {head} |")
    print("|---|---:|" + "---:|" * (4 * len(modes)))
    first = results.runs[modes[0]]["writer"]["tables"]
    for table, stats in first.items():
        cells = []
        for mode in modes:
            t = results.runs[mode]["writer"]["tables"][table]
            per = 1e6 / max(t["records"], 1)
            driver = t["client_cpu"] - t["row_seconds"]
            waiting = t["write_seconds"] - t["client_cpu"]
            cells.append(
                f"{t['row_seconds'] * per:.0f} | {driver * per:.0f} | {waiting * per:.0f}"
                f" | {rate(t['records'], t['write_seconds']):,.0f}"
            )
        print(f"| {table} | {stats['records']:,.0f} | {' | '.join(cells)} |")


def print_naive(results: SizeResults) -> None:
    print(
        "\n| naive | sample | writer s | writer records/s | naive s | naive records/s"
        " | ratio (sample) | ratio (full writer run) | naive CPU s bench | naive CPU s Neo4j"
        " | same graph | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for mode, runs in results.runs.items():
        if "naive" not in runs or "writer" not in runs:
            continue
        n, w = runs["naive"], runs["writer"]
        writer_rate = rate(n["records"], n["writer_seconds"])
        naive_rate = rate(n["records"], n["naive_seconds"])
        full_rate = rate(w["records"], w["seconds"])
        same = "yes" if n["writer_graph"] == n["naive_graph"] else "NO"
        print(
            f"| {mode} rust ext | {n['records']:,} (1 in {n['every']}) | {n['writer_seconds']:.1f}"
            f" | {writer_rate:,.0f} | {n['naive_seconds']:.1f} | {naive_rate:,.0f}"
            f" | {rate(writer_rate, naive_rate):.1f}x | {rate(full_rate, naive_rate):.1f}x"
            f" | {n['naive_cpu']['bench']:.1f} | {n['naive_cpu']['neo4j']:.1f}"
            f" | {same} | {loads(n)} |"
        )


def print_e2e(results: SizeResults) -> None:
    print(
        "\n| e2e | pulled | written | no consent | seconds | pulled/s | written/s"
        " | consent import s | CPU s hub | CPU s sandbox | CPU s Neo4j | tx retries | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode, runs in results.runs.items():
        if "e2e" not in runs:
            continue
        e = runs["e2e"]
        print(
            f"| {mode} rust ext | {e['pulled']:,} | {e['written']:,} | {e['dropped']:,}"
            f" | {e['seconds']:.1f} | {rate(e['pulled'], e['seconds']):,.0f}"
            f" | {rate(e['written'], e['seconds']):,.0f} | {e['import_seconds']:.1f}"
            f" | {e['cpu']['bench']:.1f} | {e['cpu']['sandbox']:.1f} | {e['cpu']['neo4j']:.1f}"
            f" | {e['driver_retries']} | {loads(e)} |"
        )
    print(
        "\n| e2e department | rust ext | pulled | written | no consent | quarantined | dupes"
        " | pages | retries | done after s | pulled/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, runs in results.runs.items():
        for d in runs.get("e2e", {}).get("departments", []):
            print(
                f"| {d['department']} | {mode} | {d['pulled']:,} | {d['written']:,}"
                f" | {d['dropped']:,} | {d['quarantined']:,} | {d['duplicates']:,} | {d['pages']}"
                f" | {d['retried']} | {d['seconds']:.1f} | {rate(d['pulled'], d['seconds']):,.0f} |"
            )


def verdict(measured: float, target: float) -> str:
    return "met" if measured >= target else f"missed by {target / measured:.1f}x"


def print_targets(results: SizeResults) -> None:
    print()
    for mode, runs in results.runs.items():
        line = f"- {mode} rust ext:"
        if "writer" in runs:
            w = runs["writer"]
            writer_rate = rate(w["records"], w["seconds"])
            line += f" writer {writer_rate:,.0f} records/s"
            line += f" (target {WRITER_TARGET:,}: {verdict(writer_rate, WRITER_TARGET)})"
        if "naive" in runs:
            n = runs["naive"]
            ratio = rate(
                rate(n["records"], n["writer_seconds"]), rate(n["records"], n["naive_seconds"])
            )
            line += f"; writer / naive {ratio:.1f}x (target {RATIO_TARGET:.0f}x:"
            line += f" {verdict(ratio, RATIO_TARGET)})"
        if "e2e" in runs:
            e = runs["e2e"]
            pulled = rate(e["pulled"], e["seconds"])
            line += f"; e2e {pulled:,.0f} pulled/s (target {E2E_TARGET:,}:"
            line += f" {verdict(pulled, E2E_TARGET)})"
        print(line)


def print_size(results: SizeResults) -> None:
    print(
        f"\n### {results.households:,} households"
        f" ({results.total_rows:,} records in the five departments' files)"
    )
    if any("writer" in runs for runs in results.runs.values()):
        print_writer(results)
        print_writer_tables(results)
    if any("naive" in runs for runs in results.runs.values()):
        print_naive(results)
    if any("e2e" in runs for runs in results.runs.values()):
        print_e2e(results)
    print_targets(results)
    sys.stdout.flush()


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kib / 2**20:.0f} GB RAM,"
        f" {platform.python_implementation()} {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rust", choices=("with", "without", "both"), default="both")
    parser.add_argument("--skip-writer", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--naive-sample", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="one profiled e2e run")
    args = parser.parse_args()
    modes = ["with", "without"] if args.rust == "both" else [args.rust]
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"# {date.today()}, {machine()}")
    print(f"# load average {os.getloadavg()[0]:.1f} at start")
    server = LocalNeo4j(NEO4J_OPTIONS)
    try:
        for households in sorted(args.sizes):
            print_size(measure_size(households, args, server, modes))
        if args.profile:
            summarise(profile_e2e(min(args.sizes), args.seed, server))
    finally:
        server.stop()
    minutes = (time.monotonic() - started) / 60
    print(f"\n# load average {os.getloadavg()[0]:.1f} at the end; {minutes:.0f} min in all")


if __name__ == "__main__":
    main()
