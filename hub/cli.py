"""The `hub` command: serve the API and manage the local Neo4j.

Every failure the user can fix ends in one line on stderr that says what to do,
and a non-zero exit status; no traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from graph.connection import Neo4jTarget, open_driver
from graph.errors import GraphError
from graph.health import GraphHealth, read_health
from graph.local_server import resolve_classpath
from hub.app import create_app
from hub.neo4j_setup import local_server, neo4j_target
from hub.settings import Settings

EXIT_FAILURE = 1
EXIT_BAD_CONFIG = 2
EXIT_NOT_RUNNING = 3

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="The social-assistance verification hub."
)
neo4j_cli = typer.Typer(no_args_is_help=True, help="Manage the local Neo4j (the embedded default).")
cli.add_typer(neo4j_cli, name="neo4j")


def main() -> None:
    cli()


@contextmanager
def _user_errors() -> Iterator[None]:
    """Typed errors become one readable line and an exit status."""
    try:
        yield
    except GraphError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_FAILURE) from None


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            err.print(f"error: configuration {where}: {problem['msg']}", markup=False)
        raise typer.Exit(EXIT_BAD_CONFIG) from None


async def _probe(target: Neo4jTarget) -> GraphHealth:
    driver = await open_driver(target)
    try:
        return await read_health(driver, target.database)
    finally:
        await driver.close()


@neo4j_cli.command("install")
def neo4j_install() -> None:
    """Download the Neo4j jars into the jar cache (start does this too, when needed)."""
    settings = _settings()
    with _user_errors():
        classpath = resolve_classpath(settings.jar_cache)
    out.print(f"Neo4j jars ready: {len(classpath.split(':'))} jars in {settings.jar_cache}")


@neo4j_cli.command("start")
def neo4j_start() -> None:
    """Start the local Neo4j and wait until Bolt answers (a running one is left alone)."""
    settings = _settings()
    if not settings.uses_local_neo4j:
        out.print(f"NEO4J_URI is set: the hub uses {settings.neo4j_uri} and starts nothing.")
        return
    server = local_server(settings)
    with _user_errors():
        already = server.status().running
        status = server.start()
    verb = "already running" if already else "started"
    out.print(f"Neo4j {verb} at {status.uri} (pid {status.pid}, data in {status.home})")


@neo4j_cli.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j cleanly."""
    settings = _settings()
    if not settings.uses_local_neo4j:
        out.print(f"NEO4J_URI is set: the hub did not start {settings.neo4j_uri}; nothing to stop.")
        return
    server = local_server(settings)
    with _user_errors():
        stopped = server.stop()
    out.print("Neo4j stopped." if stopped else "Neo4j was not running.")


@neo4j_cli.command("status")
def neo4j_status() -> None:
    """Say whether the graph answers; exit 3 when the local server is not running."""
    settings = _settings()
    if settings.uses_local_neo4j:
        status = local_server(settings).status()
        if not status.running:
            out.print(f"Neo4j is not running (data in {status.home}).")
            raise typer.Exit(EXIT_NOT_RUNNING)
        out.print(f"Neo4j running at {status.uri} (pid {status.pid}, data in {status.home})")
    with _user_errors():
        target = neo4j_target(settings)
        health = asyncio.run(_probe(target))
    out.print(
        f"{target.uri}: Neo4j {health.neo4j_version} {health.neo4j_edition}, "
        f"{health.node_count} nodes, schema version {health.schema_version}"
    )


@cli.command("serve")
def serve(
    host: str | None = typer.Option(None, help="listen address (default HUB_HOST)"),
    port: int | None = typer.Option(None, help="listen port (default HUB_PORT)"),
) -> None:
    """Serve the GraphQL API; starts the local Neo4j first unless NEO4J_URI is set."""
    settings = _settings()
    server = local_server(settings) if settings.uses_local_neo4j else None
    started_here = False
    with _user_errors():
        if server is not None and not server.status().running:
            server.start()
            started_here = True
        try:
            health = asyncio.run(_probe(neo4j_target(settings)))
            out.print(
                f"graph: Neo4j {health.neo4j_version} at {neo4j_target(settings).uri}, "
                f"{health.node_count} nodes; mode {settings.mode.value}"
            )
            uvicorn.run(
                create_app(settings),
                host=host or settings.host,
                port=port or settings.port,
                lifespan="on",
                log_level="info",
            )
        finally:
            if started_here and server is not None:
                server.stop()
