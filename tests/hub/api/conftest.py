"""Fixtures for the API tests: the real app in-process, on the session's Neo4j."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from authz.protection import FieldProtection
from tests.hub.api.harness import Api, build_api


@pytest.fixture
async def api(
    driver: AsyncDriver, protection: FieldProtection, tmp_path: Path
) -> AsyncIterator[Api]:
    built = build_api(driver, protection, tmp_path)
    yield built
    await built.client.aclose()
