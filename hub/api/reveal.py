"""Sealed identifiers, opened for display: full with the unmask privilege, masked otherwise.

Opening happens only for fields the caller asked for, after the field's own
group was allowed; whether the clear value or its mask is shown is one more
decision (identifiers.unmasked) asked of the same decision point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.types.info import Info

from authz.field_groups import FieldGroup
from hub.api.context import Context
from hub.api.household_access import HouseholdAccess
from hub.api.masking import mask_reference


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

    def reveal_fact_field(
        self, info: Info[Context, None], fact: dict[str, Any], field: str
    ) -> str | None:
        """A sealed field of a fact node (`<field>_enc`, bound to the fact's `vid`)."""
        return self.reveal(
            info, fact.get(f"{field}_enc"), node_key=fact["vid"], field=field, mask=mask_reference
        )

    def unmasked(self, info: Info[Context, None]) -> bool:
        group = FieldGroup.IDENTIFIERS_UNMASKED
        if self.pid is None:
            resource, context = self.access.household_inputs(group)
        else:
            resource, context = self.access.member_inputs(self.pid, group)
        return info.context.allows(group, resource, context)
