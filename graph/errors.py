"""Errors raised by the graph layer.

Every message says what to do next and never carries personal data or
credentials; `repr` shows only the safe fields.

    GraphError
    ├── Neo4jUnavailable        the server cannot be reached (network, not started)
    ├── Neo4jAuthFailed         the server refused the credentials
    ├── MigrationError          a schema migration failed or was edited after it ran
    └── LocalNeo4jError         the project-managed local server
        ├── JavaMissing         no Java 17+ to run it
        ├── MavenMissing        no Maven to download its jars
        ├── JarResolutionFailed Maven ran but could not resolve the jars
        ├── LocalNeo4jNotStarted  it was never started, so there is no password yet
        ├── PortInUse           something else listens on its Bolt port
        └── LocalNeo4jStartFailed  it exited or timed out; carries the log tail
"""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error the graph layer raises on purpose."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class Neo4jUnavailable(GraphError):
    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        super().__init__(
            f"cannot reach Neo4j at {uri} ({reason}). Start the local server with "
            "`hub neo4j start`, or point NEO4J_URI at a running one."
        )


class Neo4jAuthFailed(GraphError):
    def __init__(self, uri: str, user: str) -> None:
        self.uri = uri
        self.user = user
        super().__init__(
            f"Neo4j at {uri} rejected the credentials of user {user!r}. "
            "Check NEO4J_USER and NEO4J_PASSWORD."
        )


class MigrationError(GraphError):
    pass


class LocalNeo4jError(GraphError):
    pass


class JavaMissing(LocalNeo4jError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the local Neo4j needs Java 17 or newer: {detail}. Install a JDK 17+ "
            "(or set JAVA_HOME), or set NEO4J_URI to use an existing Neo4j server."
        )


class MavenMissing(LocalNeo4jError):
    def __init__(self) -> None:
        super().__init__(
            "the local Neo4j's jars are not downloaded yet and `mvn` was not found on PATH. "
            "Install Apache Maven 3.8+, or set NEO4J_URI to use an existing Neo4j server."
        )


class JarResolutionFailed(LocalNeo4jError):
    def __init__(self, output_tail: str) -> None:
        self.output_tail = output_tail
        super().__init__(
            "Maven could not resolve the Neo4j jars (is Maven Central reachable?). "
            f"Last lines of its output:\n{output_tail}"
        )


class LocalNeo4jNotStarted(LocalNeo4jError):
    def __init__(self, home: str) -> None:
        super().__init__(
            f"the local Neo4j in {home} has never been started, so it has no password yet. "
            "Run `hub neo4j start` first."
        )


class PortInUse(LocalNeo4jError):
    def __init__(self, port: int) -> None:
        self.port = port
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use by another program. "
            "Stop it, or choose another port with HUB_NEO4J_BOLT_PORT."
        )


class LocalNeo4jStartFailed(LocalNeo4jError):
    def __init__(self, reason: str, log_tail: str) -> None:
        self.log_tail = log_tail
        super().__init__(f"the local Neo4j did not start: {reason}.\n--- log tail ---\n{log_tail}")
