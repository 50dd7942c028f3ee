"""The schema, hardened: limits, masked errors, redacted logging, no introspection in production.

Limits are set so the richest legitimate query (a case's household with every
member's finances and provenance) passes with room to spare, and the abuse
probes in the tests (deep nesting, alias floods, duplicated fields) fail fast
in validation, before any resolver runs. Extensions are passed as factories:
a shared instance would carry one request's state into the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from hub.api.duplicate_fields import DuplicateFieldLimiter
from hub.api.errors import MASKED_CODE, MASKED_MESSAGE, PublicError, should_mask
from hub.api.mutation import Mutation
from hub.api.query import Query
from hub.api.scalars import SCALARS

# The richest legitimate query (every leaf of a case's household) is 9 deep and 272 tokens.
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 1500
DOCUMENT_CACHE_SIZE = 256

log = logging.getLogger("hub.api")

# Made once: strawberry's validation cache is keyed by the rule classes, and its limiter
# extensions make new classes per request, so with them the cache would never hit.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    depth_rule(MAX_DEPTH, None, None),
    aliases_rule(MAX_ALIASES),
]


class MaskInternalErrors(MaskErrors):
    """Masks every error that is not public, keeping a stable code for clients."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=MASKED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": MASKED_CODE},
        )


class KeepEarlierRefusals(ValidationCache):
    """The validation cache, except when an earlier extension already refused the document.

    Strawberry's cache sets the validation result unconditionally, which would
    erase the duplicate-field refusal and pay for the quadratic validation it
    exists to avoid.
    """

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


class HubSchema(strawberry.Schema):
    """Strawberry logs every error with its exception text and traceback; ours logs neither.

    An exception's text can carry what it was handed (a driver error its
    query parameters, a key error the key), so the log gets the error's kind,
    code and field path only; the traceback's last frame names the place.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            path = ".".join(str(p) for p in error.path or ())
            if original is None:
                log.info("graphql request rejected in validation")
            elif isinstance(original, PublicError):
                log.info("graphql error %s at %s", original.code, path)
            else:
                frame = _last_frame(original)
                log.error(
                    "graphql internal error %s at %s (%s)", type(original).__name__, path, frame
                )


def _last_frame(error: BaseException) -> str:
    tb = error.__traceback__
    if tb is None:
        return "no traceback"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"


def build_schema(*, development: bool) -> HubSchema:
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(AddValidationRules, LIMIT_RULES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        DuplicateFieldLimiter,  # before the validation cache: it skips validation when it refuses
        partial(KeepEarlierRefusals, maxsize=DOCUMENT_CACHE_SIZE),
        MaskInternalErrors,
    ]
    if not development:
        extensions.append(DisableIntrospection)
    return HubSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not development, scalar_map=SCALARS),
    )
