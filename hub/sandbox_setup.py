"""Starting the sandbox departments for the hub: the servers, and the departments file.

The departments file is the hub's own configuration (where each department
is, which credential to show); for the sandbox it is derived from the city's
credentials and the ports the servers listen on, and written beside the city
as `hub-departments.json` (mode 0600).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rich.console import Console

from hub.cli_support import UsageError
from hub.departments import write_departments
from sandbox.servers.runner import serve_departments
from sandbox.store import DEPARTMENTS

DEPARTMENTS_FILE = "hub-departments.json"


def serve_sandbox(data: Path, departments: list[str], port_base: int, out: Console) -> None:
    chosen = departments or list(DEPARTMENTS)
    unknown = [d for d in chosen if d not in DEPARTMENTS]
    if unknown:
        raise UsageError(f"unknown department(s) {unknown}; choose from {', '.join(DEPARTMENTS)}")
    if not (data / "manifest.json").exists():
        raise UsageError(f"{data} is not a generated city; run `hub sandbox generate` first")
    credentials = json.loads((data / "credentials.json").read_text(encoding="utf-8"))
    ports = {d: (port_base + i if port_base else 0) for i, d in enumerate(DEPARTMENTS)}

    def ready(endpoints: dict[str, str]) -> None:
        path = data / DEPARTMENTS_FILE
        entries = {
            name: {"base_url": url, **credentials["departments"][name]}
            for name, url in endpoints.items()
        }
        write_departments(path, credentials["bulk_agreement_no"], entries)
        for name, url in sorted(endpoints.items()):
            out.print(f"{name:16} {url}")
        out.print(f"departments file: {path}  (export HUB_DEPARTMENTS_FILE={path.resolve()})")

    try:
        asyncio.run(serve_departments(data, chosen, ports, on_ready=ready))
    except OSError as error:
        raise UsageError(str(error)) from None
