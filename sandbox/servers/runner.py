"""Run department servers on loopback ports: all five in one process, or any one alone.

Each department gets its own uvicorn server (its own socket, as a real
department has its own host); they share one event loop. SIGINT/SIGTERM stop
them all together. Once listening, the base URL of each is written to
`DIR/endpoints.json`, which is how the hub (or a test) learns where to connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import signal
import socket
from collections.abc import Callable, Generator, Iterable, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from sandbox.servers import banking, housing, medical, public_security, tax
from sandbox.servers.faults import FaultConfig
from sandbox.servers.runtime import DepartmentRuntime, load_runtime
from sandbox.store import BANKING, DEPARTMENTS, HOUSING, MEDICAL, PUBLIC_SECURITY, TAX

LOOPBACK = "127.0.0.1"
DEFAULT_PORTS: Mapping[str, int] = {
    PUBLIC_SECURITY: 8101,
    HOUSING: 8102,
    TAX: 8103,
    BANKING: 8104,
    MEDICAL: 8105,
}
APP_FACTORIES: Mapping[str, Callable[[DepartmentRuntime], Starlette]] = {
    PUBLIC_SECURITY: public_security.create_app,
    HOUSING: housing.create_app,
    TAX: tax.create_app,
    BANKING: banking.create_app,
    MEDICAL: medical.create_app,
}
ENDPOINTS_FILE = "endpoints.json"


def build_app(data_dir: Path, department: str, faults: FaultConfig | None = None) -> Starlette:
    return APP_FACTORIES[department](load_runtime(data_dir, department, faults=faults))


class _SharedSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runner, which stops all at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_departments(
    data_dir: Path,
    departments: Iterable[str] = DEPARTMENTS,
    ports: Mapping[str, int] = DEFAULT_PORTS,
    faults: FaultConfig | None = None,
    on_ready: Callable[[dict[str, str]], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; port 0 picks a free port (see endpoints.json)."""
    chosen = list(dict.fromkeys(departments))
    unknown = [d for d in chosen if d not in APP_FACTORIES]
    if unknown:
        raise ValueError(f"unknown department(s) {unknown}; expected some of {list(DEPARTMENTS)}")
    sockets = _bind_all({department: ports.get(department, 0) for department in chosen})
    servers = {
        department: _SharedSignalServer(
            uvicorn.Config(
                build_app(data_dir, department, faults),
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        for department in chosen
    }
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stop_all, servers.values())
    tasks = [
        asyncio.create_task(server.serve(sockets=[sockets[name]]))
        for name, server in servers.items()
    ]
    try:
        while not all(server.started for server in servers.values()):
            if any(task.done() for task in tasks):
                _stop_all(servers.values())
                break
            await asyncio.sleep(0.02)
        else:
            endpoints = {name: _base_url(server) for name, server in servers.items()}
            _write_endpoints(data_dir, endpoints)
            if on_ready is not None:
                on_ready(endpoints)
        await asyncio.gather(*tasks)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    failed = [name for name, server in servers.items() if not server.started]
    if failed:
        raise OSError(f"could not listen for {', '.join(failed)} (is the port in use?)")


def _bind_all(ports: Mapping[str, int]) -> dict[str, socket.socket]:
    """Every department's listening socket on loopback, or a clear error and none at all.

    Why TCP_NODELAY: without it a response written in two parts waits for the
    client's delayed ACK (about 40 ms per request on a reused connection).
    asyncio turns it on for accepted sockets only when their protocol is
    IPPROTO_TCP, which a socket made with protocol 0 does not say; Linux
    also copies the option from the listening socket to those it accepts.
    """
    bound: dict[str, socket.socket] = {}
    for department, port in ports.items():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as error:
            sock.close()
            for other in bound.values():
                other.close()
            raise OSError(
                f"could not listen for {department} on {LOOPBACK}:{port} ({error.strerror})"
            ) from None
        bound[department] = sock
    return bound


def _stop_all(servers: Iterable[uvicorn.Server]) -> None:
    for server in servers:
        server.should_exit = True


def _base_url(server: uvicorn.Server) -> str:
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://{LOOPBACK}:{port}"


def _write_endpoints(data_dir: Path, endpoints: dict[str, str]) -> None:
    """Merge into endpoints.json, so departments started alone still add up to one file."""
    path = data_dir / ENDPOINTS_FILE
    with (data_dir / ".endpoints.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current: dict[str, Any] = {}
        if path.exists():
            with contextlib.suppress(ValueError):
                current = json.loads(path.read_text(encoding="utf-8"))
        current.update(endpoints)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(current, indent=2, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
