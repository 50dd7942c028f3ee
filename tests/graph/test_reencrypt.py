"""Key rotation end to end on the real Neo4j: add, promote, re-encrypt, retire."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import AsyncDriver

from authz.errors import KeyRetired
from authz.field_crypto import token_prefix
from authz.protection import FieldProtection
from graph.migrations import apply_migrations
from graph.reencrypt import count_sealed_under, reencrypt_all
from graph.write_plans import person_key
from graph.writer import GraphWriter
from tests.graph.records import NAMES, household_records
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio


async def name_token(driver: AsyncDriver, pid: str) -> str:
    records, _, _ = await driver.execute_query(
        "MATCH (p:Person {pid: $pid}) RETURN p.name_enc AS name", pid=pid
    )
    return str(records[0]["name"])


async def test_rotation_phases(driver: AsyncDriver, tmp_path: Path) -> None:
    protection = FieldProtection.local(tmp_path / "keys")
    await apply_migrations(driver, "neo4j")
    await GraphWriter(driver, "neo4j", protection).write(household_records())
    old = protection.ring.primary_id
    sealed = await count_sealed_under(driver, "neo4j", token_prefix(old))
    # 3 persons + 1 household + 9 facts + 3 memberships + 2 family relations
    assert sealed == 18

    new = protection.ring.add_key().key_id
    protection.ring.promote(new)
    pid = person_key(protection, PEOPLE.head)  # blind indexes do not change with data keys
    assert (
        protection.open(await name_token(driver, pid), node_key=pid, field="name")
        == (NAMES[PEOPLE.head])
    )

    assert await reencrypt_all(driver, "neo4j", protection, batch=7) == sealed
    assert await count_sealed_under(driver, "neo4j", token_prefix(old)) == 0
    assert await count_sealed_under(driver, "neo4j", token_prefix(new)) == sealed
    assert await reencrypt_all(driver, "neo4j", protection) == 0  # nothing left to do

    remaining = await count_sealed_under(driver, "neo4j", token_prefix(old))
    protection.ring.retire(old, tokens_remaining=remaining)
    after = await name_token(driver, pid)
    assert protection.open(after, node_key=pid, field="name") == NAMES[PEOPLE.head]


async def test_tokens_under_a_retired_key_no_longer_open(tmp_path: Path) -> None:
    protection = FieldProtection.local(tmp_path / "keys")
    old = protection.ring.primary_id
    token = protection.seal("王建国", node_key="p1", field="name")
    new = protection.ring.add_key().key_id
    protection.ring.promote(new)
    protection.ring.retire(old, tokens_remaining=0)
    with pytest.raises(KeyRetired):
        protection.open(token, node_key="p1", field="name")
