"""DepartmentClient against a scripted transport: retries, Retry-After, breaker, error classes."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import CallPolicy, DepartmentClient, json_body

pytestmark = pytest.mark.anyio
FAST = CallPolicy(attempts=4, backoff_initial=0.01, backoff_max=0.02, breaker_threshold=50)


def scripted(
    *outcomes: httpx.Response | Exception,
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(outcomes)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    transport = httpx.MockTransport(handle)
    return httpx.AsyncClient(transport=transport, base_url="http://dept.test"), seen


async def test_retries_5xx_then_succeeds() -> None:
    http, seen = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={}))
    client = DepartmentClient("tax", http, FAST)
    response = await client.call("GET", "/x")
    assert response.status_code == 200
    assert len(seen) == 3
    assert client.stats.retries == 2


async def test_gives_up_after_the_attempts() -> None:
    http, seen = scripted(httpx.Response(500))
    client = DepartmentClient("tax", http, FAST)
    with pytest.raises(RetriableSourceError, match="HTTP 500"):
        await client.call("GET", "/x")
    assert len(seen) == FAST.attempts


async def test_honours_retry_after() -> None:
    http, _ = scripted(
        httpx.Response(429, headers={"retry-after": "1"}), httpx.Response(200, json={})
    )
    client = DepartmentClient("tax", http, FAST)
    started = time.monotonic()
    await client.call("GET", "/x")
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
async def test_transport_failures_are_retried(error: Exception) -> None:
    http, seen = scripted(error, httpx.Response(200, json={"ok": True}))
    client = DepartmentClient("tax", http, FAST)
    assert (await client.call("GET", "/x")).json() == {"ok": True}
    assert len(seen) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_client_errors_are_fatal_and_not_retried(status: int) -> None:
    http, seen = scripted(httpx.Response(status, json={"code": "SOME_CODE", "msg": "410702..."}))
    client = DepartmentClient("public_security", http, FAST)
    with pytest.raises(FatalSourceError) as caught:
        await client.call("POST", "/q", json={})
    assert f"HTTP {status} SOME_CODE" in str(caught.value)
    assert "410702" not in str(caught.value)  # the department's message text is not copied
    assert len(seen) == 1


async def test_accepted_statuses_are_returned() -> None:
    http, _ = scripted(httpx.Response(409, json={"reason_code": "JOB_NOT_READY"}))
    client = DepartmentClient("banking", http, FAST)
    assert (await client.call("GET", "/job", accept={409})).status_code == 409


async def test_breaker_stops_calls_to_a_failing_department() -> None:
    http, seen = scripted(httpx.Response(503))
    policy = CallPolicy(
        attempts=10,
        backoff_initial=0.01,
        backoff_max=0.01,
        breaker_threshold=3,
        breaker_cool_down=60,
        retry_budget=0.5,
    )
    client = DepartmentClient("housing", http, policy)
    with pytest.raises(RetriableSourceError):
        await client.call("GET", "/x")
    assert len(seen) == 3  # then the breaker answered for the department


async def test_hook_signs_every_attempt() -> None:
    http, seen = scripted(httpx.Response(503), httpx.Response(200, json={}))
    counter = iter(range(100))

    def sign(request: httpx.Request) -> None:
        request.headers["x-attempt"] = str(next(counter))

    client = DepartmentClient("tax", http, FAST, before_send=sign)
    await client.call("GET", "/x")
    assert [r.headers["x-attempt"] for r in seen] == ["0", "1"]


async def test_non_json_body_is_retriable() -> None:
    response = httpx.Response(
        200, content=b"<html>gateway</html>", request=httpx.Request("GET", "http://dept.test/x")
    )
    with pytest.raises(RetriableSourceError, match="not JSON"):
        json_body("tax", response)


async def test_a_garbled_json_body_is_retried() -> None:
    garbled = httpx.Response(
        200, content=b'{"items": [1, 2', headers={"content-type": "application/json"}
    )
    http, seen = scripted(garbled, httpx.Response(200, json={"items": [1, 2]}))
    client = DepartmentClient("medical", http, FAST)
    response = await client.call("GET", "/x")
    assert json_body("medical", response) == {"items": [1, 2]}
    assert len(seen) == 2
