"""Shared fixtures: one real Neo4j for the whole session, a clean graph for each test.

The session server is the project's own local Neo4j in `.cache/test-neo4j`
(`HUB_TEST_NEO4J_HOME`) on port 7688 (`HUB_TEST_NEO4J_PORT`), started once and
stopped at the end unless it was already running (then it is reused and left
running). A second test run at the same time needs its own home and port: the
suite wipes the graph before every test. To run the suite
against another server, set `HUB_TEST_NEO4J_URI` (+ `_USER`, `_PASSWORD`); the
suite deletes every node in it. `NEO4J_URI` is deliberately not used, so a
developer's own database is never wiped by a test run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from neo4j import AsyncDriver, Driver, GraphDatabase

from authz.protection import FieldProtection
from graph.connection import Neo4jTarget, open_driver
from graph.local_server import LOCAL_USER, LocalNeo4j, LocalNeo4jOptions
from tests.support import JAR_CACHE, ROOT, wipe_graph

TEST_NEO4J_HOME = Path(os.environ.get("HUB_TEST_NEO4J_HOME", ROOT / ".cache" / "test-neo4j"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def neo4j_target() -> Iterator[Neo4jTarget]:
    external = os.environ.get("HUB_TEST_NEO4J_URI")
    if external:
        yield Neo4jTarget(
            external,
            os.environ.get("HUB_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("HUB_TEST_NEO4J_PASSWORD", ""),
        )
        return
    server = LocalNeo4j(
        LocalNeo4jOptions(
            home=TEST_NEO4J_HOME,
            jar_cache=JAR_CACHE,
            bolt_port=int(os.environ.get("HUB_TEST_NEO4J_PORT", "7688")),
            heap="1g",
            pagecache="256m",
        )
    )
    reused = server.status().running
    server.start()
    yield Neo4jTarget(server.uri, LOCAL_USER, server.password())
    if not reused:
        server.stop()


@pytest.fixture(scope="session")
def sync_driver(neo4j_target: Neo4jTarget) -> Iterator[Driver]:
    driver = GraphDatabase.driver(
        neo4j_target.uri,
        auth=(neo4j_target.user, neo4j_target.password),
        notifications_min_severity="OFF",
    )
    yield driver
    driver.close()


@pytest.fixture
def clean_graph(sync_driver: Driver, neo4j_target: Neo4jTarget) -> Neo4jTarget:
    """The session's server with every node deleted (schema kept: migrations are idempotent)."""
    wipe_graph(sync_driver, neo4j_target.database)
    return neo4j_target


@pytest.fixture
async def driver(clean_graph: Neo4jTarget) -> AsyncIterator[AsyncDriver]:
    opened = await open_driver(clean_graph)
    yield opened
    await opened.close()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def protection(tmp_path_factory: pytest.TempPathFactory) -> FieldProtection:
    """A real key ring (KEK file + ring file) in a temporary folder, shared by the session."""
    return FieldProtection.local(tmp_path_factory.mktemp("keys"))
