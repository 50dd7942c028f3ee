"""The tax server's protocol: request signing, rate limits, consent, the changes feed and faults.

The signing helper here is written from the module docstring of `sandbox.servers.tax`,
not from its code, so that a mismatch between the two fails these tests.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import secrets
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.servers import tax
from sandbox.servers.errors import DepartmentError
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AUTH_EXPIRED,
    AUTH_NO_TAX,
    AUTH_OK,
    AUTH_REVOKED,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    department_db,
)

KEY = "mz-test-tax"
SECRET = "secret-tax-0123456789"
OTHER_KEY = "mz-test-tax-second"
OTHER_SECRET = "second-secret-9876543210"
INCOME = "/tax/v2/income"
CHANGES = "/tax/v2/income/changes"
PERIOD = {"from": "2025-11", "to": "2026-10"}
BAD_ID = "41070219700312001X"


def signed_headers(
    method: str,
    target: str,
    body: bytes = b"",
    *,
    key: str = KEY,
    secret: str = SECRET,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(24)
    text = "\n".join([method, target, hashlib.sha256(body).hexdigest(), stamp, nonce])
    signature = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Tax-Key": key,
        "X-Tax-Timestamp": stamp,
        "X-Tax-Nonce": nonce,
        "X-Tax-Signature": signature,
    }


class TaxSigner(httpx.Auth):
    """Signs every request as the tax docstring says: method, path+query, body hash, time, nonce."""

    requires_request_body = True

    def __init__(self, key: str = KEY, secret: str = SECRET) -> None:
        self.key = key
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(
            signed_headers(
                request.method, target, request.content, key=self.key, secret=self.secret
            )
        )
        yield request


def income_row(seq: int, person: str, period: str, category: str, gross: int) -> tuple[Any, ...]:
    record_id = f"T{seq:014d}"
    payer_tax_id = "91410700MA44XXXX0X"
    payer = "新乡市某公司"
    return (
        record_id,
        person,
        period,
        category,
        payer,
        payer_tax_id,
        gross,
        gross // 50,
        f"{period}-15",
        seq,
    )


def head_months() -> list[str]:
    return [f"2025-{m:02d}" for m in range(5, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("tax") / "city"
    build_tiny_city(data_dir)
    rows = [
        income_row(10 * n + 10, PEOPLE.head, m, "wage", 523456) for n, m in enumerate(head_months())
    ]
    rows += [
        income_row(15, PEOPLE.spouse, "2026-03", "labour", 80000),
        income_row(55, PEOPLE.outsider, "2026-04", "rental", 150000),
        income_row(95, PEOPLE.spouse, "2026-09", "labour", 80001),
        income_row(999, PEOPLE.head, "2023-01", "interest", 1234),
    ]
    with department_db(data_dir, "tax") as db:
        db.executemany("INSERT INTO income VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    return data_dir


@contextmanager
def serve(city: Path, **options: Any) -> Iterator[httpx.Client]:
    app = tax.create_app(load_runtime(city, "tax"), **options)
    with serve_app(app) as base, httpx.Client(base_url=base, auth=TaxSigner(), timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def base_url(city: Path) -> Iterator[str]:
    """One server for the module, with a rate no test meets by accident."""
    with serve_app(
        tax.create_app(load_runtime(city, "tax"), rate_per_second=1000, burst=1000)
    ) as base:
        yield base


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=TaxSigner(), timeout=5) as client:
        yield client
        set_faults(client)  # none, for the next test


def ask(client: httpx.Client, body: Any, auth_no: str | None = AUTH_OK) -> httpx.Response:
    headers = {} if auth_no is None else {"x-authorisation-no": auth_no}
    return client.post(INCOME, json=body, headers=headers)


def changes(client: httpx.Client, query: str, auth_no: str = BULK_AGREEMENT) -> httpx.Response:
    return client.get(f"{CHANGES}?{query}", headers={"x-authorisation-no": auth_no})


def raw(
    client: httpx.Client, method: str, target: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """Send exactly these bytes and headers, bypassing the signer."""
    headers = {"x-authorisation-no": AUTH_OK, "content-type": "application/json", **headers}
    return client.request(method, target, content=body, headers=headers, auth=None)


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_income_for_consented_people_only(client: httpx.Client) -> None:
    ids = [PEOPLE.head, PEOPLE.child, PEOPLE.outsider, BAD_ID, PEOPLE.head]
    response = ask(client, {"ids": ids, **PERIOD})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [PEOPLE.head, PEOPLE.child, PEOPLE.outsider, BAD_ID]
    head, child, outsider, bad = items
    assert head["status"] == "ok"
    assert [r["period"] for r in head["records"]] == head_months()[6:]  # 2025-11 .. 2026-10
    assert head["records"][0] == {
        "record_id": "T00000000000070",
        "period": "2025-11",
        "category": "wage",
        "payer_name": "新乡市某公司",
        "payer_tax_id": "91410700MA44XXXX0X",
        "gross": "5234.56",
        "tax": "104.69",
        "net": "5129.87",
        "filed_on": "2025-11-15",
    }
    assert child == {"id": PEOPLE.child, "status": "not_found", "records": []}
    assert outsider == {"id": PEOPLE.outsider, "status": "not_authorised", "records": []}
    assert bad == {"id": BAD_ID, "status": "invalid_id", "records": []}


@pytest.mark.parametrize(
    ("period", "ok"),
    [
        ({"from": "2024-11", "to": "2026-10"}, True),  # 24 months
        ({"from": "2024-10", "to": "2026-10"}, False),  # 25 months
        ({"from": "2026-10", "to": "2026-09"}, False),
        ({"from": "2026-13", "to": "2026-10"}, False),
        ({"from": "2026-1", "to": "2026-10"}, False),
        ({"from": "2026-01-01", "to": "2026-10"}, False),
        ({"from": "2026-01\n", "to": "2026-10"}, False),
        ({"from": 202601, "to": "2026-10"}, False),
        ({"from": "2026-01"}, False),
    ],
)
def test_period_is_checked(client: httpx.Client, period: dict[str, Any], ok: bool) -> None:
    response = ask(client, {"ids": [PEOPLE.spouse], **period})
    if ok:
        assert response.status_code == 200
        assert [r["gross"] for r in response.json()["items"][0]["records"]] == ["800.00", "800.01"]
    else:
        assert response.status_code == 400
        assert code_of(response) == "INVALID_PERIOD"


def test_correct_signature_with_query_and_empty_body(client: httpx.Client) -> None:
    target = f"{CHANGES}?cursor=0&limit=10"
    headers = signed_headers("GET", target) | {"x-authorisation-no": BULK_AGREEMENT}
    response = raw(client, "GET", target, b"", headers)
    assert response.status_code == 200
    assert len(response.json()["records"]) == 10


BODY = json.dumps({"ids": [PEOPLE.head], **PERIOD}).encode()
OTHER_BODY = json.dumps({"ids": [PEOPLE.spouse], **PERIOD}).encode()
FEED = f"{CHANGES}?cursor=0&limit=10"


@pytest.mark.parametrize(
    ("signed", "sent", "key", "secret"),
    [
        (("POST", INCOME, BODY), ("POST", INCOME, BODY), KEY, "not-the-secret"),
        (("POST", INCOME, BODY), ("POST", INCOME, BODY), "someone-else", SECRET),
        (("POST", INCOME, BODY), ("POST", INCOME, BODY), OTHER_KEY, OTHER_SECRET),  # not enabled
        (("POST", INCOME, BODY), ("POST", INCOME, OTHER_BODY), KEY, SECRET),
        (("POST", INCOME, BODY), ("POST", INCOME, b"{"), KEY, SECRET),
        (("GET", FEED, b""), ("GET", f"{CHANGES}?cursor=0&limit=11", b""), KEY, SECRET),
        (("GET", FEED, b""), ("GET", f"{CHANGES}?limit=10&cursor=0", b""), KEY, SECRET),
        (("GET", f"{INCOME}?cursor=0", b""), ("GET", f"{CHANGES}?cursor=0", b""), KEY, SECRET),
        (("PUT", INCOME, BODY), ("POST", INCOME, BODY), KEY, SECRET),
    ],
    ids=[
        "wrong secret",
        "unknown key",
        "other server's key",
        "body",
        "body not json",
        "query",
        "query order",
        "path",
        "method",
    ],
)
def test_bad_signatures_are_refused(
    client: httpx.Client,
    signed: tuple[str, str, bytes],
    sent: tuple[str, str, bytes],
    key: str,
    secret: str,
) -> None:
    headers = signed_headers(*signed, key=key, secret=secret)
    auth_no = BULK_AGREEMENT if sent[0] == "GET" else AUTH_OK
    response = raw(client, *sent, headers | {"x-authorisation-no": auth_no})
    assert response.status_code == 401
    assert code_of(response) == "BAD_SIGNATURE"


def test_signature_must_be_lower_case_hex(client: httpx.Client) -> None:
    headers = signed_headers("POST", INCOME, BODY)
    upper = headers | {"X-Tax-Signature": headers["X-Tax-Signature"].upper()}
    assert code_of(raw(client, "POST", INCOME, BODY, upper)) == "BAD_SIGNATURE"
    assert raw(client, "POST", INCOME, BODY, headers).status_code == 200


@pytest.mark.parametrize(("offset", "status"), [(301, 401), (-301, 401), (295, 200), (-295, 200)])
def test_clock_skew(client: httpx.Client, offset: int, status: int) -> None:
    body = json.dumps({"ids": [PEOPLE.head], **PERIOD}).encode()
    headers = signed_headers("POST", INCOME, body, timestamp=int(time.time()) + offset)
    response = raw(client, "POST", INCOME, body, headers)
    assert response.status_code == status
    if status == 401:
        assert code_of(response) == "CLOCK_SKEW"


def test_replayed_nonce_is_refused_but_a_bad_signature_does_not_burn_it(
    client: httpx.Client,
) -> None:
    body = json.dumps({"ids": [PEOPLE.head], **PERIOD}).encode()
    nonce = "nonce_0123456789-abcdef"
    forged = signed_headers("POST", INCOME, body, secret="guess", nonce=nonce)
    assert code_of(raw(client, "POST", INCOME, body, forged)) == "BAD_SIGNATURE"
    headers = signed_headers("POST", INCOME, body, nonce=nonce)
    assert raw(client, "POST", INCOME, body, headers).status_code == 200
    replay = raw(client, "POST", INCOME, body, headers)
    assert replay.status_code == 401
    assert code_of(replay) == "REPLAYED_NONCE"
    fresh = signed_headers("POST", INCOME, body, nonce=nonce + "x", timestamp=int(time.time()))
    assert raw(client, "POST", INCOME, body, fresh).status_code == 200


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Tax-Key", None),
        ("X-Tax-Timestamp", None),
        ("X-Tax-Nonce", None),
        ("X-Tax-Signature", None),
        ("X-Tax-Nonce", "short"),
        ("X-Tax-Nonce", "has spaces in it, 123456"),
        ("X-Tax-Nonce", "n" * 65),
        ("X-Tax-Timestamp", "1.5e9"),
        ("X-Tax-Timestamp", "-1700000000"),
    ],
)
def test_missing_or_malformed_signing_headers(
    client: httpx.Client, header: str, value: str | None
) -> None:
    body = json.dumps({"ids": [PEOPLE.head], **PERIOD}).encode()
    headers = signed_headers("POST", INCOME, body)
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    response = raw(client, "POST", INCOME, body, headers)
    assert response.status_code == 401
    assert code_of(response) == "UNAUTHENTICATED"
    assert response.json()["error"]["message"]


def test_rate_limit_per_key_with_retry_after(city: Path) -> None:
    options = {"rate_per_second": 2, "burst": 2, "extra_clients": {OTHER_KEY: OTHER_SECRET}}
    with serve(city, **options) as client:
        body = json.dumps({"ids": [PEOPLE.head], **PERIOD}).encode()
        for _ in range(2):
            assert (
                raw(client, "POST", INCOME, body, signed_headers("POST", INCOME, body)).status_code
                == 200
            )
        headers = signed_headers("POST", INCOME, body)
        limited = raw(client, "POST", INCOME, body, headers)
        assert limited.status_code == 429
        assert code_of(limited) == "RATE_LIMITED"
        retry_after = int(limited.headers["Retry-After"])
        assert retry_after >= 1
        other = signed_headers("POST", INCOME, body, key=OTHER_KEY, secret=OTHER_SECRET)
        assert raw(client, "POST", INCOME, body, other).status_code == 200  # its own bucket
        time.sleep(retry_after)
        assert raw(client, "POST", INCOME, body, headers).status_code == 200  # nonce not burnt
    entries = load_runtime(city, "tax").log.entries()
    assert {"client": KEY, "status": 429} in [
        {"client": e["client"], "status": e["status"]} for e in entries
    ]


def test_rate_limiter_refills_at_its_rate() -> None:
    limiter = tax.RateLimiter(rate=2, burst=2)
    limiter.take("k", 0.0)
    limiter.take("k", 0.0)
    with pytest.raises(tax.RateLimited) as refused:
        limiter.take("k", 0.1)
    assert refused.value.retry_after == 1
    limiter.take("k", 0.6)  # 1.2 tokens by now
    with pytest.raises(tax.RateLimited):
        limiter.take("k", 0.6)


def test_nonce_store_expires_and_fails_closed_when_full() -> None:
    store = tax.NonceStore(ttl=600, capacity=2)
    store.admit("k", "a" * 16, 0.0)
    store.admit("k", "b" * 16, 100.0)
    with pytest.raises(tax.RateLimited) as full:
        store.admit("k", "c" * 16, 200.0)
    assert full.value.retry_after == 400
    with pytest.raises(DepartmentError) as replay:
        store.admit("k", "b" * 16, 650.0)
    assert replay.value.code == "REPLAYED_NONCE"
    store.admit("k", "a" * 16, 600.0)  # expired, so usable again
    assert len(store) == 2


def test_default_rate_is_as_documented() -> None:
    defaults = inspect.signature(tax.create_app).parameters
    assert (defaults["rate_per_second"].default, defaults["burst"].default) == (20.0, 40)
    assert "RATE_LIMITED      over the key's rate (20/s, burst 40)" in (tax.__doc__ or "")


@pytest.mark.parametrize(
    ("auth_no", "status", "code"),
    [
        (None, 400, "MISSING_AUTHORISATION"),
        ("", 400, "MISSING_AUTHORISATION"),
        ("SQ0000000000000000", 403, "UNKNOWN_AUTHORISATION"),
        (AUTH_EXPIRED, 403, "AUTHORISATION_EXPIRED"),
        (AUTH_REVOKED, 403, "AUTHORISATION_REVOKED"),
        (AUTH_NO_TAX, 403, "DEPARTMENT_NOT_COVERED"),
        (BULK_AGREEMENT, 403, "UNKNOWN_AUTHORISATION"),
    ],
)
def test_authorisation_is_checked(
    client: httpx.Client, auth_no: str | None, status: int, code: str
) -> None:
    response = ask(client, {"ids": [PEOPLE.head], **PERIOD}, auth_no)
    assert response.status_code == status
    assert code_of(response) == code


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"ids": [], **PERIOD}, 400, "EMPTY_BATCH"),
        (
            {"ids": [PEOPLE.head] * 2 + [f"x{i}" for i in range(100)], **PERIOD},
            413,
            "BATCH_TOO_LARGE",
        ),
        ({"ids": PEOPLE.head, **PERIOD}, 400, "MALFORMED_BODY"),
        ({"ids": [1, 2], **PERIOD}, 400, "MALFORMED_BODY"),
        ({"ids": [PEOPLE.head], **PERIOD, "verbose": True}, 400, "UNKNOWN_PARAMETER"),
        ([PEOPLE.head], 400, "MALFORMED_BODY"),
    ],
)
def test_bad_input_is_a_clear_error(
    client: httpx.Client, body: Any, status: int, code: str
) -> None:
    response = ask(client, body)
    assert response.status_code == status
    assert code_of(response) == code
    assert response.json()["error"]["message"]


def test_signed_malformed_json(client: httpx.Client) -> None:
    response = client.post(INCOME, content=b"{", headers={"x-authorisation-no": AUTH_OK})
    assert response.status_code == 400
    assert code_of(response) == "MALFORMED_BODY"


def test_changes_feed_pages_through_everything_once(client: httpx.Client) -> None:
    seen: list[int] = []
    cursor = 0
    while True:
        page = changes(client, f"cursor={cursor}&limit=7").json()
        seen += [record["seq"] for record in page["records"]]
        assert page["next_cursor"] == (page["records"][-1]["seq"] if page["records"] else cursor)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    expected = sorted([10 * n + 10 for n in range(18)] + [15, 55, 95, 999])
    assert seen == expected
    first = changes(client, "limit=2").json()
    assert [(r["seq"], r["id"]) for r in first["records"]] == [
        (10, PEOPLE.head),
        (15, PEOPLE.spouse),
    ]
    assert first["records"][1]["gross"] == "800.00"
    after_end = changes(client, "cursor=999").json()
    assert after_end == {"records": [], "next_cursor": 999, "has_more": False}


@pytest.mark.parametrize(
    ("query", "auth_no", "status", "code"),
    [
        ("cursor=0", AUTH_OK, 403, "NOT_A_BULK_AGREEMENT"),
        ("cursor=0", "", 400, "MISSING_AUTHORISATION"),
        ("cursor=abc", BULK_AGREEMENT, 400, "INVALID_CURSOR"),
        ("cursor=-1", BULK_AGREEMENT, 400, "INVALID_CURSOR"),
        ("limit=0", BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ("limit=5001", BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ("limit=many", BULK_AGREEMENT, 400, "INVALID_LIMIT"),
        ("page=2", BULK_AGREEMENT, 400, "UNKNOWN_PARAMETER"),
    ],
)
def test_changes_feed_refusals(
    client: httpx.Client, query: str, auth_no: str, status: int, code: str
) -> None:
    response = changes(client, query, auth_no)
    assert response.status_code == status
    assert code_of(response) == code


def test_request_log_names_who_asked_for_whom(client: httpx.Client, city: Path) -> None:
    ask(client, {"ids": [PEOPLE.head, PEOPLE.outsider], **PERIOD})
    ask(client, {"ids": [PEOPLE.spouse], **PERIOD}, AUTH_REVOKED)  # refused, logged all the same
    raw(client, "POST", INCOME, b"{}", {})  # unsigned
    changes(client, "cursor=0")
    entries = load_runtime(city, "tax").log.entries()
    asked, refused, unsigned, bulk = entries[-4:]
    assert asked["client"] == KEY
    assert asked["auth_no"] == AUTH_OK
    assert asked["ids"] == [id_digest(PEOPLE.head), id_digest(PEOPLE.outsider)]
    assert refused["auth_no"] == AUTH_REVOKED
    assert refused["ids"] == [id_digest(PEOPLE.spouse)]
    assert (unsigned["client"], unsigned["status"], unsigned["ids"]) == (None, 401, [])
    assert (bulk["auth_no"], bulk["bulk"]) == (BULK_AGREEMENT, True)
    text = (city / "logs" / "tax-requests.jsonl").read_text()
    assert all(person not in text for person in (PEOPLE.head, PEOPLE.outsider, PEOPLE.spouse))


def set_faults(client: httpx.Client, **faults: object) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN})
    assert response.status_code == 200


def test_error_fault(client: httpx.Client) -> None:
    set_faults(client, error_rate=1.0)
    assert changes(client, "cursor=0").status_code in {500, 502, 503}
    assert ask(client, {"ids": [PEOPLE.head], **PERIOD}).status_code in {500, 502, 503}


def test_timeout_fault(client: httpx.Client) -> None:
    set_faults(client, timeout_rate=1.0, timeout_seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        client.post(INCOME, json={"ids": [PEOPLE.head], **PERIOD}, timeout=0.3)


def test_dropped_connection_fault(client: httpx.Client) -> None:
    set_faults(client, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        changes(client, "cursor=0")


def test_latency_fault(client: httpx.Client) -> None:
    set_faults(client, latency_ms=300)
    response = ask(client, {"ids": [PEOPLE.head], **PERIOD})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


def test_record_faults(client: httpx.Client) -> None:
    clean = changes(client, "limit=8").json()["records"]
    set_faults(client, duplicate_rate=1.0)
    doubled = changes(client, "limit=8").json()
    assert len(doubled["records"]) == 2 * len(clean)
    assert doubled["next_cursor"] == clean[-1]["seq"]
    set_faults(client, malformed_rate=1.0, seed=7)
    broken = changes(client, "limit=8").json()["records"]
    assert all(item != original for item, original in zip(broken, clean, strict=True))
    set_faults(client, out_of_order=True, seed=3)
    shuffled = [r["seq"] for r in changes(client, "limit=8").json()["records"]]
    assert sorted(shuffled) == [r["seq"] for r in clean]
    assert shuffled != [r["seq"] for r in clean]
    set_faults(client, duplicate_rate=1.0)
    records = ask(client, {"ids": [PEOPLE.spouse], **PERIOD}).json()["items"][0]["records"]
    assert [r["record_id"] for r in records] == ["T00000000000015"] * 2 + ["T00000000000095"] * 2
