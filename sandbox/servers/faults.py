"""Switchable faults, so that connectors meet what real department interfaces do.

Transport faults are applied by `FaultMiddleware` (pure ASGI) to every request
except the sandbox's own admin routes:

- `error_rate`: answer 500, 502 or 503 instead of the real response;
- `latency_ms` (+ `latency_jitter_ms`): wait before answering;
- `timeout_rate`: wait `timeout_seconds` first (longer than a client should wait);
- `drop_rate`: send the headers and half the body, then cut the connection.

Record faults are applied by the department handlers through `FaultState.mangle`:

- `malformed_rate`: a record loses a field or gets a value of the wrong type;
- `duplicate_rate`: a record is sent twice;
- `out_of_order`: the records of a page arrive shuffled.

Faults draw from their own seeded random generator, so a test run is repeatable.
Switch them at run time with `PUT /_sandbox/faults` (admin token) or at start-up.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox/"
JsonRecord = dict[str, Any]


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: int = Field(0, ge=0, le=60_000)
    latency_jitter_ms: int = Field(0, ge=0, le=60_000)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    drop_rate: float = Field(0.0, ge=0, le=1)
    malformed_rate: float = Field(0.0, ge=0, le=1)
    duplicate_rate: float = Field(0.0, ge=0, le=1)
    out_of_order: bool = False
    seed: int = 0


class FaultState:
    """The current fault configuration and its random generator, shared by one server."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self._random = random.Random(self.config.seed)

    def replace(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def pick(self, choices: list[int]) -> int:
        with self._lock:
            return self._random.choice(choices)

    def jitter(self, upper_ms: int) -> int:
        with self._lock:
            return self._random.randint(0, upper_ms) if upper_ms else 0

    def mangle(
        self,
        records: list[JsonRecord],
        corrupt: Callable[[JsonRecord, random.Random], JsonRecord] | None = None,
    ) -> list[JsonRecord]:
        """Apply the record faults to one page of records (the input list is left as it is)."""
        config = self.config
        if not (config.malformed_rate or config.duplicate_rate or config.out_of_order):
            return records
        with self._lock:
            rng = self._random
            out: list[JsonRecord] = []
            for record in records:
                item = record
                if config.malformed_rate and rng.random() < config.malformed_rate:
                    item = (corrupt or corrupt_record)(dict(record), rng)
                out.append(item)
                if config.duplicate_rate and rng.random() < config.duplicate_rate:
                    out.append(item)
            if config.out_of_order:
                rng.shuffle(out)
            return out


def corrupt_record(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Drop a field, or give it a value of the wrong type: what a broken export looks like."""
    if not record:
        return record
    key = rng.choice(sorted(record))
    damage = rng.randrange(3)
    if damage == 0:
        del record[key]
    elif damage == 1:
        record[key] = None if isinstance(record[key], str) else "###"
    else:
        record[key] = {"unexpected": [1, 2, 3]}
    return record


class FaultMiddleware:
    """Pure ASGI: errors, latency, timeouts and dropped connections before the real app."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        state = self.state
        config = state.config
        delay_ms = config.latency_ms + state.jitter(config.latency_jitter_ms)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if state.chance(config.timeout_rate):
            await asyncio.sleep(config.timeout_seconds)
        if state.chance(config.error_rate):
            await _send_error(send, state.pick([500, 502, 503]))
            return
        if state.chance(config.drop_rate):
            await self.app(scope, receive, _truncating(send))
            return
        await self.app(scope, receive, send)


async def _send_error(send: Send, status: int) -> None:
    body = b'{"fault":"injected server error"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _truncating(send: Send) -> Send:
    """Forward the start and half the first body chunk, then swallow the rest.

    The app returns with its response incomplete, so the server closes the
    connection mid-body: the client sees a truncated response, as with a
    department gateway that dies while answering.
    """
    started = False
    cut = False

    async def truncated(message: Message) -> None:
        nonlocal started, cut
        if message["type"] == "http.response.start":
            started = True
            await send(message)
        elif message["type"] == "http.response.body" and started and not cut:
            cut = True
            body: bytes = message.get("body", b"")
            half = body[: len(body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})

    return truncated
