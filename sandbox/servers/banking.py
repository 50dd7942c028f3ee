"""Banking (银行): accounts, month-end balances and financial products, answered asynchronously.

Interface style: snake_case JSON, `X-Institution` + `X-Api-Key` credentials,
money as JSON numbers in yuan (at most two decimals: 1234.5 is 1234.50),
errors as `{"status": "REJECTED", "reason_code": "<CODE>", "reason": "..."}`.
Like a real bank enquiry, an enquiry is a job: submit it, poll its status,
then fetch its result pages.

    POST /bank/v1/enquiries                {"id_numbers": [...], "as_of": "YYYY-MM-DD"}
    POST /bank/v1/bulk-enquiries           {"as_of": "YYYY-MM-DD", "after": "<id>", "limit": n}
    GET  /bank/v1/enquiries/{job_id}                          status of either kind of job
    GET  /bank/v1/enquiries/{job_id}/results?page=<1..pages>  one page of persons

Subject enquiries carry `X-Authorisation-No` (the 授权书 number, checked at
submission); bulk enquiries carry the batch-comparison agreement number in
the same header. `id_numbers`: 1-100 (duplicates dropped, order kept); `as_of`
not after the bank's today. A bulk job covers every person holding an account
or product at `as_of`, ordered by id_number, after `after` ("" or absent: from
the start), at most `limit` (default 1000, 1..2000) of them.

Submitting answers 202 `{"job_id": "...", "status": "processing",
"poll_after_ms": n}` ("completed" and 0 if the bank answers at once). A job id
is unguessable and belongs to the institution that submitted it. The status
answers `{"job_id", "status": "processing", "poll_after_ms", "page_size"}`
until the job is done, then `{"job_id", "status": "completed", "pages": n,
"page_size"}` (pages >= 1), plus, for a bulk job, `"next_after"`: the
id_number to pass as `after` next, or null when there are no more. A results
page:

    {"job_id", "page", "pages", "as_of",
     "persons": [{"id_number", "status": "ok|not_found|not_authorised|invalid_id",
                  "accounts": [{"account_no", "bank", "kind", "opened_on", "closed_on",
                                "balance", "balance_date"}],
                  "products": [{"product_id", "bank", "kind", "principal", "bought_on",
                                "matures_on"}]}]}

Persons appear in the order asked, paged by person. An account is listed if
opened on or before `as_of` and not closed before it; its balance is the
latest month-end balance on or before `as_of` (`balance_date`; both null if
there is none). A product is listed if bought on or before `as_of` and not
matured before it. `not_found`: nothing held at `as_of`. Results can be
fetched until `job_ttl` (600 s) after completion; the bank keeps a bounded
number of jobs and forgets the oldest. With the sandbox's faults on, a page's
persons may arrive malformed, twice or shuffled.

Errors (status, reason_code):

    401 UNAUTHENTICATED   X-Institution / X-Api-Key missing or wrong
    400 MALFORMED_BODY, EMPTY_BATCH, UNKNOWN_PARAMETER, INVALID_AS_OF, INVALID_LIMIT,
        INVALID_PAGE, MISSING_AUTHORISATION
    413 BATCH_TOO_LARGE
    403 UNKNOWN_AUTHORISATION, AUTHORISATION_EXPIRED, AUTHORISATION_REVOKED,
        DEPARTMENT_NOT_COVERED, NOT_A_BULK_AGREEMENT
    404 JOB_NOT_FOUND     unknown, forgotten, or another institution's job
    404 PAGE_NOT_FOUND    page outside 1..pages
    409 JOB_NOT_READY     results asked for while the job is processing
    410 JOB_EXPIRED       the job's results have expired
"""

from __future__ import annotations

import math
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.servers.app import (
    AUTH_HEADER,
    admit_subjects,
    department_app,
    read_json,
    reject_unknown_fields,
    require_object,
    runtime_of,
    secret_matches,
    subject_ids,
)
from sandbox.servers.errors import DepartmentError, bad_request, unauthorised
from sandbox.servers.runtime import DepartmentRuntime
from sandbox.store import BANKING

MAX_BULK = 2000
DEFAULT_BULK = 1000
PAGE = re.compile(r"[0-9]{1,9}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ACCOUNTS_WITH_BALANCE = (
    "SELECT a.id_number, a.account_no, a.bank, a.kind, a.opened_on, a.closed_on, "
    "b.balance_fen, b.as_of FROM accounts a LEFT JOIN balances b "
    "ON b.account_no = a.account_no AND b.as_of = (SELECT MAX(c.as_of) FROM balances c "
    "WHERE c.account_no = a.account_no AND c.as_of <= ?)"
)
PRODUCT_COLUMNS = "id_number, product_id, bank, kind, principal_fen, bought_on, matures_on"
Row = tuple[Any, ...]
Person = dict[str, Any]


def render_error(code: str, message: str) -> dict[str, Any]:
    return {"status": "REJECTED", "reason_code": code, "reason": message}


def create_app(
    runtime: DepartmentRuntime,
    *,
    job_delay_seconds: float = 1.0,
    job_ttl_seconds: float = 600.0,
    page_size: int = 20,
    max_jobs: int = 256,
    extra_clients: Mapping[str, str] | None = None,
) -> Starlette:
    """The bank; `extra_clients` (institution -> API key) adds institutions besides the city's."""
    routes = [
        Route("/bank/v1/enquiries", submit_enquiry, methods=["POST"]),
        Route("/bank/v1/bulk-enquiries", submit_bulk, methods=["POST"]),
        Route("/bank/v1/enquiries/{job_id}", job_status, methods=["GET"]),
        Route("/bank/v1/enquiries/{job_id}/results", job_results, methods=["GET"]),
    ]
    app = department_app(runtime, routes, render_error)
    app.state.clients = {runtime.client_id: runtime.secret, **(extra_clients or {})}
    app.state.jobs = JobStore(
        delay=job_delay_seconds, ttl=job_ttl_seconds, capacity=max_jobs, page_size=page_size
    )
    return app


@dataclass
class Job:
    job_id: str
    client: str
    as_of: str
    persons: list[Person]
    ready_at: float
    expires_at: float
    bulk: bool = False
    next_after: str | None = None


class JobStore:
    """The jobs in memory: at most `capacity`, the oldest forgotten first."""

    def __init__(self, *, delay: float, ttl: float, capacity: int, page_size: int) -> None:
        if delay < 0 or ttl <= 0 or capacity < 1 or page_size < 1:
            raise ValueError("delay >= 0, ttl > 0, capacity >= 1 and page_size >= 1 are required")
        self.delay = delay
        self.ttl = ttl
        self.page_size = page_size
        self._capacity = capacity
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(
        self,
        client: str,
        as_of: str,
        persons: list[Person],
        *,
        bulk: bool = False,
        next_after: str | None = None,
    ) -> Job:
        now = time.monotonic()
        ready_at = now + self.delay
        job_id = secrets.token_urlsafe(24)
        job = Job(job_id, client, as_of, persons, ready_at, ready_at + self.ttl, bulk, next_after)
        with self._lock:
            for old in self._jobs.values():
                if old.expires_at <= now:
                    old.persons = []  # results expire; the entry stays to answer 410
            self._jobs[job.job_id] = job
            while len(self._jobs) > self._capacity:
                self._jobs.popitem(last=False)
        return job

    def find(self, job_id: str, client: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.client != client:
            raise DepartmentError(404, "JOB_NOT_FOUND", "no job with this id for this institution")
        if time.monotonic() >= job.expires_at:
            job.persons = []
            raise DepartmentError(
                410, "JOB_EXPIRED", "the job's results have expired; submit again"
            )
        return job

    def pages(self, job: Job) -> int:
        return max(1, math.ceil(len(job.persons) / self.page_size))


def _authenticate(request: Request) -> tuple[DepartmentRuntime, str, JobStore]:
    """The runtime, the calling institution and the job store, or 401."""
    runtime = runtime_of(request)
    clients: dict[str, str] = request.app.state.clients
    institution = request.headers.get("x-institution", "")
    secret = clients.get(institution)
    if secret is None or not secret_matches(request.headers.get("x-api-key"), secret):
        runtime.log.record(client=None, auth_no=None, endpoint=request.url.path, status=401)
        raise unauthorised("X-Institution / X-Api-Key are missing or wrong")
    jobs: JobStore = request.app.state.jobs
    return runtime, institution, jobs


async def submit_enquiry(request: Request) -> Response:
    runtime, client, jobs = _authenticate(request)
    body = require_object(await read_json(request))
    ids = subject_ids(body, runtime, "id_numbers", {"id_numbers", "as_of"})
    as_of = _as_of(body.get("as_of"), runtime.today)
    verdicts = admit_subjects(request, runtime, client, ids, BANKING, as_of=as_of)
    allowed = [id_number for id_number, verdict in verdicts.items() if verdict is None]
    held = _holdings(runtime.db, allowed, as_of)
    persons = [_person(id_number, verdict, held) for id_number, verdict in verdicts.items()]
    return _accepted(jobs.submit(client, as_of, persons))


async def submit_bulk(request: Request) -> Response:
    runtime, client, jobs = _authenticate(request)
    body = require_object(await read_json(request))
    reject_unknown_fields(body, {"as_of", "after", "limit"})
    as_of = _as_of(body.get("as_of"), runtime.today)
    after = body.get("after") or ""
    if not isinstance(after, str):
        raise bad_request("MALFORMED_BODY", "after must be an ID-number string or empty")
    limit = _bulk_limit(body.get("limit"))
    auth_no = request.headers.get(AUTH_HEADER)
    runtime.log.record(
        client=client, auth_no=auth_no, endpoint=request.url.path, bulk=True, as_of=as_of
    )
    runtime.register.require_bulk_agreement(auth_no)
    found = _holders(runtime.db, as_of, after, limit + 1)
    chosen = found[:limit]
    held = _holdings(runtime.db, chosen, as_of)
    persons = [_person(id_number, None, held) for id_number in chosen]
    more = chosen[-1] if len(found) > limit else None
    return _accepted(jobs.submit(client, as_of, persons, bulk=True, next_after=more))


async def job_status(request: Request) -> Response:
    _, client, jobs = _authenticate(request)
    job = jobs.find(request.path_params["job_id"], client)
    status: dict[str, Any] = {"job_id": job.job_id, "page_size": jobs.page_size}
    wait_ms = _wait_ms(job)
    if wait_ms:
        status |= {"status": "processing", "poll_after_ms": wait_ms}
    else:
        status |= {"status": "completed", "pages": jobs.pages(job)}
        if job.bulk:
            status["next_after"] = job.next_after
    return JSONResponse(status)


async def job_results(request: Request) -> Response:
    runtime, client, jobs = _authenticate(request)
    reject_unknown_fields(dict(request.query_params), {"page"})
    page = _page(request.query_params.get("page"))
    job = jobs.find(request.path_params["job_id"], client)
    if _wait_ms(job):
        raise DepartmentError(409, "JOB_NOT_READY", "the job is still processing; poll its status")
    pages = jobs.pages(job)
    if not 1 <= page <= pages:
        raise DepartmentError(404, "PAGE_NOT_FOUND", f"page must be 1..{pages}")
    start = (page - 1) * jobs.page_size
    persons = job.persons[start : start + jobs.page_size]
    return JSONResponse(
        {
            "job_id": job.job_id,
            "page": page,
            "pages": pages,
            "as_of": job.as_of,
            "persons": runtime.faults.mangle(persons),
        }
    )


def _accepted(job: Job) -> Response:
    wait_ms = _wait_ms(job)
    return JSONResponse(
        {
            "job_id": job.job_id,
            "status": "processing" if wait_ms else "completed",
            "poll_after_ms": wait_ms,
        },
        status_code=202,
    )


def _wait_ms(job: Job) -> int:
    """How long until the job completes, in whole milliseconds (0: completed)."""
    return max(0, math.ceil((job.ready_at - time.monotonic()) * 1000))


def _holders(db: sqlite3.Connection, as_of: str, after: str, limit: int) -> list[str]:
    """The persons holding an account or product at `as_of`, after `after`, in order."""
    rows = db.execute(
        "SELECT id_number FROM accounts WHERE id_number > ? AND opened_on <= ? "
        "AND (closed_on IS NULL OR closed_on >= ?) "
        "UNION SELECT id_number FROM products WHERE id_number > ? AND bought_on <= ? "
        "AND (matures_on IS NULL OR matures_on >= ?) ORDER BY id_number LIMIT ?",
        [after, as_of, as_of, after, as_of, as_of, limit],
    ).fetchall()
    return [row[0] for row in rows]


def _holdings(db: sqlite3.Connection, ids: list[str], as_of: str) -> dict[str, Person]:
    """Per person with anything at `as_of`: {"accounts": [...], "products": [...]}."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    accounts = db.execute(
        f"{ACCOUNTS_WITH_BALANCE} WHERE a.id_number IN ({marks}) AND a.opened_on <= ? "
        "AND (a.closed_on IS NULL OR a.closed_on >= ?) ORDER BY a.id_number, a.account_no",
        [as_of, *ids, as_of, as_of],
    ).fetchall()
    products = db.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id_number IN ({marks}) "  # noqa: S608 - constant columns, placeholders
        "AND bought_on <= ? "
        "AND (matures_on IS NULL OR matures_on >= ?) ORDER BY id_number, product_id",
        [*ids, as_of, as_of],
    ).fetchall()
    held: dict[str, Person] = {}
    for row in accounts:
        held.setdefault(row[0], {"accounts": [], "products": []})["accounts"].append(_account(row))
    for row in products:
        held.setdefault(row[0], {"accounts": [], "products": []})["products"].append(_product(row))
    return held


def _person(id_number: str, verdict: str | None, held: dict[str, Person]) -> Person:
    found = held.get(id_number, {"accounts": [], "products": []})
    status = verdict or ("ok" if found["accounts"] or found["products"] else "not_found")
    return {"id_number": id_number, "status": status, **found}


def _as_of(value: object, today: date) -> str:
    try:
        as_of = (
            date.fromisoformat(value) if isinstance(value, str) and DATE.fullmatch(value) else None
        )
    except ValueError:
        as_of = None
    if as_of is None:
        raise bad_request("INVALID_AS_OF", "as_of must be a date YYYY-MM-DD")
    if as_of > today:
        raise bad_request("INVALID_AS_OF", f"as_of must not be after the bank's today ({today})")
    return as_of.isoformat()


def _bulk_limit(value: object) -> int:
    if value is None:
        return DEFAULT_BULK
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BULK:
        raise bad_request("INVALID_LIMIT", f"limit must be an integer 1..{MAX_BULK}")
    return value


def _page(value: str | None) -> int:
    if value is None:
        return 1
    if PAGE.fullmatch(value) is None:
        raise bad_request("INVALID_PAGE", "page must be a positive integer")
    return int(value)


def _money(fen: int) -> float:
    return round(fen / 100, 2)


def _account(row: Row) -> dict[str, Any]:
    _, account_no, bank, kind, opened_on, closed_on, balance_fen, balance_date = row
    return {
        "account_no": account_no,
        "bank": bank,
        "kind": kind,
        "opened_on": opened_on,
        "closed_on": closed_on,
        "balance": None if balance_fen is None else _money(balance_fen),
        "balance_date": balance_date,
    }


def _product(row: Row) -> dict[str, Any]:
    _, product_id, bank, kind, principal_fen, bought_on, matures_on = row
    return {
        "product_id": product_id,
        "bank": bank,
        "kind": kind,
        "principal": _money(principal_fen),
        "bought_on": bought_on,
        "matures_on": matures_on,
    }
