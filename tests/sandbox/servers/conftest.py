from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.servers.tiny_city import build_tiny_city


@pytest.fixture
def tiny_city(tmp_path: Path) -> Path:
    data_dir = tmp_path / "city"
    build_tiny_city(data_dir)
    return data_dir
