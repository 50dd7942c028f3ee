"""`hub sandbox serve`: all five or one department alone, on loopback, and its bad input."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.store import DEPARTMENTS
from tests.sandbox.servers.tiny_city import build_tiny_city
from tests.support import hub_env, run_hub


@pytest.fixture
def city(tmp_path: Path) -> Path:
    folder = tmp_path / "city"
    build_tiny_city(folder)
    return folder


def serve(city: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "sandbox", "serve", "--data", str(city), *args],
        env=hub_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, child: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert child.poll() is None, child.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    loaded: dict[str, object] = json.loads(path.read_text())
    return loaded


def stop(child: subprocess.Popen[str]) -> str:
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    return stderr


def test_all_five_on_loopback_with_a_private_departments_file(city: Path, tmp_path: Path) -> None:
    child = serve(city, tmp_path, "--port-base", "0")
    try:
        config = wait_for(city / "hub-departments.json", child)
        departments = config["departments"]
        assert isinstance(departments, dict)
        assert sorted(departments) == sorted(DEPARTMENTS)
        for entry in departments.values():
            assert entry["base_url"].startswith("http://127.0.0.1:")
            assert httpx.get(entry["base_url"] + "/_sandbox/health").status_code == 200
        mode = stat.S_IMODE((city / "hub-departments.json").stat().st_mode)
        assert mode == 0o600
    finally:
        assert "Traceback" not in stop(child)


def test_one_department_alone(city: Path, tmp_path: Path) -> None:
    child = serve(city, tmp_path, "--department", "medical", "--port-base", "0")
    try:
        config = wait_for(city / "hub-departments.json", child)
        assert list(config["departments"]) == ["medical"]  # type: ignore[call-overload]
        endpoints = json.loads((city / "endpoints.json").read_text())
        assert list(endpoints) == ["medical"]
    finally:
        stop(child)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--department", "weather"], "unknown department"),
        (["--port-base", "-1"], "--port-base"),
    ],
)
def test_bad_arguments(city: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_hub("sandbox", "serve", "--data", str(city), *args, env=hub_env(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_city(tmp_path: Path) -> None:
    result = run_hub("sandbox", "serve", "--data", str(tmp_path), env=hub_env(tmp_path))
    assert result.returncode == 2
    assert "is not a generated city" in result.stderr


def test_port_in_use_is_named(city: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_hub(
            "sandbox",
            "serve",
            "--data",
            str(city),
            "--department",
            "public_security",
            "--port-base",
            str(port),
            env=hub_env(tmp_path),
            timeout=60,
        )
    assert result.returncode == 2
    assert "could not listen for public_security" in result.stderr
