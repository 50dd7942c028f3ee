"""Cases (个案), the authorisations recorded on them, verification requests and flags (疑点).

A case belongs to the township organisation that opened it; a caseworker's
household access rests on an open case of their own organisation. The case's
household place is copied on it, so jurisdiction is decided without reading
the household.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types.info import Info

from authz.consent import ConsentReason, SignedAuthorisation, standing
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Principal
from graph.case_store import CaseRow, CaseStatus, FlagRow, FlagStatus, VerificationRow
from graph.consent_store import AuthorisationSummary
from hub.api.context import Context
from hub.api.guard import guarded
from hub.api.household_query import load_household
from hub.api.types.household import Household


@strawberry.enum
class AssistanceCategory(Enum):
    DIBAO = "dibao"
    TEKUN = "tekun"
    LOW_INCOME = "low_income"
    TEMPORARY = "temporary"


@strawberry.enum(description="Where a verification request is.")
class VerificationState(Enum):
    REQUESTED = "requested"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@strawberry.type(description="A request to verify the case's household as of a time point.")
class VerificationRequest:
    id: strawberry.ID
    status: VerificationState
    purpose: str
    as_of: date
    requested_at: datetime
    finished_at: datetime | None
    outcome: str | None


def verification(row: VerificationRow) -> VerificationRequest:
    return VerificationRequest(
        id=strawberry.ID(row.request_id),
        status=VerificationState(row.status.value),
        purpose=row.purpose,
        as_of=row.as_of,
        requested_at=row.requested_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
    )


@strawberry.type(description="A finding (疑点) for a person to review; never a decision.")
class Flag:
    id: strawberry.ID
    rule_id: str
    severity: str
    open: bool
    raised_at: datetime
    resolved_at: datetime | None


def flag(row: FlagRow) -> Flag:
    return Flag(
        id=strawberry.ID(row.flag_id),
        rule_id=row.rule_id,
        severity=row.severity,
        open=row.status is FlagStatus.OPEN,
        raised_at=row.raised_at,
        resolved_at=row.resolved_at,
    )


@strawberry.enum
class AuthorisationState(Enum):
    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@strawberry.type(description="An authorisation (授权书) recorded for the case's household.")
class Authorisation:
    auth_no: str
    departments: list[str]
    purpose: str
    valid_from: date
    valid_to: date
    revoked_on: date | None
    signer_count: int
    state: AuthorisationState


def authorisation(summary: AuthorisationSummary, today: date) -> Authorisation:
    return Authorisation(
        auth_no=summary.auth_no,
        departments=list(summary.departments),
        purpose=summary.purpose,
        valid_from=summary.valid_from,
        valid_to=summary.valid_to,
        revoked_on=summary.revoked_on,
        signer_count=summary.signers,
        state=authorisation_state(summary.as_signed(), today),
    )


def authorisation_state(signed: SignedAuthorisation, today: date) -> AuthorisationState:
    """authz's own reading of an authorisation's window and revocation, as a GraphQL enum."""
    reason = standing(signed, today)
    return (
        AuthorisationState.VALID
        if reason is ConsentReason.GRANTED
        else AuthorisationState(reason.value)
    )


@strawberry.type(description="A case (个案): one application or review of one household.")
class Case:
    id: strawberry.ID
    open: bool
    category: AssistanceCategory
    township_code: str
    region_code: str
    opened_at: datetime
    closed_at: datetime | None
    _row: strawberry.Private[CaseRow]
    _case_open: strawberry.Private[bool]

    def decision_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        resource = HouseholdResource(self._row.township_code, self._row.region_code)
        return resource, DecisionContext(case_open=self._case_open)

    @strawberry.field(description="The household as of a time point (default: today).")
    async def household(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        recorded_at: datetime | None = None,
    ) -> Household | None:
        return await load_household(info, self._row.hid, as_of, recorded_at)

    @guarded(FieldGroup.CASE_READ, "Authorisations recorded for the household.")
    async def authorisations(self, info: Info[Context, None]) -> list[Authorisation] | None:
        found = await info.context.loaders.authorisations_for.load(self._row.hid)
        return [authorisation(a, info.context.today) for a in found]

    @guarded(FieldGroup.VERIFICATION_READ, "Verification requests, oldest first.")
    async def verification_requests(
        self, info: Info[Context, None]
    ) -> list[VerificationRequest] | None:
        found = await info.context.loaders.verifications.load(self._row.case_id)
        return [verification(v) for v in found]

    @guarded(FieldGroup.FLAGS_READ, "Findings raised on the case, oldest first.")
    async def flags(self, info: Info[Context, None], open_only: bool = False) -> list[Flag] | None:
        found = await info.context.loaders.flags.load(self._row.case_id)
        return [flag(f) for f in found if not open_only or f.status is FlagStatus.OPEN]


def case(row: CaseRow, principal: Principal) -> Case:
    return Case(
        id=strawberry.ID(row.case_id),
        open=row.status is CaseStatus.OPEN,
        category=AssistanceCategory(row.category),
        township_code=row.township_code,
        region_code=row.region_code,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        _row=row,
        _case_open=row.status is CaseStatus.OPEN and row.organisation == principal.organisation,
    )
