"""The `hub` command: serve the API and manage the local Neo4j.

Every failure the user can fix ends in one line on stderr that says what to do,
and a non-zero exit status; no traceback.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from graph.connection import Neo4jTarget, open_driver
from graph.health import GraphHealth, read_health
from graph.local_server import resolve_classpath
from graph.model import DEPARTMENT_SOURCES
from hub.app import create_app
from hub.cli_ingest import consent_cli, ingest, roll_cli, run_with_progress, summary_table
from hub.cli_keys import keys_cli
from hub.cli_support import EXIT_NOT_RUNNING, load_settings, out, user_errors
from hub.cli_token import token
from hub.demo import city_date, ensure_city, import_demo_roll, sandbox_process
from hub.ingest import IngestRequest, import_authorisations
from hub.neo4j_setup import local_server, neo4j_target
from hub.sandbox_setup import serve_sandbox
from hub.settings import Settings
from sandbox.cli import sandbox_cli

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="The social-assistance verification hub."
)
neo4j_cli = typer.Typer(no_args_is_help=True, help="Manage the local Neo4j (the embedded default).")
cli.add_typer(neo4j_cli, name="neo4j")
cli.command("ingest")(ingest)
cli.add_typer(consent_cli, name="consent")
cli.add_typer(roll_cli, name="roll")
cli.add_typer(keys_cli, name="keys")
cli.command("token")(token)
cli.add_typer(sandbox_cli, name="sandbox")


def main() -> None:
    cli()


async def _probe(target: Neo4jTarget) -> GraphHealth:
    driver = await open_driver(target)
    try:
        return await read_health(driver, target.database)
    finally:
        await driver.close()


@neo4j_cli.command("install")
def neo4j_install() -> None:
    """Download the Neo4j jars into the jar cache (start does this too, when needed)."""
    settings = load_settings()
    with user_errors():
        classpath = resolve_classpath(settings.jar_cache)
    out.print(f"Neo4j jars ready: {len(classpath.split(':'))} jars in {settings.jar_cache}")


@neo4j_cli.command("start")
def neo4j_start() -> None:
    """Start the local Neo4j and wait until Bolt answers (a running one is left alone)."""
    settings = load_settings()
    if not settings.uses_local_neo4j:
        out.print(f"NEO4J_URI is set: the hub uses {settings.neo4j_uri} and starts nothing.")
        return
    server = local_server(settings)
    with user_errors():
        already = server.status().running
        status = server.start()
    verb = "already running" if already else "started"
    out.print(f"Neo4j {verb} at {status.uri} (pid {status.pid}, data in {status.home})")


@neo4j_cli.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j cleanly."""
    settings = load_settings()
    if not settings.uses_local_neo4j:
        out.print(f"NEO4J_URI is set: the hub did not start {settings.neo4j_uri}; nothing to stop.")
        return
    server = local_server(settings)
    with user_errors():
        stopped = server.stop()
    out.print("Neo4j stopped." if stopped else "Neo4j was not running.")


@neo4j_cli.command("status")
def neo4j_status() -> None:
    """Say whether the graph answers; exit 3 when the local server is not running."""
    settings = load_settings()
    if settings.uses_local_neo4j:
        status = local_server(settings).status()
        if not status.running:
            out.print(f"Neo4j is not running (data in {status.home}).")
            raise typer.Exit(EXIT_NOT_RUNNING)
        out.print(f"Neo4j running at {status.uri} (pid {status.pid}, data in {status.home})")
    with user_errors():
        target = neo4j_target(settings)
        health = asyncio.run(_probe(target))
    out.print(
        f"{target.uri}: Neo4j {health.neo4j_version} {health.neo4j_edition}, "
        f"{health.node_count} nodes, schema version {health.schema_version}"
    )


@cli.command("demo")
def demo(
    port: Annotated[int | None, typer.Option(help="listen port (default HUB_PORT)")] = None,
) -> None:
    """Generate a small city, start its departments, ingest them, and serve the hub."""
    settings = load_settings()
    with user_errors(), ExitStack() as stack:
        city = ensure_city(settings.state_dir)
        departments_file = stack.enter_context(sandbox_process(city))
        settings = settings.model_copy(update={"departments_file": departments_file})
        _start_local_neo4j(settings, stack)
        written, _ = asyncio.run(import_authorisations(settings, city / "civil_affairs.sqlite"))
        out.print(f"demo city {city}: {written} authorisations imported")
        out.print(import_demo_roll(settings, city))
        request = IngestRequest("bulk", list(DEPARTMENT_SOURCES), today=city_date(city))
        out.print(summary_table(run_with_progress(settings, request)))
        _serve(settings, None, port)


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="listen address (default HUB_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default HUB_PORT)")] = None,
) -> None:
    """Serve the GraphQL API; starts the local Neo4j first unless NEO4J_URI is set."""
    settings = load_settings()
    with user_errors(), ExitStack() as stack:
        _start_local_neo4j(settings, stack)
        _serve(settings, host, port)


def _start_local_neo4j(settings: Settings, stack: ExitStack) -> None:
    """Start the embedded default if it is not running, and stop it when `stack` closes."""
    server = local_server(settings) if settings.uses_local_neo4j else None
    if server is not None and not server.status().running:
        server.start()
        stack.callback(server.stop)


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    target = neo4j_target(settings)
    health = asyncio.run(_probe(target))
    out.print(
        f"graph: Neo4j {health.neo4j_version} at {target.uri}, "
        f"{health.node_count} nodes; mode {settings.mode.value}"
    )
    if not settings.uses_jwks:
        out.print(
            "every request needs a bearer token: `hub token --role ROLE --region CODE` "
            "(README, Authentication)"
        )
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        lifespan="on",
        log_level="info",
    )


@sandbox_cli.command("serve")
def sandbox_serve(
    data: Annotated[Path, typer.Option("--data", help="a city made by `hub sandbox generate`")],
    department: Annotated[
        list[str] | None,
        typer.Option("--department", help="only this department (repeatable); default all five"),
    ] = None,
    port_base: Annotated[
        int, typer.Option(min=0, max=65530, help="first of five ports in a row; 0 picks free ports")
    ] = 8101,
) -> None:
    """Start the department servers on 127.0.0.1 and write the hub's departments file."""
    with user_errors():
        serve_sandbox(data, department or [], port_base, out)
