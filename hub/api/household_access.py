"""What a request may see of one household: its place, case state and every member's consent.

Computed once per household per request from batched reads, then handed to
every object of that household, so each guarded field's decision inputs are a
lookup. Consent is decided now (at query time), per member and per source
department: a member who did not authorise the tax bureau has no income shown,
whatever the graph holds (§5.2 VERIFY-WITH-AUTHORISATION).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from authz.consent import ConsentDecision, decide_consent
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Role
from graph.case_store import HouseholdPlace
from graph.model import DEPARTMENT_SOURCES, Source
from hub.api.context import Context

GROUP_SOURCES: dict[FieldGroup, Source] = {
    FieldGroup.FINANCE_PUBLIC_SECURITY: Source.PUBLIC_SECURITY,
    FieldGroup.FINANCE_HOUSING: Source.HOUSING,
    FieldGroup.FINANCE_TAX: Source.TAX,
    FieldGroup.FINANCE_BANKING: Source.BANKING,
    FieldGroup.FINANCE_MEDICAL: Source.MEDICAL,
}
# Household composition and family ties come from public security's register.
COMPOSITION_SOURCE = Source.PUBLIC_SECURITY


@dataclass(frozen=True)
class HouseholdAccess:
    place: HouseholdPlace
    case_open: bool
    consents: dict[str, dict[Source, ConsentDecision]]  # pid -> department -> decision
    purpose: str = ""

    @property
    def resource(self) -> HouseholdResource:
        return HouseholdResource(self.place.township_code, self.place.region_code)

    def consented(self, pid: str, source: Source) -> bool:
        decision = self.consents.get(pid, {}).get(source)
        return decision is not None and decision.allowed

    def everyone_consented(self, source: Source) -> bool:
        return bool(self.consents) and all(self.consented(p, source) for p in self.consents)

    def household_consented(self) -> bool:
        """Some member authorised public security: the composition may be shown."""
        return any(self.consented(p, COMPOSITION_SOURCE) for p in self.consents)

    def fully_consented(self) -> bool:
        """Every member authorised every department: what a verification needs."""
        return all(self.everyone_consented(s) for s in DEPARTMENT_SOURCES)

    def context(self, consent: bool) -> DecisionContext:
        return DecisionContext(case_open=self.case_open, consent=consent, purpose=self.purpose)

    def household_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        source = GROUP_SOURCES.get(group)
        consent = (
            self.everyone_consented(source) if source is not None else self.household_consented()
        )
        return self.resource, self.context(consent)

    def member_inputs(
        self, pid: str, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        source = GROUP_SOURCES.get(group)
        consent = self.consented(pid, source) if source is not None else self.household_consented()
        return self.resource, self.context(consent)


async def household_access(
    ctx: Context, place: HouseholdPlace, member_pids: list[str], purpose: str = ""
) -> HouseholdAccess:
    """Authorisations and (for caseworkers) the open case, read concurrently."""
    signing = ctx.loaders.signed.load_many(member_pids)
    if ctx.principal.role is Role.CASEWORKER:
        signed, case_open = await asyncio.gather(signing, ctx.loaders.open_case.load(place.hid))
    else:
        signed, case_open = await signing, False
    today: date = ctx.today
    consents = {
        pid: {source: decide_consent(auths, source.value, today) for source in DEPARTMENT_SOURCES}
        for pid, auths in zip(member_pids, signed, strict=True)
    }
    return HouseholdAccess(place, case_open, consents, purpose)
