"""What every department server shares: error rendering, admin routes, faults, input checks.

A department module declares its routes and its error style and calls
`department_app`; request helpers here parse bodies and ID batches so that
bad input always becomes a `DepartmentError` (a clear 4xx), never a crash.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.servers.consent import NOT_AUTHORISED, Authorisation
from sandbox.servers.errors import DepartmentError, ErrorRenderer, bad_request
from sandbox.servers.faults import FaultConfig, FaultMiddleware
from sandbox.servers.idcheck import is_valid_id_number
from sandbox.servers.runtime import DepartmentRuntime

MAX_BODY_BYTES = 1024 * 1024
INVALID_ID = "invalid_id"
ADMIN_HEADER = "x-sandbox-admin"
AUTH_HEADER = "x-authorisation-no"
_REGION = re.compile(r"^[0-9]{6}$")


def department_app(
    runtime: DepartmentRuntime, routes: Sequence[BaseRoute], render_error: ErrorRenderer
) -> Starlette:
    async def department_error(_: Request, error: Exception) -> Response:
        if not isinstance(error, DepartmentError):
            raise error
        return JSONResponse(render_error(error.code, error.message), status_code=error.status)

    async def http_error(_: Request, error: Exception) -> Response:
        if not isinstance(error, HTTPException):
            raise error
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}.get(
            error.status_code, "HTTP_ERROR"
        )
        return JSONResponse(render_error(code, str(error.detail)), status_code=error.status_code)

    async def internal_error(_: Request, __: Exception) -> Response:
        return JSONResponse(render_error("INTERNAL", "internal error"), status_code=500)

    app = Starlette(
        routes=[*routes, *_admin_routes()],
        exception_handlers={
            DepartmentError: department_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.runtime = runtime
    app.add_middleware(FaultMiddleware, state=runtime.faults)
    return app


def runtime_of(request: Request) -> DepartmentRuntime:
    runtime: DepartmentRuntime = request.app.state.runtime
    return runtime


def _admin_routes() -> list[Route]:
    """`/_sandbox/faults` (GET, PUT) and `/_sandbox/health`; faults need the admin token."""

    async def faults(request: Request) -> Response:
        runtime = runtime_of(request)
        offered = request.headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(offered.encode(), runtime.admin_token.encode()):
            raise DepartmentError(401, "UNAUTHENTICATED", "the admin token is missing or wrong")
        if request.method == "PUT":
            try:
                runtime.faults.replace(FaultConfig.model_validate(await read_json(request)))
            except ValidationError as error:
                raise bad_request("INVALID_FAULTS", _first_problem(error)) from None
        return JSONResponse(runtime.faults.config.model_dump())

    async def health(request: Request) -> Response:
        return JSONResponse({"department": runtime_of(request).department, "status": "ok"})

    return [
        Route("/_sandbox/faults", faults, methods=["GET", "PUT"]),
        Route("/_sandbox/health", health, methods=["GET"]),
    ]


async def read_json(request: Request) -> object:
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("MALFORMED_BODY", "the request body is not valid JSON") from None


def require_object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("MALFORMED_BODY", "the request body must be a JSON object")
    return body


def admit_bulk_query(
    request: Request,
    runtime: DepartmentRuntime,
    client: str | None,
    allowed: set[str],
    region_param: str | None = None,
) -> QueryParams:
    """How every bulk export starts: known parameters only, logged, under the bulk agreement.

    A region parameter is logged only when it has a region code's shape, so
    free text (an ID number sent by mistake, say) never reaches the log.
    """
    params = request.query_params
    reject_unknown_fields(dict(params), allowed)
    auth_no = request.headers.get(AUTH_HEADER)
    if region_param is None:
        runtime.log.record(client=client, auth_no=auth_no, endpoint=request.url.path, bulk=True)
    else:
        region = params.get(region_param, "")
        runtime.log.record(
            client=client,
            auth_no=auth_no,
            endpoint=request.url.path,
            bulk=True,
            region=region if _REGION.match(region) else None,
        )
    runtime.register.require_bulk_agreement(auth_no)
    return params


def subject_ids(
    body: dict[str, Any], runtime: DepartmentRuntime, field: str, allowed: set[str]
) -> list[str]:
    """How every subject enquiry's body starts: known fields only, then the batch of IDs."""
    reject_unknown_fields(body, allowed)
    return id_batch(body.get(field), field, runtime.max_batch)


def admit_subjects(
    request: Request,
    runtime: DepartmentRuntime,
    client: str | None,
    ids: list[str],
    department: str,
    *,
    as_of: object = None,
) -> dict[str, str | None]:
    """Logged first (with the time point asked about, if any), then answered only under an
    authorisation covering this department.

    Per ID the verdict `classify_subjects` gives: None when the department may
    answer about that person, else why not.
    """
    auth_no = request.headers.get(AUTH_HEADER)
    where = request.url.path
    if as_of is None:
        runtime.log.record(client=client, auth_no=auth_no, endpoint=where, id_numbers=ids)
    else:
        runtime.log.record(
            client=client, auth_no=auth_no, endpoint=where, id_numbers=ids, as_of=as_of
        )
    authorisation = runtime.register.require_subject_authorisation(
        auth_no, department, runtime.today
    )
    return classify_subjects(ids, authorisation)


def reject_unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(
            "UNKNOWN_PARAMETER",
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
        )


def id_batch(value: object, field: str, max_batch: int) -> list[str]:
    """A non-empty list of strings, at most `max_batch`, duplicates removed (order kept)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request("MALFORMED_BODY", f"{field} must be a list of ID-number strings")
    if not value:
        raise bad_request("EMPTY_BATCH", f"{field} must name at least one person")
    if len(value) > max_batch:
        raise DepartmentError(
            413, "BATCH_TOO_LARGE", f"{field} holds {len(value)} items; the limit is {max_batch}"
        )
    return list(dict.fromkeys(value))


def classify_subjects(ids: list[str], authorisation: Authorisation) -> dict[str, str | None]:
    """Per ID: None when the department may answer, else why not (invalid, not authorised)."""
    verdicts: dict[str, str | None] = {}
    for id_number in ids:
        if not is_valid_id_number(id_number):
            verdicts[id_number] = INVALID_ID
        elif id_number not in authorisation.signers:
            verdicts[id_number] = NOT_AUTHORISED
        else:
            verdicts[id_number] = None
    return verdicts


def secret_matches(offered: str | None, expected: str) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), expected.encode())


def fen_to_yuan(fen: int) -> str:
    """Money as departments print it: yuan with two decimals, no float rounding."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"
