"""Cities shared by the city tests: generated once per session into a temporary folder.

`city` has the default rates and is big enough for the population statistics;
`planted_city` plants every kind often, so each kind shows up in a small city.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from sandbox import store
from sandbox.city import Manifest, PlantRates, generate_city

AS_OF = date(2026, 11, 1)
OPEN_GRANTS = (
    "SELECT id_number, hukou_no, category, region_code, grant_id, amount_fen FROM roll"
    " WHERE valid_to IS NULL OR valid_to >= '2026-11-01'"
)


class Grant(NamedTuple):
    id_number: str
    hukou_no: str
    category: str
    region_code: str
    grant_id: str
    amount_fen: int


@dataclass
class City:
    path: Path
    manifest: Manifest
    db: dict[str, sqlite3.Connection]
    truth: list[dict[str, Any]]

    def rows(self, department: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.db[department].execute(sql, params).fetchall()

    def value(self, department: str, sql: str, *params: Any) -> Any:
        return self.db[department].execute(sql, params).fetchone()[0]

    def cases(self, kind: str) -> list[dict[str, Any]]:
        return [case for case in self.truth if case["case"] == kind]

    def open_grants(self, *categories: str) -> list[Grant]:
        """Roll entries still valid at the reference date, of the given categories."""
        return [
            Grant(*row) for row in self.rows("civil_affairs", OPEN_GRANTS) if row[2] in categories
        ]


def open_city(path: Path, manifest: Manifest) -> City:
    db = {d: store.open_read_only(path, d) for d in store.SCHEMAS}
    lines = (path / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines()
    return City(path, manifest, db, [json.loads(line) for line in lines])


def _city(
    factory: pytest.TempPathFactory, name: str, households: int, seed: int, rates: PlantRates | None
) -> Iterator[City]:
    path = factory.mktemp(name)
    city = open_city(path, generate_city(path, households, seed, AS_OF, rates))
    yield city
    for connection in city.db.values():
        connection.close()


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    yield from _city(tmp_path_factory, "city", 5000, 20261101, None)


@pytest.fixture(scope="session")
def planted_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    yield from _city(tmp_path_factory, "planted", 3000, 7, PlantRates.uniform(0.1))


SMALL = 400


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    tables: dict[str, list[tuple[object, ...]]] = {}
    for department in store.SCHEMAS:
        connection = sqlite3.connect(store.database_path(path, department))
        names = [
            n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for name in names:
            tables[f"{department}.{name}"] = connection.execute(
                f"SELECT * FROM {name} ORDER BY rowid"  # noqa: S608 - names from sqlite_master
            ).fetchall()
        connection.close()
    return tables


@pytest.fixture(scope="session")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    first, second, other = (tmp_path_factory.mktemp(name) for name in ("first", "second", "other"))
    rates = PlantRates.uniform(0.05)
    generate_city(first, SMALL, 42, rates=rates)
    generate_city(second, SMALL, 42, rates=rates)
    generate_city(other, SMALL, 43, rates=rates)
    return first, second, other
