"""The authentication middleware in front of a tiny inline Starlette app."""

from __future__ import annotations

import contextvars
import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authz.principal import Principal, Role
from authz.tokens import JwksFileSource, LocalKeySource, SigningKey, TokenVerifier, mint
from hub.authentication import (
    UNAUTHENTICATED_BODY,
    AuthenticationMiddleware,
    local_token_key_path,
    token_verifier_from_settings,
)
from hub.settings import Settings

pytestmark = pytest.mark.anyio

ISSUER = "verification-hub-local"
AUDIENCE = "verification-hub"
CASEWORKER = Principal("cw-0042", Role.CASEWORKER, "410702001", "wangcun-township")
HOUR = timedelta(hours=1)
request_marker: contextvars.ContextVar[str] = contextvars.ContextVar("request_marker")


async def whoami(request: Request) -> JSONResponse:
    principal: Principal = request.state.principal
    request_marker.set("set-by-endpoint")
    return JSONResponse(
        {
            "subject": principal.subject,
            "role": principal.role.value,
            "region": principal.region,
            "org": principal.organisation,
            "lifespan": getattr(request.state, "from_lifespan", None),
        }
    )


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"from_lifespan": "graph"}


def inline_app(verifier: TokenVerifier) -> AuthenticationMiddleware:
    app = Starlette(
        routes=[Route("/whoami", whoami, methods=["GET", "POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
    return AuthenticationMiddleware(app, verifier)


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return SigningKey.load_or_create(tmp_path / "token-signing-key.pem")


@pytest.fixture
def verifier(tmp_path: Path, key: SigningKey) -> TokenVerifier:
    source = LocalKeySource(tmp_path / "token-signing-key.pem")
    return TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=inline_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def failing_headers(key: SigningKey) -> dict[str, list[tuple[str, str]]]:
    """One request per way of failing; the 401 must not tell them apart."""
    good = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)
    claims = jwt.decode(good, options={"verify_signature": False})
    past = datetime.now(UTC) - 3 * HOUR
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    tokens = {
        "garbage": "not-a-token",
        "expired": mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE, now=past),
        "wrong audience": mint(CASEWORKER, HOUR, key, ISSUER, "another-api"),
        "forged": mint(CASEWORKER, HOUR, SigningKey.generate(), ISSUER, AUDIENCE),
        "alg none": f"{none_header}.{good.split('.')[1]}.",
        "bad role": key.sign({**claims, "role": "root"}),
    }
    return {
        "missing": [],
        "basic": [("authorization", "Basic dXNlcjpwYXNz")],
        "empty bearer": [("authorization", "Bearer ")],
        "two tokens": [("authorization", f"Bearer {good} {good}")],
        "two headers": [("authorization", f"Bearer {good}"), ("authorization", f"Bearer {good}")],
        **{name: [("authorization", f"Bearer {token}")] for name, token in tokens.items()},
    }


async def test_every_failure_gets_the_same_401(client: httpx.AsyncClient, key: SigningKey) -> None:
    seen: set[tuple[int, tuple[tuple[str, str], ...], bytes]] = set()
    for name, headers in failing_headers(key).items():
        response = await client.post("/whoami", headers=headers, content=b"{}")
        assert response.status_code == 401, name
        assert response.content == UNAUTHENTICATED_BODY, name
        assert response.headers["content-type"] == "application/json"
        assert response.headers["www-authenticate"] == "Bearer"
        seen.add((response.status_code, tuple(sorted(response.headers.items())), response.content))
    assert len(seen) == 1
    assert json.loads(UNAUTHENTICATED_BODY) == {
        "errors": [{"message": "Unauthenticated", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_the_principal_reaches_the_endpoint(
    client: httpx.AsyncClient, key: SigningKey
) -> None:
    token = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = await client.get("/whoami", headers={"authorization": f"{scheme} {token}"})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "subject": "cw-0042",
            "role": "caseworker",
            "region": "410702001",
            "org": "wangcun-township",
            "lifespan": None,
        }


async def test_healthz_is_public(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).text == "ok"
    assert (await client.get("/healthz", headers=bearer("junk"))).text == "ok"
    assert (await client.get("/healthz/")).status_code == 401


async def test_unknown_paths_are_refused_before_routing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nowhere")).status_code == 401


async def test_lifespan_passes_through(verifier: TokenVerifier) -> None:
    app = inline_app(verifier)
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Message] = []
    state: dict[str, Any] = {}

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert state == {"from_lifespan": "graph"}


async def test_the_lifespan_state_is_copied_not_mutated(
    verifier: TokenVerifier, key: SigningKey
) -> None:
    shared: dict[str, Any] = {"from_lifespan": "graph"}
    inner = inline_app(verifier)

    async def server_like(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = shared  # a careless server handing every request the same dict
        await inner(scope, receive, send)

    transport = httpx.ASGITransport(app=server_like)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        token = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)
        response = await client.get("/whoami", headers=bearer(token))
    assert response.json()["lifespan"] == "graph"
    assert response.json()["subject"] == "cw-0042"
    assert shared == {"from_lifespan": "graph"}


async def test_the_app_runs_in_the_callers_context(
    verifier: TokenVerifier, key: SigningKey
) -> None:
    """Pure ASGI: a contextvar the endpoint sets is visible to the code around the middleware."""
    inner = inline_app(verifier)
    seen: list[str] = []

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        await inner(scope, receive, send)
        seen.append(request_marker.get("unset"))

    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        await client.get("/whoami", headers=bearer(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)))
    assert seen == ["set-by-endpoint"]


class ThreadSpy:
    """A blocking key source (like a JWKS URL) that records which thread asked it."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.threads: list[int] = []

    @property
    def blocking(self) -> bool:
        return True

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        self.threads.append(threading.get_ident())
        return self.key.verification_key() if kid == self.key.kid else None


async def test_a_blocking_key_source_is_asked_off_the_event_loop(key: SigningKey) -> None:
    spy = ThreadSpy(key)
    app = inline_app(TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        token = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)
        assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
    assert spy.threads
    assert threading.get_ident() not in spy.threads


async def test_websocket_handshakes_without_a_token_are_closed(verifier: TokenVerifier) -> None:
    called: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = AuthenticationMiddleware(app, verifier)
    scope = {"type": "websocket", "path": "/graphql", "headers": [], "asgi": {"version": "3.0"}}
    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert called == []


# --- settings -> verifier -----------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("HUB_", "NEO4J_")):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
async def test_the_embedded_default_trusts_the_local_key(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    path = local_token_key_path(settings)
    assert path == tmp_path / "keys" / "token-signing-key.pem"
    local = SigningKey.load_or_create(path)
    verifier = token_verifier_from_settings(settings)
    assert verifier.verify(mint(CASEWORKER, HOUR, local, ISSUER, AUDIENCE)) == CASEWORKER


@pytest.mark.usefixtures("clean_env")
async def test_with_a_jwks_the_local_key_is_not_trusted(tmp_path: Path) -> None:
    local = SigningKey.load_or_create(tmp_path / "keys" / "token-signing-key.pem")
    issuer_key = SigningKey.generate("ES256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [issuer_key.public_jwk()]}), encoding="utf-8")
    settings = Settings(
        state_dir=tmp_path, jwks_file=jwks, token_issuer="https://idp.example", token_audience="hub"
    )
    verifier = token_verifier_from_settings(settings)
    app: ASGIApp = inline_app(verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        from_idp = mint(CASEWORKER, HOUR, issuer_key, "https://idp.example", "hub")
        assert (await client.get("/whoami", headers=bearer(from_idp))).status_code == 200
        local_token = mint(CASEWORKER, HOUR, local, "https://idp.example", "hub")
        assert (await client.get("/whoami", headers=bearer(local_token))).status_code == 401
    assert isinstance(JwksFileSource(jwks).key_for(issuer_key.kid), jwt.PyJWK)


@pytest.mark.usefixtures("clean_env")
def test_token_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TOKEN_ISSUER", "https://idp.example")
    monkeypatch.setenv("HUB_JWKS_URL", "https://idp.example/jwks")
    monkeypatch.setenv("HUB_TOKEN_LEEWAY_SECONDS", "5")
    monkeypatch.setenv("HUB_TOKEN_MAX_LIFETIME_SECONDS", "3600")
    settings = Settings()
    assert settings.token_issuer == "https://idp.example"
    assert settings.token_audience == "verification-hub"
    assert settings.uses_jwks
    assert (settings.token_leeway_seconds, settings.token_max_lifetime_seconds) == (5, 3600)
    assert not Settings(jwks_url="").uses_jwks


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "url", ["https://idp.example/jwks", "http://127.0.0.1:8080/jwks", "http://localhost/jwks"]
)
def test_accepted_jwks_urls(url: str) -> None:
    assert Settings(jwks_url=url).jwks_url == url


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jwks_url": "http://idp.example/jwks"}, "must be https"),
        ({"jwks_url": "file:///etc/jwks.json"}, "must be https"),
        ({"jwks_url": "https://x/j", "jwks_file": "/etc/jwks.json"}, "not both"),
        ({"token_max_lifetime_seconds": 0}, "greater than 0"),
        ({"token_leeway_seconds": -1}, "greater than or equal to 0"),
        ({"token_issuer": ""}, "at least 1"),
    ],
)
def test_refused_token_settings(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**changes)
