"""Custom scalars. Money is integer fen (分): GraphQL's Int is 32-bit, too small for a house."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from hub.api.errors import BadInput

MAX_FEN = 10**15  # well inside JSON's exact integers (2**53)

Fen = NewType("Fen", int)


def _parse_fen(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_FEN:
        raise BadInput("amounts are whole fen (分) as an integer")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    Fen: strawberry.scalar(
        name="Fen",
        description="An amount of money in fen (分, 1/100 yuan), a 53-bit-safe integer.",
        serialize=int,
        parse_value=_parse_fen,
    )
}
