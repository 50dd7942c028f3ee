"""The writer process: six department databases filled batch by batch (see `writer`).

During generation the databases run without a journal or fsync, in exclusive mode, and
without their secondary indexes, which are rebuilt once at the end: a crash leaves a
broken city, which is only ever regenerated, never repaired. Tables keyed by scattered
values (ID numbers, certificates, plates) are sorted per batch, which turns random
b-tree inserts into one ordered sweep. The change feed is staged in a temporary table
and copied in date order at the end, so `seq` ascends with `occurred_on` as a real
feed's cursor would.
"""

from __future__ import annotations

import pickle
import signal
import sqlite3
from pathlib import Path
from typing import Any, BinaryIO, Final

from sandbox import store
from sandbox.city.writer import Batch, Payload

# batch list -> (department, table, number of columns)
TABLES: Final[dict[str, tuple[str, str, int]]] = {
    "households": (store.PUBLIC_SECURITY, "households", 7),
    "persons": (store.PUBLIC_SECURITY, "persons", 10),
    "memberships": (store.PUBLIC_SECURITY, "memberships", 5),
    "relations": (store.PUBLIC_SECURITY, "relations", 4),
    "vehicles": (store.PUBLIC_SECURITY, "vehicles", 7),
    "changes": (store.PUBLIC_SECURITY, "staged_changes", 6),
    "properties": (store.HOUSING, "properties", 8),
    "property_owners": (store.HOUSING, "property_owners", 3),
    "income": (store.TAX, "income", 10),
    "accounts": (store.BANKING, "accounts", 6),
    "balances": (store.BANKING, "balances", 3),
    "products": (store.BANKING, "products", 7),
    "enrolments": (store.MEDICAL, "enrolments", 7),
    "claims": (store.MEDICAL, "claims", 9),
    "roll": (store.CIVIL_AFFAIRS, "roll", 10),
    "applications": (store.CIVIL_AFFAIRS, "applications", 7),
    "authorisations": (store.CIVIL_AFFAIRS, "authorisations", 7),
    "authorisation_signers": (store.CIVIL_AFFAIRS, "authorisation_signers", 3),
    "caseworkers": (store.CIVIL_AFFAIRS, "caseworkers", 4),
}
SORTED: Final = frozenset(
    {"persons", "relations", "memberships", "vehicles", "properties", "property_owners"}
)
CACHE_KIB: Final = 4_096  # page cache per database: bounded, so memory stays flat
_STAGING: Final = (
    "CREATE TEMP TABLE staged_changes (occurred_on TEXT, ord INTEGER, kind TEXT,"
    " id_number TEXT, hukou_no TEXT, region_code TEXT)"
)
_FEED: Final = (
    "INSERT INTO changes (kind, id_number, hukou_no, region_code, occurred_on)"
    " SELECT kind, id_number, hukou_no, region_code, occurred_on"
    " FROM staged_changes ORDER BY occurred_on, ord"
)


def serve(out_dir: Path, source: BinaryIO, sink: BinaryIO) -> None:
    """Write every payload read from `source`, then finish and report the counts (or the
    error) on `sink`. Runs in the writer process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the generator's to handle
    try:
        databases = Databases(out_dir)
        while (payload := pickle.load(source)) is not None:  # noqa: S301 - from our parent
            databases.write(payload)
        result: tuple[str, Any] = ("ok", databases.finish())
    except EOFError:
        return  # the generator gave up; nothing to report
    except Exception as error:  # reported to the generator, which raises it
        result = ("error", f"{type(error).__name__}: {error}")
    pickle.dump(result, sink)
    sink.flush()


class Databases:
    """The six connections of one city being written."""

    def __init__(self, out_dir: Path) -> None:
        self._connections: dict[str, sqlite3.Connection] = {}
        self._indexes: dict[str, list[str]] = {}
        for department in store.SCHEMAS:
            connection = store.create_database(out_dir, department)
            connection.isolation_level = None  # transactions are explicit, one per batch
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE"):
                connection.execute(f"PRAGMA {pragma}")
            connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._indexes[department] = _drop_indexes(connection)
            self._connections[department] = connection
        self._connections[store.PUBLIC_SECURITY].execute(_STAGING)
        self._targets = []
        for name in Batch.names():
            department, table, width = TABLES[name]
            insert = f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"  # noqa: S608 - our names
            self._targets.append((self._connections[department], insert, name in SORTED))
        self._counts = dict.fromkeys(Batch.names(), 0)

    def write(self, payload: Payload) -> None:
        for connection in self._connections.values():
            connection.execute("BEGIN")
        for name, (connection, insert, ordered), rows in zip(
            Batch.names(), self._targets, payload, strict=True
        ):
            if rows:
                if ordered:
                    rows.sort()
                connection.executemany(insert, rows)
                self._counts[name] += len(rows)
        for connection in self._connections.values():
            connection.execute("COMMIT")

    def finish(self) -> dict[str, dict[str, int]]:
        """Copy the feed in date order, rebuild indexes, close; the rows of each table."""
        public_security = self._connections[store.PUBLIC_SECURITY]
        public_security.execute(_FEED)
        public_security.execute("DROP TABLE staged_changes")
        for department, connection in self._connections.items():
            for sql in self._indexes[department]:
                connection.execute(sql)
            connection.close()
        counts: dict[str, dict[str, int]] = {}
        for name, (department, table, _) in TABLES.items():
            counts.setdefault(department, {})[table.removeprefix("staged_")] = self._counts[name]
        return counts


def _drop_indexes(connection: sqlite3.Connection) -> list[str]:
    """Secondary indexes slow bulk inserts: drop them now; their SQL, to rebuild them."""
    rows = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in rows:
        connection.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]
