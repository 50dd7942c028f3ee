"""Medical insurance (医保): enrolments and claims with out-of-pocket costs, cursor pagination.

Interface style: camelCase JSON, `X-YB-AppId` + `X-YB-Token` credentials,
`{"ret": 0, "data": ...}` envelopes, money as yuan strings, opaque cursors.

    POST /ybj/v1/enrolments/query  {"idList": [...]}                 subject enquiry
    POST /ybj/v1/claims/query      {"idList": [...], "from", "to", "cursor", "limit"}
    GET  /ybj/v1/claims/export     ?cursor=&limit=                   bulk (agreement no.)
    GET  /ybj/v1/enrolments/export ?cursor=&limit=                   bulk (agreement no.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.servers.app import (
    admit_bulk_query,
    admit_subjects,
    department_app,
    fen_to_yuan,
    read_json,
    require_object,
    runtime_of,
    secret_matches,
    subject_ids,
)
from sandbox.servers.errors import bad_request, unauthorised
from sandbox.servers.paging import decode_cursor, encode_cursor, page_limit
from sandbox.servers.runtime import DepartmentRuntime
from sandbox.store import MEDICAL

ENROLMENT_COLUMNS = "enrolment_id, id_number, scheme, region_code, since, until, status"
CLAIM_COLUMNS = (
    "claim_id, id_number, settled_on, hospital, kind, diagnosis_group, "
    "total_fen, fund_paid_fen, out_of_pocket_fen"
)
MAX_PAGE = 500
MAX_EXPORT_PAGE = 5000


def render_error(code: str, message: str) -> dict[str, Any]:
    return {"ret": -1, "err": code, "msg": message}


def create_app(runtime: DepartmentRuntime) -> Starlette:
    routes = [
        Route("/ybj/v1/enrolments/query", enrolments_query, methods=["POST"]),
        Route("/ybj/v1/claims/query", claims_query, methods=["POST"]),
        Route("/ybj/v1/claims/export", claims_export, methods=["GET"]),
        Route("/ybj/v1/enrolments/export", enrolments_export, methods=["GET"]),
    ]
    return department_app(runtime, routes, render_error)


def _authenticate(request: Request) -> DepartmentRuntime:
    runtime = runtime_of(request)
    if request.headers.get("x-yb-appid") != runtime.client_id or not secret_matches(
        request.headers.get("x-yb-token"), runtime.secret
    ):
        runtime.log.record(client=None, auth_no=None, endpoint=request.url.path, status=401)
        raise unauthorised("X-YB-AppId / X-YB-Token are missing or wrong")
    return runtime


async def enrolments_query(request: Request) -> Response:
    runtime = _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "idList", {"idList"})
    verdicts = admit_subjects(request, runtime, runtime.client_id, ids, MEDICAL)
    allowed = [i for i, verdict in verdicts.items() if verdict is None]
    rows = _rows_for(
        runtime.db,
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments",  # noqa: S608 - constant columns
        allowed,
        "enrolment_id",
    )
    by_person: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_person.setdefault(row[1], []).append(_enrolment(row))
    data = []
    for id_number, verdict in verdicts.items():
        records = runtime.faults.mangle(by_person.get(id_number, []))
        status = verdict or ("ok" if records else "not_found")
        data.append({"idNo": id_number, "status": status, "enrolments": records})
    return JSONResponse({"ret": 0, "data": data})


async def claims_query(request: Request) -> Response:
    runtime = _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "idList", {"idList", "from", "to", "cursor", "limit"})
    start = _date_field(body, "from")
    end = _date_field(body, "to")
    if start > end:
        raise bad_request("INVALID_PERIOD", "from must not be after to")
    limit = page_limit(body.get("limit"), 200, MAX_PAGE)
    verdicts = admit_subjects(request, runtime, runtime.client_id, ids, MEDICAL)
    query = {"ids": sorted(ids), "from": start.isoformat(), "to": end.isoformat()}
    after = decode_cursor(body.get("cursor"), query)
    allowed = sorted(i for i, verdict in verdicts.items() if verdict is None)
    marks = ",".join("?" * len(allowed))
    period = [start.isoformat(), end.isoformat()]
    rows = runtime.db.execute(
        f"SELECT {CLAIM_COLUMNS} FROM claims WHERE id_number IN ({marks}) "  # noqa: S608
        "AND settled_on BETWEEN ? AND ? AND claim_id > ? ORDER BY claim_id LIMIT ?",
        [*allowed, *period, after, limit + 1],
    ).fetchall()
    page, more = rows[:limit], len(rows) > limit
    totals = dict(
        runtime.db.execute(
            f"SELECT id_number, SUM(out_of_pocket_fen) FROM claims WHERE id_number IN ({marks}) "  # noqa: S608
            "AND settled_on BETWEEN ? AND ? GROUP BY id_number",
            [*allowed, *period],
        ).fetchall()
    )
    persons = [
        {
            "idNo": id_number,
            "status": verdict or "ok",
            "outOfPocketTotal": None if verdict else fen_to_yuan(int(totals.get(id_number, 0))),
        }
        for id_number, verdict in verdicts.items()
    ]
    return JSONResponse(
        {
            "ret": 0,
            "data": {
                "persons": persons,
                "items": runtime.faults.mangle([_claim(row) for row in page]),
                "nextCursor": encode_cursor(page[-1][0], query) if more else None,
            },
        }
    )


async def claims_export(request: Request) -> Response:
    return _export(request, "claims", CLAIM_COLUMNS, "claim_id", _claim)


async def enrolments_export(request: Request) -> Response:
    return _export(request, "enrolments", ENROLMENT_COLUMNS, "enrolment_id", _enrolment)


Row = tuple[Any, ...]


def _export(
    request: Request, table: str, columns: str, key: str, shape: Callable[[Row], dict[str, Any]]
) -> Response:
    runtime = _authenticate(request)
    params = admit_bulk_query(request, runtime, runtime.client_id, {"cursor", "limit"})
    query = {"export": table}
    after = decode_cursor(params.get("cursor"), query)
    limit = page_limit(params.get("limit"), 1000, MAX_EXPORT_PAGE)
    rows = runtime.db.execute(
        f"SELECT {columns} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?",  # noqa: S608
        [after, limit + 1],
    ).fetchall()
    page, more = rows[:limit], len(rows) > limit
    return JSONResponse(
        {
            "ret": 0,
            "data": {
                "items": runtime.faults.mangle([shape(row) for row in page]),
                "nextCursor": encode_cursor(page[-1][0], query) if more else None,
            },
        }
    )


def _rows_for(
    db: sqlite3.Connection, select: str, ids: list[str], order: str
) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return db.execute(
        f"{select} WHERE id_number IN ({marks}) ORDER BY {order}",
        ids,
    ).fetchall()


def _date_field(body: dict[str, Any], field: str) -> date:
    value = body.get(field)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _missing(field)
    except ValueError:
        raise bad_request("INVALID_DATE", f"{field} must be a date YYYY-MM-DD") from None


def _missing(field: str) -> date:
    raise bad_request("INVALID_DATE", f"{field} must be a date YYYY-MM-DD")


def _enrolment(row: tuple[Any, ...]) -> dict[str, Any]:
    enrolment_id, id_number, scheme, region, since, until, status = row
    return {
        "enrolmentId": enrolment_id,
        "idNo": id_number,
        "scheme": scheme,
        "regionCode": region,
        "since": since,
        "until": until,
        "status": status,
    }


def _claim(row: tuple[Any, ...]) -> dict[str, Any]:
    claim_id, id_number, settled_on, hospital, kind, group, total, fund, own = row
    return {
        "claimId": claim_id,
        "idNo": id_number,
        "settledOn": settled_on,
        "hospital": hospital,
        "kind": kind,
        "diagnosisGroup": group,
        "total": fen_to_yuan(total),
        "fundPaid": fen_to_yuan(fund),
        "outOfPocket": fen_to_yuan(own),
    }
