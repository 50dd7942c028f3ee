"""The medical department's conformance case: rows in the tiny city, server, connector."""

from __future__ import annotations

from pathlib import Path

from connectors.departments.medical import MedicalConnector
from sandbox.servers import medical
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.tiny_city import PEOPLE, department_db


def seed(city: Path) -> None:
    with department_db(city, "medical") as db:
        db.executemany(
            "INSERT INTO enrolments VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("E1", PEOPLE.head, "employee", "410702", "2010-01-01", None, "active"),
                ("E2", PEOPLE.spouse, "resident", "410702", "2012-01-01", "2030-01-01", "active"),
                ("E3", PEOPLE.outsider, "resident", "410721", "2015-01-01", None, "active"),
            ],
        )
        claims = [
            (
                f"C{n:03d}{tag}",
                person,
                f"2026-0{n}-15",
                "新乡市中心医院",
                "outpatient",
                "chronic",
                10000 * n,
                6000 * n,
                4000 * n,
            )
            for n in range(1, 10)
            for tag, person in (("h", PEOPLE.head), ("c", PEOPLE.child))
        ]
        claims.append(
            (
                "C900",
                PEOPLE.outsider,
                "2026-03-01",
                "卫辉市人民医院",
                "inpatient",
                "injury",
                500000,
                350000,
                150000,
            )
        )
        db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", claims)
    db.close()


CASE = ConformanceCase(
    source="medical",
    seed=seed,
    create_app=medical.create_app,
    connector=MedicalConnector,
    subject_kinds=frozenset({"enrolment", "claim"}),
    bulk_records=3 + 19,
)
