"""The bank's asynchronous protocol: jobs, balances as of a date, consent, bulk jobs and faults."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.servers import banking
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AUTH_EXPIRED,
    AUTH_NO_BANKING,
    AUTH_OK,
    AUTH_REVOKED,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    department_db,
    id_number,
)

CREDENTIAL = {"x-institution": "mz-test-banking", "x-api-key": "secret-banking-0123456789"}
OTHER = {"x-institution": "mz-test-other-branch", "x-api-key": "other-key-0123456789"}
ENQUIRIES = "/bank/v1/enquiries"
BULK = "/bank/v1/bulk-enquiries"
DELAY = 0.2
BAD_ID = "41070219700312001X"
EXTRAS = [id_number("410702", f"1990010{n}", 100 + n) for n in range(1, 7)]
HEAD_DEMAND, HEAD_TIME, SPOUSE_NEW, OUTSIDER_ACCOUNT = (
    "6222020000000001",
    "6227000000000002",
    "6222020000000003",
    "6217000000000004",
)


def month_ends() -> list[str]:
    months = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]
    return [f"{y}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}" for y, m in months]


def balance_fen(account: str, month_end: str) -> int:
    """Distinct per account and month, with cents: 1000.07 * month number + account tag."""
    return 100007 * int(month_end[5:7]) + int(account[-1])


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("banking") / "city"
    build_tiny_city(data_dir)
    accounts = [
        (HEAD_DEMAND, PEOPLE.head, "工商银行", "demand", "2015-03-01", None),
        (HEAD_TIME, PEOPLE.head, "建设银行", "time", "2020-01-01", "2026-03-15"),
        (SPOUSE_NEW, PEOPLE.spouse, "工商银行", "demand", "2026-08-01", None),
        (OUTSIDER_ACCOUNT, PEOPLE.outsider, "农业银行", "demand", "2018-05-05", None),
    ]
    accounts += [
        (f"62100000000001{n:02d}", person, "新乡银行", "demand", "2019-01-01", None)
        for n, person in enumerate(EXTRAS)
    ]
    balances = [
        (account[0], month_end, balance_fen(account[0], month_end))
        for account in accounts
        for month_end in month_ends()
        if account[4] <= month_end and (account[5] is None or account[5] >= month_end)
    ]
    products = [
        ("P1", PEOPLE.head, "工商银行", "wealth_management", 5000000, "2025-06-01", "2026-05-31"),
        ("P2", PEOPLE.head, "建设银行", "fund", 123456, "2026-01-10", None),
        ("P3", PEOPLE.child, "新乡银行", "insurance", 2000050, "2026-02-01", None),
    ]
    with department_db(data_dir, "banking") as db:
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", accounts)
        db.executemany("INSERT INTO balances VALUES (?, ?, ?)", balances)
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)", products)
    db.close()
    return data_dir


@contextmanager
def serve(city: Path, **options: Any) -> Iterator[httpx.Client]:
    options = {"job_delay_seconds": DELAY, "page_size": 2, **options}
    other = {OTHER["x-institution"]: OTHER["x-api-key"]}
    app = banking.create_app(load_runtime(city, "banking"), extra_clients=other, **options)
    with serve_app(app) as base, httpx.Client(base_url=base, headers=CREDENTIAL, timeout=5) as c:
        yield c


@pytest.fixture(scope="module")
def shared(city: Path) -> Iterator[httpx.Client]:
    with serve(city) as client:
        yield client


@pytest.fixture
def client(shared: httpx.Client) -> Iterator[httpx.Client]:
    yield shared
    set_faults(shared)  # none, for the next test


def set_faults(client: httpx.Client, **faults: object) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN})
    assert response.status_code == 200


def submit(
    client: httpx.Client, ids: list[str], as_of: str = "2026-06-15", auth_no: str = AUTH_OK
) -> httpx.Response:
    body = {"id_numbers": ids, "as_of": as_of}
    return client.post(ENQUIRIES, json=body, headers={"x-authorisation-no": auth_no})


def submit_bulk(client: httpx.Client, body: Any, auth_no: str = BULK_AGREEMENT) -> httpx.Response:
    return client.post(BULK, json=body, headers={"x-authorisation-no": auth_no})


def completed(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Poll the job as a connector would, honouring poll_after_ms, until it completes."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"{ENQUIRIES}/{job_id}").json()
        if status["status"] == "completed":
            return status
        time.sleep(status["poll_after_ms"] / 1000)
    raise AssertionError("the job did not complete")


def all_persons(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    pages = completed(client, job_id)["pages"]
    persons: list[dict[str, Any]] = []
    for page in range(1, pages + 1):
        persons += client.get(f"{ENQUIRIES}/{job_id}/results", params={"page": page}).json()[
            "persons"
        ]
    return persons


def enquire(client: httpx.Client, ids: list[str], as_of: str) -> dict[str, dict[str, Any]]:
    job = submit(client, ids, as_of).json()
    return {person["id_number"]: person for person in all_persons(client, job["job_id"])}


def reason(response: httpx.Response) -> str:
    body = response.json()
    assert body["status"] == "REJECTED"
    assert body["reason"]
    code: str = body["reason_code"]
    return code


def test_balances_and_products_as_of_a_date(client: httpx.Client) -> None:
    ids = [PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider, BAD_ID]
    persons = enquire(client, ids, "2026-06-15")
    head = persons[PEOPLE.head]
    assert head["status"] == "ok"
    assert head["accounts"] == [
        {
            "account_no": HEAD_DEMAND,
            "bank": "工商银行",
            "kind": "demand",
            "opened_on": "2015-03-01",
            "closed_on": None,
            "balance": 5000.36,  # the 2026-05-31 month end: 100007 * 5 + 1 fen
            "balance_date": "2026-05-31",
        }
    ]  # the time account closed on 2026-03-15, before as_of
    assert head["products"] == [
        {
            "product_id": "P2",
            "bank": "建设银行",
            "kind": "fund",
            "principal": 1234.56,
            "bought_on": "2026-01-10",
            "matures_on": None,
        }
    ]  # P1 matured on 2026-05-31
    assert persons[PEOPLE.spouse] == {
        "id_number": PEOPLE.spouse,
        "status": "not_found",  # the account was opened after as_of
        "accounts": [],
        "products": [],
    }
    assert persons[PEOPLE.child]["status"] == "ok"
    assert persons[PEOPLE.child]["products"][0]["principal"] == 20000.5
    assert persons[PEOPLE.outsider] == {
        "id_number": PEOPLE.outsider,
        "status": "not_authorised",
        "accounts": [],
        "products": [],
    }
    assert persons[BAD_ID]["status"] == "invalid_id"


@pytest.mark.parametrize(
    ("as_of", "expected", "products"),
    [
        ("2026-02-28", {HEAD_DEMAND: "2026-02-28", HEAD_TIME: "2026-02-28"}, ["P1", "P2"]),
        ("2026-03-15", {HEAD_DEMAND: "2026-02-28", HEAD_TIME: "2026-02-28"}, ["P1", "P2"]),
        ("2026-03-31", {HEAD_DEMAND: "2026-03-31"}, ["P1", "P2"]),
        ("2026-05-31", {HEAD_DEMAND: "2026-05-31"}, ["P1", "P2"]),  # P1 matures that day
        ("2026-10-31", {HEAD_DEMAND: "2026-10-31"}, ["P2"]),
        ("2025-11-29", {HEAD_DEMAND: None, HEAD_TIME: None}, ["P1"]),  # before any month end
    ],
    ids=["month end", "closed that day", "after closing", "maturity day", "today", "no balance"],
)
def test_balance_is_the_latest_month_end_on_or_before_as_of(
    client: httpx.Client, as_of: str, expected: dict[str, str | None], products: list[str]
) -> None:
    head = enquire(client, [PEOPLE.head], as_of)[PEOPLE.head]
    dates = {account["account_no"]: account["balance_date"] for account in head["accounts"]}
    assert dates == expected
    for account in head["accounts"]:
        month_end = account["balance_date"]
        fen = None if month_end is None else balance_fen(account["account_no"], month_end)
        assert account["balance"] == (None if fen is None else round(fen / 100, 2))
    assert [product["product_id"] for product in head["products"]] == products


def test_job_lifecycle(client: httpx.Client) -> None:
    ids = [PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider, BAD_ID]
    accepted = submit(client, ids)
    assert accepted.status_code == 202
    job = accepted.json()
    assert job["status"] == "processing"
    assert 0 < job["poll_after_ms"] <= DELAY * 1000
    assert len(job["job_id"]) >= 32
    job_id = job["job_id"]
    processing = client.get(f"{ENQUIRIES}/{job_id}").json()
    assert processing["status"] == "processing"
    assert "pages" not in processing
    not_ready = client.get(f"{ENQUIRIES}/{job_id}/results")
    assert not_ready.status_code == 409
    assert reason(not_ready) == "JOB_NOT_READY"
    status = completed(client, job_id)
    assert status == {"job_id": job_id, "status": "completed", "pages": 3, "page_size": 2}
    pages = [client.get(f"{ENQUIRIES}/{job_id}/results", params={"page": n}) for n in (1, 2, 3)]
    assert [page.json()["page"] for page in pages] == [1, 2, 3]
    assert {page.json()["pages"] for page in pages} == {3}
    assert {page.json()["as_of"] for page in pages} == {"2026-06-15"}
    assert [p["id_number"] for page in pages for p in page.json()["persons"]] == ids
    first = client.get(f"{ENQUIRIES}/{job_id}/results")  # page 1 by default
    assert first.json() == pages[0].json()


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=4", 404, "PAGE_NOT_FOUND"),
        ("page=0", 404, "PAGE_NOT_FOUND"),
        ("page=-1", 400, "INVALID_PAGE"),
        ("page=two", 400, "INVALID_PAGE"),
        ("page=1&size=5", 400, "UNKNOWN_PARAMETER"),
    ],
)
def test_bad_result_pages(client: httpx.Client, query: str, status: int, code: str) -> None:
    ids = [PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider, BAD_ID]
    job_id = submit(client, ids).json()["job_id"]
    completed(client, job_id)
    response = client.get(f"{ENQUIRIES}/{job_id}/results?{query}")
    assert response.status_code == status
    assert reason(response) == code


def test_unknown_and_other_institutions_jobs_are_not_found(client: httpx.Client) -> None:
    job_id = submit(client, [PEOPLE.head]).json()["job_id"]
    for path in (f"{ENQUIRIES}/{job_id}", f"{ENQUIRIES}/{job_id}/results"):
        foreign = client.get(path, headers=OTHER)
        assert foreign.status_code == 404
        assert reason(foreign) == "JOB_NOT_FOUND"
    unknown = client.get(f"{ENQUIRIES}/{job_id[:-1]}x/results")
    assert unknown.status_code == 404
    assert reason(unknown) == "JOB_NOT_FOUND"
    assert completed(client, job_id)["pages"] == 1  # its owner still sees it
    assert client.get(f"{ENQUIRIES}/{job_id}/results").status_code == 200


def test_results_expire(city: Path) -> None:
    with serve(city, job_delay_seconds=0.05, job_ttl_seconds=0.3) as client:
        job_id = submit(client, [PEOPLE.head]).json()["job_id"]
        completed(client, job_id)
        assert client.get(f"{ENQUIRIES}/{job_id}/results").status_code == 200
        time.sleep(0.4)
        for path in (f"{ENQUIRIES}/{job_id}", f"{ENQUIRIES}/{job_id}/results"):
            gone = client.get(path)
            assert gone.status_code == 410
            assert reason(gone) == "JOB_EXPIRED"


def test_the_oldest_job_is_forgotten(city: Path) -> None:
    with serve(city, job_delay_seconds=0, max_jobs=2) as client:
        jobs = [submit(client, [PEOPLE.head]).json() for _ in range(3)]
        assert [job["status"] for job in jobs] == ["completed"] * 3
        assert len({job["job_id"] for job in jobs}) == 3
        oldest = client.get(f"{ENQUIRIES}/{jobs[0]['job_id']}")
        assert oldest.status_code == 404
        assert reason(oldest) == "JOB_NOT_FOUND"
        assert client.get(f"{ENQUIRIES}/{jobs[1]['job_id']}").status_code == 200


@pytest.mark.parametrize(
    ("auth_no", "status", "code"),
    [
        ("", 400, "MISSING_AUTHORISATION"),
        ("SQ0000000000000000", 403, "UNKNOWN_AUTHORISATION"),
        (AUTH_EXPIRED, 403, "AUTHORISATION_EXPIRED"),
        (AUTH_REVOKED, 403, "AUTHORISATION_REVOKED"),
        (AUTH_NO_BANKING, 403, "DEPARTMENT_NOT_COVERED"),
        (BULK_AGREEMENT, 403, "UNKNOWN_AUTHORISATION"),
    ],
)
def test_authorisation_is_checked_at_submission(
    client: httpx.Client, auth_no: str, status: int, code: str
) -> None:
    response = submit(client, [PEOPLE.head], auth_no=auth_no)
    assert response.status_code == status
    assert reason(response) == code


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"id_numbers": [], "as_of": "2026-06-15"}, 400, "EMPTY_BATCH"),
        (
            {"id_numbers": [f"x{i}" for i in range(101)], "as_of": "2026-06-15"},
            413,
            "BATCH_TOO_LARGE",
        ),
        ({"id_numbers": PEOPLE.head, "as_of": "2026-06-15"}, 400, "MALFORMED_BODY"),
        ({"id_numbers": [1], "as_of": "2026-06-15"}, 400, "MALFORMED_BODY"),
        ({"id_numbers": [PEOPLE.head], "as_of": "2026-06-15", "x": 1}, 400, "UNKNOWN_PARAMETER"),
        ([PEOPLE.head], 400, "MALFORMED_BODY"),
        ({"id_numbers": [PEOPLE.head], "as_of": "2026-11-02"}, 400, "INVALID_AS_OF"),
        ({"id_numbers": [PEOPLE.head], "as_of": "2026-02-30"}, 400, "INVALID_AS_OF"),
        ({"id_numbers": [PEOPLE.head], "as_of": "20260101"}, 400, "INVALID_AS_OF"),
        ({"id_numbers": [PEOPLE.head], "as_of": "2026-W01-1"}, 400, "INVALID_AS_OF"),
        ({"id_numbers": [PEOPLE.head], "as_of": 20260101}, 400, "INVALID_AS_OF"),
        ({"id_numbers": [PEOPLE.head]}, 400, "INVALID_AS_OF"),
    ],
)
def test_bad_input_is_a_clear_error(
    client: httpx.Client, body: Any, status: int, code: str
) -> None:
    response = client.post(ENQUIRIES, json=body, headers={"x-authorisation-no": AUTH_OK})
    assert response.status_code == status
    assert reason(response) == code


def test_malformed_json_and_today_as_of(client: httpx.Client) -> None:
    not_json = client.post(ENQUIRIES, content=b"{", headers={"x-authorisation-no": AUTH_OK})
    assert not_json.status_code == 400
    assert reason(not_json) == "MALFORMED_BODY"
    assert submit(client, [PEOPLE.head], as_of="2026-11-01").status_code == 202  # today itself


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-institution": "mz-test-banking"},
        {**CREDENTIAL, "x-api-key": "wrong"},
        {**CREDENTIAL, "x-institution": "mz-test-other-branch"},
    ],
)
def test_credentials_are_required(
    city: Path, client: httpx.Client, headers: dict[str, str]
) -> None:
    bare = httpx.Client(base_url=client.base_url, headers=headers, timeout=5)
    with bare:
        response = bare.post(
            ENQUIRIES,
            json={"id_numbers": [PEOPLE.head], "as_of": "2026-06-15"},
            headers={"x-authorisation-no": AUTH_OK},
        )
        assert bare.get(f"{ENQUIRIES}/anything").status_code == 401
    assert response.status_code == 401
    assert reason(response) == "UNAUTHENTICATED"
    last = load_runtime(city, "banking").log.entries()[-1]
    assert (last["client"], last["status"], last["ids"]) == (None, 401, [])


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert reason(client.get("/bank/v1/nothing")) == "NOT_FOUND"
    assert client.get(BULK).status_code == 405


def test_bulk_pages_through_every_holder_exactly_once(client: httpx.Client) -> None:
    seen: list[str] = []
    after: str | None = ""
    jobs = 0
    while after is not None:
        accepted = submit_bulk(client, {"as_of": "2026-10-31", "after": after, "limit": 3})
        assert accepted.status_code == 202
        job_id = accepted.json()["job_id"]
        status = completed(client, job_id)
        persons = all_persons(client, job_id)
        assert all(person["status"] == "ok" for person in persons)
        seen += [person["id_number"] for person in persons]
        after = status["next_after"]
        jobs += 1
    holders = sorted([PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider, *EXTRAS])
    assert seen == holders  # in order, each once; the elder holds nothing
    assert jobs == 4
    earlier = submit_bulk(client, {"as_of": "2026-06-15"}).json()["job_id"]
    assert PEOPLE.spouse not in [p["id_number"] for p in all_persons(client, earlier)]
    assert completed(client, earlier)["next_after"] is None


@pytest.mark.parametrize(
    ("body", "auth_no", "status", "code"),
    [
        ({"as_of": "2026-10-31"}, AUTH_OK, 403, "NOT_A_BULK_AGREEMENT"),
        ({"as_of": "2026-10-31"}, "", 400, "MISSING_AUTHORISATION"),
        ({"as_of": "2026-10-31", "limit": 0}, BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ({"as_of": "2026-10-31", "limit": 2001}, BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ({"as_of": "2026-10-31", "limit": "5"}, BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ({"as_of": "2026-10-31", "limit": True}, BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ({"as_of": "2026-10-31", "after": 5}, BULK_AGREEMENT, 400, "MALFORMED_BODY"),
        ({"as_of": "2026-10-31", "cursor": ""}, BULK_AGREEMENT, 400, "UNKNOWN_PARAMETER"),
        ({"as_of": "2027-01-01"}, BULK_AGREEMENT, 400, "INVALID_AS_OF"),
    ],
)
def test_bulk_refusals(
    client: httpx.Client, body: dict[str, Any], auth_no: str, status: int, code: str
) -> None:
    response = submit_bulk(client, body, auth_no)
    assert response.status_code == status
    assert reason(response) == code


def test_request_log_names_who_asked_for_whom(client: httpx.Client, city: Path) -> None:
    submit(client, [PEOPLE.head, PEOPLE.spouse])
    submit(client, [PEOPLE.child], auth_no=AUTH_REVOKED)  # refused, logged all the same
    submit_bulk(client, {"as_of": "2026-10-31", "limit": 2})
    asked, refused, bulk = load_runtime(city, "banking").log.entries()[-3:]
    assert asked["client"] == "mz-test-banking"
    assert asked["auth_no"] == AUTH_OK
    assert asked["ids"] == [id_digest(PEOPLE.head), id_digest(PEOPLE.spouse)]
    assert (refused["auth_no"], refused["ids"]) == (AUTH_REVOKED, [id_digest(PEOPLE.child)])
    assert (bulk["auth_no"], bulk["bulk"], bulk["ids"]) == (BULK_AGREEMENT, True, [])
    text = (city / "logs" / "banking-requests.jsonl").read_text()
    assert all(person not in text for person in (PEOPLE.head, PEOPLE.spouse, PEOPLE.child))


def test_error_fault(client: httpx.Client) -> None:
    set_faults(client, error_rate=1.0)
    assert submit(client, [PEOPLE.head]).status_code in {500, 502, 503}


def test_timeout_fault(client: httpx.Client) -> None:
    job_id = submit(client, [PEOPLE.head]).json()["job_id"]
    set_faults(client, timeout_rate=1.0, timeout_seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{ENQUIRIES}/{job_id}", timeout=0.3)


def test_dropped_connection_fault(client: httpx.Client) -> None:
    job_id = submit(client, [PEOPLE.head]).json()["job_id"]
    completed(client, job_id)
    set_faults(client, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{ENQUIRIES}/{job_id}/results")


def test_latency_fault(client: httpx.Client) -> None:
    set_faults(client, latency_ms=300)
    response = submit(client, [PEOPLE.head])
    assert response.status_code == 202
    assert response.elapsed.total_seconds() >= 0.3


def test_record_faults(city: Path) -> None:
    with serve(city, page_size=5) as client:
        job_id = submit(client, [PEOPLE.head, PEOPLE.spouse, PEOPLE.child, BAD_ID]).json()["job_id"]
        completed(client, job_id)

        def persons() -> list[dict[str, Any]]:
            page = client.get(f"{ENQUIRIES}/{job_id}/results").json()
            assert page["pages"] == 1
            result: list[dict[str, Any]] = page["persons"]
            return result

        clean = persons()
        set_faults(client, duplicate_rate=1.0)
        assert len(persons()) == 2 * len(clean)
        set_faults(client, malformed_rate=1.0, seed=7)
        broken = persons()
        assert all(item != original for item, original in zip(broken, clean, strict=True))
        set_faults(client, out_of_order=True, seed=1)
        shuffled = [person["id_number"] for person in persons()]
        assert sorted(shuffled) == sorted(person["id_number"] for person in clean)
        assert shuffled != [person["id_number"] for person in clean]
        set_faults(client)
        assert persons() == clean  # the stored job was not damaged by the faults
