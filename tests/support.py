"""Helpers shared by tests: running the `hub` command as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neo4j import Driver

ROOT = Path(__file__).resolve().parents[1]
JAR_CACHE = ROOT / ".cache" / "neo4j"


def hub_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A clean environment for a `hub` subprocess: no inherited HUB_* or NEO4J_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "NEO4J_"))}
    env.update(HUB_STATE_DIR=str(tmp_path / "state"), HUB_JAR_CACHE=str(JAR_CACHE))
    env.update(overrides)
    return env


def run_hub(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def serving_sandbox(city: Path, state: Path) -> Iterator[Path]:
    """`hub sandbox serve` for `city` while the block runs; the departments file it writes."""
    child = subprocess.Popen(
        [sys.executable, "-m", "hub", "sandbox", "serve", "--data", str(city), "--port-base", "0"],
        env=hub_env(state),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = city / "hub-departments.json"
    try:
        deadline = time.monotonic() + 60
        while not path.exists():
            assert child.poll() is None, child.communicate()[1]
            assert time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.1)
        yield path
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=30)


def wipe_graph(driver: Driver, database: str = "neo4j") -> None:
    """Delete every node (schema stays: migrations are idempotent)."""
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
