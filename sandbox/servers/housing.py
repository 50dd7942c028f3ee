"""Real-estate registration (不动产登记): property certificates and their owners.

Interface style: pinyin field names, HTTP Basic credentials, money as yuan
strings with two decimals, `{"success": true, "data": ...}` envelopes and
errors as `{"success": false, "errorCode": "<CODE>", "errorMsg": "..."}`.

Headers on every request:

    Authorization: Basic base64(<client_id>:<secret>)   missing, malformed or wrong -> 401
    X-Authorisation-No: <授权书编号>    subject enquiries; the bulk agreement number for export

Endpoints:

    POST /bdc/api/query  {"zjhm": [...]}     证件号码, 1..100 (duplicates ignored)
        -> {"success": true, "data": [{"zjhm", "zt", "bdcqz": [...]}]}   in request order
        zt (状态): ok | not_found (no certificate) | not_authorised | invalid_id;
        only `ok` items list certificates (bdcqz 不动产权证), one per certificate held:
            bdcqzh 证书号, qxdm 区县代码, zl 坐落 (address), yt 用途
            (residential|commercial|industrial|rural_homestead), mj 面积 m² (number),
            djrq 登记日期, pgjz 评估价值 ("123456.78"), zt registered|cancelled|mortgaged,
            fe 份额 % (int), gyr 共有人: the other owners' zjhm, sorted

    GET /bdc/api/export.csv?qxdm=<6 digits>&page=<1..>&page_size=<1..5000, default 1000>
        bulk (agreement number) -> 200 text/csv; charset=utf-8 (RFC 4180, CRLF),
        header row `bdcqzh,zjhm,fe,qxdm,zl,yt,mj,djrq,pgjz,zt`, then one row per
        (certificate, owner) of that county ordered by (bdcqzh, zjhm); mj with two
        decimals. Response headers: X-Page, X-Total-Pages (at least 1), X-Total-Rows.

Errors (status, errorCode), always JSON, also on the CSV route:
    400 MALFORMED_BODY, EMPTY_BATCH, UNKNOWN_PARAMETER, MISSING_AUTHORISATION,
        UNKNOWN_REGION, INVALID_PAGE, INVALID_PAGE_SIZE;  401 UNAUTHENTICATED;
    403 UNKNOWN_AUTHORISATION, AUTHORISATION_EXPIRED, AUTHORISATION_REVOKED,
        DEPARTMENT_NOT_COVERED, NOT_A_BULK_AGREEMENT;  404 NOT_FOUND, PAGE_NOT_FOUND
    (page beyond X-Total-Pages);  405 METHOD_NOT_ALLOWED;  413 BATCH_TOO_LARGE,
    BODY_TOO_LARGE;  500 INTERNAL.
Injected faults may answer 500/502/503 with `{"fault": ...}`, stall, cut the body,
damage, repeat or shuffle certificates in a query answer, and damage (wrong
column count, non-numeric mj), repeat or shuffle the rows of a CSV page.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import random
import re
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
from sandbox.servers.errors import DepartmentError, bad_request, unauthorised
from sandbox.servers.runtime import DepartmentRuntime
from sandbox.store import HOUSING

CSV_COLUMNS = ("bdcqzh", "zjhm", "fe", "qxdm", "zl", "yt", "mj", "djrq", "pgjz", "zt")
CSV_TYPE = "text/csv; charset=utf-8"
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000
PROPERTY_COLUMNS = (
    "p.cert_no, p.region_code, p.address, p.usage, p.area_m2, p.registered_on, "
    "p.value_fen, p.status"
)
_REGION = re.compile(r"^[0-9]{6}$")
_NUMBER = re.compile(r"^[0-9]{1,9}$")

Row = tuple[Any, ...]
Record = dict[str, Any]


def render_error(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "errorMsg": message}


def create_app(runtime: DepartmentRuntime) -> Starlette:
    routes = [
        Route("/bdc/api/query", query, methods=["POST"]),
        Route("/bdc/api/export.csv", export_csv, methods=["GET"]),
    ]
    return department_app(runtime, routes, render_error)


def _authenticate(request: Request) -> DepartmentRuntime:
    runtime = runtime_of(request)
    client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
    if client_id != runtime.client_id or not secret_matches(secret, runtime.secret):
        runtime.log.record(client=None, auth_no=None, endpoint=request.url.path, status=401)
        raise unauthorised("Authorization: Basic credentials are missing, malformed or wrong")
    return runtime


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    """(client_id, secret) from `Basic base64(id:secret)`, or (None, None) if malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else (None, None)


async def query(request: Request) -> Response:
    runtime = _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "zjhm", {"zjhm"})
    verdicts = admit_subjects(request, runtime, runtime.client_id, ids, HOUSING)
    held = _certificates(runtime, sorted(i for i, verdict in verdicts.items() if verdict is None))
    data = []
    for zjhm, verdict in verdicts.items():
        certificates = runtime.faults.mangle(held.get(zjhm, []))
        status = verdict or ("ok" if certificates else "not_found")
        data.append({"zjhm": zjhm, "zt": status, "bdcqz": certificates})
    return JSONResponse({"success": True, "data": data})


def _certificates(runtime: DepartmentRuntime, ids: list[str]) -> dict[str, list[Record]]:
    """Each person's certificates (by certificate number), with share and co-owners."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = runtime.db.execute(
        f"SELECT o.id_number, o.share_pct, {PROPERTY_COLUMNS} "  # noqa: S608 - constant columns
        "FROM property_owners o JOIN properties p ON p.cert_no = o.cert_no "
        f"WHERE o.id_number IN ({marks}) ORDER BY o.id_number, p.cert_no",
        ids,
    ).fetchall()
    owners = _owners(runtime, sorted({row[2] for row in rows}))
    held: dict[str, list[Record]] = {}
    for zjhm, share, *certificate in rows:
        record = _certificate(certificate)
        record["fe"] = share
        record["gyr"] = [other for other in owners.get(record["bdcqzh"], []) if other != zjhm]
        held.setdefault(zjhm, []).append(record)
    return held


def _owners(runtime: DepartmentRuntime, cert_nos: list[str]) -> dict[str, list[str]]:
    if not cert_nos:
        return {}
    marks = ",".join("?" * len(cert_nos))
    owners: dict[str, list[str]] = {}
    for cert_no, zjhm in runtime.db.execute(
        f"SELECT cert_no, id_number FROM property_owners WHERE cert_no IN ({marks}) "  # noqa: S608 - placeholder marks
        "ORDER BY cert_no, id_number",
        cert_nos,
    ):
        owners.setdefault(cert_no, []).append(zjhm)
    return owners


def _certificate(row: list[Any]) -> Record:
    cert_no, region, address, usage, area, registered_on, value_fen, status = row
    return {
        "bdcqzh": cert_no,
        "qxdm": region,
        "zl": address,
        "yt": usage,
        "mj": area,
        "djrq": registered_on,
        "pgjz": fen_to_yuan(value_fen),
        "zt": status,
    }


async def export_csv(request: Request) -> Response:
    runtime = _authenticate(request)
    params = admit_bulk_query(
        request, runtime, runtime.client_id, {"qxdm", "page", "page_size"}, "qxdm"
    )
    region = params.get("qxdm", "")
    _require_region(runtime, region)
    page = _positive(params.get("page"), 1, None, "page", "INVALID_PAGE")
    size = _positive(
        params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, "page_size", "INVALID_PAGE_SIZE"
    )
    total_rows = _count_rows(runtime, region)
    total_pages = max(1, -(-total_rows // size))
    if page > total_pages:
        raise DepartmentError(
            404, "PAGE_NOT_FOUND", f"page {page} is beyond the last page ({total_pages})"
        )
    rows = runtime.db.execute(
        "SELECT p.cert_no, o.id_number, o.share_pct, p.region_code, p.address, p.usage, "
        "p.area_m2, p.registered_on, p.value_fen, p.status "
        "FROM properties p JOIN property_owners o ON o.cert_no = p.cert_no "
        "WHERE p.region_code = ? ORDER BY p.cert_no, o.id_number LIMIT ? OFFSET ?",
        [region, size, (page - 1) * size],
    ).fetchall()
    records = runtime.faults.mangle([_csv_record(row) for row in rows], _corrupt_row)
    headers = {
        "X-Page": str(page),
        "X-Total-Pages": str(total_pages),
        "X-Total-Rows": str(total_rows),
    }
    return Response(_to_csv(records), media_type=CSV_TYPE, headers=headers)


def _require_region(runtime: DepartmentRuntime, region: str) -> None:
    known = _REGION.match(region) is not None and (
        runtime.db.execute(
            "SELECT 1 FROM properties WHERE region_code = ? LIMIT 1", [region]
        ).fetchone()
        is not None
    )
    if not known:
        raise bad_request("UNKNOWN_REGION", "qxdm must be a county code present in the register")


def _positive(value: str | None, default: int, maximum: int | None, name: str, code: str) -> int:
    if value is None or value == "":
        return default
    number = int(value) if _NUMBER.match(value) else 0
    if number < 1 or (maximum is not None and number > maximum):
        bound = f"1..{maximum}" if maximum is not None else "from 1"
        raise bad_request(code, f"{name} must be an integer {bound}")
    return number


def _count_rows(runtime: DepartmentRuntime, region: str) -> int:
    (count,) = runtime.db.execute(
        "SELECT COUNT(*) FROM properties p JOIN property_owners o ON o.cert_no = p.cert_no "
        "WHERE p.region_code = ?",
        [region],
    ).fetchone()
    return int(count)


def _csv_record(row: Row) -> Record:
    cert_no, zjhm, share, region, address, usage, area, registered_on, value_fen, status = row
    values = (
        cert_no,
        zjhm,
        str(share),
        region,
        address,
        usage,
        f"{area:.2f}",
        registered_on,
        fen_to_yuan(value_fen),
        status,
    )
    return dict(zip(CSV_COLUMNS, values, strict=True))


def _corrupt_row(record: Record, rng: random.Random) -> Record:
    """What a broken CSV export looks like: a cell lost, a cell too many, or a bad number."""
    damage = rng.randrange(3)
    if damage == 0:
        del record[rng.choice(CSV_COLUMNS)]
    elif damage == 1:
        record["extra"] = "###"
    else:
        record["mj"] = rng.choice(["N/A", "约90平", ""])
    return record


def _to_csv(records: list[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(list(record.values()) for record in records)
    return out.getvalue()
