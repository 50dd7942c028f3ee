"""The GraphQL endpoint over real HTTP: `hub serve` in its own process, real Neo4j behind it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from authz.principal import Principal, Role
from authz.tokens import SigningKey, mint
from graph.connection import Neo4jTarget
from graph.errors import Neo4jAuthFailed
from hub.app import MAX_BODY_BYTES, create_app
from hub.authentication import local_token_key_path
from hub.settings import Mode, Settings
from tests.support import hub_env

HEALTH = "{ health { neo4jVersion neo4jEdition nodeCount schemaVersion } }"
Serve = Callable[[Mode], str]
ADMIN = Principal("admin-1", Role.ADMINISTRATOR, "410700", "bureau")


def bearer(tmp_path: Path, who: Principal = ADMIN) -> dict[str, str]:
    """A token signed by the hub's local key (the one `hub token` uses) for `who`."""
    settings = Settings(state_dir=tmp_path / "state")
    key = SigningKey.load_or_create(local_token_key_path(settings))
    token = mint(who, timedelta(minutes=5), key, settings.token_issuer, settings.token_audience)
    return {"authorization": f"Bearer {token}"}


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


def test_health_reads_neo4j_over_http(
    serve: Serve, sync_count: Callable[[], int], tmp_path: Path
) -> None:
    url = serve(Mode.PRODUCTION)
    response = httpx.post(url, json={"query": HEALTH}, headers=bearer(tmp_path))
    assert response.status_code == 200
    health = response.json()["data"]["health"]
    assert health["neo4jVersion"].startswith("5.26.")
    assert health["neo4jEdition"] == "community"
    assert health["schemaVersion"] >= 1
    assert health["nodeCount"] == sync_count()


def test_production_mode_has_no_graphiql_and_no_get(serve: Serve, tmp_path: Path) -> None:
    url = serve(Mode.PRODUCTION)
    headers = {"accept": "text/html", **bearer(tmp_path)}
    page = httpx.get(url, headers=headers)
    assert page.status_code == 405
    assert "GraphiQL" not in page.text
    assert httpx.get(url, params={"query": HEALTH}, headers=headers).status_code == 405


def test_without_a_token_nothing_but_liveness_answers(serve: Serve) -> None:
    url = serve(Mode.PRODUCTION)
    refused = httpx.post(url, json={"query": HEALTH})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {
        "errors": [{"message": "Unauthenticated", "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    live = httpx.get(url.replace("/graphql", "/healthz"))
    assert live.status_code == 200
    assert live.text == "ok"


def test_development_mode_serves_graphiql(serve: Serve, tmp_path: Path) -> None:
    url = serve(Mode.DEVELOPMENT)
    page = httpx.get(url, headers={"accept": "text/html", **bearer(tmp_path)})
    assert page.status_code == 200
    assert "GraphiQL" in page.text


def test_oversized_body_is_refused(serve: Serve, tmp_path: Path) -> None:
    url = serve(Mode.PRODUCTION)
    padding = " " * (MAX_BODY_BYTES + 1)
    response = httpx.post(
        url,
        content=f'{{"query": "{HEALTH}{padding}"}}'.encode(),
        headers={"content-type": "application/json", **bearer(tmp_path)},
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
