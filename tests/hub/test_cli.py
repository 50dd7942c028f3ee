"""The `hub` command's bad-input paths: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

from graph.connection import Neo4jTarget
from tests.support import hub_env, run_hub


def test_serve_with_unreachable_neo4j_exits_clearly(tmp_path: Path, free_port: int) -> None:
    env = hub_env(tmp_path, NEO4J_URI=f"bolt://127.0.0.1:{free_port}", NEO4J_PASSWORD="x" * 8)
    result = run_hub("serve", "--port", "1", env=env, timeout=60)
    assert result.returncode == 1
    assert f"error: cannot reach Neo4j at bolt://127.0.0.1:{free_port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_wrong_credentials_exits_clearly(
    tmp_path: Path, neo4j_target: Neo4jTarget
) -> None:
    env = hub_env(tmp_path, NEO4J_URI=neo4j_target.uri, NEO4J_PASSWORD="definitely-wrong")
    result = run_hub("serve", env=env, timeout=60)
    assert result.returncode == 1
    assert "rejected the credentials of user 'neo4j'" in result.stderr
    assert "definitely-wrong" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_status_of_an_external_server(tmp_path: Path, neo4j_target: Neo4jTarget) -> None:
    env = hub_env(
        tmp_path,
        NEO4J_URI=neo4j_target.uri.replace("bolt://", "neo4j://"),
        NEO4J_PASSWORD=neo4j_target.password,
    )
    result = run_hub("neo4j", "status", env=env)
    assert result.returncode == 0, result.stderr
    assert "Neo4j 5.26." in result.stdout


def test_status_of_an_unreachable_external_server(tmp_path: Path, free_port: int) -> None:
    env = hub_env(tmp_path, NEO4J_URI=f"neo4j://127.0.0.1:{free_port}")
    result = run_hub("neo4j", "status", env=env, timeout=60)
    assert result.returncode == 1
    assert "cannot reach Neo4j" in result.stderr


def test_start_and_stop_do_nothing_with_an_external_server(tmp_path: Path) -> None:
    env = hub_env(tmp_path, NEO4J_URI="bolt://graph.example:7687")
    assert "starts nothing" in run_hub("neo4j", "start", env=env).stdout
    assert "nothing to stop" in run_hub("neo4j", "stop", env=env).stdout
    assert not (tmp_path / "state").exists()


def test_bad_configuration_names_the_variable(tmp_path: Path) -> None:
    env = hub_env(tmp_path, NEO4J_URI="http://127.0.0.1:7474", HUB_PORT="eighty")
    result = run_hub("serve", env=env)
    assert result.returncode == 2
    assert "NEO4J_URI must start with one of" in result.stderr
    assert "configuration port" in result.stderr
