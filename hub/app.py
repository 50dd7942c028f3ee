"""The Starlette application: one driver per process, the GraphQL endpoint at /graphql.

The lifespan opens the driver, proves connectivity and credentials, and applies
schema migrations before the first request is accepted; if any of that fails the
app does not start. GraphiQL and GET queries exist only in development mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from graph.connection import open_driver
from graph.migrations import apply_migrations
from hub.context import Context, GraphAccess
from hub.neo4j_setup import neo4j_target
from hub.schema import schema
from hub.settings import Mode, Settings

MAX_BODY_BYTES = 1024 * 1024


class LifespanState(TypedDict):
    graph: GraphAccess


class HubGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if not isinstance(request, Request) or not isinstance(response, Response):
            raise TypeError("the hub serves GraphQL over HTTP only")
        graph: GraphAccess = request.state.graph
        return Context(request=request, response=response, graph=graph)


def create_app(settings: Settings) -> Starlette:
    development = settings.mode is Mode.DEVELOPMENT

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[LifespanState]:
        target = neo4j_target(settings)
        driver = await open_driver(target)
        try:
            await apply_migrations(driver, target.database)
            yield {"graph": GraphAccess(driver, target.database)}
        finally:
            await driver.close()

    graphql = HubGraphQL(
        schema,
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=development,
    )
    methods = ["GET", "POST"] if development else ["POST"]
    return Starlette(
        routes=[Route("/graphql", graphql, methods=methods)],
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
