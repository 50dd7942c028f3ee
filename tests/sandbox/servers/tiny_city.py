"""A hand-made city of a few people, for protocol tests that must know every row.

`build_tiny_city(dir)` writes the manifest, credentials, civil affairs' register
and an empty database per department; each department's tests insert their own
rows through `department_db(dir, name)`. The generated (synthetic) city is
exercised separately; here every ID and authorisation is known by name.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.store import CIVIL_AFFAIRS, DEPARTMENTS, create_database, database_path

AS_OF = date(2026, 11, 1)
BULK_AGREEMENT = "BD4107002026000001"
ADMIN_TOKEN = "admin-token-for-tests"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def id_number(area: str, birth: str, sequence: int) -> str:
    """A valid GB 11643 number (check digit computed independently of the generator)."""
    body = f"{area}{birth}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return body + CHECK[total % 11]


@dataclass(frozen=True)
class People:
    head: str = id_number("410702", "19700312", 11)
    spouse: str = id_number("410702", "19720508", 22)
    child: str = id_number("410702", "20050101", 33)
    outsider: str = id_number("410721", "19800101", 45)  # signed nothing
    elder: str = id_number("410728", "19450101", 57)  # old Changyuan code, signed the expired one


PEOPLE = People()
AUTH_OK = "SQ4107022026000001"
AUTH_EXPIRED = "SQ4107212025000002"
AUTH_REVOKED = "SQ4107022026000003"
AUTH_NO_MEDICAL = "SQ4107022026000004"
AUTH_NO_HOUSING = "SQ4107022026000005"
AUTH_NO_TAX = "SQ4107022026000006"
AUTH_NO_BANKING = "SQ4107022026000007"
AUTH_NO_PUBLIC_SECURITY = "SQ4107022026000008"
AUTH_BY_MISSING_DEPARTMENT = {
    "medical": AUTH_NO_MEDICAL,
    "housing": AUTH_NO_HOUSING,
    "tax": AUTH_NO_TAX,
    "banking": AUTH_NO_BANKING,
    "public_security": AUTH_NO_PUBLIC_SECURITY,
}


def credentials() -> dict[str, object]:
    return {
        "departments": {
            name: {"client_id": f"mz-test-{name}", "secret": f"secret-{name}-0123456789"}
            for name in DEPARTMENTS
        },
        "bulk_agreement_no": BULK_AGREEMENT,
        "admin_token": ADMIN_TOKEN,
    }


def build_tiny_city(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"format_version": 1, "seed": 0, "households": 3, "as_of": AS_OF.isoformat()}
    (data_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (data_dir / "credentials.json").write_text(json.dumps(credentials()), encoding="utf-8")
    for department in DEPARTMENTS:
        create_database(data_dir, department).close()
    family = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child)
    all_five = ",".join(DEPARTMENTS)
    rows = [
        (AUTH_OK, "H41070200000001", all_five, "application", "2026-06-01", "2027-05-31", None),
        (AUTH_EXPIRED, "H41072100000002", all_five, "review", "2025-01-01", "2025-12-31", None),
        (
            AUTH_REVOKED,
            "H41070200000001",
            all_five,
            "review",
            "2026-06-01",
            "2027-05-31",
            "2026-10-01",
        ),
    ]
    for department, auth_no in AUTH_BY_MISSING_DEPARTMENT.items():
        scope = ",".join(d for d in DEPARTMENTS if d != department)
        rows.append(
            (auth_no, "H41070200000001", scope, "application", "2026-06-01", "2027-05-31", None)
        )
    with create_database(data_dir, CIVIL_AFFAIRS) as civil:
        civil.executemany("INSERT INTO authorisations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        signers = [
            (row[0], person, "2026-06-01")
            for row in rows
            if row[0] != AUTH_EXPIRED
            for person in family
        ]
        signers.append((AUTH_EXPIRED, PEOPLE.elder, "2025-01-01"))
        civil.executemany("INSERT INTO authorisation_signers VALUES (?, ?, ?)", signers)
    civil.close()


def department_db(data_dir: Path, department: str) -> sqlite3.Connection:
    """A writable connection to one department's (already created) database."""
    return sqlite3.connect(database_path(data_dir, department))
