"""A household as of a time point: members with their roles, family ties and finances.

The household object exists for a caller only if the composition group
(household.members) was allowed for it; deeper fields carry their own groups.
Identifiers are opened only when asked for and shown masked unless the caller
holds the unmask privilege.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.info import Info

from authz.consent import ConsentReason
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from graph.household_reader import HouseholdAsOf, MemberAsOf
from graph.household_reader import Relation as RelationView
from graph.model import DEPARTMENT_SOURCES
from hub.api.context import Context
from hub.api.guard import guarded
from hub.api.household_access import HouseholdAccess
from hub.api.masking import mask_id_number, mask_name, mask_reference
from hub.api.reveal import Revealer
from hub.api.types.finances import HouseholdFinances, MemberFinances

# authz's own reasons, as a GraphQL enum: one list of reasons, not two kept in step.
ConsentState = strawberry.enum(
    ConsentReason,
    name="ConsentState",
    description="Why a department may or may not be asked about a member now.",
)


@strawberry.type(description="A member's consent for one department, decided now.")
class SourceConsent:
    department: str
    state: ConsentReason
    auth_no: str | None


@strawberry.enum
class RelationType(Enum):
    SPOUSE_OF = "SPOUSE_OF"
    PARENT_OF = "PARENT_OF"
    SUPPORTS = "SUPPORTS"


@strawberry.type(description="Someone at the far end of a family or support tie.")
class RelatedPerson:
    id: strawberry.ID
    sex: str | None
    birth_date: date | None
    _view: strawberry.Private[dict[str, Any]]
    _revealer: strawberry.Private[Revealer]

    @strawberry.field(description="ID number, masked unless privileged.")
    def id_number(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal(
            info,
            self._view.get("id_number_enc"),
            node_key=str(self.id),
            field="id_number",
            mask=mask_id_number,
        )

    @strawberry.field(description="Name, masked unless privileged.")
    def name(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal(
            info, self._view.get("name_enc"), node_key=str(self.id), field="name", mask=mask_name
        )


@strawberry.type(description="A tie: SPOUSE_OF, PARENT_OF (from parent to child) or SUPPORTS.")
class Relation:
    type: RelationType
    from_id: strawberry.ID
    to_id: strawberry.ID
    since: date | None
    other: RelatedPerson = strawberry.field(description="The person at the far end from a member.")


@strawberry.type(description="A member of the household in the window asked about.")
class Member:
    id: strawberry.ID = strawberry.field(description="A pseudonymous key (keyed digest).")
    role: str
    since: date | None
    until: date | None
    sex: str | None
    birth_date: date | None
    vital_status: str | None
    death_date: date | None
    disability_grade: int | None
    school_level: str | None
    serious_illness: bool | None
    finances: MemberFinances
    _view: strawberry.Private[MemberAsOf]
    _access: strawberry.Private[HouseholdAccess]

    @strawberry.field(description="ID number, masked (410702********1234) unless privileged.")
    def id_number(self, info: Info[Context, None]) -> str | None:
        return Revealer(self._access, self._view.pid).reveal(
            info,
            self._view.person.get("id_number_enc"),
            node_key=self._view.pid,
            field="id_number",
            mask=mask_id_number,
        )

    @strawberry.field(description="Name, masked (王**) unless privileged.")
    def name(self, info: Info[Context, None]) -> str | None:
        return Revealer(self._access, self._view.pid).reveal(
            info,
            self._view.person.get("name_enc"),
            node_key=self._view.pid,
            field="name",
            mask=mask_name,
        )

    @strawberry.field(description="Consent per department, decided at the time of the request.")
    def consents(self) -> list[SourceConsent]:
        decisions = self._access.consents.get(self._view.pid, {})
        out = []
        for source in DEPARTMENT_SOURCES:
            decision = decisions.get(source)
            reason = decision.reason if decision is not None else ConsentReason.NO_AUTHORISATION
            out.append(
                SourceConsent(
                    department=source.value,
                    state=reason,
                    auth_no=decision.auth_no if decision is not None else None,
                )
            )
        return out


def member(view: MemberAsOf, access: HouseholdAccess) -> Member:
    person = view.person
    return Member(
        id=strawberry.ID(view.pid),
        role=view.role,
        since=view.since,
        until=view.until,
        sex=person.get("sex"),
        birth_date=person.get("birth_date"),
        vital_status=person.get("vital_status"),
        death_date=person.get("death_date"),
        disability_grade=person.get("disability_grade"),
        school_level=person.get("school_level"),
        serious_illness=person.get("serious_illness"),
        finances=MemberFinances(_pid=view.pid, _facts=view.facts, _access=access),
        _view=view,
        _access=access,
    )


def _relation(view: RelationView, access: HouseholdAccess, member_pids: set[str]) -> Relation:
    far = view.to_pid if view.from_pid in member_pids else view.from_pid
    near = view.from_pid if far == view.to_pid else view.to_pid
    other: dict[str, Any] = view.other if view.other.get("pid") == far else {"pid": far}
    return Relation(
        type=RelationType(view.type),
        from_id=strawberry.ID(view.from_pid),
        to_id=strawberry.ID(view.to_pid),
        since=view.since,
        other=RelatedPerson(
            id=strawberry.ID(far),
            sex=other.get("sex"),
            birth_date=other.get("birth_date"),
            _view=other,
            _revealer=Revealer(access, near),
        ),
    )


@strawberry.type(description="A hukou household as of a time point.")
class Household:
    id: strawberry.ID = strawberry.field(description="A pseudonymous key (keyed digest).")
    region_code: str
    township_code: str
    township_name: str
    urban: bool
    as_of: date
    recorded_at: datetime
    members: list[Member]
    finances: HouseholdFinances
    _view: strawberry.Private[HouseholdAsOf]
    _access: strawberry.Private[HouseholdAccess]

    def decision_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        return self._access.household_inputs(group)

    @strawberry.field(description="Hukou number, masked unless privileged.")
    def hukou_no(self, info: Info[Context, None]) -> str | None:
        return Revealer(self._access).reveal(
            info,
            self._view.hukou_no_enc,
            node_key=self._view.hid,
            field="hukou_no",
            mask=mask_reference,
        )

    @guarded(FieldGroup.HOUSEHOLD_RELATIONS, "Spouses, parents and children, legal supporters.")
    def relations(self) -> list[Relation] | None:
        pids = {m.pid for m in self._view.members}
        return [_relation(r, self._access, pids) for r in self._view.relations()]

    @strawberry.field(description="Whether every member authorised every department now.")
    def fully_consented(self) -> bool:
        return self._access.fully_consented()


def household(
    view: HouseholdAsOf, access: HouseholdAccess, as_of: date, recorded_at: datetime
) -> Household:
    return Household(
        id=strawberry.ID(view.hid),
        region_code=view.region_code,
        township_code=view.township_code,
        township_name=view.township_name,
        urban=view.urban,
        as_of=as_of,
        recorded_at=recorded_at,
        members=[member(m, access) for m in view.members],
        finances=HouseholdFinances(_facts={m.pid: m.facts for m in view.members}, _access=access),
        _view=view,
        _access=access,
    )
