"""What the server is and how much it holds: the hub's liveness read against Neo4j."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import AsyncDriver, RoutingControl

from graph.migrations import applied_versions


@dataclass(frozen=True)
class GraphHealth:
    neo4j_version: str
    neo4j_edition: str
    node_count: int
    schema_version: int


async def read_health(driver: AsyncDriver, database: str) -> GraphHealth:
    records, _, _ = await driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition "
        "WHERE name = 'Neo4j Kernel' "
        "CALL () { MATCH (n) RETURN count(n) AS nodes } "
        "RETURN versions[0] AS version, edition, nodes",
        database_=database,
        routing_=RoutingControl.READ,
    )
    row = records[0]
    versions = await applied_versions(driver, database)
    return GraphHealth(
        neo4j_version=str(row["version"]),
        neo4j_edition=str(row["edition"]),
        node_count=int(row["nodes"]),
        schema_version=max(versions, default=0),
    )
