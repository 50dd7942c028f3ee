"""How fast the city generator runs, and whether its memory stays flat as the city grows.

    .venv/bin/python benchmarks/generate_city.py [--sizes 10000 100000] [--seed 1]

Each size runs in a fresh child process (this script with --child), which generates the
city into a temporary folder and reports its own peak RSS and its writer process's. The
parent also reads `getrusage(RUSAGE_CHILDREN).ru_maxrss` after each run. Flat memory
shows as a peak-RSS ratio near 1 between the largest and the smallest size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def child(households: int, seed: int, out_dir: Path) -> None:
    """Generate one city and print what it cost, as JSON on stdout."""
    from sandbox.city import generate_city  # noqa: PLC0415 - only the child needs it

    started = time.perf_counter()
    manifest = generate_city(out_dir, households, seed)
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in out_dir.rglob("*") if path.is_file())
    me, writer = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    report = {
        "households": households,
        "persons": manifest.counts["public_security"]["persons"],
        "rows": sum(sum(tables.values()) for tables in manifest.counts.values()),
        "seconds": seconds,
        "bytes": size,
        "generator_cpu": me.ru_utime + me.ru_stime,
        "writer_cpu": writer.ru_utime + writer.ru_stime,
        "generator_rss_kib": me.ru_maxrss,
        "writer_rss_kib": writer.ru_maxrss,
    }
    print(json.dumps(report))


def run(households: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="city-bench-") as folder:
        command = [sys.executable, __file__, "--child", str(households), "--seed", str(seed)]
        result = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [*command, "--out", str(Path(folder) / "city")],
            capture_output=True,
            text=True,
            check=True,
        )
    report: dict[str, float] = json.loads(result.stdout)
    report["children_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seed, args.out)
        return
    print(f"# {date.today()}, {platform.python_implementation()} {platform.python_version()},")
    print(f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(
        "| households | persons | rows | seconds | households/s | persons/s | output MB"
        " | CPU s generator | CPU s writer | peak RSS generator MB | peak RSS writer MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    reports = []
    for households in sorted(args.sizes):
        report = run(households, args.seed)
        reports.append(report)
        seconds = report["seconds"]
        print(
            f"| {households:,} | {report['persons']:,.0f} | {report['rows']:,.0f}"
            f" | {seconds:.1f} | {households / seconds:,.0f} | {report['persons'] / seconds:,.0f}"
            f" | {report['bytes'] / 1e6:,.0f}"
            f" | {report['generator_cpu']:.1f} | {report['writer_cpu']:.1f}"
            f" | {report['generator_rss_kib'] / 1024:,.0f}"
            f" | {report['writer_rss_kib'] / 1024:,.0f} |",
            flush=True,
        )
    if len(reports) > 1:
        first, last = reports[0], reports[-1]
        peak = [max(r["generator_rss_kib"], r["writer_rss_kib"]) for r in (first, last)]
        print(
            f"\npeak RSS ratio {last['households']:,.0f} / {first['households']:,.0f} households:"
            f" generator {last['generator_rss_kib'] / first['generator_rss_kib']:.2f},"
            f" writer {last['writer_rss_kib'] / first['writer_rss_kib']:.2f},"
            f" largest process {peak[1] / peak[0]:.2f};"
            f" load average {os.getloadavg()[0]:.1f} at the end"
        )


if __name__ == "__main__":
    main()
