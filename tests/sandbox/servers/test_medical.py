"""The medical-insurance server's protocol, its errors and its faults, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.servers import medical
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AUTH_EXPIRED,
    AUTH_NO_MEDICAL,
    AUTH_OK,
    AUTH_REVOKED,
    BULK_AGREEMENT,
    PEOPLE,
    department_db,
)

CREDENTIAL = {"x-yb-appid": "mz-test-medical", "x-yb-token": "secret-medical-0123456789"}
PERIOD = {"from": "2025-11-01", "to": "2026-10-31"}


@pytest.fixture
def server(tiny_city: Path) -> Iterator[tuple[httpx.Client, Path]]:
    with department_db(tiny_city, "medical") as db:
        db.executemany(
            "INSERT INTO enrolments VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("E1", PEOPLE.head, "employee", "410702", "2010-01-01", None, "active"),
                ("E2", PEOPLE.spouse, "resident", "410702", "2012-01-01", None, "active"),
                ("E3", PEOPLE.outsider, "resident", "410721", "2015-01-01", None, "active"),
            ],
        )
        db.executemany(
            "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"C{n:03d}",
                    PEOPLE.head,
                    f"2026-0{n}-15",
                    "新乡市中心医院",
                    "outpatient",
                    "chronic",
                    10000 * n,
                    6000 * n,
                    4000 * n,
                )
                for n in range(1, 6)
            ]
            + [
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
                ),
                ("C901", PEOPLE.head, "2024-01-01", "old", "pharmacy", "other", 100, 0, 100),
            ],
        )
    db.close()
    runtime = load_runtime(tiny_city, "medical")
    with (
        serve_app(medical.create_app(runtime)) as base,
        httpx.Client(base_url=base, headers=CREDENTIAL, timeout=5) as client,
    ):
        yield client, tiny_city


def post(client: httpx.Client, path: str, body: Any, auth_no: str = AUTH_OK) -> httpx.Response:
    return client.post(path, json=body, headers={"x-authorisation-no": auth_no})


def test_enrolments_for_consented_people_only(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    response = post(
        client,
        "/ybj/v1/enrolments/query",
        {"idList": [PEOPLE.head, PEOPLE.child, PEOPLE.outsider, "41070219700312001X"]},
    )
    assert response.status_code == 200
    by_id = {item["idNo"]: item for item in response.json()["data"]}
    assert by_id[PEOPLE.head]["status"] == "ok"
    assert by_id[PEOPLE.head]["enrolments"][0]["scheme"] == "employee"
    assert by_id[PEOPLE.child] == {"idNo": PEOPLE.child, "status": "not_found", "enrolments": []}
    assert by_id[PEOPLE.outsider] == {
        "idNo": PEOPLE.outsider,
        "status": "not_authorised",
        "enrolments": [],
    }
    assert by_id["41070219700312001X"]["status"] == "invalid_id"


def test_claims_page_by_cursor_with_totals(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        body = {"idList": [PEOPLE.head, PEOPLE.outsider], **PERIOD, "cursor": cursor, "limit": 2}
        data = post(client, "/ybj/v1/claims/query", body).json()["data"]
        pages += 1
        seen += [item["claimId"] for item in data["items"]]
        cursor = data["nextCursor"]
        if cursor is None:
            break
    assert seen == ["C001", "C002", "C003", "C004", "C005"]  # not C900 (no consent), not C901
    assert pages == 3
    persons = {p["idNo"]: p for p in data["persons"]}
    assert persons[PEOPLE.head]["outOfPocketTotal"] == "600.00"
    assert persons[PEOPLE.outsider] == {
        "idNo": PEOPLE.outsider,
        "status": "not_authorised",
        "outOfPocketTotal": None,
    }


def test_cursor_is_bound_to_its_query(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    body = {"idList": [PEOPLE.head], **PERIOD, "limit": 1}
    cursor = post(client, "/ybj/v1/claims/query", body).json()["data"]["nextCursor"]
    other = {**body, "from": "2026-01-01", "cursor": cursor}
    response = post(client, "/ybj/v1/claims/query", other)
    assert response.status_code == 400
    assert response.json() == {
        "ret": -1,
        "err": "CURSOR_MISMATCH",
        "msg": "the cursor belongs to a different query",
    }
    garbage = post(client, "/ybj/v1/claims/query", {**body, "cursor": "%%%"})
    assert garbage.json()["err"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("auth_no", "status", "code"),
    [
        ("", 400, "MISSING_AUTHORISATION"),
        ("SQ0000000000000000", 403, "UNKNOWN_AUTHORISATION"),
        (AUTH_EXPIRED, 403, "AUTHORISATION_EXPIRED"),
        (AUTH_REVOKED, 403, "AUTHORISATION_REVOKED"),
        (AUTH_NO_MEDICAL, 403, "DEPARTMENT_NOT_COVERED"),
        (BULK_AGREEMENT, 403, "UNKNOWN_AUTHORISATION"),
    ],
)
def test_authorisation_is_checked(
    server: tuple[httpx.Client, Path], auth_no: str, status: int, code: str
) -> None:
    client, _ = server
    response = post(client, "/ybj/v1/enrolments/query", {"idList": [PEOPLE.head]}, auth_no)
    assert response.status_code == status
    assert response.json()["err"] == code


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"idList": []}, 400, "EMPTY_BATCH"),
        ({"idList": [PEOPLE.head] * 2 + [f"x{i}" for i in range(100)]}, 413, "BATCH_TOO_LARGE"),
        ({"idList": "410702"}, 400, "MALFORMED_BODY"),
        ({"idList": [1, 2]}, 400, "MALFORMED_BODY"),
        ({"idList": [PEOPLE.head], "verbose": True}, 400, "UNKNOWN_PARAMETER"),
        ([PEOPLE.head], 400, "MALFORMED_BODY"),
    ],
)
def test_bad_input_is_a_clear_error(
    server: tuple[httpx.Client, Path], body: Any, status: int, code: str
) -> None:
    client, _ = server
    response = post(client, "/ybj/v1/enrolments/query", body)
    assert response.status_code == status
    assert response.json()["err"] == code
    assert response.json()["msg"]


def test_bad_dates_and_limits(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    base = {"idList": [PEOPLE.head], **PERIOD}
    assert (
        post(client, "/ybj/v1/claims/query", {**base, "from": "2026-13-01"}).json()["err"]
        == "INVALID_DATE"
    )
    assert post(client, "/ybj/v1/claims/query", {**base, "to": None}).json()["err"] == (
        "INVALID_DATE"
    )
    swapped = {**base, "from": "2026-10-31", "to": "2025-11-01"}
    assert post(client, "/ybj/v1/claims/query", swapped).json()["err"] == "INVALID_PERIOD"
    assert post(client, "/ybj/v1/claims/query", {**base, "limit": 0}).json()["err"] == (
        "INVALID_LIMIT"
    )
    not_json = client.post(
        "/ybj/v1/claims/query", content=b"{", headers={"x-authorisation-no": AUTH_OK}
    )
    assert not_json.status_code == 400
    assert not_json.json()["err"] == "MALFORMED_BODY"


def test_credentials_are_required(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    response = client.post(
        "/ybj/v1/enrolments/query",
        json={"idList": [PEOPLE.head]},
        headers={"x-yb-token": "wrong", "x-authorisation-no": AUTH_OK},
    )
    assert response.status_code == 401
    assert response.json()["err"] == "UNAUTHENTICATED"


def test_unknown_route_and_method(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    assert client.get("/ybj/v1/nothing").json()["err"] == "NOT_FOUND"
    assert client.get("/ybj/v1/claims/query").status_code == 405


def test_bulk_export_needs_the_agreement_and_pages(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    refused = client.get("/ybj/v1/claims/export", headers={"x-authorisation-no": AUTH_OK})
    assert refused.status_code == 403
    assert refused.json()["err"] == "NOT_A_BULK_AGREEMENT"
    ids: list[str] = []
    cursor = ""
    while True:
        data = client.get(
            "/ybj/v1/claims/export",
            params={"cursor": cursor, "limit": 3},
            headers={"x-authorisation-no": BULK_AGREEMENT},
        ).json()["data"]
        ids += [item["claimId"] for item in data["items"]]
        if data["nextCursor"] is None:
            break
        cursor = data["nextCursor"]
    assert ids == ["C001", "C002", "C003", "C004", "C005", "C900", "C901"]
    unknown = client.get(
        "/ybj/v1/enrolments/export",
        params={"page": 2},
        headers={"x-authorisation-no": BULK_AGREEMENT},
    )
    assert unknown.json()["err"] == "UNKNOWN_PARAMETER"


def test_request_log_names_who_asked_for_whom(server: tuple[httpx.Client, Path]) -> None:
    client, city = server
    post(client, "/ybj/v1/enrolments/query", {"idList": [PEOPLE.head, PEOPLE.spouse]})
    entries = load_runtime(city, "medical").log.entries()
    assert entries[-1]["client"] == "mz-test-medical"
    assert entries[-1]["auth_no"] == AUTH_OK
    assert entries[-1]["ids"] == [id_digest(PEOPLE.head), id_digest(PEOPLE.spouse)]
    assert PEOPLE.head not in (city / "logs" / "medical-requests.jsonl").read_text()


def set_faults(client: httpx.Client, **faults: object) -> httpx.Response:
    return client.put("/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN})


def test_faults_need_the_admin_token_and_valid_values(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    assert client.put("/_sandbox/faults", json={"error_rate": 1}).status_code == 401
    bad = set_faults(client, error_rate=2)
    assert bad.status_code == 400
    assert bad.json()["err"] == "INVALID_FAULTS"
    assert set_faults(client, nonsense=1).status_code == 400


def test_error_fault(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    set_faults(client, error_rate=1.0)
    response = post(client, "/ybj/v1/enrolments/query", {"idList": [PEOPLE.head]})
    assert response.status_code in {500, 502, 503}
    assert client.get("/_sandbox/health").status_code == 200  # admin routes stay reachable


def test_timeout_fault(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    set_faults(client, timeout_rate=1.0, timeout_seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/ybj/v1/enrolments/query",
            json={"idList": [PEOPLE.head]},
            headers={"x-authorisation-no": AUTH_OK},
            timeout=0.5,
        )


def test_dropped_connection_fault(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    set_faults(client, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        post(client, "/ybj/v1/enrolments/query", {"idList": [PEOPLE.head]})


def test_latency_fault(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    set_faults(client, latency_ms=300)
    response = post(client, "/ybj/v1/enrolments/query", {"idList": [PEOPLE.head]})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


def test_record_faults(server: tuple[httpx.Client, Path]) -> None:
    client, _ = server
    body = {"idList": [PEOPLE.head], **PERIOD, "limit": 5}
    clean = post(client, "/ybj/v1/claims/query", body).json()["data"]["items"]
    set_faults(client, duplicate_rate=1.0)
    doubled = post(client, "/ybj/v1/claims/query", body).json()["data"]["items"]
    assert len(doubled) == 2 * len(clean)
    set_faults(client, malformed_rate=1.0, seed=7)
    broken = post(client, "/ybj/v1/claims/query", body).json()["data"]["items"]
    assert all(item != original for item, original in zip(broken, clean, strict=True))
    set_faults(client, out_of_order=True, seed=3)
    shuffled = post(client, "/ybj/v1/claims/query", body).json()["data"]["items"]
    assert sorted(i["claimId"] for i in shuffled) == [i["claimId"] for i in clean]
    assert [i["claimId"] for i in shuffled] != [i["claimId"] for i in clean]
