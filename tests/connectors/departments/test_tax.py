"""The tax connector's edges: per-attempt signing against the real server, 429, parsing, paging."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import DepartmentAccess, SubjectQuery
from connectors.departments.tax import TaxConnector, months_up_to
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import CallPolicy, DepartmentClient
from sandbox.servers import tax
from sandbox.servers.runtime import load_runtime
from tests.connectors.cases.tax import seed
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
FAMILY = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child)
FAST = CallPolicy(attempts=4, timeout=2.0, backoff_initial=0.01, backoff_max=0.02)
OWN = credentials()["departments"]["tax"]  # type: ignore[index]
RECORD = {
    "record_id": "T00000000000001",
    "period": "2026-03",
    "category": "wage",
    "payer_name": "新乡市某公司",
    "payer_tax_id": "91410700MA44XXXX0X",
    "gross": "5234.56",
    "tax": "104.69",
    "net": "5129.87",
    "filed_on": "2026-04-15",
}


def connector(http: httpx.AsyncClient, policy: CallPolicy = FAST) -> TaxConnector:
    access = DepartmentAccess(str(http.base_url), OWN["client_id"], OWN["secret"], BULK_AGREEMENT)
    return TaxConnector(access, DepartmentClient("tax", http, policy), lambda v: f"ref-{len(v)}")


@pytest.fixture
def city(tmp_path: Path) -> Path:
    data_dir = tmp_path / "city"
    build_tiny_city(data_dir)
    seed(data_dir)
    return data_dir


@contextmanager
def tax_server(city: Path, **options: Any) -> Iterator[str]:
    with serve_app(tax.create_app(load_runtime(city, "tax"), **options)) as base_url:
        yield base_url


class LosesAnswers(httpx.AsyncBaseTransport):
    """Sends every request to the real server, but throws its first `lose` answers away (503).

    The server has then admitted those nonces, so a retry that reused one would be refused.
    """

    def __init__(self, lose: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose = lose
        self.sent: list[httpx.Request] = []
        self.real: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.real.append(response.status_code)
        if self.lose:
            self.lose -= 1
            return httpx.Response(503)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def verifies(request: httpx.Request) -> bool:
    """The signature checked with the server's own recipe."""
    headers = request.headers
    text = tax.string_to_sign(
        request.method,
        request.url.raw_path,
        request.content,
        headers["x-tax-timestamp"],
        headers["x-tax-nonce"],
    )
    return headers["x-tax-signature"] == tax.sign(OWN["secret"], text)


async def test_every_retry_is_signed_afresh_and_the_server_accepts_it(city: Path) -> None:
    with tax_server(city) as base_url:
        transport = LosesAnswers(lose=2)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            parsed = await connector(http).pull_subjects(SubjectQuery(FAMILY, AUTH_OK, AS_OF))
    assert len(parsed.records) == 13
    assert transport.real == [200, 200, 200]  # the server admitted every attempt's nonce
    nonces = [r.headers["x-tax-nonce"] for r in transport.sent]
    assert len(set(nonces)) == 3
    assert all(tax.NONCE.fullmatch(nonce) for nonce in nonces)
    assert all(verifies(request) for request in transport.sent)
    assert all(abs(int(r.headers["x-tax-timestamp"]) - time.time()) < 60 for r in transport.sent)
    assert {r.headers["x-tax-key"] for r in transport.sent} == {OWN["client_id"]}


async def test_a_replayed_nonce_would_be_refused(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: with one nonce for every attempt, the retry fails."""
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _: "the-same-nonce-0123")
    with tax_server(city) as base_url:
        async with httpx.AsyncClient(transport=LosesAnswers(1), base_url=base_url) as http:
            with pytest.raises(FatalSourceError, match="401 REPLAYED_NONCE"):
                await connector(http).pull_subjects(SubjectQuery(FAMILY, AUTH_OK, AS_OF))


async def test_the_changes_feed_is_signed_with_its_query(city: Path) -> None:
    with tax_server(city) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            taxes = connector(http)
            first, cursor = await taxes.pull_bulk_page("income", None)
            assert cursor is None  # 16 records, one page of up to 5000
            assert len(first.records) == 16
            taxes.page_size = 5
            page, cursor = await taxes.pull_bulk_page("income", "3")
    assert cursor == "8"
    assert [r.source_record_id for r in page.records] == [f"T{n:014d}" for n in range(4, 9)]


async def test_a_429_is_waited_out(city: Path) -> None:
    with tax_server(city, rate_per_second=1, burst=1) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            taxes = connector(http)
            started = time.monotonic()
            first, _ = await taxes.pull_bulk_page("income", None)
            second, _ = await taxes.pull_bulk_page("income", None)
            waited = time.monotonic() - started
    assert taxes.client.stats.by_status[429] >= 1
    assert waited >= 0.9  # Retry-After: 1
    assert len(first.records) == len(second.records) == 16


@pytest.mark.parametrize(
    ("as_of", "period"),
    [
        (date(2026, 11, 1), ("2025-12", "2026-11")),
        (date(2026, 12, 31), ("2026-01", "2026-12")),
        (date(2026, 1, 15), ("2025-02", "2026-01")),
        (date(2000, 11, 30), ("1999-12", "2000-11")),
    ],
)
def test_twelve_months_up_to_the_time_point(as_of: date, period: tuple[str, str]) -> None:
    assert months_up_to(as_of) == period


def scripted(
    answer: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://tax.test")
    return http, seen


async def test_subject_request_and_its_items() -> None:
    items = [
        {"id": PEOPLE.head, "status": "ok", "records": [RECORD]},
        {"id": PEOPLE.child, "status": "not_found", "records": []},
        {"id": PEOPLE.outsider, "status": "ok", "records": [{**RECORD, "record_id": "T9"}]},
    ]
    http, seen = scripted(lambda _: httpx.Response(200, json={"items": items}))
    async with http:
        parsed = await connector(http).pull_subjects(
            SubjectQuery((PEOPLE.head, PEOPLE.child), AUTH_OK, date(2026, 11, 1))
        )
    (request,) = seen
    assert json.loads(request.content) == {
        "ids": [PEOPLE.head, PEOPLE.child],
        "from": "2025-12",
        "to": "2026-11",
    }
    assert request.headers["x-authorisation-no"] == AUTH_OK
    assert verifies(request)
    (record,) = parsed.records  # the outsider was not asked about: dropped
    assert record.model_dump(exclude={"fetched_at"}) == {
        "source": "tax",
        "source_record_id": "T00000000000001",
        "id_number": PEOPLE.head,
        "period": "2026-03",
        "category": "wage",
        "payer_name": "新乡市某公司",
        "payer_tax_id": "91410700MA44XXXX0X",
        "gross_fen": 523456,
        "tax_fen": 10469,
        "filed_on": date(2026, 4, 15),
    }


@pytest.mark.parametrize(
    ("body", "cursor"),
    [
        ({"records": [], "next_cursor": 42, "has_more": True}, "42"),
        ({"records": [], "next_cursor": 42, "has_more": False}, None),
    ],
)
async def test_bulk_cursor_comes_from_the_body(body: dict[str, Any], cursor: str | None) -> None:
    http, seen = scripted(lambda _: httpx.Response(200, json=body))
    async with http:
        _, next_cursor = await connector(http).pull_bulk_page("income", None)
    assert next_cursor == cursor
    assert seen[0].url.raw_path == b"/tax/v2/income/changes?cursor=0&limit=5000"
    assert seen[0].headers["x-authorisation-no"] == BULK_AGREEMENT


@pytest.mark.parametrize(
    "body",
    [
        {"records": [], "next_cursor": True, "has_more": False},
        {"records": [], "next_cursor": "7", "has_more": False},
        {"records": [], "next_cursor": 7},
        {"records": {}, "next_cursor": 7, "has_more": False},
        [],
    ],
)
async def test_a_broken_feed_page_is_retriable(body: object) -> None:
    http, _ = scripted(lambda _: httpx.Response(200, json=body))
    async with http:
        with pytest.raises(RetriableSourceError):
            await connector(http).pull_bulk_page("income", "7")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ({"gross": None}, "malformed item (TypeError)"),
        ({"gross": "###"}, "malformed item (ValueError)"),
        ({"net": "5129.88"}, "malformed item (ValueError)"),  # net disagrees: damaged
        ({"filed_on": {"unexpected": [1, 2, 3]}}, "malformed item (TypeError)"),
        ({"category": "salary"}, "invalid record (category:literal_error)"),
        ({"record_id": None}, "invalid record (source_record_id:string_type)"),
        ({"id": PEOPLE.head[:-1] + "0"}, "invalid record (id_number:value_error)"),
    ],
)
def test_a_malformed_record_is_skipped_without_its_id_number(
    damage: dict[str, Any], reason: str
) -> None:
    parsed = connector(httpx.AsyncClient()).parse(
        [{**RECORD, "id": PEOPLE.head, **damage}], datetime.now(UTC)
    )
    (skipped,) = parsed.skipped
    assert parsed.records == []
    assert skipped.reason == reason
    text = str(skipped) + repr(skipped) + skipped.reason
    assert PEOPLE.head not in text
    assert PEOPLE.head[:-1] not in text


def test_net_is_optional_and_not_stored() -> None:
    raw = {key: value for key, value in RECORD.items() if key != "net"}
    parsed = connector(httpx.AsyncClient()).parse([{**raw, "id": PEOPLE.head}], datetime.now(UTC))
    (record,) = parsed.records
    assert "net_fen" not in record.content()
