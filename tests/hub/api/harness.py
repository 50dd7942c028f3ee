"""The real app (middleware, schema, policies, loaders) over an in-process transport.

Only the transport is swapped (httpx's ASGITransport instead of a socket) and
the lifespan's services are handed in the way an ASGI server would, through
`scope["state"]`; everything behind it is the production code path on the
session's real Neo4j.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncDriver
from starlette.types import ASGIApp, Receive, Scope, Send

from authz.decision import PolicyDecisionPoint
from authz.principal import Principal, Privilege, Role
from authz.protection import FieldProtection
from authz.tokens import SigningKey, mint
from hub.api.context import GraphAccess, Services
from hub.api.rate_limit import DistinctSubjectLimiter
from hub.app import create_app
from hub.authentication import local_token_key_path
from hub.settings import Mode, Settings
from hub.verification import VerificationRunner

OWN_TOWNSHIP = "410702001"  # 渠东街道, 红旗区: where tests/graph/records.py's household lives
OWN_COUNTY = "410702"
CITY = "410700"
OTHER_TOWNSHIP = "410702002"
OTHER_COUNTY = "410721"


class _WithServices:
    """What an ASGI server does with lifespan state: a copy in every request's scope."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["state"] = {"services": self.services}
        await self.app(scope, receive, send)


def principal(
    role: Role,
    region: str,
    *,
    organisation: str = "org-1",
    privileged: bool = False,
    subject: str | None = None,
) -> Principal:
    return Principal(
        subject=subject or f"{role.value}-1",
        role=role,
        region=region,
        organisation=organisation,
        privileges=frozenset({Privilege.UNMASK_IDENTIFIERS}) if privileged else frozenset(),
    )


@dataclass
class Api:
    client: httpx.AsyncClient
    settings: Settings
    key: SigningKey
    services: Services

    def token(self, who: Principal) -> str:
        return mint(
            who,
            timedelta(minutes=10),
            self.key,
            self.settings.token_issuer,
            self.settings.token_audience,
        )

    async def post(self, who: Principal | None, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {} if who is None else {"authorization": f"Bearer {self.token(who)}"}
        return await self.client.post("/graphql", json=body, headers=headers, **kwargs)

    async def query(
        self, who: Principal, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.post(who, {"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def build_api(
    driver: AsyncDriver,
    protection: FieldProtection,
    tmp_path: Path,
    *,
    mode: Mode = Mode.PRODUCTION,
    agency_limit: int = 200,
    departments_file: Path | None = None,
) -> Api:
    settings = Settings(
        mode=mode,
        state_dir=tmp_path / "state",
        neo4j_uri="bolt://127.0.0.1:1",  # never opened: the app's lifespan is not run here
        departments_file=departments_file,
    )
    key = SigningKey.load_or_create(local_token_key_path(settings))
    graph = GraphAccess(driver, "neo4j")
    services = Services(
        graph=graph,
        pdp=PolicyDecisionPoint.from_directory(),
        protection=protection,
        agency_limiter=DistinctSubjectLimiter(agency_limit),
        verifications=VerificationRunner(settings, graph, protection),
    )
    app = _WithServices(create_app(settings), services)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")
    return Api(client, settings, key, services)
