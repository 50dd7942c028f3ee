"""Sealed identifiers, opened for display: full with the unmask privilege, masked otherwise.

Opening happens only for fields the caller asked for, after the field's own
group was allowed; whether the clear value or its mask is shown is one more
decision (identifiers.unmasked) asked of the same decision point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from strawberry.types.info import Info

from authz.field_groups import FieldGroup
from hub.api.context import Context
from hub.api.household_access import HouseholdAccess


@dataclass(frozen=True)
class Revealer:
    access: HouseholdAccess
    pid: str | None = None  # the member a value belongs to; None: the household

    def reveal(
        self,
        info: Info[Context, None],
        token: str | None,
        *,
        node_key: str,
        field: str,
        mask: Callable[[str], str],
    ) -> str | None:
        if token is None:
            return None
        plain = info.context.services.protection.open(token, node_key=node_key, field=field)
        return plain if self.unmasked(info) else mask(plain)

    def unmasked(self, info: Info[Context, None]) -> bool:
        group = FieldGroup.IDENTIFIERS_UNMASKED
        if self.pid is None:
            resource, context = self.access.household_inputs(group)
        else:
            resource, context = self.access.member_inputs(self.pid, group)
        return info.context.allows(group, resource, context)
