"""Public security (公安 户籍): persons, hukou households, relations, vehicles, a change feed.

Interface style: snake_case JSON, money as integer yuan (rounded to the nearest
yuan), errors as `{"code": "<CODE>", "msg": "..."}` with a 4xx/5xx status.

Headers on every request:

    X-Client-Id: <client_id>             both wrong or missing -> 401 UNAUTHENTICATED
    Authorization: Bearer <secret>
    X-Authorisation-No: <授权书编号>       subject enquiries; the bulk agreement number
                                          for the change feed and the export

Endpoints:

    POST /gaj/v1/persons/query   {"id_numbers": [...]}   1..100 IDs (duplicates ignored)
        -> {"results": [{"id_number", "status", "person", "households", "relations",
                         "vehicles"}]}
        status: ok | not_found | not_authorised (did not sign) | invalid_id (bad number);
        only `ok` items carry data (others: person null, empty lists). Items are not
        in request order: `ok` items come first, then the rest; match by id_number.
        person:    {name, sex M|F, birth_date, phone, vital_status alive|deceased,
                    death_date, disability_grade 1..4|null, school_level, serious_illness}
        households (one per membership, closed ones too; a person can hold two open):
                   {hukou_no, region_code, township_code, township_name, urban (bool),
                    address, role, since, until,
                    members: [{id_number, name, role, since, until}]}
        relations: {from_id, to_id, kind spouse|parent|supporter, since}, the person
                   being from_id or to_id (spouse stored once; parent: from is the parent)
        vehicles:  {plate, kind, brand, registered_on, value_yuan (int), status}

    GET /gaj/v1/changes?cursor=<seq>&limit=<n>            bulk; limit 1..5000, default 500
        -> {"changes": [{seq, kind death|move|birth, id_number, hukou_no, region_code,
                         occurred_on}], "next_cursor": <last seq sent, else the cursor>,
            "has_more": bool}
        cursor: the last seq already read (empty or absent: from the start).

    GET /gaj/v1/persons/export?region=<6 digits>&after=<id_number>&limit=<n>   bulk
        -> {"persons": [<query item, status ok>], "next_after": <id_number> | null}
        persons whose open membership is in a household of that county, by id_number;
        pass next_after as `after` for the next page (null: the last page).

Errors (status, code):
    400 MALFORMED_BODY, EMPTY_BATCH, UNKNOWN_PARAMETER, MISSING_AUTHORISATION,
        INVALID_CURSOR, INVALID_LIMIT, UNKNOWN_REGION;  401 UNAUTHENTICATED;
    403 UNKNOWN_AUTHORISATION, AUTHORISATION_EXPIRED, AUTHORISATION_REVOKED,
        DEPARTMENT_NOT_COVERED, NOT_A_BULK_AGREEMENT;  404 NOT_FOUND;
    405 METHOD_NOT_ALLOWED;  413 BATCH_TOO_LARGE, BODY_TOO_LARGE;  500 INTERNAL.
Injected faults may answer 500/502/503 with `{"fault": ...}`, stall, cut the body,
or damage, repeat or shuffle result items, changes and exported persons.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.servers.app import (
    admit_bulk_query,
    admit_subjects,
    department_app,
    read_json,
    require_object,
    runtime_of,
    secret_matches,
    subject_ids,
)
from sandbox.servers.errors import bad_request, unauthorised
from sandbox.servers.paging import page_limit
from sandbox.servers.runtime import DepartmentRuntime
from sandbox.store import PUBLIC_SECURITY

DEFAULT_PAGE = 500
MAX_PAGE = 5000
CHUNK = 500  # IDs per `IN (...)`, well under SQLite's variable limit
PERSON_KEYS = (
    "name", "sex", "birth_date", "phone", "vital_status", "death_date",
    "disability_grade", "school_level", "serious_illness",
)  # fmt: skip
CHANGE_KEYS = ("seq", "kind", "id_number", "hukou_no", "region_code", "occurred_on")
CHANGE_COLUMNS = ", ".join(CHANGE_KEYS)
PERSON_SELECT = f"SELECT id_number, {', '.join(PERSON_KEYS)} FROM persons"  # noqa: S608 - constant
MEMBERSHIP_SELECT = (
    "SELECT m.id_number, h.hukou_no, h.region_code, h.township_code, h.township_name, "
    "h.urban, h.address, m.role, m.since, m.until "
    "FROM memberships m JOIN households h ON h.hukou_no = m.hukou_no"
)
MEMBER_SELECT = (
    "SELECT m.hukou_no, m.id_number, p.name, m.role, m.since, m.until "
    "FROM memberships m LEFT JOIN persons p ON p.id_number = m.id_number"
)
RELATION_SELECT = "SELECT from_id, to_id, kind, since FROM relations"
VEHICLE_SELECT = (
    "SELECT owner_id, plate, kind, brand, registered_on, value_fen, status FROM vehicles"
)
_CURSOR = re.compile(r"^[0-9]{1,18}$")
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_REGION = re.compile(r"^[0-9]{6}$")

Row = tuple[Any, ...]
Record = dict[str, Any]


def render_error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "msg": message}


def create_app(runtime: DepartmentRuntime) -> Starlette:
    routes = [
        Route("/gaj/v1/persons/query", persons_query, methods=["POST"]),
        Route("/gaj/v1/changes", changes, methods=["GET"]),
        Route("/gaj/v1/persons/export", persons_export, methods=["GET"]),
    ]
    return department_app(runtime, routes, render_error)


def _authenticate(request: Request) -> DepartmentRuntime:
    runtime = runtime_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if (
        request.headers.get("x-client-id") != runtime.client_id
        or scheme.lower() != "bearer"
        or not secret_matches(token.strip(), runtime.secret)
    ):
        runtime.log.record(client=None, auth_no=None, endpoint=request.url.path, status=401)
        raise unauthorised("X-Client-Id / Authorization: Bearer are missing or wrong")
    return runtime


async def persons_query(request: Request) -> Response:
    runtime = _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "id_numbers", {"id_numbers"})
    verdicts = admit_subjects(request, runtime, runtime.client_id, ids, PUBLIC_SECURITY)
    found = _dossiers(runtime.db, [i for i, verdict in verdicts.items() if verdict is None])
    answered = [found[i] for i in verdicts if i in found]
    others = [
        _empty(id_number, verdict or "not_found")
        for id_number, verdict in verdicts.items()
        if id_number not in found
    ]
    return JSONResponse({"results": [*runtime.faults.mangle(answered), *others]})


async def changes(request: Request) -> Response:
    runtime = _authenticate(request)
    params = admit_bulk_query(request, runtime, runtime.client_id, {"cursor", "limit"})
    cursor = _seq_cursor(params.get("cursor"))
    limit = page_limit(params.get("limit"), DEFAULT_PAGE, MAX_PAGE)
    rows = runtime.db.execute(
        f"SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608 - constant columns
        [cursor, limit + 1],
    ).fetchall()
    page = rows[:limit]
    return JSONResponse(
        {
            "changes": runtime.faults.mangle([_change(row) for row in page]),
            "next_cursor": page[-1][0] if page else cursor,
            "has_more": len(rows) > limit,
        }
    )


async def persons_export(request: Request) -> Response:
    runtime = _authenticate(request)
    params = admit_bulk_query(
        request, runtime, runtime.client_id, {"region", "after", "limit"}, "region"
    )
    region = params.get("region", "")
    _require_region(runtime.db, region)
    after = params.get("after", "")
    if after and not _ID_SHAPE.match(after):
        raise bad_request("INVALID_CURSOR", "after must be empty or a next_after from this export")
    limit = page_limit(params.get("limit"), DEFAULT_PAGE, MAX_PAGE)
    ids = [
        row[0]
        for row in runtime.db.execute(
            "SELECT DISTINCT m.id_number FROM memberships m "
            "JOIN households h ON h.hukou_no = m.hukou_no "
            "JOIN persons p ON p.id_number = m.id_number "
            "WHERE h.region_code = ? AND m.until IS NULL AND m.id_number > ? "
            "ORDER BY m.id_number LIMIT ?",
            [region, after, limit + 1],
        )
    ]
    page = ids[:limit]
    found = _dossiers(runtime.db, page)
    return JSONResponse(
        {
            "persons": runtime.faults.mangle([found[i] for i in page]),
            "next_after": page[-1] if len(ids) > limit else None,
        }
    )


def _seq_cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not _CURSOR.match(value):
        raise bad_request("INVALID_CURSOR", "cursor must be a non-negative integer (a seq)")
    return int(value)


def _require_region(db: sqlite3.Connection, region: str) -> None:
    known = _REGION.match(region) is not None and (
        db.execute("SELECT 1 FROM households WHERE region_code = ? LIMIT 1", [region]).fetchone()
        is not None
    )
    if not known:
        raise bad_request("UNKNOWN_REGION", "region must be a county code present in the register")


def _dossiers(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Record]:
    """The `ok` result item of every ID that names a registered person."""
    wanted = sorted(ids)
    rows = _rows_in(db, PERSON_SELECT, "id_number", wanted, "id_number")
    persons = {row[0]: _person(row) for row in rows}
    found = sorted(persons)
    households = _households(db, found)
    relations = _relations(db, found)
    vehicles = _group(_rows_in(db, VEHICLE_SELECT, "owner_id", found, "owner_id, plate"), _vehicle)
    return {
        id_number: {
            "id_number": id_number,
            "status": "ok",
            "person": persons[id_number],
            "households": households.get(id_number, []),
            "relations": relations.get(id_number, []),
            "vehicles": vehicles.get(id_number, []),
        }
        for id_number in found
    }


def _rows_in(
    db: sqlite3.Connection, select: str, column: str, keys: Sequence[str], order: str
) -> list[Row]:
    """`select WHERE column IN keys ORDER BY order`, in chunks of sorted keys."""
    rows: list[Row] = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"{select} WHERE {column} IN ({marks}) ORDER BY {order}"
        rows += db.execute(sql, chunk).fetchall()
    return rows


def _group(rows: list[Row], shape: Callable[[Row], Record]) -> dict[str, list[Record]]:
    """Rows keyed by their first column, each shaped from the rest."""
    grouped: dict[str, list[Record]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(shape(row[1:]))
    return grouped


def _households(db: sqlite3.Connection, ids: list[str]) -> dict[str, list[Record]]:
    memberships = _rows_in(
        db, MEMBERSHIP_SELECT, "m.id_number", ids, "m.id_number, m.since, h.hukou_no"
    )
    hukou_nos = sorted({row[1] for row in memberships})
    member_rows = _rows_in(
        db, MEMBER_SELECT, "m.hukou_no", hukou_nos, "m.hukou_no, m.since, m.id_number"
    )
    members = _group(member_rows, _member)
    by_person: dict[str, list[Record]] = {}
    for row in memberships:
        household = _household(row[1:])
        household["members"] = members.get(row[1], [])
        by_person.setdefault(row[0], []).append(household)
    return by_person


def _relations(db: sqlite3.Connection, ids: list[str]) -> dict[str, list[Record]]:
    rows = {*_rows_in(db, RELATION_SELECT, "from_id", ids, "from_id")}
    rows |= {*_rows_in(db, RELATION_SELECT, "to_id", ids, "to_id")}
    wanted = set(ids)
    by_person: dict[str, list[Record]] = {}
    for from_id, to_id, kind, since in sorted(rows, key=lambda row: (row[2], row[0], row[1])):
        relation = {"from_id": from_id, "to_id": to_id, "kind": kind, "since": since}
        for party in dict.fromkeys((from_id, to_id)):
            if party in wanted:
                by_person.setdefault(party, []).append(relation)
    return by_person


def _empty(id_number: str, status: str) -> Record:
    return {
        "id_number": id_number,
        "status": status,
        "person": None,
        "households": [],
        "relations": [],
        "vehicles": [],
    }


def _person(row: Row) -> Record:
    person = dict(zip(PERSON_KEYS, row[1:], strict=True))
    person["serious_illness"] = bool(person["serious_illness"])
    return person


def _household(row: Row) -> Record:
    hukou_no, region, township_code, township_name, urban, address, role, since, until = row
    return {
        "hukou_no": hukou_no,
        "region_code": region,
        "township_code": township_code,
        "township_name": township_name,
        "urban": bool(urban),
        "address": address,
        "role": role,
        "since": since,
        "until": until,
    }


def _member(row: Row) -> Record:
    return dict(zip(("id_number", "name", "role", "since", "until"), row, strict=True))


def _vehicle(row: Row) -> Record:
    plate, kind, brand, registered_on, value_fen, status = row
    return {
        "plate": plate,
        "kind": kind,
        "brand": brand,
        "registered_on": registered_on,
        "value_yuan": _whole_yuan(value_fen),
        "status": status,
    }


def _change(row: Row) -> Record:
    return dict(zip(CHANGE_KEYS, row, strict=True))


def _whole_yuan(fen: int) -> int:
    """Fen to yuan, half a yuan rounding away from zero (the register prints whole yuan)."""
    whole, rest = divmod(abs(fen), 100)
    yuan = whole + (1 if rest >= 50 else 0)
    return -yuan if fen < 0 else yuan
