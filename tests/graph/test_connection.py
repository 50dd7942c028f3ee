from __future__ import annotations

import dataclasses

import pytest

from graph.connection import Neo4jTarget, open_driver
from graph.errors import Neo4jAuthFailed, Neo4jUnavailable


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
async def test_bolt_and_routing_uris_both_work(neo4j_target: Neo4jTarget, scheme: str) -> None:
    address = neo4j_target.uri.split("://", 1)[1]
    target = dataclasses.replace(neo4j_target, uri=f"{scheme}://{address}")
    driver = await open_driver(target)
    try:
        records, _, _ = await driver.execute_query("RETURN 41 + 1 AS answer")
        assert records[0]["answer"] == 42
    finally:
        await driver.close()


@pytest.mark.anyio
async def test_wrong_password_is_a_clear_auth_error(neo4j_target: Neo4jTarget) -> None:
    target = dataclasses.replace(neo4j_target, password="not-the-password")
    with pytest.raises(Neo4jAuthFailed) as caught:
        await open_driver(target)
    message = str(caught.value)
    assert "rejected the credentials" in message
    assert "NEO4J_PASSWORD" in message
    assert "not-the-password" not in message
    assert "not-the-password" not in repr(caught.value)


@pytest.mark.anyio
async def test_unreachable_server_is_a_clear_error(free_port: int) -> None:
    target = Neo4jTarget(f"bolt://127.0.0.1:{free_port}", "neo4j", "whatever-pass")
    with pytest.raises(Neo4jUnavailable) as caught:
        await open_driver(target)
    assert f"cannot reach Neo4j at bolt://127.0.0.1:{free_port}" in str(caught.value)
    assert "hub neo4j start" in str(caught.value)


def test_target_repr_hides_the_password() -> None:
    assert "hunter22" not in repr(Neo4jTarget("bolt://h", "neo4j", "hunter22"))
