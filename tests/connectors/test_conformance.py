"""One conformance suite, run against every department connector and its real sandbox server.

Each department contributes a case module in `tests/connectors/cases/`. Every
case must: yield valid records only about the consented subjects it was asked
for, ask the department about no one else, page through a bulk export exactly
once and resume from a saved cursor, and survive each of the sandbox's faults
with the same records (or, for malformed records, a subset plus quarantine).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from authz.protection import FieldProtection
from connectors.base import Connector, DepartmentAccess, Parsed, SubjectQuery
from connectors.http import CallPolicy, DepartmentClient
from graph.model import (
    MembershipRecord,
    PersonRecord,
    PropertyRecord,
    Record,
    RelationRecord,
    VehicleRecord,
)
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.connectors import cases
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AS_OF,
    AUTH_OK,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    credentials,
)

pytestmark = pytest.mark.anyio
FAMILY = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child)
POLICY = CallPolicy(
    attempts=8,
    timeout=1.0,
    backoff_initial=0.01,
    backoff_max=0.05,
    breaker_threshold=1000,
    retry_budget=60,
)
CASES = [
    importlib.import_module(f"{cases.__name__}.{info.name}").CASE
    for info in pkgutil.iter_modules(cases.__path__)
]
FAULTS: dict[str, dict[str, object]] = {
    "errors": {"error_rate": 0.3, "seed": 1},
    "dropped connections": {"drop_rate": 0.3, "seed": 2},
    "timeouts": {"timeout_rate": 0.2, "timeout_seconds": 3, "seed": 3},
    "latency": {"latency_ms": 20, "latency_jitter_ms": 30},
    "duplicates": {"duplicate_rate": 0.5, "seed": 4},
    "out of order": {"out_of_order": True, "seed": 5},
    "malformed records": {"malformed_rate": 0.3, "seed": 6},
}


@dataclass
class Department:
    case: ConformanceCase
    city: Path
    base_url: str
    blind: Callable[[str], str]
    opened: list[Connector] = field(default_factory=list)

    @property
    def connector(self) -> Connector:
        return self.opened[0] if self.opened else self.fresh_connector()

    def fresh_connector(self, page_size: int | None = None) -> Connector:
        """A new connector (a new process, as far as the department can tell)."""
        connector = make_connector(self.case, self.base_url, self.blind, page_size)
        self.opened.append(connector)
        return connector

    async def close(self) -> None:
        for connector in self.opened:
            await connector.client.http.aclose()

    async def set_faults(self, **faults: object) -> None:
        async with httpx.AsyncClient(base_url=self.base_url) as admin:
            response = await admin.put(
                "/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN}
            )
            assert response.status_code == 200, response.text


def make_connector(
    case: ConformanceCase, base_url: str, blind: Callable[[str], str], page_size: int | None
) -> Connector:
    departments = credentials()["departments"]
    assert isinstance(departments, dict)
    own = departments[case.source]
    access = DepartmentAccess(base_url, own["client_id"], own["secret"], BULK_AGREEMENT)
    http = httpx.AsyncClient(base_url=base_url, timeout=POLICY.timeout)
    client = DepartmentClient(case.source, http, POLICY)
    return case.connector(access, client, blind, page_size)


@pytest.fixture(params=CASES, ids=[case.source for case in CASES])
async def department(
    request: pytest.FixtureRequest, tmp_path: Path, protection: FieldProtection
) -> AsyncIterator[Department]:
    case: ConformanceCase = request.param
    city = tmp_path / "city"
    build_tiny_city(city)
    case.seed(city)
    with serve_app(case.app(load_runtime(city, case.source))) as base_url:
        department = Department(
            case, city, base_url, lambda value: protection.blind(value, field="id_number")
        )
        try:
            yield department
        finally:
            await department.close()


def about(record: Record) -> set[str]:
    """The people a record is about (a relation is about both ends)."""
    if isinstance(record, PropertyRecord):
        return {owner.id_number for owner in record.owners}
    if isinstance(record, RelationRecord):
        return {record.from_id, record.to_id}
    if isinstance(record, VehicleRecord):
        return {record.owner_id}
    if isinstance(record, PersonRecord | MembershipRecord):
        return {record.id_number}
    subject = getattr(record, "id_number", None)
    return {subject} if isinstance(subject, str) else set()


def keys(parsed: Parsed) -> set[tuple[str, str, str]]:
    return {(r.kind, r.source_record_id, r.content_hash()) for r in parsed.records}


async def pull_family(connector: Connector) -> Parsed:
    return await connector.pull_subjects(SubjectQuery(FAMILY, AUTH_OK, AS_OF))


async def pull_everything(connector: Connector) -> Parsed:
    everything = Parsed()
    for partition in connector.partitions():
        cursor: str | None = None
        while True:
            parsed, cursor = await connector.pull_bulk_page(partition, cursor)
            everything.extend(parsed)
            if cursor is None:
                break
    return everything


async def test_subject_pull_yields_valid_records_about_the_subjects(department: Department) -> None:
    parsed = await pull_family(department.connector)
    assert parsed.skipped == []
    assert {r.kind for r in parsed.records} == department.case.subject_kinds
    strangers = [r.kind for r in parsed.records if about(r) and not about(r) & set(FAMILY)]
    assert strangers == []
    assert len(keys(parsed)) == len(parsed.records)


async def test_the_department_is_asked_only_about_consented_subjects(
    department: Department,
) -> None:
    await pull_family(department.connector)
    log = load_runtime(department.city, department.case.source).log.entries()
    asked = {digest for entry in log for digest in entry["ids"]}
    assert asked
    assert asked <= {id_digest(i) for i in FAMILY}
    assert {entry["auth_no"] for entry in log if entry["ids"]} == {AUTH_OK}


async def test_bulk_pages_everything(department: Department) -> None:
    """Every fact arrives; one shared by two people may arrive twice (the writer is idempotent)."""
    whole = await pull_everything(department.fresh_connector(page_size=2))
    assert whole.skipped == []
    assert len(keys(whole)) == department.case.bulk_records


async def test_bulk_resumes_from_a_saved_cursor(department: Department) -> None:
    whole = keys(await pull_everything(department.fresh_connector(page_size=2)))
    resumed = Parsed()
    for partition in department.connector.partitions():
        first, cursor = await department.fresh_connector(2).pull_bulk_page(partition, None)
        resumed.extend(first)
        while cursor is not None:  # a new process, starting from the saved cursor
            page, cursor = await department.fresh_connector(2).pull_bulk_page(partition, cursor)
            resumed.extend(page)
    assert keys(resumed) == whole


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_survives_each_fault(department: Department, fault: str) -> None:
    clean_subjects = keys(await pull_family(department.connector))
    clean_bulk = keys(await pull_everything(department.fresh_connector(page_size=3)))
    await department.set_faults(**FAULTS[fault])
    subjects = await pull_family(department.fresh_connector())
    bulk = await pull_everything(department.fresh_connector(page_size=3))
    if fault == "malformed records":
        assert keys(subjects) <= clean_subjects
        assert keys(bulk) <= clean_bulk
        skipped = subjects.skipped + bulk.skipped
        assert skipped
        text = " ".join(str(s) + repr(s) + str(s.subject_ref) for s in skipped)
        assert not any(person in text for person in (*FAMILY, PEOPLE.outsider))
    else:
        assert keys(subjects) == clean_subjects
        assert keys(bulk) == clean_bulk
