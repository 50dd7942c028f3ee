"""The Starlette application: authentication in front, the GraphQL endpoint at /graphql.

The lifespan opens one driver, proves connectivity and credentials, applies
schema migrations, loads the policies and the field keys before the first
request is accepted; if any of that fails the app does not start. Every
request to /graphql must carry a valid bearer token (pure ASGI middleware,
so context variables survive); /healthz answers liveness without one and
without detail. GraphiQL, GET queries and introspection exist only in
development mode; batching and multipart uploads never.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from authz.decision import PolicyDecisionPoint
from authz.protection import FieldProtection
from graph.connection import open_driver
from graph.migrations import apply_migrations
from hub.api.context import Context, GraphAccess, Services, new_context
from hub.api.rate_limit import DistinctSubjectLimiter
from hub.api.schema import build_schema
from hub.authentication import AuthenticationMiddleware, token_verifier_from_settings
from hub.neo4j_setup import neo4j_target
from hub.settings import Mode, Settings
from hub.verification import VerificationRunner

MAX_BODY_BYTES = 1024 * 1024


class LifespanState(TypedDict):
    services: Services


class HubGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if not isinstance(request, Request) or not isinstance(response, Response):
            raise TypeError("the hub serves GraphQL over HTTP only")
        return new_context(request, response, request.state.services)


async def liveness(_: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(settings: Settings) -> Starlette:
    development = settings.mode is Mode.DEVELOPMENT
    # Load what can fail on bad configuration before serving: policies and the token keys.
    pdp = PolicyDecisionPoint.from_directory()
    verifier = token_verifier_from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[LifespanState]:
        target = neo4j_target(settings)
        driver = await open_driver(target)
        try:
            await apply_migrations(driver, target.database)
            graph = GraphAccess(driver, target.database)
            protection = FieldProtection.local(settings.local_key_dir)
            verifications = VerificationRunner(settings, graph, protection)
            services = Services(
                graph=graph,
                pdp=pdp,
                protection=protection,
                agency_limiter=DistinctSubjectLimiter(settings.agency_persons_per_hour),
                verifications=verifications,
            )
            try:
                yield {"services": services}
            finally:
                await verifications.close()
        finally:
            await driver.close()

    graphql = HubGraphQL(
        build_schema(development=development),
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=development,
        multipart_uploads_enabled=False,
    )
    methods = ["GET", "POST"] if development else ["POST"]
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=methods),
            Route("/healthz", liveness, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                AuthenticationMiddleware, verifier=verifier, public_paths=frozenset({"/healthz"})
            )
        ],
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
