"""Bearer-token authentication in front of every route except a few public ones.

Pure ASGI middleware rather than Starlette's BaseHTTPMiddleware, which runs the
app in another task and so breaks the contextvars the request and audit context
rely on. A request without a valid token never reaches the app: it gets a 401
whose status, headers and body are the same whatever the reason (missing,
malformed, expired, forged, unknown key), so a caller cannot probe which check
failed. The reason stays on the `Unauthenticated` error for the audit log.

On success the principal is put in `scope["state"]["principal"]`, so an
endpoint reads `request.state.principal`. The state dict is copied first: the
server hands each request a shallow copy of the lifespan state, but a copy of
our own guarantees the principal can never land in a dict another request sees.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from authz.errors import Unauthenticated
from authz.principal import Principal
from authz.tokens import (
    JwksFileSource,
    JwksUrlSource,
    KeySource,
    LocalKeySource,
    Reason,
    TokenVerifier,
)
from hub.settings import Settings

__all__ = [
    "SIGNING_KEY_FILE_NAME",
    "UNAUTHENTICATED_BODY",
    "AuthenticationMiddleware",
    "local_token_key_path",
    "token_verifier_from_settings",
]

SIGNING_KEY_FILE_NAME: Final = "token-signing-key.pem"
UNAUTHENTICATED_BODY: Final = (
    b'{"errors":[{"message":"Unauthenticated","extensions":{"code":"UNAUTHENTICATED"}}]}'
)
_UNAUTHENTICATED_HEADERS: Final = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(UNAUTHENTICATED_BODY)).encode("ascii")),
    (b"www-authenticate", b"Bearer"),
]
# RFC 6750 §2.1: the scheme is case-insensitive, the token a b64token.
_BEARER: Final = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *")
_POLICY_VIOLATION: Final = 1008


def local_token_key_path(settings: Settings) -> Path:
    """The embedded default's token signing key: `hub token` writes it, the hub verifies with it."""
    return settings.local_key_dir / SIGNING_KEY_FILE_NAME


def token_verifier_from_settings(settings: Settings) -> TokenVerifier:
    """The verifier the settings describe; with a JWKS configured the local key is not trusted."""
    keys: KeySource
    if settings.jwks_url is not None:
        keys = JwksUrlSource(settings.jwks_url)
    elif settings.jwks_file is not None:
        keys = JwksFileSource(settings.jwks_file)
    else:
        keys = LocalKeySource(local_token_key_path(settings))
    return TokenVerifier(
        keys,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        leeway=timedelta(seconds=settings.token_leeway_seconds),
        max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
    )


def _bearer_token(scope: Scope) -> str:
    values = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
    if not values:
        raise Unauthenticated(Reason.MISSING)
    if len(values) > 1:
        raise Unauthenticated(Reason.MALFORMED)
    match = _BEARER.fullmatch(values[0].decode("latin-1"))
    if match is None:
        raise Unauthenticated(Reason.MALFORMED)
    return match.group(1)


class AuthenticationMiddleware:
    """Lets through lifespan events, public paths, and requests with a valid bearer token.

    WebSocket handshakes are authenticated too (closed with 1008 on failure):
    default deny, whatever protocol a route may later speak.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        *,
        public_paths: frozenset[str] = frozenset({"/healthz"}),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.public_paths:
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._authenticate(scope)
        except Unauthenticated:
            await self._refuse(scope, send)
            return
        scope["state"] = {**scope.get("state", {}), "principal": principal}
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> Principal:
        token = _bearer_token(scope)
        if self.verifier.blocking:
            return await run_in_threadpool(self.verifier.verify, token)
        return self.verifier.verify(token)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
            return
        await send(
            {"type": "http.response.start", "status": 401, "headers": _UNAUTHENTICATED_HEADERS}
        )
        await send({"type": "http.response.body", "body": UNAUTHENTICATED_BODY})
