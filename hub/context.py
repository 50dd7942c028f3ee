"""The per-request GraphQL context: what every resolver may use, typed."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import AsyncDriver
from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True)
class GraphAccess:
    """The process-wide driver and the database it reads; opened once by the app's lifespan."""

    driver: AsyncDriver
    database: str


@dataclass
class Context:
    request: Request
    response: Response
    graph: GraphAccess
