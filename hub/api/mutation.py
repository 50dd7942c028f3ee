"""The write side: cases, authorisations on them, verification requests, flag resolutions.

Each mutation finds its object, asks the decision point with the same inputs a
read of that object would use, and answers NOT_FOUND for anything absent or
not the caller's, so mutations cannot be used to probe for households or cases.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import strawberry
from pydantic import ValidationError
from strawberry.types.info import Info

from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from graph.case_store import (
    close_case,
    open_case,
    request_verification,
    resolve_flag,
)
from graph.consent_store import list_authorisations, revoke_authorisation
from graph.identifiers import id_number_problem, normalise_id_number
from graph.model import DEPARTMENT_SOURCES, AuthorisationRecord, Signature, Source
from graph.writer import GraphWriter
from hub.api.context import Context
from hub.api.errors import BadInput, NotAvailable
from hub.api.household_access import household_access
from hub.api.household_query import EARLIEST_AS_OF, hid_of
from hub.api.types.cases import (
    AssistanceCategory,
    Authorisation,
    Case,
    Flag,
    VerificationRequest,
    authorisation,
    case,
    flag,
    verification,
)

AUTH_NO = re.compile(r"^[A-Z]{2}[0-9A-Z]{6,30}$")
MAX_SIGNERS = 20


@strawberry.input(description="One member's signature on an authorisation.")
class SignatureInput:
    id_number: str
    signed_on: date


@strawberry.input(description="An authorisation (授权书) as signed on paper.")
class AuthorisationInput:
    auth_no: str
    departments: list[str]
    purpose: str
    valid_from: date
    valid_to: date
    signatures: list[SignatureInput]


async def _case_for(info: Info[Context, None], case_id: str, group: FieldGroup) -> Case:
    row = await info.context.loaders.cases.load(case_id)
    if row is None:
        raise NotAvailable
    found = case(row, info.context.principal)
    resource, context = found.decision_inputs(group)
    if not info.context.allows(group, resource, context):
        raise NotAvailable
    return found


def _departments(names: list[str]) -> tuple[Source, ...]:
    known = {s.value: s for s in DEPARTMENT_SOURCES}
    if not names or any(n not in known for n in names):
        raise BadInput(f"departments must be a non-empty subset of {', '.join(known)}")
    return tuple(known[n] for n in dict.fromkeys(names))


def _signatures(inputs: list[SignatureInput]) -> tuple[Signature, ...]:
    if not 1 <= len(inputs) <= MAX_SIGNERS:
        raise BadInput(f"an authorisation needs 1-{MAX_SIGNERS} signatures")
    signatures = []
    for s in inputs:
        id_number = normalise_id_number(s.id_number)
        if id_number_problem(id_number) is not None:
            raise BadInput("a signature's idNumber is not a valid resident ID number")
        signatures.append(Signature(id_number=id_number, signed_on=s.signed_on))
    return tuple(signatures)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Open a case for a household of your township.")
    async def open_case(
        self, info: Info[Context, None], hukou_no: str, category: AssistanceCategory
    ) -> Case:
        ctx = info.context
        hid = hid_of(info, hukou_no)
        place = await ctx.loaders.places.load(hid)
        if place is None:
            raise NotAvailable
        resource = HouseholdResource(place.township_code, place.region_code)
        if not ctx.allows(FieldGroup.CASE_OPEN, resource, DecisionContext()):
            raise NotAvailable
        row = await open_case(
            ctx.graph.driver,
            ctx.graph.database,
            hid=hid,
            category=category.value,
            organisation=ctx.principal.organisation,
            opened_by=ctx.principal.subject,
        )
        if row is None:
            raise NotAvailable
        return case(row, ctx.principal)

    @strawberry.mutation(description="Close a case; its household is no longer yours to read.")
    async def close_case(self, info: Info[Context, None], case_id: strawberry.ID) -> Case:
        await _case_for(info, str(case_id), FieldGroup.CASE_MANAGE)
        ctx = info.context
        row = await close_case(ctx.graph.driver, ctx.graph.database, str(case_id))
        if row is None:
            raise NotAvailable
        return case(row, ctx.principal)

    @strawberry.mutation(description="Record an authorisation the household's members signed.")
    async def record_authorisation(
        self, info: Info[Context, None], case_id: strawberry.ID, input: AuthorisationInput
    ) -> Authorisation:
        found = await _case_for(info, str(case_id), FieldGroup.CASE_MANAGE)
        ctx = info.context
        graph = ctx.graph
        hid = found._row.hid
        if not AUTH_NO.fullmatch(input.auth_no):
            raise BadInput("authNo must be two capital letters and 6-30 digits or capitals")
        if input.valid_to < input.valid_from:
            raise BadInput("validTo must not be before validFrom")
        departments = _departments(input.departments)
        signatures = _signatures(input.signatures)
        protection = ctx.services.protection
        view = await ctx.loaders.households.load((hid, ctx.today, ctx.today, ctx.now))
        if view is None or view.hukou_no_enc is None:
            raise NotAvailable
        members = {m.pid for m in view.members}
        signer_pids = {protection.blind(s.id_number, field="id_number") for s in signatures}
        if not signer_pids <= members:
            raise BadInput("every signer must be a current member of the case's household")
        existing = await list_authorisations(graph.driver, graph.database, auth_no=input.auth_no)
        if existing:
            raise BadInput("authNo is already recorded; authorisations are not edited, revoke it")
        hukou_no = protection.open(view.hukou_no_enc, node_key=hid, field="hukou_no")
        try:
            record = AuthorisationRecord(
                source=Source.CIVIL_AFFAIRS,
                source_record_id=input.auth_no,
                fetched_at=datetime.now(UTC),
                auth_no=input.auth_no,
                hukou_no=hukou_no,
                departments=departments,
                purpose=input.purpose,
                valid_from=input.valid_from,
                valid_to=input.valid_to,
                signatures=signatures,
            )
        except ValidationError:
            raise BadInput("purpose must be 1-500 characters") from None
        await GraphWriter(graph.driver, graph.database, protection).write([record])
        [summary] = await list_authorisations(graph.driver, graph.database, auth_no=input.auth_no)
        return authorisation(summary, ctx.today)

    @strawberry.mutation(description="Revoke an authorisation from a day on (default today).")
    async def revoke_authorisation(
        self,
        info: Info[Context, None],
        case_id: strawberry.ID,
        auth_no: str,
        on: date | None = None,
    ) -> Authorisation:
        found = await _case_for(info, str(case_id), FieldGroup.CASE_MANAGE)
        ctx = info.context
        graph = ctx.graph
        mine = await list_authorisations(
            graph.driver, graph.database, auth_no=auth_no, hid=found._row.hid
        )
        if not mine:
            raise NotAvailable
        await revoke_authorisation(graph.driver, graph.database, auth_no, on or ctx.today)
        [summary] = await list_authorisations(graph.driver, graph.database, auth_no=auth_no)
        return authorisation(summary, ctx.today)

    @strawberry.mutation(description="Ask for the household to be verified as of a day.")
    async def request_verification(
        self,
        info: Info[Context, None],
        case_id: strawberry.ID,
        purpose: str,
        as_of: date | None = None,
    ) -> VerificationRequest:
        ctx = info.context
        row = await ctx.loaders.cases.load(str(case_id))
        if row is None:
            raise NotAvailable
        if not purpose.strip() or len(purpose) > 200:
            raise BadInput("purpose must be 1-200 characters")
        if as_of is not None and as_of < EARLIEST_AS_OF:
            raise BadInput(f"asOf must be {EARLIEST_AS_OF.isoformat()} or later")
        found = case(row, ctx.principal)
        view = await ctx.loaders.households.load((row.hid, ctx.today, ctx.today, ctx.now))
        pids = [m.pid for m in view.members] if view is not None else []
        access = await household_access(ctx, row.place, pids, purpose=purpose)
        resource, _ = found.decision_inputs(FieldGroup.VERIFICATION_REQUEST)
        context = DecisionContext(
            case_open=found._case_open, consent=access.fully_consented(), purpose=purpose
        )
        if not ctx.allows(FieldGroup.VERIFICATION_REQUEST, resource, context):
            raise NotAvailable
        created = await request_verification(
            ctx.graph.driver,
            ctx.graph.database,
            case_id=row.case_id,
            purpose=purpose,
            as_of=as_of or ctx.today,
            requested_by=ctx.principal.subject,
        )
        if created is None:
            raise NotAvailable
        members = {
            m.pid: m.person["id_number_enc"]
            for m in (view.members if view is not None else ())
            if m.person.get("id_number_enc")
        }
        ctx.services.verifications.submit(created, members)
        return verification(created)

    @strawberry.mutation(description="Resolve a flag with a written reason (kept encrypted).")
    async def resolve_flag(
        self, info: Info[Context, None], flag_id: strawberry.ID, reason: str
    ) -> Flag:
        ctx = info.context
        row = await ctx.loaders.flag.load(str(flag_id))
        if row is None:
            raise NotAvailable
        await _case_for(info, row.case_id, FieldGroup.FLAGS_RESOLVE)
        if not 5 <= len(reason.strip()) <= 2000:
            raise BadInput("reason must be 5-2000 characters")
        resolved = await resolve_flag(
            ctx.graph.driver,
            ctx.graph.database,
            ctx.services.protection,
            flag_id=row.flag_id,
            resolved_by=ctx.principal.subject,
            reason=reason,
        )
        if resolved is None:
            raise NotAvailable
        return flag(resolved)
