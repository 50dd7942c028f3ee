"""The tax department's conformance case: income rows in the tiny city, signed server, connector.

The family's income falls in the twelve months up to the tiny city's AS_OF
(2025-12..2026-10, the subject pull asks 2025-12..2026-11); the head also has an
older record and the outsider (who signed nothing) a record of his own, which
only the bulk feed may yield. The server's rate limit is raised so the suite
stays fast; the 429 path is exercised in `tests/connectors/departments/test_tax.py`.
"""

from __future__ import annotations

from pathlib import Path

from connectors.departments.tax import TaxConnector
from sandbox.servers import tax
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.tiny_city import PEOPLE, department_db

FIRM = ("新乡市某机械有限公司", "91410700MA44XXXX0X")
STUDIO = ("新乡市某设计工作室", "92410702MA45YYYY1Y")
BANK = ("工商银行新乡分行", "91410700MA46BANK2Z")
MONTHS = ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 11)]
Row = tuple[object, ...]


def row(
    seq: int,
    person: str,
    period: str,
    category: str,
    payer: tuple[str, str],
    *,
    gross: int,
    tax: int,
) -> Row:
    """An income row (money in fen), filed on the 15th of its month."""
    return (f"T{seq:014d}", person, period, category, *payer, gross, tax, f"{period}-15", seq)


def seed(city: Path) -> None:
    rows = [
        row(n, PEOPLE.head, m, "wage", FIRM, gross=523456 + n, tax=10469)
        for n, m in enumerate(MONTHS, 1)
    ]
    rows += [
        row(101, PEOPLE.spouse, "2026-03", "labour", STUDIO, gross=80000, tax=0),
        row(102, PEOPLE.spouse, "2026-09", "labour", STUDIO, gross=80001, tax=16000),
        # before any period a subject pull asks about: only the bulk feed yields it
        row(103, PEOPLE.head, "2024-01", "interest", BANK, gross=1234, tax=247),
        row(104, PEOPLE.outsider, "2026-04", "rental", STUDIO, gross=150000, tax=7500),
        row(105, PEOPLE.outsider, "2026-05", "business", FIRM, gross=1, tax=0),
    ]
    with department_db(city, "tax") as db:
        db.executemany("INSERT INTO income VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


CASE = ConformanceCase(
    source="tax",
    seed=seed,
    create_app=tax.create_app,
    connector=TaxConnector,
    subject_kinds=frozenset({"income"}),
    bulk_records=len(MONTHS) + 5,
    app_options={"rate_per_second": 1000.0, "burst": 1000},
)
