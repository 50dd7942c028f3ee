"""The real-estate registration (不动产登记) server's protocol, errors and faults, over sockets."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.servers import housing
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AUTH_EXPIRED,
    AUTH_NO_HOUSING,
    AUTH_OK,
    AUTH_REVOKED,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    department_db,
    id_number,
)


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


CREDENTIAL = {"authorization": basic("mz-test-housing", "secret-housing-0123456789")}
QUERY = "/bdc/api/query"
EXPORT = "/bdc/api/export.csv"
HEADER = ["bdcqzh", "zjhm", "fe", "qxdm", "zl", "yt", "mj", "djrq", "pgjz", "zt"]
FLAT = "豫(2019)新乡市不动产权第0000001号"
SHOP = "豫(2021)新乡市不动产权第0000002号"
OLD = "豫(2015)新乡市不动产权第0000003号"
FARM = "豫(2018)新乡县不动产权第0000004号"
FLAT_ADDRESS = '红旗区平原路12号院3号楼,2单元501 ("幸福家园")'
NEIGHBOURS = [id_number("410702", "19880101", n) for n in range(60, 66)]
STRANGER = id_number("410702", "19900101", 99)

Server = tuple[httpx.Client, Path]


def _neighbour_rows() -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]]:
    """Five more flats in 410702 (two with two owners) so that the export has pages."""
    properties: list[tuple[Any, ...]] = []
    owners: list[tuple[str, str, int]] = []
    for n in range(5):
        cert_no = f"豫(2020)新乡市不动产权第00001{n:02d}号"
        properties.append(
            (cert_no, "410702", f"红旗区东街{n}号", "residential", 60.25 + n, "2020-01-01",
             30_000_000 + n, "registered")
        )  # fmt: skip
        owners.append((cert_no, NEIGHBOURS[n], 100 if n % 2 else 70))
        if not n % 2:
            owners.append((cert_no, NEIGHBOURS[5], 30))
    return properties, owners


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (starting one costs a quarter second); see `no_faults`."""
    city = tmp_path_factory.mktemp("housing") / "city"
    build_tiny_city(city)
    more_properties, more_owners = _neighbour_rows()
    with department_db(city, "housing") as db:
        db.executemany(
            "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (FLAT, "410702", FLAT_ADDRESS, "residential", 89.5, "2019-05-20", 65_000_000,
                 "registered"),
                (SHOP, "410702", "胜利路8号商铺", "commercial", 42.0, "2021-03-03", 80_000_001,
                 "mortgaged"),
                (OLD, "410702", "红旗区老街2号", "residential", 55.75, "2015-07-07", 10_000_000,
                 "cancelled"),
                (FARM, "410721", "新乡县孟庄镇李村8号", "rural_homestead", 180.0, "2018-01-01",
                 5_000_000, "registered"),
                *more_properties,
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO property_owners VALUES (?, ?, ?)",
            [
                (FLAT, PEOPLE.head, 50),
                (FLAT, PEOPLE.spouse, 50),
                (SHOP, PEOPLE.head, 100),
                (OLD, PEOPLE.head, 100),
                (FARM, PEOPLE.outsider, 60),
                (FARM, PEOPLE.child, 40),
                *more_owners,
            ],
        )
    db.close()
    runtime = load_runtime(city, "housing")
    with (
        serve_app(housing.create_app(runtime)) as base,
        httpx.Client(base_url=base, headers=CREDENTIAL, timeout=5) as client,
    ):
        yield client, city


@pytest.fixture(autouse=True)
def no_faults(server: Server) -> Iterator[None]:
    """Every test starts and leaves the shared server without faults."""
    client, _ = server
    set_faults(client)
    yield
    set_faults(client)


def set_faults(client: httpx.Client, **faults: object) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN})
    assert response.status_code == 200


def query(client: httpx.Client, body: Any, auth_no: str = AUTH_OK) -> httpx.Response:
    return client.post(QUERY, json=body, headers={"x-authorisation-no": auth_no})


def export(
    client: httpx.Client, auth_no: str = BULK_AGREEMENT, **params: str | int
) -> httpx.Response:
    return client.get(EXPORT, params=params, headers={"x-authorisation-no": auth_no})


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    header, *rows = csv.reader(io.StringIO(response.text))
    assert header == HEADER
    return rows


def test_query_lists_certificates_of_consented_people(server: Server) -> None:
    client, _ = server
    asked = [PEOPLE.head, PEOPLE.outsider, "41070219700312001X", PEOPLE.child, PEOPLE.head]
    response = query(client, {"zjhm": asked})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [(item["zjhm"], item["zt"]) for item in body["data"]] == [
        (PEOPLE.head, "ok"),
        (PEOPLE.outsider, "not_authorised"),
        ("41070219700312001X", "invalid_id"),
        (PEOPLE.child, "ok"),
    ]
    head, outsider, invalid, child = body["data"]
    assert outsider["bdcqz"] == invalid["bdcqz"] == []
    assert [c["bdcqzh"] for c in head["bdcqz"]] == sorted([FLAT, SHOP, OLD])
    assert next(c for c in head["bdcqz"] if c["bdcqzh"] == FLAT) == {
        "bdcqzh": FLAT,
        "qxdm": "410702",
        "zl": FLAT_ADDRESS,
        "yt": "residential",
        "mj": 89.5,
        "djrq": "2019-05-20",
        "pgjz": "650000.00",
        "zt": "registered",
        "fe": 50,
        "gyr": [PEOPLE.spouse],
    }
    shop = next(c for c in head["bdcqz"] if c["bdcqzh"] == SHOP)
    assert (shop["pgjz"], shop["zt"], shop["fe"], shop["gyr"]) == (
        "800000.01",
        "mortgaged",
        100,
        [],
    )
    assert [(c["bdcqzh"], c["fe"], c["gyr"]) for c in child["bdcqz"]] == [
        (FARM, 40, [PEOPLE.outsider])
    ]


def test_consented_person_without_property_is_not_found(server: Server) -> None:
    client, _ = server
    data = query(client, {"zjhm": [PEOPLE.spouse, STRANGER]}).json()["data"]
    assert data[0]["zt"] == "ok"  # the spouse co-owns the flat
    assert data[1] == {"zjhm": STRANGER, "zt": "not_authorised", "bdcqz": []}
    full = [PEOPLE.child] + [id_number("410702", "19900101", n) for n in range(99)]
    assert len(query(client, {"zjhm": full}).json()["data"]) == 100


@pytest.mark.parametrize(
    ("auth_no", "status", "code"),
    [
        ("", 400, "MISSING_AUTHORISATION"),
        ("SQ0000000000000000", 403, "UNKNOWN_AUTHORISATION"),
        (AUTH_EXPIRED, 403, "AUTHORISATION_EXPIRED"),
        (AUTH_REVOKED, 403, "AUTHORISATION_REVOKED"),
        (AUTH_NO_HOUSING, 403, "DEPARTMENT_NOT_COVERED"),
        (BULK_AGREEMENT, 403, "UNKNOWN_AUTHORISATION"),
    ],
)
def test_authorisation_is_checked(server: Server, auth_no: str, status: int, code: str) -> None:
    client, _ = server
    response = query(client, {"zjhm": [PEOPLE.head]}, auth_no)
    assert response.status_code == status
    assert response.json() == {
        "success": False,
        "errorCode": code,
        "errorMsg": response.json()["errorMsg"],
    }
    assert response.json()["errorMsg"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"zjhm": []}, 400, "EMPTY_BATCH"),
        ({"zjhm": [PEOPLE.head] * 2 + [f"x{i}" for i in range(100)]}, 413, "BATCH_TOO_LARGE"),
        ({"zjhm": PEOPLE.head}, 400, "MALFORMED_BODY"),
        ({"zjhm": [None]}, 400, "MALFORMED_BODY"),
        ({"idList": [PEOPLE.head]}, 400, "UNKNOWN_PARAMETER"),
        ({"zjhm": [PEOPLE.head], "qxdm": "410702"}, 400, "UNKNOWN_PARAMETER"),
        ("zjhm", 400, "MALFORMED_BODY"),
    ],
)
def test_bad_input_is_a_clear_error(server: Server, body: Any, status: int, code: str) -> None:
    client, _ = server
    response = query(client, body)
    assert response.status_code == status
    assert response.json()["errorCode"] == code
    assert response.json()["success"] is False


def test_malformed_json_unknown_route_and_method(server: Server) -> None:
    client, _ = server
    broken = client.post(QUERY, content="{zjhm: }", headers={"x-authorisation-no": AUTH_OK})
    assert broken.status_code == 400
    assert broken.json()["errorCode"] == "MALFORMED_BODY"
    assert client.get("/bdc/api/nothing").json()["errorCode"] == "NOT_FOUND"
    assert client.get(QUERY).status_code == 405


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        basic("mz-test-housing", "wrong"),
        basic("mz-test-medical", "secret-housing-0123456789"),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer secret-housing-0123456789",
    ],
)
def test_credentials_are_required(server: Server, authorization: str) -> None:
    client, city = server
    response = client.post(
        QUERY,
        json={"zjhm": [PEOPLE.head]},
        headers={"authorization": authorization, "x-authorisation-no": AUTH_OK},
    )
    assert response.status_code == 401
    assert response.json()["errorCode"] == "UNAUTHENTICATED"
    refused = load_runtime(city, "housing").log.entries()[-1]
    assert (refused["client"], refused["status"], refused["ids"]) == (None, 401, [])


def test_request_log_names_who_asked_for_whom(server: Server) -> None:
    client, city = server
    log = load_runtime(city, "housing").log
    before = len(log.entries())
    query(client, {"zjhm": [PEOPLE.head, PEOPLE.outsider]})
    query(client, {"zjhm": [PEOPLE.child]}, AUTH_REVOKED)  # refused, still logged
    export(client, AUTH_OK, qxdm="410702")  # refused bulk, still logged
    export(client, qxdm=PEOPLE.head)  # an ID where a county belongs
    asked, refused, bulk, misused = log.entries()[before:]
    assert (asked["client"], asked["auth_no"], asked["endpoint"]) == (
        "mz-test-housing",
        AUTH_OK,
        QUERY,
    )
    assert asked["ids"] == [id_digest(PEOPLE.head), id_digest(PEOPLE.outsider)]
    assert (refused["auth_no"], refused["ids"]) == (AUTH_REVOKED, [id_digest(PEOPLE.child)])
    assert (bulk["endpoint"], bulk["bulk"], bulk["region"], bulk["ids"]) == (
        EXPORT,
        True,
        "410702",
        [],
    )
    assert misused["region"] is None
    text = (city / "logs" / "housing-requests.jsonl").read_text(encoding="utf-8")
    assert all(person not in text for person in (PEOPLE.head, PEOPLE.outsider, PEOPLE.child))


def test_export_needs_the_agreement(server: Server) -> None:
    client, _ = server
    refused = export(client, AUTH_OK, qxdm="410702")
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "NOT_A_BULK_AGREEMENT"
    missing = client.get(EXPORT, params={"qxdm": "410702"})
    assert missing.status_code == 400
    assert missing.json()["errorCode"] == "MISSING_AUTHORISATION"


@pytest.mark.parametrize(("size", "pages"), [(4, 3), (5, 3), (6, 2), (7, 2), (12, 1), (5000, 1)])
def test_export_pages_through_every_owner_exactly_once(
    server: Server, size: int, pages: int
) -> None:
    client, _ = server
    seen: list[list[str]] = []
    page = 1
    while True:
        response = export(client, qxdm="410702", page=page, page_size=size)
        seen += rows_of(response)
        assert response.headers["x-page"] == str(page)
        assert response.headers["x-total-pages"] == str(pages)
        assert response.headers["x-total-rows"] == "12"
        if page == pages:
            break
        page += 1
    keys = [(row[0], row[1]) for row in seen]
    assert len(keys) == 12
    assert keys == sorted(set(keys))
    assert (FLAT, PEOPLE.head) in keys
    assert (FLAT, PEOPLE.spouse) in keys
    assert not any(row[0] == FARM for row in seen)  # another county
    beyond = export(client, qxdm="410702", page=pages + 1, page_size=size)
    assert beyond.status_code == 404
    assert beyond.json()["errorCode"] == "PAGE_NOT_FOUND"


def test_export_rows_quote_and_format_like_the_register(server: Server) -> None:
    client, _ = server
    rows = rows_of(export(client, qxdm="410702"))
    flat = next(row for row in rows if row[:2] == [FLAT, PEOPLE.head])
    assert flat == [
        FLAT, PEOPLE.head, "50", "410702", FLAT_ADDRESS, "residential", "89.50", "2019-05-20",
        "650000.00", "registered",
    ]  # fmt: skip
    assert all(len(row) == len(HEADER) for row in rows)
    farm = rows_of(export(client, qxdm="410721"))
    assert [(row[0], row[1], row[2]) for row in farm] == sorted(
        [(FARM, PEOPLE.child, "40"), (FARM, PEOPLE.outsider, "60")]
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"qxdm": "999999"}, "UNKNOWN_REGION"),
        ({"qxdm": "4107"}, "UNKNOWN_REGION"),
        ({}, "UNKNOWN_REGION"),
        ({"qxdm": "410702", "page": "0"}, "INVALID_PAGE"),
        ({"qxdm": "410702", "page": "one"}, "INVALID_PAGE"),
        ({"qxdm": "410702", "page": "-1"}, "INVALID_PAGE"),
        ({"qxdm": "410702", "page_size": "0"}, "INVALID_PAGE_SIZE"),
        ({"qxdm": "410702", "page_size": "5001"}, "INVALID_PAGE_SIZE"),
        ({"qxdm": "410702", "page_size": "1e3"}, "INVALID_PAGE_SIZE"),
        ({"qxdm": "410702", "cursor": "x"}, "UNKNOWN_PARAMETER"),
    ],
)
def test_export_rejects_bad_parameters(server: Server, params: dict[str, str], code: str) -> None:
    client, _ = server
    response = export(client, **params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errorCode"] == code


def test_error_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, error_rate=1.0)
    assert export(client, qxdm="410702").status_code in {500, 502, 503}
    assert client.get("/_sandbox/health").status_code == 200


def test_timeout_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, timeout_rate=1.0, timeout_seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            QUERY,
            json={"zjhm": [PEOPLE.head]},
            headers={"x-authorisation-no": AUTH_OK},
            timeout=0.3,
        )


def test_dropped_connection_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        export(client, qxdm="410702")


def test_latency_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, latency_ms=250)
    response = query(client, {"zjhm": [PEOPLE.head]})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.25


def test_record_faults_on_the_csv_export(server: Server) -> None:
    client, _ = server
    clean = rows_of(export(client, qxdm="410702", page_size=6))
    set_faults(client, duplicate_rate=1.0)
    doubled = export(client, qxdm="410702", page_size=6)
    assert rows_of(doubled) == [row for row in clean for _ in range(2)]
    assert doubled.headers["x-total-pages"] == "2"  # paging is about the real rows
    set_faults(client, out_of_order=True, seed=3)
    shuffled = rows_of(export(client, qxdm="410702", page_size=6))
    assert shuffled != clean
    assert sorted(shuffled) == sorted(clean)
    set_faults(client, malformed_rate=1.0, seed=11)
    broken = rows_of(export(client, qxdm="410702", page_size=6))
    assert len(broken) == len(clean)
    assert all(len(row) != len(HEADER) or not _is_number(row[6]) for row in broken)
    assert any(len(row) == len(HEADER) for row in broken)  # some rows only lose their area
    assert any(len(row) != len(HEADER) for row in broken)


def test_record_faults_on_the_query(server: Server) -> None:
    client, _ = server
    clean = query(client, {"zjhm": [PEOPLE.head]}).json()["data"][0]["bdcqz"]
    set_faults(client, duplicate_rate=1.0)
    doubled = query(client, {"zjhm": [PEOPLE.head]}).json()["data"][0]["bdcqz"]
    assert doubled == [c for c in clean for _ in range(2)]
    set_faults(client, malformed_rate=1.0, seed=2)
    broken = query(client, {"zjhm": [PEOPLE.head]}).json()["data"][0]["bdcqz"]
    assert all(item != original for item, original in zip(broken, clean, strict=True))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
