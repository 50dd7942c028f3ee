"""Tax (税务): monthly income records, every request signed with HMAC-SHA256.

Interface style: snake_case JSON, money as yuan strings with two decimals
("1234.50"), errors as `{"error": {"code": "<CODE>", "message": "..."}}`.

    POST /tax/v2/income          {"ids": [...], "from": "YYYY-MM", "to": "YYYY-MM"}  subject enquiry
    GET  /tax/v2/income/changes  ?cursor=<seq>&limit=<n>                 bulk feed (agreement no.)

Signing. Every request carries four headers:

    X-Tax-Key        the client id
    X-Tax-Timestamp  unix seconds (decimal digits), within 300 s of the server's wall clock
    X-Tax-Nonce      16-64 characters [A-Za-z0-9_-], never reused within 600 s
    X-Tax-Signature  lowercase hex HMAC-SHA256(secret, string_to_sign)

    string_to_sign = METHOD + "\\n" + target + "\\n" + hex(SHA-256(body)) + "\\n"
                     + timestamp + "\\n" + nonce

`METHOD` is upper case; `target` is the path and query exactly as on the
request line (`/tax/v2/income/changes?cursor=0&limit=10`, no scheme or host;
a bare `?` with no query is not part of it); `body` is the raw bytes sent (b""
for GET, whose hash is e3b0c442...b855); `secret` is the tax credential's
secret. Checks run in this order: headers, signature, clock, rate, nonce; so
a refused request (401 or 429) does not use up its nonce, a replay does.
Subject enquiries also carry `X-Authorisation-No` (the 授权书 number); the
changes feed carries the batch-comparison agreement number in the same header.

`POST /tax/v2/income`: at most 100 distinct ids, a period of at most 24
months (`from` <= `to`, both inclusive). Answer:

    {"items": [{"id": "...", "status": "ok|not_found|not_authorised|invalid_id",
                "records": [{"record_id", "period", "category", "payer_name",
                             "payer_tax_id", "gross", "tax", "net", "filed_on"}]}]}

one item per distinct id in the order asked; `net` = `gross` - `tax`.

`GET /tax/v2/income/changes`: every income record with seq > cursor (default
0), ordered by seq; limit default 1000, at most 5000. Answer:
`{"records": [{"seq", "id", "record_id", ...as above}], "next_cursor": <int>,
"has_more": <bool>}`; `next_cursor` is the last seq sent (the cursor itself on
an empty page). Records may arrive malformed, twice or out of order when the
sandbox's faults are on: key by record_id, and take next_cursor from the body.

Errors (status, code):

    401 UNAUTHENTICATED   a signing header is missing or malformed
    401 BAD_SIGNATURE     unknown key, or the signature does not match
    401 CLOCK_SKEW        the timestamp is more than 300 s from the server's clock
    401 REPLAYED_NONCE    the nonce was used in the last 600 s
    429 RATE_LIMITED      over the key's rate (20/s, burst 40), or the server's memory of
                          live nonces is full; `Retry-After` says how many seconds to wait
    400 MALFORMED_BODY, EMPTY_BATCH, UNKNOWN_PARAMETER, INVALID_PERIOD,
        INVALID_CURSOR, INVALID_LIMIT, MISSING_AUTHORISATION
    413 BATCH_TOO_LARGE
    403 UNKNOWN_AUTHORISATION, AUTHORISATION_EXPIRED, AUTHORISATION_REVOKED,
        DEPARTMENT_NOT_COVERED, NOT_A_BULK_AGREEMENT
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
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
    subject_ids,
)
from sandbox.servers.errors import DepartmentError, bad_request, unauthorised
from sandbox.servers.paging import page_limit
from sandbox.servers.runtime import DepartmentRuntime
from sandbox.store import TAX

KEY_HEADER = "x-tax-key"
SIGNING_HEADERS = (KEY_HEADER, "x-tax-timestamp", "x-tax-nonce", "x-tax-signature")
MAX_SKEW_SECONDS = 300
NONCE_TTL_SECONDS = 600.0
MAX_PERIOD_MONTHS = 24
MAX_CHANGES_PAGE = 5000
TIMESTAMP = re.compile(r"[0-9]{1,12}")
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
CURSOR = re.compile(r"[0-9]{1,18}")
INCOME_COLUMNS = (
    "record_id, id_number, period, category, payer_name, payer_tax_id, gross_fen, tax_fen, filed_on"
)
Row = tuple[Any, ...]


def render_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def create_app(
    runtime: DepartmentRuntime,
    *,
    rate_per_second: float = 20.0,
    burst: int = 40,
    max_nonces: int = 100_000,
    extra_clients: Mapping[str, str] | None = None,
) -> Starlette:
    """The tax server; `extra_clients` (key -> secret) adds keys besides the city's own."""
    routes = [
        Route("/tax/v2/income", income_query, methods=["POST"]),
        Route("/tax/v2/income/changes", income_changes, methods=["GET"]),
    ]
    app = department_app(runtime, routes, render_error)
    app.state.signing = SigningGuard(
        {runtime.client_id: runtime.secret, **(extra_clients or {})},
        RateLimiter(rate_per_second, burst),
        NonceStore(NONCE_TTL_SECONDS, max_nonces),
    )
    app.add_exception_handler(RateLimited, _rate_limited)
    return app


class RateLimited(DepartmentError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "RATE_LIMITED", f"too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    """A token bucket per key: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> None:
        with self._lock:
            tokens, then = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - then) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / self._rate)))
            self._buckets[key] = (tokens - 1, now)


class NonceStore:
    """The (key, nonce) pairs seen in the last `ttl` seconds; bounded, and it fails closed.

    When full of live nonces it refuses (429) rather than forget one that
    could then be replayed.
    """

    def __init__(self, ttl: float, capacity: int) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._expiry: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def admit(self, key: str, nonce: str, now: float) -> None:
        with self._lock:
            while self._expiry and next(iter(self._expiry.values())) <= now:
                self._expiry.popitem(last=False)
            if (key, nonce) in self._expiry:
                raise DepartmentError(
                    401, "REPLAYED_NONCE", "this nonce was used in the last 600 s"
                )
            if len(self._expiry) >= self._capacity:
                raise RateLimited(max(1, math.ceil(next(iter(self._expiry.values())) - now)))
            self._expiry[(key, nonce)] = now + self._ttl


class SigningGuard:
    """Admits a request only if it is signed by a known key, fresh, new and within its rate."""

    def __init__(
        self, clients: Mapping[str, str], limiter: RateLimiter, nonces: NonceStore
    ) -> None:
        self._clients = dict(clients)
        self._limiter = limiter
        self._nonces = nonces

    async def admit(self, request: Request) -> str:
        """The key of the signed request, or the DepartmentError to answer with."""
        key, stamp, nonce, signature = (request.headers.get(name) for name in SIGNING_HEADERS)
        if not (key and stamp and nonce and signature):
            raise unauthorised("X-Tax-Key, -Timestamp, -Nonce and -Signature are all required")
        if TIMESTAMP.fullmatch(stamp) is None or NONCE.fullmatch(nonce) is None:
            raise unauthorised(
                "X-Tax-Timestamp must be unix seconds, X-Tax-Nonce 16-64 [A-Za-z0-9_-]"
            )
        secret = self._clients.get(key)
        text = string_to_sign(request.method, _target(request), await request.body(), stamp, nonce)
        expected = sign(secret or "", text)
        if secret is None or not hmac.compare_digest(signature.encode(), expected.encode()):
            raise DepartmentError(401, "BAD_SIGNATURE", "the key or the signature is wrong")
        if abs(time.time() - int(stamp)) > MAX_SKEW_SECONDS:
            raise DepartmentError(401, "CLOCK_SKEW", "the timestamp is more than 300 s off")
        now = time.monotonic()
        self._limiter.take(key, now)
        self._nonces.admit(key, nonce, now)
        return key


def string_to_sign(method: str, target: bytes, body: bytes, stamp: str, nonce: str) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return b"\n".join(
        [method.upper().encode(), target, digest.encode(), stamp.encode(), nonce.encode()]
    )


def sign(secret: str, text: bytes) -> str:
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def _target(request: Request) -> bytes:
    """The path and query exactly as they were on the request line."""
    path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope.get("query_string", b"")
    return path + b"?" + query if query else path


async def _authenticate(request: Request) -> tuple[DepartmentRuntime, str]:
    runtime = runtime_of(request)
    guard: SigningGuard = request.app.state.signing
    try:
        return runtime, await guard.admit(request)
    except DepartmentError as error:
        client = request.headers.get(KEY_HEADER) if error.status == 429 else None
        runtime.log.record(
            client=client, auth_no=None, endpoint=request.url.path, status=error.status
        )
        raise


async def _rate_limited(_: Request, error: Exception) -> Response:
    if not isinstance(error, RateLimited):
        raise error
    return JSONResponse(
        render_error(error.code, error.message),
        status_code=error.status,
        headers={"Retry-After": str(error.retry_after)},
    )


async def income_query(request: Request) -> Response:
    runtime, client = await _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "ids", {"ids", "from", "to"})
    start, end = _period(body.get("from"), body.get("to"))
    verdicts = admit_subjects(request, runtime, client, ids, TAX)
    allowed = [id_number for id_number, verdict in verdicts.items() if verdict is None]
    by_person: dict[str, list[dict[str, Any]]] = {}
    for row in _income_rows(runtime.db, allowed, start, end):
        by_person.setdefault(row[1], []).append(_record(row))
    items = []
    for id_number, verdict in verdicts.items():
        found = by_person.get(id_number, [])
        items.append(
            {
                "id": id_number,
                "status": verdict or ("ok" if found else "not_found"),
                "records": runtime.faults.mangle(found),
            }
        )
    return JSONResponse({"items": items})


async def income_changes(request: Request) -> Response:
    runtime, client = await _authenticate(request)
    params = admit_bulk_query(request, runtime, client, {"cursor", "limit"})
    cursor = _cursor(params.get("cursor"))
    limit = page_limit(params.get("limit"), 1000, MAX_CHANGES_PAGE)
    rows = runtime.db.execute(
        f"SELECT {INCOME_COLUMNS}, seq FROM income WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608 - constant columns
        [cursor, limit + 1],
    ).fetchall()
    page = rows[:limit]
    records = [{"seq": row[-1], "id": row[1], **_record(row)} for row in page]
    return JSONResponse(
        {
            "records": runtime.faults.mangle(records),
            "next_cursor": page[-1][-1] if page else cursor,
            "has_more": len(rows) > limit,
        }
    )


def _income_rows(db: sqlite3.Connection, ids: list[str], start: str, end: str) -> list[Row]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return db.execute(
        f"SELECT {INCOME_COLUMNS} FROM income WHERE id_number IN ({marks}) "  # noqa: S608 - placeholders
        "AND period BETWEEN ? AND ? ORDER BY id_number, period, record_id",
        [*ids, start, end],
    ).fetchall()


def _period(start: object, end: object) -> tuple[str, str]:
    first, last = _month(start, "from"), _month(end, "to")
    months = _month_number(last) - _month_number(first) + 1
    if months < 1:
        raise bad_request("INVALID_PERIOD", "from must not be after to")
    if months > MAX_PERIOD_MONTHS:
        raise bad_request("INVALID_PERIOD", f"the period spans {months} months; at most 24")
    return first, last


def _month(value: object, field: str) -> str:
    if not isinstance(value, str) or MONTH.fullmatch(value) is None:
        raise bad_request("INVALID_PERIOD", f"{field} must be a month YYYY-MM")
    return value


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


def _cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if CURSOR.fullmatch(value) is None:
        raise bad_request("INVALID_CURSOR", "cursor must be a non-negative integer seq")
    return int(value)


def _record(row: Row) -> dict[str, Any]:
    record_id, _, period, category, payer_name, payer_tax_id, gross, tax, filed_on = row[:9]
    return {
        "record_id": record_id,
        "period": period,
        "category": category,
        "payer_name": payer_name,
        "payer_tax_id": payer_tax_id,
        "gross": fen_to_yuan(gross),
        "tax": fen_to_yuan(tax),
        "net": fen_to_yuan(gross - tax),
        "filed_on": filed_on,
    }
