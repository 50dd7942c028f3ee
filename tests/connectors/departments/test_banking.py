"""The banking connector's edges: lost jobs, waiting, exact money, bulk dates, malformed persons."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from connectors.base import DepartmentAccess, SubjectQuery
from connectors.departments.banking import BankingConnector, last_month_end
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import CallPolicy, DepartmentClient
from graph.model import BalanceRecord, FinancialProductRecord
from sandbox.servers import banking
from sandbox.servers.runtime import load_runtime
from tests.connectors.cases.banking import seed
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    AS_OF,
    AUTH_OK,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    credentials,
)

pytestmark = pytest.mark.anyio
FAST = CallPolicy(attempts=4, timeout=2.0, backoff_initial=0.01, backoff_max=0.02)
QUERY = SubjectQuery((PEOPLE.head, PEOPLE.child), AUTH_OK, date(2026, 11, 1))
ACCOUNT = {
    "account_no": "6222020000000001",
    "bank": "工商银行",
    "kind": "demand",
    "opened_on": "2015-03-01",
    "closed_on": None,
    "balance": 5000.36,
    "balance_date": "2026-10-31",
}
PRODUCT = {
    "product_id": "P3",
    "bank": "新乡银行",
    "kind": "insurance",
    "principal": 20000.5,
    "bought_on": "2026-02-01",
    "matures_on": None,
}
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def person(
    id_number: str = PEOPLE.head, status: str = "ok", accounts: Any = (), products: Any = ()
) -> dict[str, Any]:
    return {
        "id_number": id_number,
        "status": status,
        "accounts": list(accounts),
        "products": list(products),
    }


def accepted(job_id: str, wait_ms: int = 0) -> httpx.Response:
    status = "processing" if wait_ms else "completed"
    return httpx.Response(202, json={"job_id": job_id, "status": status, "poll_after_ms": wait_ms})


def completed(job_id: str, pages: int = 1, **extra: object) -> httpx.Response:
    body = {"job_id": job_id, "status": "completed", "pages": pages, "page_size": 2, **extra}
    return httpx.Response(200, json=body)


def processing(job_id: str, wait_ms: int) -> httpx.Response:
    body = {"job_id": job_id, "status": "processing", "poll_after_ms": wait_ms, "page_size": 2}
    return httpx.Response(200, json=body)


def results(job_id: str, persons: list[dict[str, Any]], page: int = 1) -> httpx.Response:
    body = {"job_id": job_id, "page": page, "pages": 1, "as_of": "2026-11-01", "persons": persons}
    return httpx.Response(200, json=body)


def rejected(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"status": "REJECTED", "reason_code": code, "reason": "x"})


class Bank:
    """A scripted bank: per (method, path) a queue of answers; the last one repeats."""

    def __init__(self, script: dict[tuple[str, str], list[Answer]]) -> None:
        self.script = script
        self.seen: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        queue = self.script[(request.method, request.url.path)]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.seen]

    def connector(self, kind: type[BankingConnector] = BankingConnector) -> BankingConnector:
        http = httpx.AsyncClient(
            transport=httpx.MockTransport(self.handle), base_url="http://bank.test"
        )
        access = DepartmentAccess("http://bank.test", "inst", "api-key", BULK_AGREEMENT)
        return kind(access, DepartmentClient("banking", http, FAST), lambda v: f"ref-{len(v)}")


J = "/bank/v1/enquiries"


async def test_a_subject_enquiry_runs_the_job_and_reads_every_page() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1", 30)],
            ("GET", f"{J}/j1"): [processing("j1", 30), completed("j1", pages=2)],
            ("GET", f"{J}/j1/results"): [
                results("j1", [person(accounts=[ACCOUNT])]),
                results("j1", [person(PEOPLE.child, products=[PRODUCT])], page=2),
            ],
        }
    )
    started = time.monotonic()
    parsed = await bank.connector().pull_subjects(QUERY)
    assert time.monotonic() - started >= 0.06  # poll_after_ms honoured twice
    assert bank.paths() == [f"POST {J}", *[f"GET {J}/j1"] * 2, *[f"GET {J}/j1/results"] * 2]
    submit = bank.seen[0]
    assert json.loads(submit.content) == {
        "id_numbers": list(QUERY.id_numbers),
        "as_of": "2026-11-01",
    }
    assert submit.headers["x-authorisation-no"] == AUTH_OK
    assert {r.headers["x-institution"] for r in bank.seen} == {"inst"}
    assert {r.headers["x-api-key"] for r in bank.seen} == {"api-key"}
    assert [r.url.params["page"] for r in bank.seen[3:]] == ["1", "2"]
    assert [(r.kind, r.source_record_id) for r in parsed.records] == [
        ("bank_account", "6222020000000001"),
        ("balance", "6222020000000001@2026-10-31"),
        ("financial_product", "P3"),
    ]


@pytest.mark.parametrize("lost", [rejected(404, "JOB_NOT_FOUND"), rejected(410, "JOB_EXPIRED")])
async def test_a_lost_job_is_submitted_again(lost: httpx.Response) -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1"), accepted("j2")],
            ("GET", f"{J}/j1"): [lost],
            ("GET", f"{J}/j2"): [completed("j2")],
            ("GET", f"{J}/j2/results"): [results("j2", [person(accounts=[ACCOUNT])])],
        }
    )
    parsed = await bank.connector().pull_subjects(QUERY)
    assert bank.paths().count(f"POST {J}") == 2
    assert len(parsed.records) == 2


async def test_a_job_lost_while_reading_its_pages_is_submitted_again() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1"), accepted("j2")],
            ("GET", f"{J}/j1"): [completed("j1", pages=2)],
            ("GET", f"{J}/j1/results"): [results("j1", [person()]), rejected(404, "JOB_NOT_FOUND")],
            ("GET", f"{J}/j2"): [completed("j2")],
            ("GET", f"{J}/j2/results"): [results("j2", [person(accounts=[ACCOUNT])])],
        }
    )
    parsed = await bank.connector().pull_subjects(QUERY)
    assert len(parsed.records) == 2  # only the second job's pages


async def test_a_job_lost_twice_fails_retriably() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1"), accepted("j2"), accepted("j3")],
            ("GET", f"{J}/j1"): [rejected(404, "JOB_NOT_FOUND")],
            ("GET", f"{J}/j2"): [rejected(410, "JOB_EXPIRED")],
        }
    )
    with pytest.raises(RetriableSourceError, match="lost the enquiry job twice"):
        await bank.connector().pull_subjects(QUERY)
    assert bank.paths().count(f"POST {J}") == 2


async def test_a_page_outside_the_job_is_fatal() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1")],
            ("GET", f"{J}/j1"): [completed("j1")],
            ("GET", f"{J}/j1/results"): [rejected(404, "PAGE_NOT_FOUND")],
        }
    )
    with pytest.raises(FatalSourceError):
        await bank.connector().pull_subjects(QUERY)


async def test_results_not_ready_are_waited_on() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1")],
            ("GET", f"{J}/j1"): [completed("j1")],
            ("GET", f"{J}/j1/results"): [
                rejected(409, "JOB_NOT_READY"),
                results("j1", [person(accounts=[ACCOUNT])]),
            ],
        }
    )
    parsed = await bank.connector().pull_subjects(QUERY)
    assert bank.paths().count(f"GET {J}/j1/results") == 2
    assert len(parsed.records) == 2


class Impatient(BankingConnector):
    max_job_wait: ClassVar[float] = 0.3


async def test_a_job_that_never_completes_fails_retriably_in_bounded_time() -> None:
    bank = Bank({("POST", J): [accepted("j1", 50)], ("GET", f"{J}/j1"): [processing("j1", 50)]})
    started = time.monotonic()
    with pytest.raises(RetriableSourceError, match=r"not completed within 0\.3 s"):
        await bank.connector(Impatient).pull_subjects(QUERY)
    assert time.monotonic() - started < 1.0
    assert 3 <= bank.paths().count(f"GET {J}/j1") <= 7


async def test_money_is_read_from_the_digits_sent() -> None:
    """0.00499999999999999999 is 0.005 as a float (a fen, rounding half up); as sent, 0 fen."""
    persons = [
        person(
            accounts=[{**ACCOUNT, "balance": "<B>"}],
            products=[PRODUCT, {**PRODUCT, "product_id": "P4", "principal": "<P>"}],
        )
    ]
    text = json.dumps({"job_id": "j1", "page": 1, "pages": 1, "persons": persons})
    text = text.replace('"<B>"', "0.00499999999999999999").replace('"<P>"', "99999999999.99")
    body = text.encode()
    bank = Bank(
        {
            ("POST", J): [accepted("j1")],
            ("GET", f"{J}/j1"): [completed("j1")],
            ("GET", f"{J}/j1/results"): [httpx.Response(200, content=body)],
        }
    )
    parsed = await bank.connector().pull_subjects(QUERY)
    (balance,) = [r for r in parsed.records if isinstance(r, BalanceRecord)]
    assert balance.balance_fen == 0
    products = [r for r in parsed.records if isinstance(r, FinancialProductRecord)]
    assert [p.principal_fen for p in products] == [2000050, 9999999999999]


async def test_bulk_asks_as_of_a_month_end_and_pages_by_next_after() -> None:
    bank = Bank(
        {
            ("POST", "/bank/v1/bulk-enquiries"): [accepted("b1"), accepted("b2")],
            ("GET", f"{J}/b1"): [completed("b1", next_after=PEOPLE.head)],
            ("GET", f"{J}/b1/results"): [results("b1", [person(accounts=[ACCOUNT])])],
            ("GET", f"{J}/b2"): [completed("b2", next_after=None)],
            ("GET", f"{J}/b2/results"): [results("b2", [])],
        }
    )
    banks = bank.connector()
    banks.page_size = 5000
    first, cursor = await banks.pull_bulk_page("holders", None)
    assert cursor == PEOPLE.head
    assert len(first.records) == 2
    last, cursor = await banks.pull_bulk_page("holders", cursor)
    assert cursor is None
    assert last.records == []
    bodies = [json.loads(r.content) for r in bank.seen if r.method == "POST"]
    month_end = last_month_end(date.today()).isoformat()
    assert bodies == [
        {"as_of": month_end, "after": "", "limit": 2000},
        {"as_of": month_end, "after": PEOPLE.head, "limit": 2000},
    ]
    assert {r.headers["x-authorisation-no"] for r in bank.seen if r.method == "POST"} == {
        BULK_AGREEMENT
    }


@pytest.mark.parametrize(
    ("today", "month_end"),
    [
        (date(2026, 11, 29), date(2026, 10, 31)),
        (date(2026, 10, 31), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 10, 31)),
        (date(2024, 3, 1), date(2024, 2, 29)),
        (date(2026, 1, 15), date(2025, 12, 31)),
        (date(2026, 12, 31), date(2026, 12, 31)),
    ],
)
def test_last_month_end(today: date, month_end: date) -> None:
    assert last_month_end(today) == month_end


def parse(*persons: object) -> Any:
    return Bank({}).connector().parse(list(persons), datetime.now(UTC))


def test_persons_with_nothing_held_yield_nothing() -> None:
    parsed = parse(
        person(status="not_found"), person(status="not_authorised"), person(status="invalid_id")
    )
    assert parsed.records == []
    assert parsed.skipped == []


def test_an_account_without_a_balance_yields_only_the_account() -> None:
    parsed = parse(person(accounts=[{**ACCOUNT, "balance": None, "balance_date": None}]))
    assert [r.kind for r in parsed.records] == ["bank_account"]


@pytest.mark.parametrize(
    ("damaged", "reason"),
    [
        (person(status=None), "malformed item (ValueError)"),  # type: ignore[arg-type]
        ({**person(), "accounts": "###"}, "malformed item (TypeError)"),
        ({k: v for k, v in person().items() if k != "products"}, "malformed item (KeyError)"),
        (person(accounts=[{**ACCOUNT, "balance_date": None}]), "malformed item (ValueError)"),
        (person(accounts=[{**ACCOUNT, "balance": "5000.36"}]), "malformed item (TypeError)"),
        (person(products=[{**PRODUCT, "principal": None}]), "malformed item (TypeError)"),
        (
            person(accounts=[{**ACCOUNT, "account_no": "62-22"}]),
            "invalid record (account_no:string_pattern_mismatch)",
        ),
        (
            person(PEOPLE.head[:-1] + "0", accounts=[ACCOUNT]),
            "invalid record (id_number:value_error)",
        ),
    ],
)
def test_a_malformed_person_is_skipped_without_its_id_number(
    damaged: dict[str, Any], reason: str
) -> None:
    parsed = parse(damaged)
    assert parsed.records == []
    (skipped,) = parsed.skipped
    assert skipped.reason == reason
    assert skipped.subject_ref == "ref-18"  # the blind index, never the ID number
    text = str(skipped) + repr(skipped) + skipped.reason
    assert PEOPLE.head[:-1] not in text


async def test_a_stranger_in_the_answer_is_dropped() -> None:
    bank = Bank(
        {
            ("POST", J): [accepted("j1")],
            ("GET", f"{J}/j1"): [completed("j1")],
            ("GET", f"{J}/j1/results"): [
                results(
                    "j1", [person(accounts=[ACCOUNT]), person(PEOPLE.outsider, products=[PRODUCT])]
                )
            ],
        }
    )
    parsed = await bank.connector().pull_subjects(QUERY)
    assert {r.kind for r in parsed.records} == {"bank_account", "balance"}


async def test_against_the_real_bank_polls_as_asked(tmp_path: Path) -> None:
    city = tmp_path / "city"
    build_tiny_city(city)
    seed(city)
    app = banking.create_app(load_runtime(city, "banking"), job_delay_seconds=0.3, page_size=2)
    own = credentials()["departments"]["banking"]  # type: ignore[index]
    with serve_app(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            access = DepartmentAccess(base_url, own["client_id"], own["secret"], BULK_AGREEMENT)
            banks = BankingConnector(access, DepartmentClient("banking", http, FAST), str)
            started = time.monotonic()
            family = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child)
            parsed = await banks.pull_subjects(SubjectQuery(family, AUTH_OK, AS_OF))
            assert time.monotonic() - started >= 0.3
    assert len(parsed.records) == 7
    assert banks.client.stats.requests <= 1 + 2 + 2  # submit, at most two polls, two pages


async def test_the_next_bulk_job_is_submitted_as_soon_as_the_current_one_completes() -> None:
    bank = Bank(
        {
            ("POST", "/bank/v1/bulk-enquiries"): [accepted("b1"), accepted("b2")],
            ("GET", f"{J}/b1"): [completed("b1", pages=2, next_after=PEOPLE.head)],
            ("GET", f"{J}/b1/results"): [
                results("b1", [person(accounts=[ACCOUNT])]),
                results("b1", [person(PEOPLE.child, products=[PRODUCT])], page=2),
            ],
            ("GET", f"{J}/b2"): [completed("b2", next_after=None)],
            ("GET", f"{J}/b2/results"): [results("b2", [])],
        }
    )
    banks = bank.connector()
    first, cursor = await banks.pull_bulk_page("holders", None)
    assert cursor == PEOPLE.head
    assert [r.kind for r in first.records] == ["bank_account", "balance", "financial_product"]
    # b2 went out before b1's result pages were read, and is not submitted a second time
    paths = bank.paths()
    assert paths.index("POST /bank/v1/bulk-enquiries", 1) < paths.index(f"GET {J}/b1/results")
    last, cursor = await banks.pull_bulk_page("holders", cursor)
    assert (last.records, cursor) == ([], None)
    assert bank.paths().count("POST /bank/v1/bulk-enquiries") == 2
    bodies = [json.loads(r.content)["after"] for r in bank.seen if r.method == "POST"]
    assert bodies == ["", PEOPLE.head]


async def test_result_pages_read_at_once_keep_their_order_and_fail_together() -> None:
    pages = {"1": results("j1", [person(accounts=[ACCOUNT])]), "2": rejected(403, "FORBIDDEN")}

    def page(request: httpx.Request) -> httpx.Response:
        return pages.get(request.url.params["page"], results("j1", []))

    bank = Bank(
        {
            ("POST", J): [accepted("j1")],
            ("GET", f"{J}/j1"): [completed("j1", pages=9)],
            ("GET", f"{J}/j1/results"): [page],
        }
    )
    with pytest.raises(FatalSourceError, match="HTTP 403"):
        await bank.connector().pull_subjects(QUERY)
    pages["2"] = results("j1", [person(PEOPLE.child, products=[PRODUCT])])
    parsed = await bank.connector().pull_subjects(QUERY)
    assert [r.kind for r in parsed.records] == ["bank_account", "balance", "financial_product"]
