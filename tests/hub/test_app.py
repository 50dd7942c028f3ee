"""The GraphQL endpoint over real HTTP: `hub serve` in its own process, real Neo4j behind it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from graph.connection import Neo4jTarget
from graph.errors import Neo4jAuthFailed
from hub.app import MAX_BODY_BYTES, create_app
from hub.settings import Mode, Settings
from tests.support import hub_env

HEALTH = "{ health { neo4jVersion neo4jEdition nodeCount schemaVersion } }"
Serve = Callable[[Mode], str]


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"hub serve exited early:\n{process.communicate()[1]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("hub serve did not listen in time")


@pytest.fixture
def serve(clean_graph: Neo4jTarget, tmp_path: Path, free_port: int) -> Iterator[Serve]:
    processes: list[subprocess.Popen[str]] = []

    def start(mode: Mode) -> str:
        env = hub_env(
            tmp_path,
            HUB_MODE=mode.value,
            NEO4J_URI=clean_graph.uri,
            NEO4J_USER=clean_graph.user,
            NEO4J_PASSWORD=clean_graph.password,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--port", str(free_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        wait_for_port(free_port, process)
        return f"http://127.0.0.1:{free_port}/graphql"

    yield start
    for process in processes:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr


def test_health_reads_neo4j_over_http(serve: Serve, sync_count: Callable[[], int]) -> None:
    url = serve(Mode.PRODUCTION)
    response = httpx.post(url, json={"query": HEALTH})
    assert response.status_code == 200
    health = response.json()["data"]["health"]
    assert health["neo4jVersion"].startswith("5.26.")
    assert health["neo4jEdition"] == "community"
    assert health["schemaVersion"] >= 1
    assert health["nodeCount"] == sync_count()


def test_production_mode_has_no_graphiql_and_no_get(serve: Serve) -> None:
    url = serve(Mode.PRODUCTION)
    page = httpx.get(url, headers={"accept": "text/html"})
    assert page.status_code == 405
    assert "GraphiQL" not in page.text
    assert httpx.get(url, params={"query": HEALTH}).status_code == 405


def test_development_mode_serves_graphiql(serve: Serve) -> None:
    url = serve(Mode.DEVELOPMENT)
    page = httpx.get(url, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text


def test_oversized_body_is_refused(serve: Serve) -> None:
    url = serve(Mode.PRODUCTION)
    padding = " " * (MAX_BODY_BYTES + 1)
    response = httpx.post(
        url,
        content=f'{{"query": "{HEALTH}{padding}"}}'.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


@pytest.fixture
def sync_count(clean_graph: Neo4jTarget, sync_driver: Driver) -> Callable[[], int]:
    def count() -> int:
        records, _, _ = sync_driver.execute_query("MATCH (n) RETURN count(n) AS n")
        return int(records[0]["n"])

    return count


@pytest.mark.anyio
async def test_lifespan_refuses_to_start_with_bad_credentials(neo4j_target: Neo4jTarget) -> None:
    settings = Settings(
        neo4j_uri=neo4j_target.uri, neo4j_user=neo4j_target.user, neo4j_password="wrong-password"
    )
    app = create_app(settings)
    with pytest.raises(Neo4jAuthFailed):
        async with app.router.lifespan_context(app):
            pass
