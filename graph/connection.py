"""One async driver per process, opened against an explicit target and checked before use."""

from __future__ import annotations

from dataclasses import dataclass, field

from neo4j import AsyncDriver, AsyncGraphDatabase, NotificationMinimumSeverity
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from graph.errors import Neo4jAuthFailed, Neo4jUnavailable


@dataclass(frozen=True)
class Neo4jTarget:
    """Where the graph lives: a `bolt://` server or a `neo4j://` (routing) cluster."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str = "neo4j"


async def open_driver(target: Neo4jTarget) -> AsyncDriver:
    """A driver whose connectivity and credentials were proven, or a typed error saying why not."""
    driver = AsyncGraphDatabase.driver(
        target.uri,
        auth=(target.user, target.password),
        connection_timeout=10.0,
        max_transaction_retry_time=15.0,
        # Server notifications quote query text into log lines; queries are checked in tests.
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )
    try:
        await driver.verify_connectivity()
    except AuthError:
        await driver.close()
        raise Neo4jAuthFailed(target.uri, target.user) from None
    except (ServiceUnavailable, SessionExpired, OSError) as error:
        await driver.close()
        raise Neo4jUnavailable(target.uri, _first_line(error)) from None
    return driver


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0].rstrip(":") if text else type(error).__name__
