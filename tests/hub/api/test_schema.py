"""The schema's own promise: a document seen before is not validated again."""

from __future__ import annotations

import pytest
from strawberry.extensions.validation_cache import _get_validate_cache

from authz.principal import Role
from hub.api.schema import DOCUMENT_CACHE_SIZE
from tests.hub.api.harness import CITY, Api, principal

pytestmark = pytest.mark.anyio


async def test_a_repeated_document_is_validated_once(api: Api) -> None:
    """Strawberry keys its validation cache by rule classes; new classes per request never hit."""
    admin = principal(Role.ADMINISTRATOR, CITY)
    query = {"query": "{ health { schemaVersion } }"}
    await api.post(admin, query)
    cache = _get_validate_cache(DOCUMENT_CACHE_SIZE)
    before = cache.cache_info()  # type: ignore[attr-defined]  # an lru_cache wrapper
    for _ in range(3):
        assert (await api.post(admin, query)).status_code == 200
    after = cache.cache_info()  # type: ignore[attr-defined]
    assert after.hits - before.hits == 3
    assert after.misses == before.misses
