"""The field-group guard: one decision point in front of every field that returns data.

A guarded field names its field group; before its resolver runs, the guard
asks the parent object for the decision inputs (the household it belongs to
and the request facts: open case, consent for the group's source, purpose)
and asks the policy decision point. Denied -> the field is null, the same
null an absent value gives, so a caller cannot tell forbidden from missing.
Decisions are memoised by the decision point, so a household of many members
costs a handful of policy evaluations, not one per value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from hub.api.context import Context


class Guarded(Protocol):
    def decision_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]: ...


class GuardMisconfigured(TypeError):
    """A guarded field must be nullable (null is what a denial returns)."""


class Guard(FieldExtension):
    def __init__(self, group: FieldGroup) -> None:
        self.group = group

    def apply(self, field: StrawberryField) -> None:
        if not isinstance(field.type, StrawberryOptional):
            raise GuardMisconfigured(f"guarded field {field.python_name} must be optional")

    def _allowed(self, source: Guarded, info: Info[Context, None]) -> bool:
        resource, context = source.decision_inputs(self.group)
        return info.context.allows(self.group, resource, context)

    def resolve(
        self,
        next_: Callable[..., Any],
        source: Any,  # noqa: ANN401 - strawberry's signature
        info: Info[Context, None],
        **kwargs: Any,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401
        if not self._allowed(source, info):
            return None
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,  # noqa: ANN401
        info: Info[Context, None],
        **kwargs: Any,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401
        if not self._allowed(source, info):
            return None
        return await next_(source, info, **kwargs)


def guarded(group: FieldGroup, description: str | None = None) -> Any:  # noqa: ANN401
    """`@guarded(FieldGroup.X)` on a resolver: strawberry.field behind the guard."""
    return strawberry.field(extensions=[Guard(group)], description=description)


def guard_of(field: StrawberryField) -> FieldGroup | None:
    """The group a field is guarded by (for the security tests' map of the schema)."""
    for extension in field.extensions:
        if isinstance(extension, Guard):
            return extension.group
    return None
