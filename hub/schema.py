"""The GraphQL schema. For now the hub's health; the household, case and consent types follow."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.health import read_health
from hub.context import Context


@strawberry.type(description="Whether the hub can read its graph, and what the graph is.")
class Health:
    neo4j_version: str
    neo4j_edition: str
    node_count: int
    schema_version: int


async def resolve_health(info: Info[Context, None]) -> Health:
    graph = info.context.graph
    found = await read_health(graph.driver, graph.database)
    return Health(
        neo4j_version=found.neo4j_version,
        neo4j_edition=found.neo4j_edition,
        node_count=found.node_count,
        schema_version=found.schema_version,
    )


@strawberry.type
class Query:
    health: Health = strawberry.field(
        resolver=resolve_health,
        description="A live read from Neo4j; fails when the graph is unreachable.",
    )


schema = strawberry.Schema(query=Query)
