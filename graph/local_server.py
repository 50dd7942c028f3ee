"""The project's own Neo4j Community server, run in a JVM of its own with Bolt on loopback.

Neo4j is GPLv3 and is never committed: its jars are resolved from Maven Central by
a resolver-only `pom.xml` into an ignored cache folder the first time they are
needed. The engine is started through a one-file Java launcher
(`neo4j_server/Launcher.java`) that prints a READY line once the default database
is available. Authentication stays on: a random password is generated on first
start and kept (mode 0600) beside the data, so other local users cannot read the
graph through the loopback port.

The JVM is spawned with `os.posix_spawn` in a session of its own, so it outlives
the command that started it (`hub neo4j start`) and ignores that terminal's
Ctrl-C; `hub neo4j stop` ends it with SIGTERM, which the launcher turns into a
clean shutdown.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graph.errors import (
    JarResolutionFailed,
    JavaMissing,
    LocalNeo4jNotStarted,
    LocalNeo4jStartFailed,
    MavenMissing,
    PortInUse,
)

SERVER_FILES = Path(__file__).parent / "neo4j_server"
LAUNCHER = SERVER_FILES / "Launcher.java"
RESOLVER_POM = SERVER_FILES / "pom.xml"
LOCAL_USER = "neo4j"
PASSWORD_ENV = "HUB_NEO4J_LAUNCH_PASSWORD"  # noqa: S105 - a variable name, not a secret
MIN_JAVA = 17
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# Neo4j 5 on Java 17+ fails at start-up without these (see shared/NEO4J.md).
JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
    "-XX:+UseG1GC",
)
_LOG_TAIL_LINES = 40
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class LocalNeo4jOptions:
    """Where the local server keeps its data and jars, and how much memory it may take."""

    home: Path
    jar_cache: Path
    bolt_port: int = 7687
    heap: str = "1g"
    pagecache: str = "512m"
    transaction_memory: str = "1g"
    start_timeout: float = 180.0
    stop_timeout: float = 60.0


@dataclass(frozen=True)
class LocalNeo4jStatus:
    running: bool
    pid: int | None
    uri: str
    home: Path


class LocalNeo4j:
    """Start, stop and inspect one local Neo4j server identified by its data folder."""

    def __init__(self, options: LocalNeo4jOptions) -> None:
        self.options = options
        self.home = options.home.resolve()

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.options.bolt_port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "neo4j.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "launcher.log"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials"

    def password(self) -> str:
        """The password the server was started with; it exists only after a first start."""
        try:
            return self.credentials_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise LocalNeo4jNotStarted(str(self.home)) from None

    def status(self) -> LocalNeo4jStatus:
        pid = self._read_pid()
        running = pid is not None and self._is_our_process(pid)
        return LocalNeo4jStatus(running, pid if running else None, self.uri, self.home)

    def start(self) -> LocalNeo4jStatus:
        """Start the server and wait until Bolt answers; a running server is left as it is."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock():
            current = self.status()
            if current.running:
                return current
            if _port_accepts(self.options.bolt_port):
                raise PortInUse(self.options.bolt_port)
            java = find_java()
            classpath = resolve_classpath(self.options.jar_cache)
            password = self._ensure_password()
            pid, log_offset = self._spawn(java, classpath, password)
            self.pid_file.write_text(str(pid), encoding="utf-8")
            try:
                self._wait_until_ready(pid, log_offset)
            except LocalNeo4jStartFailed:
                self._terminate(pid)
                self.pid_file.unlink(missing_ok=True)
                raise
            return LocalNeo4jStatus(True, pid, self.uri, self.home)

    def stop(self) -> bool:
        """Stop the server; returns False when it was not running."""
        if not self.home.exists():
            return False
        with self._lock():
            pid = self._read_pid()
            if pid is None or not self._is_our_process(pid):
                self.pid_file.unlink(missing_ok=True)
                return False
            self._terminate(pid)
            self.pid_file.unlink(missing_ok=True)
            return True

    def _spawn(self, java: str, classpath: str, password: str) -> tuple[int, int]:
        opts = self.options
        argv = [
            java,
            f"-Xms{opts.heap}",
            f"-Xmx{opts.heap}",
            *JVM_FLAGS,
            "-cp",
            classpath,
            str(LAUNCHER),
            f"home={self.home}",
            f"port={opts.bolt_port}",
            f"pagecache={opts.pagecache}",
            f"tx_memory={opts.transaction_memory}",
        ]
        with self.log_file.open("ab") as log:
            log.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ---\n".encode())
            offset = log.tell()
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(self.log_file), os.O_WRONLY | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        env = {**os.environ, PASSWORD_ENV: password}
        pid = os.posix_spawn(java, argv, env, file_actions=actions, setsid=True)
        return pid, offset

    def _wait_until_ready(self, pid: int, log_offset: int) -> None:
        deadline = time.monotonic() + self.options.start_timeout
        while time.monotonic() < deadline:
            exit_code = _reap(pid)
            if exit_code is not None:
                reason = f"the JVM exited with code {exit_code}"
                raise LocalNeo4jStartFailed(reason, self._log_tail(log_offset))
            if "READY " in self._log_since(log_offset) and _port_accepts(self.options.bolt_port):
                return
            time.sleep(_POLL_SECONDS)
        reason = f"Bolt did not answer within {self.options.start_timeout:.0f} s"
        raise LocalNeo4jStartFailed(reason, self._log_tail(log_offset))

    def _terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if _wait_for_exit(pid, self.options.stop_timeout):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_for_exit(pid, 10.0)

    def _ensure_password(self) -> str:
        if self.credentials_file.exists():
            return self.password()
        password = secrets.token_urlsafe(24)
        fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(password + "\n")
        return password

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None

    def _is_our_process(self, pid: int) -> bool:
        """Alive, and really our launcher for this folder (pids are reused after a crash)."""
        if _reap(pid) is not None or not _pid_alive(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return False
        except OSError:  # no /proc on this platform: trust the pid file
            return True
        return str(LAUNCHER).encode() in cmdline and f"home={self.home}".encode() in cmdline

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _log_tail(self, offset: int) -> str:
        parts = [_tail(self._log_since(offset))]
        debug_log = self.home / "logs" / "debug.log"
        if debug_log.exists():
            debug_text = debug_log.read_text(encoding="utf-8", errors="replace")
            parts.append(f"--- {debug_log} ---\n{_tail(debug_text)}")
        return "\n".join(part for part in parts if part.strip()) or "(the log is empty)"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.home / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def find_java() -> str:
    """The `java` to run Neo4j with: JAVA_HOME's if set, else the one on PATH; 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not Path(candidate).is_file():
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no `java` on PATH"
        raise JavaMissing(where)
    result = subprocess.run(  # noqa: S603 - argv is fixed, the path is the located JDK
        [candidate, "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        raise JavaMissing(f"could not read the version of {candidate}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise JavaMissing(f"{candidate} is Java {major}")
    return candidate


def resolve_classpath(jar_cache: Path) -> str:
    """The Neo4j runtime classpath, resolved by Maven once per resolver-pom version."""
    pom_bytes = RESOLVER_POM.read_bytes()
    key = hashlib.sha256(pom_bytes).hexdigest()[:16]
    cache = jar_cache.resolve()
    classpath_file = cache / f"classpath-{key}.txt"
    if classpath_file.exists():
        classpath = classpath_file.read_text(encoding="utf-8").strip()
        if classpath and all(Path(jar).is_file() for jar in classpath.split(os.pathsep)):
            return classpath
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MavenMissing
    cache.mkdir(parents=True, exist_ok=True)
    project = cache / f"resolver-{key}"
    project.mkdir(exist_ok=True)
    (project / "pom.xml").write_bytes(pom_bytes)
    output = cache / f"classpath-{key}.partial"
    result = subprocess.run(  # noqa: S603 - fixed argv; paths are ours
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(project / "pom.xml"),
            f"-Dmaven.repo.local={cache / 'repository'}",
            f"{DEPENDENCY_PLUGIN}:build-classpath",
            f"-Dmdep.outputFile={output}",
            "-Dmdep.includeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0 or not output.exists():
        raise JarResolutionFailed(_tail(result.stdout + result.stderr))
    output.replace(classpath_file)
    return classpath_file.read_text(encoding="utf-8").strip()


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-_LOG_TAIL_LINES:])


def _port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> int | None:
    """Collect our own exited child (else it lingers as a zombie); its exit code, or None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: nothing to collect
        return None
    return os.waitstatus_to_exitcode(status) if done == pid else None


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reap(pid) is not None or not _pid_alive(pid):
            return True
        time.sleep(_POLL_SECONDS)
    return False
