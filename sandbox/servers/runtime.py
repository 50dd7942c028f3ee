"""What one department server holds while it runs: its data, credential, register, log, faults."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sandbox.servers.consent import AuthorisationRegister
from sandbox.servers.faults import FaultConfig, FaultState
from sandbox.servers.requestlog import RequestLog
from sandbox.store import DEPARTMENTS, open_read_only

MAX_BATCH = 100


@dataclass
class DepartmentRuntime:
    department: str
    data_dir: Path
    db: sqlite3.Connection
    client_id: str
    secret: str
    register: AuthorisationRegister
    admin_token: str
    log: RequestLog
    faults: FaultState
    today: date
    max_batch: int = MAX_BATCH


def load_runtime(
    data_dir: Path,
    department: str,
    *,
    faults: FaultConfig | None = None,
    today: date | None = None,
    log_dir: Path | None = None,
) -> DepartmentRuntime:
    """Open a generated city's files for one department.

    The server's "today" defaults to the city's reference date (manifest
    `as_of`), so authorisation windows mean the same thing in every run.
    """
    if department not in DEPARTMENTS:
        raise ValueError(f"unknown department {department!r}; expected one of {DEPARTMENTS}")
    manifest = _read_json(data_dir / "manifest.json")
    credentials = _read_json(data_dir / "credentials.json")
    own = credentials["departments"][department]
    return DepartmentRuntime(
        department=department,
        data_dir=data_dir,
        db=open_read_only(data_dir, department),
        client_id=str(own["client_id"]),
        secret=str(own["secret"]),
        register=AuthorisationRegister.load(data_dir, str(credentials["bulk_agreement_no"])),
        admin_token=str(credentials["admin_token"]),
        log=RequestLog((log_dir or data_dir / "logs") / f"{department}-requests.jsonl"),
        faults=FaultState(faults),
        today=today or date.fromisoformat(str(manifest["as_of"])),
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; generate a city with `hub sandbox generate`")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise TypeError(f"{path} is not a JSON object")
    return loaded
