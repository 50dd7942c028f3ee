"""`make demo`: a small synthetic city, its five departments, ingested, then the hub served.

Steps: generate the city once (`$HUB_STATE_DIR/demo-city`, kept between runs),
start the department servers in a child process (free loopback ports; they
write the departments file), start the local Neo4j unless NEO4J_URI is set,
import the authorisations and the assistance roll, pull every department in
bulk mode, and serve.
Everything it started is stopped when the hub stops.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from hub.cli_support import UsageError
from hub.ingest import import_roll
from hub.sandbox_setup import DEPARTMENTS_FILE
from hub.settings import Settings
from sandbox.city import generate_city

DEMO_HOUSEHOLDS = 2000
DEMO_SEED = 20211129
SANDBOX_START_TIMEOUT = 60.0


def city_date(city: Path) -> date:
    """The synthetic world's "today" (its reference date): consents are checked at it."""
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    return date.fromisoformat(str(manifest["as_of"]))


def import_demo_roll(settings: Settings, city: Path) -> str:
    """The roll beside the consents, so the demo graph can say who holds which grant."""
    result = asyncio.run(import_roll(settings, city / "civil_affairs.sqlite"))
    return f"demo city {city}: {result.written} roll grants imported"


def ensure_city(state_dir: Path) -> Path:
    city = state_dir / "demo-city"
    if not (city / "manifest.json").exists():
        generate_city(city, households=DEMO_HOUSEHOLDS, seed=DEMO_SEED)
    return city


@contextmanager
def sandbox_process(city: Path) -> Iterator[Path]:
    """The five department servers in a child process; yields the departments file."""
    departments_file = city / DEPARTMENTS_FILE
    departments_file.unlink(missing_ok=True)
    log = (city / "sandbox.log").open("ab")
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "hub", "sandbox", "serve", "--data", str(city), "--port-base", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        while not departments_file.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                raise UsageError(
                    f"the sandbox departments did not start; see {city / 'sandbox.log'}"
                )
            time.sleep(0.1)
        yield departments_file
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()
