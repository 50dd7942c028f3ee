"""Turns the settings into the graph layer's objects: the local server or a remote target."""

from __future__ import annotations

from graph.connection import Neo4jTarget
from graph.local_server import LOCAL_USER, LocalNeo4j, LocalNeo4jOptions
from hub.settings import Settings


def local_server(settings: Settings) -> LocalNeo4j:
    return LocalNeo4j(
        LocalNeo4jOptions(
            home=settings.local_neo4j_home,
            jar_cache=settings.jar_cache,
            bolt_port=settings.neo4j_bolt_port,
            heap=settings.neo4j_heap,
            pagecache=settings.neo4j_pagecache,
            transaction_memory=settings.neo4j_transaction_memory,
            start_timeout=settings.neo4j_start_timeout,
        )
    )


def neo4j_target(settings: Settings) -> Neo4jTarget:
    """NEO4J_URI's server when set; else the local server, which must have been started once."""
    if settings.neo4j_uri is not None:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        return Neo4jTarget(
            settings.neo4j_uri, settings.neo4j_user, password, settings.neo4j_database
        )
    server = local_server(settings)
    return Neo4jTarget(server.uri, LOCAL_USER, server.password(), settings.neo4j_database)
