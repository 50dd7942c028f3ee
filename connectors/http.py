"""One department's HTTP calls, with the resilience every connector needs.

`DepartmentClient.call` owns: the per-request timeout, the outbound rate
limit, the circuit breaker, retries with exponential backoff and jitter
(tenacity) that honour `Retry-After`, and the mapping from HTTP outcomes to
the three error classes. Only retriable errors are retried. The transport is
injected (httpx), so unit tests swap it and integration tests use real sockets.
"""

from __future__ import annotations

import email.utils
import time
import weakref
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from json import loads as json_loads
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.resilience import CircuitBreaker, RateLimiter

RETRIABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# JSON bodies parsed while the call could still be retried, kept for `json_body`.
_PARSED: weakref.WeakKeyDictionary[httpx.Response, object] = weakref.WeakKeyDictionary()
RequestHook = Callable[[httpx.Request], Awaitable[None] | None]


@dataclass(frozen=True)
class CallPolicy:
    attempts: int = 6
    timeout: float = 10.0
    retry_budget: float = 120.0
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    rate: float = 200.0
    burst: int = 50
    breaker_threshold: int = 8
    breaker_cool_down: float = 2.0


@dataclass
class CallStats:
    requests: int = 0
    retries: int = 0
    failures: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class DepartmentClient:
    def __init__(
        self,
        source: str,
        http: httpx.AsyncClient,
        policy: CallPolicy | None = None,
        before_send: RequestHook | None = None,
    ) -> None:
        self.source = source
        self.http = http
        self.policy = policy or CallPolicy()
        self.before_send = before_send
        self.breaker = CircuitBreaker(
            source, self.policy.breaker_threshold, self.policy.breaker_cool_down
        )
        self.limiter = RateLimiter(self.policy.rate, self.policy.burst)
        self.stats = CallStats()
        self._backoff = wait_exponential_jitter(
            multiplier=self.policy.backoff_initial,
            max=self.policy.backoff_max,
            jitter=self.policy.backoff_initial,
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """The response (2xx or a status in `accept`), after retries; else a typed error."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts)
            | stop_after_delay(self.policy.retry_budget),
            wait=self._wait,
            retry=retry_if_exception_type(RetriableSourceError),
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(
                    method, path, json=json, params=params, headers=headers, accept=accept
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        *,
        json: object,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        accept: Collection[int],
    ) -> httpx.Response:
        self.breaker.before_call()
        await self.limiter.acquire()
        self.stats.requests += 1
        request = self.http.build_request(method, path, json=json, params=params, headers=headers)
        if self.before_send is not None:
            signed = self.before_send(request)
            if signed is not None:
                await signed
        try:
            response = await self.http.send(request)
            await response.aread()
        except httpx.TimeoutException:
            raise self._failed(f"{method} {path}: timed out") from None
        except httpx.TransportError as error:
            raise self._failed(
                f"{method} {path}: connection failed ({type(error).__name__})"
            ) from None
        status = response.status_code
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        if status == 429:  # alive, asking us to slow down: not a failure for the breaker
            retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            raise RetriableSourceError(self.source, f"{method} {path}: HTTP 429", retry_after)
        if status in RETRIABLE_STATUS:
            retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            raise self._failed(f"{method} {path}: HTTP {status}", retry_after)
        if status < 400 and "json" in response.headers.get("content-type", ""):
            try:  # a cut or garbled JSON body is a transient fault: retry it like a 502
                _PARSED[response] = json_loads(response.content)
            except ValueError:
                raise self._failed(f"{method} {path}: the JSON body is not valid") from None
        self.breaker.record_success()
        if status >= 400 and status not in accept:
            raise FatalSourceError(
                self.source, f"{method} {path}: HTTP {status} {_error_code(response)}"
            )
        return response

    def _failed(self, detail: str, retry_after: float | None = None) -> RetriableSourceError:
        self.breaker.record_failure()
        self.stats.failures += 1
        return RetriableSourceError(self.source, detail, retry_after)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetriableSourceError) and error.retry_after is not None:
            return min(error.retry_after, self.policy.retry_budget)
        return float(self._backoff(state))

    def _count_retry(self, _: RetryCallState) -> None:
        self.stats.retries += 1


def json_body(source: str, response: httpx.Response) -> object:
    """The JSON of a response (parsed once, inside the retried call, when it said JSON)."""
    if response in _PARSED:
        return _PARSED[response]
    try:
        return response.json()
    except ValueError:
        raise RetriableSourceError(
            source, f"{response.request.url.path}: body is not JSON"
        ) from None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


def _error_code(response: httpx.Response) -> str:
    """A department's error code, whichever style it answers in (never the message text)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("code", "errorCode", "err", "reason_code"):
        if isinstance(body.get(key), str):
            return str(body[key])
    nested = body.get("error")
    if isinstance(nested, dict) and isinstance(nested.get("code"), str):
        return str(nested["code"])
    return ""
