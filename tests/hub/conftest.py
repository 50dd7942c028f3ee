"""A small generated city served by the five sandbox departments, for the hub's ingestion
and verification tests (one per test module: module scope)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.city import generate_city
from tests.support import serving_sandbox


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city") / "city"
    generate_city(folder, households=150, seed=11)
    return folder


@pytest.fixture(scope="module")
def departments_file(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with serving_sandbox(city, tmp_path_factory.mktemp("sandbox")) as path:
        yield path
