"""Where the departments are and how the hub identifies itself to each: one JSON file.

    {
      "bulk_agreement_no": "BD...",            # the batch-comparison agreement (比对协议)
      "departments": {
        "public_security": {"base_url": "http://...", "client_id": "...", "secret": "..."},
        ...
      }
    }

`HUB_DEPARTMENTS_FILE` points at it; `hub sandbox serve` writes one for the
sandbox servers it starts. The file holds credentials, so it must not be
readable by other users (mode 0600), like the key files.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from connectors.base import DepartmentAccess
from graph.model import DEPARTMENT_SOURCES, Source


class DepartmentsFileError(Exception):
    pass


class _Department(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    base_url: str = Field(pattern=r"^https?://[^\s/]+")
    client_id: str = Field(min_length=1)
    secret: SecretStr


class _DepartmentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    bulk_agreement_no: str = ""
    departments: dict[Source, _Department]


def load_departments(path: Path) -> dict[Source, DepartmentAccess]:
    if not path.exists():
        raise DepartmentsFileError(
            f"{path} does not exist; set HUB_DEPARTMENTS_FILE, or start the sandbox with "
            "`hub sandbox serve`, which writes one"
        )
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DepartmentsFileError(
            f"{path} holds credentials and is readable by others; chmod 600 it"
        )
    try:
        parsed = _DepartmentsFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as error:
        where = ""
        if isinstance(error, ValidationError):
            where = ": " + ", ".join(".".join(map(str, e["loc"])) for e in error.errors()[:5])
        raise DepartmentsFileError(f"{path} is not a valid departments file{where}") from None
    unknown = set(parsed.departments) - set(DEPARTMENT_SOURCES)
    if unknown:
        raise DepartmentsFileError(
            f"{path} names sources that are not departments: {sorted(unknown)}"
        )
    return {
        source: DepartmentAccess(
            base_url=entry.base_url.rstrip("/"),
            client_id=entry.client_id,
            secret=entry.secret.get_secret_value(),
            bulk_agreement_no=parsed.bulk_agreement_no,
        )
        for source, entry in parsed.departments.items()
    }


def write_departments(
    path: Path, bulk_agreement_no: str, departments: dict[str, dict[str, str]]
) -> None:
    """Write a departments file (mode 0600) atomically."""
    text = json.dumps(
        {"bulk_agreement_no": bulk_agreement_no, "departments": departments},
        indent=2,
        sort_keys=True,
    )
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = temporary.open("x", encoding="utf-8")
    temporary.chmod(0o600)
    with fd:
        fd.write(text)
    temporary.replace(path)
