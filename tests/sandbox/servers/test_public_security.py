"""The public-security (户籍) server's protocol, its errors and its faults, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.servers import public_security
from sandbox.servers.requestlog import id_digest
from sandbox.servers.runtime import load_runtime
from tests.sandbox.servers.live import serve_app
from tests.sandbox.servers.tiny_city import (
    ADMIN_TOKEN,
    AUTH_EXPIRED,
    AUTH_NO_PUBLIC_SECURITY,
    AUTH_OK,
    AUTH_REVOKED,
    BULK_AGREEMENT,
    PEOPLE,
    build_tiny_city,
    department_db,
    id_number,
)

CREDENTIAL = {
    "x-client-id": "mz-test-public_security",
    "authorization": "Bearer secret-public_security-0123456789",
}
HOME = "H41070200000001"
OTHER_HOME = "H41072100000002"
ELDER_HOME = "H41072800000003"
NEIGHBOURS_HOME = "H41070200000004"
NEIGHBOURS = [id_number("410702", "19880101", n) for n in range(60, 64)]
UNREGISTERED = id_number("410702", "19900101", 99)
QUERY = "/gaj/v1/persons/query"
CHANGES = "/gaj/v1/changes"
EXPORT = "/gaj/v1/persons/export"

Server = tuple[httpx.Client, Path]


def _person(id_no: str, name: str, sex: str, birth: str, **more: Any) -> tuple[Any, ...]:
    vital = "deceased" if more.get("death") else "alive"
    return (
        id_no,
        name,
        sex,
        birth,
        more.get("phone"),
        vital,
        more.get("death"),
        more.get("disability"),
        more.get("school"),
        more.get("illness", 0),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (starting one costs a quarter second); see `no_faults`."""
    tiny_city = tmp_path_factory.mktemp("public_security") / "city"
    build_tiny_city(tiny_city)
    with department_db(tiny_city, "public_security") as db:
        db.executemany(
            "INSERT INTO households VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (HOME, "410702", "410702001", "东街街道", 1, "红旗区东街1号", "1998-03-01"),
                (OTHER_HOME, "410721", "410721101", "孟庄镇", 0, "新乡县孟庄镇李村", "1990-01-01"),
                (ELDER_HOME, "410728", "410728102", "蒲西街道", 0, "长垣市蒲西街7号", "1970-01-01"),
                (
                    NEIGHBOURS_HOME,
                    "410702",
                    "410702001",
                    "东街街道",
                    1,
                    "红旗区东街3号",
                    "2000-01-01",
                ),
            ],
        )
        db.executemany(
            "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                _person(PEOPLE.head, "张建国", "M", "1970-03-12", phone="13800000001"),
                _person(PEOPLE.spouse, "李秀英", "F", "1972-05-08", death="2026-09-15"),
                _person(PEOPLE.child, "张明", "M", "2005-01-01", school="vocational", disability=2),
                _person(PEOPLE.outsider, "王强", "M", "1980-01-01", illness=1),
                _person(PEOPLE.elder, "赵老汉", "M", "1945-01-01", death="2020-02-02"),
                *(_person(n, f"邻居{i}", "F", "1988-01-01") for i, n in enumerate(NEIGHBOURS)),
            ],
        )
        db.executemany(
            "INSERT INTO memberships VALUES (?, ?, ?, ?, ?)",
            [
                (HOME, PEOPLE.head, "head", "1998-03-01", None),
                (HOME, PEOPLE.spouse, "spouse", "1998-03-01", "2026-09-15"),
                (HOME, PEOPLE.child, "child", "2005-01-20", None),
                (OTHER_HOME, PEOPLE.outsider, "head", "1990-01-01", None),
                (OTHER_HOME, PEOPLE.child, "other", "2024-09-01", None),  # planted: two open
                (ELDER_HOME, PEOPLE.elder, "head", "1970-01-01", "2020-02-02"),
                *((NEIGHBOURS_HOME, n, "other", "2000-01-01", None) for n in NEIGHBOURS),
            ],
        )
        db.executemany(
            "INSERT INTO relations VALUES (?, ?, ?, ?)",
            [
                (PEOPLE.head, PEOPLE.spouse, "spouse", "1996-10-01"),
                (PEOPLE.head, PEOPLE.child, "parent", "2005-01-01"),
                (PEOPLE.spouse, PEOPLE.child, "parent", "2005-01-01"),
                (PEOPLE.outsider, PEOPLE.elder, "supporter", None),
            ],
        )
        db.executemany(
            "INSERT INTO vehicles VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("豫G·12345", PEOPLE.head, "car", "五菱", "2019-04-01", 3_500_050, "registered"),
                ("豫G·A0001", PEOPLE.head, "motorcycle", "雅迪", "2012-01-01", 120_049, "scrapped"),
                (
                    "豫G·99999",
                    PEOPLE.outsider,
                    "truck",
                    "解放",
                    "2020-01-01",
                    9_000_000,
                    "registered",
                ),
            ],
        )
        db.executemany(
            "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?)",
            [
                (seq, kind, who, home, home[1:7], on)
                for seq, (kind, who, home, on) in enumerate(
                    [
                        ("birth", PEOPLE.child, HOME, "2005-01-20"),
                        ("death", PEOPLE.elder, ELDER_HOME, "2020-02-02"),
                        ("move", PEOPLE.child, OTHER_HOME, "2024-09-01"),
                        *(("move", n, NEIGHBOURS_HOME, "2025-05-05") for n in NEIGHBOURS[:3]),
                        ("death", PEOPLE.spouse, HOME, "2026-09-15"),
                    ],
                    start=1,
                )
            ],
        )
    db.close()
    runtime = load_runtime(tiny_city, "public_security")
    with (
        serve_app(public_security.create_app(runtime)) as base,
        httpx.Client(base_url=base, headers=CREDENTIAL, timeout=5) as client,
    ):
        yield client, tiny_city


@pytest.fixture(autouse=True)
def no_faults(server: Server) -> Iterator[None]:
    """Every test starts and leaves the shared server without faults."""
    client, _ = server
    set_faults(client)
    yield
    set_faults(client)


@pytest.fixture
def empty_server(tiny_city: Path) -> Iterator[httpx.Client]:
    """A register with nobody in it: consented people are simply not found."""
    runtime = load_runtime(tiny_city, "public_security")
    with (
        serve_app(public_security.create_app(runtime)) as base,
        httpx.Client(base_url=base, headers=CREDENTIAL, timeout=5) as client,
    ):
        yield client


def query(client: httpx.Client, body: Any, auth_no: str = AUTH_OK) -> httpx.Response:
    return client.post(QUERY, json=body, headers={"x-authorisation-no": auth_no})


def bulk(
    client: httpx.Client, path: str, auth_no: str = BULK_AGREEMENT, **params: str | int
) -> httpx.Response:
    return client.get(path, params=params, headers={"x-authorisation-no": auth_no})


def test_query_answers_consented_people_only(server: Server) -> None:
    client, _ = server
    asked = [PEOPLE.outsider, "41070219700312001X", UNREGISTERED, PEOPLE.child, PEOPLE.head]
    response = query(client, {"id_numbers": asked})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id_number"] for item in results] == [
        PEOPLE.child,
        PEOPLE.head,
        PEOPLE.outsider,
        "41070219700312001X",
        UNREGISTERED,
    ]
    by_id = {item["id_number"]: item for item in results}
    empty: dict[str, Any] = {"person": None, "households": [], "relations": [], "vehicles": []}
    assert by_id[PEOPLE.outsider] == {
        "id_number": PEOPLE.outsider,
        "status": "not_authorised",
        **empty,
    }
    assert by_id["41070219700312001X"]["status"] == "invalid_id"
    assert by_id[UNREGISTERED]["status"] == "not_authorised"  # valid, but signed nothing
    head = by_id[PEOPLE.head]
    assert head["status"] == "ok"
    assert head["person"] == {
        "name": "张建国",
        "sex": "M",
        "birth_date": "1970-03-12",
        "phone": "13800000001",
        "vital_status": "alive",
        "death_date": None,
        "disability_grade": None,
        "school_level": None,
        "serious_illness": False,
    }
    assert head["vehicles"] == [
        {
            "plate": "豫G·12345",
            "kind": "car",
            "brand": "五菱",
            "registered_on": "2019-04-01",
            "value_yuan": 35001,
            "status": "registered",
        },
        {
            "plate": "豫G·A0001",
            "kind": "motorcycle",
            "brand": "雅迪",
            "registered_on": "2012-01-01",
            "value_yuan": 1200,
            "status": "scrapped",
        },
    ]
    assert [(r["from_id"], r["to_id"], r["kind"]) for r in head["relations"]] == [
        (PEOPLE.head, PEOPLE.child, "parent"),
        (PEOPLE.head, PEOPLE.spouse, "spouse"),
    ]


def test_consented_but_unregistered_is_not_found(empty_server: httpx.Client) -> None:
    results = query(empty_server, {"id_numbers": [PEOPLE.head]}).json()["results"]
    assert results == [
        {
            "id_number": PEOPLE.head,
            "status": "not_found",
            "person": None,
            "households": [],
            "relations": [],
            "vehicles": [],
        }
    ]
    assert bulk(empty_server, EXPORT, region="410702").json()["code"] == "UNKNOWN_REGION"


def test_households_list_every_membership_with_its_members(server: Server) -> None:
    client, _ = server
    results = query(client, {"id_numbers": [PEOPLE.child, PEOPLE.spouse]}).json()["results"]
    child, spouse = results
    assert child["person"]["disability_grade"] == 2
    assert child["person"]["school_level"] == "vocational"
    assert [(h["hukou_no"], h["role"], h["until"]) for h in child["households"]] == [
        (HOME, "child", None),
        (OTHER_HOME, "other", None),
    ]
    home, other = child["households"]
    assert home["urban"] is True
    assert other["urban"] is False
    assert (home["region_code"], home["township_code"], home["township_name"]) == (
        "410702",
        "410702001",
        "东街街道",
    )
    assert home["members"] == [
        {"id_number": PEOPLE.head, "name": "张建国", "role": "head", "since": "1998-03-01",
         "until": None},
        {"id_number": PEOPLE.spouse, "name": "李秀英", "role": "spouse", "since": "1998-03-01",
         "until": "2026-09-15"},
        {"id_number": PEOPLE.child, "name": "张明", "role": "child", "since": "2005-01-20",
         "until": None},
    ]  # fmt: skip
    assert [m["id_number"] for m in other["members"]] == [PEOPLE.outsider, PEOPLE.child]
    assert {(r["from_id"], r["kind"]) for r in child["relations"]} == {
        (PEOPLE.head, "parent"),
        (PEOPLE.spouse, "parent"),
    }
    assert child["vehicles"] == []
    assert spouse["person"]["vital_status"] == "deceased"
    assert spouse["person"]["death_date"] == "2026-09-15"
    assert spouse["households"][0]["until"] == "2026-09-15"


@pytest.mark.parametrize(
    ("auth_no", "status", "code"),
    [
        ("", 400, "MISSING_AUTHORISATION"),
        ("SQ0000000000000000", 403, "UNKNOWN_AUTHORISATION"),
        (AUTH_EXPIRED, 403, "AUTHORISATION_EXPIRED"),
        (AUTH_REVOKED, 403, "AUTHORISATION_REVOKED"),
        (AUTH_NO_PUBLIC_SECURITY, 403, "DEPARTMENT_NOT_COVERED"),
        (BULK_AGREEMENT, 403, "UNKNOWN_AUTHORISATION"),
    ],
)
def test_authorisation_is_checked(server: Server, auth_no: str, status: int, code: str) -> None:
    client, _ = server
    response = query(client, {"id_numbers": [PEOPLE.head]}, auth_no)
    assert response.status_code == status
    assert response.json() == {"code": code, "msg": response.json()["msg"]}
    assert response.json()["msg"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"id_numbers": []}, 400, "EMPTY_BATCH"),
        ({"id_numbers": [PEOPLE.head] * 2 + [f"x{i}" for i in range(100)]}, 413, "BATCH_TOO_LARGE"),
        ({"id_numbers": PEOPLE.head}, 400, "MALFORMED_BODY"),
        ({"id_numbers": [410702]}, 400, "MALFORMED_BODY"),
        ({}, 400, "MALFORMED_BODY"),
        ({"id_numbers": [PEOPLE.head], "fields": ["name"]}, 400, "UNKNOWN_PARAMETER"),
        ([PEOPLE.head], 400, "MALFORMED_BODY"),
        (None, 400, "MALFORMED_BODY"),
    ],
)
def test_bad_input_is_a_clear_error(server: Server, body: Any, status: int, code: str) -> None:
    client, _ = server
    response = query(client, body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["msg"]


def test_a_full_batch_and_malformed_json(server: Server) -> None:
    client, _ = server
    full = [PEOPLE.head] + [id_number("410702", "19900101", n) for n in range(99)]
    results = query(client, {"id_numbers": full}).json()["results"]
    assert len(results) == 100
    assert results[0]["status"] == "ok"
    assert {item["status"] for item in results[1:]} == {"not_authorised"}
    broken = client.post(
        QUERY, content=b'{"id_numbers": [', headers={"x-authorisation-no": AUTH_OK}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "MALFORMED_BODY"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-client-id": "", "authorization": ""},
        {"authorization": "Bearer wrong"},
        {"x-client-id": "mz-test-medical"},
        {"authorization": "Basic secret-public_security-0123456789"},
        {"authorization": "Bearer"},
    ],
)
def test_credentials_are_required(server: Server, headers: dict[str, str]) -> None:
    client, city = server
    response = client.post(
        QUERY,
        json={"id_numbers": [PEOPLE.head]},
        headers={**headers, "x-authorisation-no": AUTH_OK},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert bulk(client, CHANGES).status_code == 200  # the good credential still works
    refused = load_runtime(city, "public_security").log.entries()[-2]
    assert (refused["client"], refused["status"], refused["ids"]) == (None, 401, [])


def test_request_log_names_who_asked_for_whom(server: Server) -> None:
    client, city = server
    log = load_runtime(city, "public_security").log
    before = len(log.entries())
    query(client, {"id_numbers": [PEOPLE.head, PEOPLE.outsider]})
    query(client, {"id_numbers": [PEOPLE.child]}, AUTH_EXPIRED)  # refused, still logged
    bulk(client, EXPORT, region="410702")
    bulk(client, EXPORT, region=PEOPLE.outsider)  # an ID where a county belongs
    asked, refused, exported, misused = log.entries()[before:]
    assert asked["client"] == "mz-test-public_security"
    assert asked["auth_no"] == AUTH_OK
    assert asked["endpoint"] == QUERY
    assert asked["ids"] == [id_digest(PEOPLE.head), id_digest(PEOPLE.outsider)]
    assert (refused["auth_no"], refused["ids"]) == (AUTH_EXPIRED, [id_digest(PEOPLE.child)])
    assert (exported["auth_no"], exported["bulk"], exported["region"]) == (
        BULK_AGREEMENT,
        True,
        "410702",
    )
    assert misused["region"] is None
    text = (city / "logs" / "public_security-requests.jsonl").read_text(encoding="utf-8")
    assert all(person not in text for person in (PEOPLE.head, PEOPLE.outsider, PEOPLE.child))


def test_change_feed_pages_by_seq(server: Server) -> None:
    client, _ = server
    seen: list[int] = []
    cursor: str | int = ""
    pages = 0
    while True:
        data = bulk(client, CHANGES, cursor=cursor, limit=3).json()
        pages += 1
        seen += [change["seq"] for change in data["changes"]]
        assert data["next_cursor"] == (seen[-1] if data["changes"] else cursor)
        cursor = data["next_cursor"]
        if not data["has_more"]:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert pages == 3
    last = bulk(client, CHANGES, cursor=7).json()
    assert last == {"changes": [], "next_cursor": 7, "has_more": False}
    first = bulk(client, CHANGES, limit=1).json()["changes"][0]
    assert first == {
        "seq": 1,
        "kind": "birth",
        "id_number": PEOPLE.child,
        "hukou_no": HOME,
        "region_code": "410702",
        "occurred_on": "2005-01-20",
    }
    assert len(bulk(client, CHANGES).json()["changes"]) == 7  # default limit 500


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "-1"}, "INVALID_CURSOR"),
        ({"cursor": "abc"}, "INVALID_CURSOR"),
        ({"cursor": "1.5"}, "INVALID_CURSOR"),
        ({"cursor": "9" * 40}, "INVALID_CURSOR"),
        ({"limit": "0"}, "INVALID_LIMIT"),
        ({"limit": "5001"}, "INVALID_LIMIT"),
        ({"limit": "many"}, "INVALID_LIMIT"),
        ({"since": "1"}, "UNKNOWN_PARAMETER"),
    ],
)
def test_change_feed_rejects_bad_parameters(
    server: Server, params: dict[str, str], code: str
) -> None:
    client, _ = server
    response = bulk(client, CHANGES, **params)
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize("path", [CHANGES, EXPORT])
def test_bulk_endpoints_need_the_agreement(server: Server, path: str) -> None:
    client, _ = server
    params: dict[str, str] = {"region": "410702"} if path == EXPORT else {}
    refused = bulk(client, path, AUTH_OK, **params)
    assert refused.status_code == 403
    assert refused.json()["code"] == "NOT_A_BULK_AGREEMENT"
    missing = client.get(path, params=params)
    assert missing.status_code == 400
    assert missing.json()["code"] == "MISSING_AUTHORISATION"


@pytest.mark.parametrize(("limit", "pages"), [(2, 3), (4, 2), (5, 2), (5000, 1)])
def test_export_pages_through_a_county_exactly_once(server: Server, limit: int, pages: int) -> None:
    client, _ = server
    seen: list[str] = []
    after: str | None = ""
    for _ in range(pages):
        data = bulk(client, EXPORT, region="410702", after=after or "", limit=limit).json()
        assert len(data["persons"]) <= limit
        seen += [person["id_number"] for person in data["persons"]]
        after = data["next_after"]
    assert after is None  # the page holding the last person says so
    assert seen == sorted([PEOPLE.head, PEOPLE.child, *NEIGHBOURS])  # spouse left (deceased)


def test_export_items_are_query_results(server: Server) -> None:
    client, _ = server
    exported = bulk(client, EXPORT, region="410721").json()
    assert [p["id_number"] for p in exported["persons"]] == sorted([PEOPLE.child, PEOPLE.outsider])
    assert exported["next_after"] is None
    asked = query(client, {"id_numbers": [PEOPLE.child]}).json()["results"][0]
    by_id = {person["id_number"]: person for person in exported["persons"]}
    assert by_id[PEOPLE.child] == asked
    outsider = by_id[PEOPLE.outsider]
    assert outsider["status"] == "ok"
    assert outsider["vehicles"][0]["value_yuan"] == 90000
    assert outsider["person"]["serious_illness"] is True
    assert bulk(client, EXPORT, region="410728").json() == {"persons": [], "next_after": None}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"region": "999999"}, "UNKNOWN_REGION"),
        ({"region": "41070"}, "UNKNOWN_REGION"),
        ({"region": "410702' OR 1=1 --"}, "UNKNOWN_REGION"),
        ({}, "UNKNOWN_REGION"),
        ({"region": "410702", "after": "nobody"}, "INVALID_CURSOR"),
        ({"region": "410702", "limit": "-3"}, "INVALID_LIMIT"),
        ({"region": "410702", "page": "2"}, "UNKNOWN_PARAMETER"),
    ],
)
def test_export_rejects_bad_parameters(server: Server, params: dict[str, str], code: str) -> None:
    client, _ = server
    response = bulk(client, EXPORT, **params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_unknown_route_and_method(server: Server) -> None:
    client, _ = server
    assert client.get("/gaj/v1/nothing").json()["code"] == "NOT_FOUND"
    assert client.get(QUERY).status_code == 405


def set_faults(client: httpx.Client, **faults: object) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers={"x-sandbox-admin": ADMIN_TOKEN})
    assert response.status_code == 200


def test_error_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, error_rate=1.0)
    assert bulk(client, CHANGES).status_code in {500, 502, 503}
    set_faults(client)
    assert bulk(client, CHANGES).status_code == 200


def test_timeout_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, timeout_rate=1.0, timeout_seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        client.get(
            EXPORT,
            params={"region": "410702"},
            headers={"x-authorisation-no": BULK_AGREEMENT},
            timeout=0.3,
        )


def test_dropped_connection_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        query(client, {"id_numbers": [PEOPLE.head]})


def test_latency_fault(server: Server) -> None:
    client, _ = server
    set_faults(client, latency_ms=250)
    response = query(client, {"id_numbers": [PEOPLE.head]})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.25


def test_record_faults_on_the_change_feed(server: Server) -> None:
    client, _ = server
    clean = bulk(client, CHANGES, limit=5).json()
    set_faults(client, duplicate_rate=1.0)
    doubled = bulk(client, CHANGES, limit=5).json()
    assert doubled["changes"] == [c for c in clean["changes"] for _ in range(2)]
    assert doubled["next_cursor"] == clean["next_cursor"] == 5
    set_faults(client, malformed_rate=1.0, seed=7)
    broken = bulk(client, CHANGES, limit=5).json()["changes"]
    assert all(item != original for item, original in zip(broken, clean["changes"], strict=True))
    set_faults(client, out_of_order=True, seed=3)
    shuffled = bulk(client, CHANGES, limit=5).json()
    assert sorted(c["seq"] for c in shuffled["changes"]) == [1, 2, 3, 4, 5]
    assert [c["seq"] for c in shuffled["changes"]] != [1, 2, 3, 4, 5]
    assert shuffled["next_cursor"] == 5  # the cursor still follows the real page


def test_record_faults_on_query_results(server: Server) -> None:
    client, _ = server
    body = {"id_numbers": [PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider]}
    clean = query(client, body).json()["results"]
    set_faults(client, duplicate_rate=1.0)
    doubled = query(client, body).json()["results"]
    assert [r["id_number"] for r in doubled] == [
        PEOPLE.head, PEOPLE.head, PEOPLE.spouse, PEOPLE.spouse, PEOPLE.child, PEOPLE.child,
        PEOPLE.outsider,
    ]  # fmt: skip
    set_faults(client, malformed_rate=1.0, seed=1)
    broken = query(client, body).json()["results"]
    assert all(item != original for item, original in zip(broken[:3], clean[:3], strict=True))
    assert broken[3] == clean[3]  # refusals are never damaged
    set_faults(client, out_of_order=True, seed=4)
    shuffled = [r["id_number"] for r in query(client, body).json()["results"]]
    assert shuffled[:3] != [PEOPLE.head, PEOPLE.spouse, PEOPLE.child]
    assert sorted(shuffled[:3]) == sorted([PEOPLE.head, PEOPLE.spouse, PEOPLE.child])
