"""HousingConnector's parsing and paging against a scripted transport (no sandbox)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.base import DepartmentAccess, Parsed, SubjectQuery
from connectors.departments.housing import COLUMNS, HeldCertificate, HousingConnector
from connectors.errors import FatalSourceError
from connectors.http import CallPolicy, DepartmentClient
from graph.model import PropertyRecord
from tests.sandbox.servers.tiny_city import AS_OF, AUTH_OK, PEOPLE

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, tzinfo=UTC)
FLAT = "豫(2019)新乡市不动产权第0000001号"
PLOT = "豫(2020)新乡市不动产权第0000002号"
SHOP = "豫(2021)新乡市不动产权第0000003号"
EVERYONE = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider)
Rows = list[list[str]]


def blind(value: str) -> str:
    return "ref-" + hashlib.sha256(value.encode()).hexdigest()[:12]


def connector(
    handler: Callable[[httpx.Request], httpx.Response] | None = None, page_size: int | None = None
) -> HousingConnector:
    transport = httpx.MockTransport(handler or (lambda _: httpx.Response(500)))
    http = httpx.AsyncClient(transport=transport, base_url="http://bdc.test")
    access = DepartmentAccess("http://bdc.test", "client", "secret", "BD4107002026000001")
    client = DepartmentClient("housing", http, CallPolicy(attempts=1))
    return HousingConnector(access, client, blind, page_size)


def row(cert: str, owner: str, share: int, area: str = "89.50") -> list[str]:
    return [cert, owner, str(share), "410702", "红旗区东街1号", "residential", area,
            "2019-05-20", "650000.00", "registered"]  # fmt: skip


REGISTER = [
    row(FLAT, PEOPLE.head, 50),
    row(FLAT, PEOPLE.spouse, 50),
    row(PLOT, PEOPLE.head, 25),
    row(PLOT, PEOPLE.spouse, 25),
    row(PLOT, PEOPLE.child, 25),
    row(PLOT, PEOPLE.outsider, 25),
    row(SHOP, PEOPLE.head, 100),
]


def export(
    rows: Rows, mangle: Callable[[Rows], Rows] = lambda page: page
) -> Callable[[httpx.Request], httpx.Response]:
    """The CSV export of `rows` (already in (certificate, owner) order), paged as asked."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert (
            request.headers["authorization"]
            == "Basic " + base64.b64encode(b"client:secret").decode()
        )
        assert request.headers["x-authorisation-no"] == "BD4107002026000001"
        params = request.url.params
        if params["qxdm"] != "410702":
            return httpx.Response(
                400, json={"success": False, "errorCode": "UNKNOWN_REGION", "errorMsg": "?"}
            )
        page, size = int(params["page"]), int(params["page_size"])
        total = max(1, -(-len(rows) // size))
        if page > total:
            return httpx.Response(
                404, json={"success": False, "errorCode": "PAGE_NOT_FOUND", "errorMsg": "?"}
            )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(mangle([list(r) for r in rows[(page - 1) * size : page * size]]))
        return httpx.Response(200, text=out.getvalue(), headers={"x-total-pages": str(total)})

    return handle


async def pull_all(
    handler: Callable[[httpx.Request], httpx.Response], page_size: int
) -> tuple[Parsed, list[str | None]]:
    """Every page of 410702, each by a fresh connector (a new process) from the saved cursor."""
    parsed, cursors = Parsed(), []
    cursor: str | None = None
    while True:
        page, cursor = await connector(handler, page_size).pull_bulk_page("410702", cursor)
        parsed.extend(page)
        cursors.append(cursor)
        if cursor is None:
            return parsed, cursors


def owners(record: PropertyRecord) -> list[tuple[str, int]]:
    return [(o.id_number, o.share_pct) for o in record.owners]


def hashes(parsed: Parsed) -> dict[str, str]:
    return {r.source_record_id: r.content_hash() for r in parsed.records}


def properties(parsed: Parsed) -> dict[str, PropertyRecord]:
    found = {r.source_record_id: r for r in parsed.records if isinstance(r, PropertyRecord)}
    assert len(found) == len(parsed.records)
    return found


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 5, 6, 7, 100])
async def test_a_certificate_split_across_pages_is_yielded_once_with_every_owner(
    page_size: int,
) -> None:
    parsed, cursors = await pull_all(export(REGISTER), page_size)
    assert parsed.skipped == []
    found = properties(parsed)
    assert sorted(found) == [FLAT, PLOT, SHOP]
    assert owners(found[PLOT]) == [(p, 25) for p in sorted(EVERYONE)]
    assert owners(found[FLAT]) == [(PEOPLE.head, 50), (PEOPLE.spouse, 50)]
    assert found[FLAT].value_fen == 65_000_000
    assert found[FLAT].area_m2 == 89.5
    assert not any(c and any(p in c for p in (*EVERYONE, FLAT, PLOT)) for c in cursors)


async def test_the_cursor_names_the_carried_certificate_by_digest_only() -> None:
    by_four = connector(export(REGISTER), 4)  # pages: flat flat plot plot | plot plot shop
    first = await by_four.fetch_bulk_page("410702", None)
    assert first.next_cursor == "2:" + hashlib.sha256(PLOT.encode()).hexdigest()[:16]
    emitted = connector().parse(first.items, NOW).records
    assert [r.source_record_id for r in emitted] == [FLAT, PLOT]
    last = await by_four.fetch_bulk_page("410702", first.next_cursor)
    assert last.next_cursor is None
    assert [r.source_record_id for r in connector().parse(last.items, NOW).records] == [SHOP]
    by_two = connector(export(REGISTER), 2)  # flat flat | plot plot | plot plot | shop
    assert (await by_two.fetch_bulk_page("410702", None)).next_cursor == "2"
    assert (await by_two.fetch_bulk_page("410702", "2")).next_cursor == "4"  # page 3: plot only


async def test_shuffled_and_repeated_rows_change_nothing() -> None:
    rng = random.Random(7)  # noqa: S311 - a repeatable shuffle, not a secret

    def shuffle_and_repeat(page: Rows) -> Rows:
        page = page + page[:1]
        rng.shuffle(page)
        return page

    clean, _ = await pull_all(export(REGISTER), 3)
    for _ in range(10):
        mangled, _ = await pull_all(export(REGISTER, shuffle_and_repeat), 3)
        assert hashes(mangled) == hashes(clean)
        assert mangled.skipped == []


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda r: [*r, "###"], "columns"),
        (lambda r: r[:6] + r[7:], "columns"),
        (lambda r: [*r[:6], "约90平", *r[7:]], "non-numeric"),
        (lambda r: [*r[:8], "N/A", r[9]], "non-numeric"),
        (lambda r: r[1:], "shares add up to 75"),  # the certificate cell is lost
    ],
)
async def test_a_damaged_row_skips_its_certificate_not_the_run(
    damage: Callable[[list[str]], list[str]], reason: str
) -> None:
    def break_the_plots_second_owner(page: Rows) -> Rows:
        return [damage(r) if r[:2] == [PLOT, PEOPLE.spouse] else r for r in page]

    for page_size in (2, 3, 100):
        parsed, _ = await pull_all(export(REGISTER, break_the_plots_second_owner), page_size)
        assert sorted(properties(parsed)) == [FLAT, SHOP]
        assert any(reason in s.reason for s in parsed.skipped)
        text = " ".join(str(s) + repr(s) + str(s.subject_ref) for s in parsed.skipped)
        assert not any(person in text for person in EVERYONE)
        assert all(
            s.subject_ref is None or s.subject_ref.startswith("ref-") for s in parsed.skipped
        )


async def test_a_damaged_row_after_a_carried_certificate_is_quarantined_not_lost() -> None:
    def break_the_shop(page: Rows) -> Rows:
        return [[*r, "###"] if r[0] == SHOP else r for r in page]

    # pages of 4: flat flat plot plot | plot plot shop(damaged): page 1 reads on into page 2
    parsed, _ = await pull_all(export(REGISTER, break_the_shop), 4)
    assert sorted(properties(parsed)) == [FLAT, PLOT]
    assert [s.reason for s in parsed.skipped] == ["a CSV row without exactly 10 columns"]
    assert parsed.skipped[0].subject_ref == blind(PEOPLE.head)


async def test_unknown_county_and_vanished_pages_end_a_partition() -> None:
    housing = connector(export(REGISTER), 2)
    assert (await housing.fetch_bulk_page("410703", None)).next_cursor is None
    beyond = await housing.fetch_bulk_page("410702", "9")
    assert (beyond.items, beyond.next_cursor) == ([], None)
    assert housing.resume_from("410702", "3", complete=True) is None
    assert housing.resume_from("410702", "3", complete=False) == "3"
    with pytest.raises(FatalSourceError, match="cursor"):
        await housing.fetch_bulk_page("410702", "page-two")


async def test_a_page_without_its_header_or_page_count_is_a_protocol_break() -> None:
    def no_total(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=",".join(COLUMNS) + "\r\n")

    with pytest.raises(FatalSourceError, match="X-Total-Pages"):
        await connector(no_total).fetch_bulk_page("410702", None)

    def refused(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"success": False, "errorCode": "INVALID_PAGE_SIZE", "errorMsg": "?"}
        )

    with pytest.raises(FatalSourceError, match="INVALID_PAGE_SIZE"):
        await connector(refused).fetch_bulk_page("410702", None)


def certificate(cert: str, share: int, co_owners: list[str], **more: Any) -> dict[str, Any]:
    return {"bdcqzh": cert, "qxdm": "410702", "zl": "红旗区东街1号", "yt": "residential",
            "mj": 89.5, "djrq": "2019-05-20", "pgjz": "650000.00", "zt": "registered",
            "fe": share, "gyr": co_owners, **more}  # fmt: skip


def query(
    answer: list[Any], sent: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"success": True, "data": answer})

    return handle


async def test_subject_views_hold_the_subject_alone_and_stay_apart() -> None:
    sent: list[httpx.Request] = []
    answer = [
        {"zjhm": PEOPLE.head, "zt": "ok", "bdcqz": [certificate(FLAT, 50, [PEOPLE.spouse]),
                                                   certificate(SHOP, 100, [])]},
        {"zjhm": PEOPLE.spouse, "zt": "ok", "bdcqz": [certificate(FLAT, 50, [PEOPLE.head])]},
        {"zjhm": PEOPLE.child, "zt": "not_found", "bdcqz": []},
    ]  # fmt: skip
    housing = connector(query(answer, sent))
    parsed = await housing.pull_subjects(
        SubjectQuery((PEOPLE.head, PEOPLE.spouse, PEOPLE.child), AUTH_OK, AS_OF)
    )
    assert json.loads(sent[0].content) == {"zjhm": [PEOPLE.head, PEOPLE.spouse, PEOPLE.child]}
    assert sent[0].headers["x-authorisation-no"] == AUTH_OK
    found = properties(parsed)
    assert sorted(found) == sorted([f"{FLAT}/{PEOPLE.head}", f"{FLAT}/{PEOPLE.spouse}", SHOP])
    assert owners(found[f"{FLAT}/{PEOPLE.head}"]) == [(PEOPLE.head, 50)]  # no co-owner, no guess
    assert owners(found[f"{FLAT}/{PEOPLE.spouse}"]) == [(PEOPLE.spouse, 50)]
    # a sole owner's view is the whole truth: the very record bulk yields
    bulk, _ = await pull_all(export(REGISTER), 100)
    assert found[SHOP].content_hash() == properties(bulk)[SHOP].content_hash()


@pytest.mark.parametrize("status", ["not_authorised", "invalid_id"])
async def test_a_refused_subject_is_skipped_without_its_id_number(status: str) -> None:
    answer = [{"zjhm": PEOPLE.outsider, "zt": status, "bdcqz": []},
              {"zjhm": PEOPLE.head, "zt": "ok", "bdcqz": [certificate(SHOP, 100, [])]}]  # fmt: skip
    parsed = await connector(query(answer, [])).pull_subjects(
        SubjectQuery((PEOPLE.outsider, PEOPLE.head), AUTH_OK, AS_OF)
    )
    assert [r.source_record_id for r in parsed.records] == [SHOP]
    (skipped,) = parsed.skipped
    assert status in skipped.reason
    assert skipped.subject_ref == blind(PEOPLE.outsider)
    assert PEOPLE.outsider not in str(skipped) + repr(skipped)


@pytest.mark.parametrize(
    "damage",
    [{"fe": "###"}, {"gyr": {"unexpected": [1, 2, 3]}}, {"gyr": [1]}, {"mj": "###"}, {"zl": None},
     {"pgjz": "N/A"}, {"djrq": None}],
)  # fmt: skip
def test_a_damaged_certificate_in_an_answer_is_skipped(damage: dict[str, Any]) -> None:
    good = HeldCertificate(PEOPLE.head, certificate(SHOP, 100, []))
    bad = HeldCertificate(PEOPLE.head, certificate(FLAT, 50, [PEOPLE.spouse], **damage))
    parsed = connector().parse([good, bad], NOW)
    assert [r.source_record_id for r in parsed.records] == [SHOP]
    (skipped,) = parsed.skipped
    assert skipped.subject_ref == blind(PEOPLE.head)
    assert not any(person in str(skipped) + repr(skipped) for person in EVERYONE)
