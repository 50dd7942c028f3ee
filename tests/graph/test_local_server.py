"""The local Neo4j's lifecycle and failure paths, driven through `hub neo4j` as a user would."""

from __future__ import annotations

import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from graph.errors import JavaMissing, LocalNeo4jNotStarted
from graph.local_server import LocalNeo4j, LocalNeo4jOptions, find_java
from tests.support import JAR_CACHE, hub_env, run_hub


def local_env(tmp_path: Path, port: int, **overrides: str) -> dict[str, str]:
    small = {
        "HUB_NEO4J_BOLT_PORT": str(port),
        "HUB_NEO4J_HEAP": "512m",
        "HUB_NEO4J_PAGECACHE": "64m",
    }
    return hub_env(tmp_path, **{**small, **overrides})


@pytest.mark.slow
def test_start_status_stop_cycle(tmp_path: Path, free_port: int) -> None:
    env = local_env(tmp_path, free_port)
    home = tmp_path / "state" / "neo4j"

    started = run_hub("neo4j", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert f"started at bolt://127.0.0.1:{free_port}" in started.stdout
    try:
        assert (home / "neo4j.pid").exists()
        assert stat.S_IMODE((home / "credentials").stat().st_mode) == 0o600

        status = run_hub("neo4j", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert "Neo4j 5.26." in status.stdout
        assert "schema version 0" in status.stdout

        again = run_hub("neo4j", "start", env=env)
        assert again.returncode == 0
        assert "already running" in again.stdout
    finally:
        stopped = run_hub("neo4j", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert "Neo4j stopped." in stopped.stdout
    assert not (home / "neo4j.pid").exists()

    down = run_hub("neo4j", "status", env=env)
    assert down.returncode == 3
    assert "not running" in down.stdout
    assert "was not running" in run_hub("neo4j", "stop", env=env).stdout


def test_missing_java_is_a_clear_error(tmp_path: Path, free_port: int) -> None:
    env = local_env(tmp_path, free_port, PATH=str(tmp_path / "empty-bin"))
    env.pop("JAVA_HOME", None)
    result = run_hub("neo4j", "start", env=env)
    assert result.returncode == 1
    assert "needs Java 17 or newer" in result.stderr
    assert "Traceback" not in result.stderr


def test_java_home_without_java_is_named(tmp_path: Path, free_port: int) -> None:
    env = local_env(tmp_path, free_port, JAVA_HOME=str(tmp_path))
    result = run_hub("neo4j", "start", env=env)
    assert result.returncode == 1
    assert f"JAVA_HOME={tmp_path} has no bin/java" in result.stderr


def test_old_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_392\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(JavaMissing, match="is Java 8"):
        find_java()


def test_missing_maven_is_a_clear_error(tmp_path: Path, free_port: int) -> None:
    java = shutil.which("java")
    assert java is not None
    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(Path(java).resolve())
    env = local_env(
        tmp_path, free_port, PATH=str(only_java), HUB_JAR_CACHE=str(tmp_path / "no-jars")
    )
    env.pop("JAVA_HOME", None)
    result = run_hub("neo4j", "start", env=env)
    assert result.returncode == 1
    assert "`mvn` was not found" in result.stderr


def test_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_hub("neo4j", "start", env=local_env(tmp_path, port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


@pytest.mark.slow
def test_failed_start_shows_the_log_tail(tmp_path: Path, free_port: int) -> None:
    # A 1 KiB heap is valid syntax that the JVM itself refuses: a real start failure.
    env = local_env(tmp_path, free_port, HUB_NEO4J_HEAP="1k")
    result = run_hub("neo4j", "start", env=env)
    assert result.returncode == 1
    assert "the local Neo4j did not start: the JVM exited with code 1" in result.stderr
    assert "--- log tail ---" in result.stderr
    assert "heap" in result.stderr.lower()
    assert not (tmp_path / "state" / "neo4j" / "neo4j.pid").exists()


def test_stale_pid_file_is_not_mistaken_for_a_server(tmp_path: Path, free_port: int) -> None:
    server = LocalNeo4j(LocalNeo4jOptions(home=tmp_path, jar_cache=JAR_CACHE, bolt_port=free_port))
    server.pid_file.write_text(str(os.getpid()))  # alive, but not a Neo4j launcher
    assert not server.status().running
    assert server.stop() is False
    assert not server.pid_file.exists()


def test_password_before_first_start_says_what_to_do(tmp_path: Path) -> None:
    server = LocalNeo4j(LocalNeo4jOptions(home=tmp_path, jar_cache=JAR_CACHE))
    with pytest.raises(LocalNeo4jNotStarted, match="Run `hub neo4j start` first"):
        server.password()
