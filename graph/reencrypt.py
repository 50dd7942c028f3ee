"""Key rotation's third phase: re-encrypt every sealed field under the primary key.

Sealed fields are the properties ending in `_enc`, on nodes and on
relationships. Each was sealed with associated data binding it to a node key:
the node's own key property (pid, hid, vid, auth_no) or, on a relationship,
its start node's pid. The job pages through whatever is not yet under the
primary key (its token prefix), re-seals in Python and writes back, until
nothing is left; it can be stopped and run again at any time. `count_sealed_under`
is the proof a key can be retired: zero tokens left under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from neo4j import AsyncDriver, RoutingControl

from graph.write_plans import FACT_LABELS, RELATION_TYPES

NODE_KEYS = {
    "Person": "pid",
    "Household": "hid",
    "Authorisation": "auth_no",
    **{label: "vid" for label, _ in FACT_LABELS.values()},
}
RELATIONSHIP_TYPES = ("MEMBER_OF", *RELATION_TYPES.values())
_STALE = (
    "any(k IN keys({v}) WHERE k ENDS WITH '_enc' AND {v}[k] IS NOT NULL "
    "AND NOT {v}[k] STARTS WITH $prefix)"
)


class Resealer(Protocol):
    def primary_prefix(self) -> str: ...

    def reseal(self, token: str, *, node_key: str, field: str) -> str: ...


@dataclass(frozen=True)
class _Scope:
    match: str  # binds `n` (a node or a relationship) and filters to stale tokens
    node_key: str  # the expression of the node key the tokens were sealed with
    relationship: bool


def _scopes() -> list[_Scope]:
    nodes = [
        _Scope(f"MATCH (n:{label}) WHERE {_STALE.format(v='n')}", f"n.{key}", False)
        for label, key in NODE_KEYS.items()
    ]
    relationships = [
        _Scope(f"MATCH (a:Person)-[n:{rel}]->() WHERE {_STALE.format(v='n')}", "a.pid", True)
        for rel in RELATIONSHIP_TYPES
    ]
    return nodes + relationships


async def reencrypt_all(
    driver: AsyncDriver, database: str, resealer: Resealer, batch: int = 500
) -> int:
    """Re-seal what is not under the primary key; how many nodes and relationships changed."""
    prefix = resealer.primary_prefix()
    changed = 0
    for scope in _scopes():
        changed += await _drain(driver, database, resealer, scope, prefix=prefix, batch=batch)
    return changed


async def count_sealed_under(driver: AsyncDriver, database: str, prefix: str) -> int:
    """Nodes and relationships holding at least one token that starts with `prefix`."""
    under = "any(k IN keys({v}) WHERE k ENDS WITH '_enc' AND {v}[k] STARTS WITH $prefix)"
    records, _, _ = await driver.execute_query(
        f"CALL () {{ MATCH (n) WHERE {under.format(v='n')} RETURN count(n) AS c "
        f"UNION ALL MATCH ()-[r]->() WHERE {under.format(v='r')} RETURN count(r) AS c }} "
        "RETURN sum(c) AS total",
        prefix=prefix,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return int(records[0]["total"])


async def _drain(
    driver: AsyncDriver,
    database: str,
    resealer: Resealer,
    scope: _Scope,
    *,
    prefix: str,
    batch: int,
) -> int:
    target = "MATCH ()-[x]->()" if scope.relationship else "MATCH (x)"
    changed = 0
    while True:
        records, _, _ = await driver.execute_query(
            f"{scope.match} RETURN elementId(n) AS id, {scope.node_key} AS node_key, "
            "[k IN keys(n) WHERE k ENDS WITH '_enc' AND n[k] IS NOT NULL | [k, n[k]]] AS fields "
            "LIMIT $batch",
            prefix=prefix,
            batch=batch,
            database_=database,
        )
        if not records:
            return changed
        rows = [
            {
                "id": r["id"],
                "props": {
                    name: resealer.reseal(token, node_key=r["node_key"], field=name[: -len("_enc")])
                    for name, token in r["fields"]
                },
            }
            for r in records
        ]
        await driver.execute_query(
            f"UNWIND $rows AS row {target} WHERE elementId(x) = row.id SET x += row.props",
            rows=rows,
            database_=database,
        )
        changed += len(rows)
