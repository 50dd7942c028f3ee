from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import LocalNeo4jNotStarted
from hub.neo4j_setup import local_server, neo4j_target
from hub.settings import Settings


def test_external_uri_is_used_as_given() -> None:
    settings = Settings(
        neo4j_uri="neo4j://cluster.example:7687", neo4j_user="hub", neo4j_password="pw-123456"
    )
    target = neo4j_target(settings)
    assert (target.uri, target.user, target.password) == (
        "neo4j://cluster.example:7687",
        "hub",
        "pw-123456",
    )


def test_local_target_reads_the_generated_password(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, neo4j_bolt_port=7999)
    server = local_server(settings)
    assert server.home == (tmp_path / "neo4j").resolve()
    with pytest.raises(LocalNeo4jNotStarted):
        neo4j_target(settings)
    server.home.mkdir(parents=True)
    server.credentials_file.write_text("generated-password\n")
    target = neo4j_target(settings)
    assert (target.uri, target.user, target.password) == (
        "bolt://127.0.0.1:7999",
        "neo4j",
        "generated-password",
    )
