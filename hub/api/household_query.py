"""Finding a household for a caller: absent and not-yours end the same way (NOT_FOUND).

The order matters for what a caller can learn: the composition group is
decided before anything of the household is returned, and a denial raises the
same error an unknown hukou number does.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from strawberry.types.info import Info

from authz.field_groups import FieldGroup
from graph.case_store import HouseholdPlace
from hub.api.context import Context
from hub.api.errors import BadInput, NotAvailable
from hub.api.household_access import household_access
from hub.api.types.household import Household, household

# The look-back a verification uses: the twelve months up to the time point.
WINDOW = timedelta(days=365)
# The first day whose look-back fits in the calendar (an earlier one overflows `date`).
EARLIEST_AS_OF = date.min + WINDOW


def hid_of(info: Info[Context, None], hukou_no: str) -> str:
    """The household key of a hukou number (the blind index normalises it)."""
    if not hukou_no.strip() or len(hukou_no) > 64:
        raise BadInput("hukouNo must be 1-64 characters")
    return info.context.services.protection.blind(hukou_no, field="hukou_no")


async def load_household(
    info: Info[Context, None],
    hid: str,
    as_of: date | None,
    recorded_at: datetime | None,
) -> Household:
    ctx = info.context
    day = as_of or ctx.today
    if day < EARLIEST_AS_OF:
        raise BadInput(f"asOf must be {EARLIEST_AS_OF.isoformat()} or later")
    recorded = recorded_at or ctx.now
    view = await ctx.loaders.households.load((hid, day - WINDOW + timedelta(days=1), day, recorded))
    if view is None:
        raise NotAvailable
    place = HouseholdPlace(hid, view.township_code, view.region_code)  # no second read
    access = await household_access(ctx, place, [m.pid for m in view.members])
    resource, context = access.household_inputs(FieldGroup.HOUSEHOLD_MEMBERS)
    if not ctx.allows(FieldGroup.HOUSEHOLD_MEMBERS, resource, context):
        raise NotAvailable
    return household(view, access, day, recorded)
