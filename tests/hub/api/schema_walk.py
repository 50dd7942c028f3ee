"""Queries generated from the schema's SDL, and their answers flattened to leaves.

Every leaf field reachable from a root is selected (connections with their
default page), so a field added to the schema is tested without anyone
remembering to. The walk stops at a type already on the path (no cycles) and
at `Case.household`, which the household root covers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
)

from hub.api.schema import build_schema as build_hub_schema

SKIP = frozenset({"Case.household"})


def sdl_schema() -> GraphQLSchema:
    return build_schema(build_hub_schema(development=False).as_str())


def selection(schema: GraphQLSchema, type_name: str, path: tuple[str, ...] = ()) -> str:
    kind = schema.type_map[type_name]
    assert isinstance(kind, GraphQLObjectType)
    parts = []
    for name, field in kind.fields.items():
        key = f"{type_name}.{name}"
        if key in SKIP:
            continue
        target = get_named_type(field.type)
        if isinstance(target, GraphQLObjectType):
            if target.name in path:
                continue
            parts.append(f"{name} {selection(schema, target.name, (*path, type_name))}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


@dataclass(frozen=True)
class Leaf:
    key: str  # Type.field
    groups: tuple[str, ...]  # guarded fields on the way, outermost first ("Type.field")
    value: Any


def leaves(  # noqa: PLR0917 - recursive walk carries its path
    schema: GraphQLSchema,
    type_name: str,
    value: Any,
    guarded: dict[str, str],
    groups: tuple[str, ...] = (),
    path: tuple[str, ...] = (),
) -> Iterator[Leaf]:
    """Every selected leaf with its value; leaves under a null or empty parent come as None."""
    kind = schema.type_map[type_name]
    assert isinstance(kind, GraphQLObjectType)
    items = value if isinstance(value, list) else [value]
    if not items:
        items = [None]
    for item in items:
        for name, field in kind.fields.items():
            key = f"{type_name}.{name}"
            if key in SKIP:
                continue
            below = (*groups, key) if key in guarded else groups
            target = get_named_type(field.type)
            child = None if item is None else item.get(name)
            if isinstance(target, GraphQLObjectType):
                if target.name in path:
                    continue
                yield from leaves(schema, target.name, child, guarded, below, (*path, type_name))
            else:
                yield Leaf(key, below, child)
