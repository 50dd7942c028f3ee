"""The errors a caller may see. Everything else is masked.

    PublicError                 message and a stable `code` in `extensions`
    ├── NotAvailable            NOT_FOUND: absent, or not yours to see (deliberately the same)
    ├── BadInput                BAD_INPUT: the request is malformed; says what to fix
    └── RateLimited             RATE_LIMITED: too many distinct persons looked up this hour

Messages are fixed strings or name only the argument at fault, never a value
from the request or the graph, so no error can carry personal data. GraphQL
validation errors (unknown field, wrong type) pass unmasked: they describe
the schema, which every caller has, and field suggestions are switched off.
"""

from __future__ import annotations

from typing import ClassVar

from graphql import GraphQLError


class PublicError(Exception):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code}


class NotAvailable(PublicError):
    code = "NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("Not found")


class BadInput(PublicError):
    code = "BAD_INPUT"


class RateLimited(PublicError):
    code = "RATE_LIMITED"

    def __init__(self) -> None:
        super().__init__("Too many distinct persons looked up this hour; try again later")


MASKED_MESSAGE = "Internal error"
MASKED_CODE = "INTERNAL"


def is_public(error: GraphQLError) -> bool:
    """Shown as is: our public errors and GraphQL's own validation errors."""
    original = error.original_error
    if original is None:
        return True
    return isinstance(original, PublicError)


def should_mask(error: GraphQLError) -> bool:
    return not is_public(error)


__all__ = [
    "MASKED_CODE",
    "MASKED_MESSAGE",
    "BadInput",
    "NotAvailable",
    "PublicError",
    "RateLimited",
    "is_public",
    "should_mask",
]
