"""Cursor pagination with a capped page size, over lists the request already holds.

A household's facts arrive in one read (Neo4j shapes them), so a page is a
slice; the cursor is opaque to callers and carries the position. Lists that
live in the graph (cases) page by key instead and reuse the same shapes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Generic, TypeVar

import strawberry

from hub.api.errors import BadInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list; ask again with `after: endCursor` for more.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadInput(f"first must be between 1 and {MAX_PAGE_SIZE}")
    return size


def encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """The cursor's payload; BadInput for anything we did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput("after is not a cursor this API issued") from None
    if not text.startswith(prefix):
        raise BadInput("after is not a cursor this API issued")
    return text[len(prefix) :]


def paginate(items: Sequence[T], first: int | None, after: str | None) -> Connection[T]:
    size = page_size(first)
    start = 0
    if after is not None:
        position = decode_cursor(after, "o:")
        # ASCII digits only, and few: str.isdigit accepts "²", which int() rejects.
        if not (position.isascii() and position.isdigit() and len(position) <= 9):
            raise BadInput("after is not a cursor this API issued")
        start = int(position) + 1
    chosen = items[start : start + size]
    edges = [Edge(cursor=encode_cursor(f"o:{start + i}"), node=n) for i, n in enumerate(chosen)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + size < len(items),
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(items),
    )
