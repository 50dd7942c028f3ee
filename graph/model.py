"""The domain records: what the hub knows, whichever department it came from.

Connectors map each department's payload into these models, and validation
here is the gate every record passes before it can reach the graph; a record
that fails becomes a quarantined, skippable record. Models hide their input in
validation errors (`hide_input_in_errors`), so an error message can never carry
an ID number or a name into a log.

Money is integer fen (分); dates are `date`; a month is `YYYY-MM`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from graph.identifiers import id_number_problem, normalise_id_number


class Source(StrEnum):
    PUBLIC_SECURITY = "public_security"
    HOUSING = "housing"
    TAX = "tax"
    BANKING = "banking"
    MEDICAL = "medical"
    CIVIL_AFFAIRS = "civil_affairs"


DEPARTMENT_SOURCES = (
    Source.PUBLIC_SECURITY,
    Source.HOUSING,
    Source.TAX,
    Source.BANKING,
    Source.MEDICAL,
)


def _valid_id_number(value: str) -> str:
    problem = id_number_problem(value)
    if problem is not None:
        raise ValueError(f"invalid resident ID number: {problem}")
    return value


def _normalised(value: object) -> object:
    return normalise_id_number(value) if isinstance(value, str) else value


IdNumber = Annotated[str, BeforeValidator(_normalised), AfterValidator(_valid_id_number)]
RegionCode = Annotated[str, Field(pattern=r"^41[0-9]{4}$")]
TownshipCode = Annotated[str, Field(pattern=r"^41[0-9]{7}$")]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
Fen = Annotated[int, Field(ge=-(10**13), le=10**13)]
NonNegativeFen = Annotated[int, Field(ge=0, le=10**13)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Record(BaseModel):
    """One fact from one source, with the provenance every fact carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: ClassVar[str]
    source: Source
    source_record_id: Text
    fetched_at: datetime

    def content_hash(self) -> str:
        """SHA-256 of the record's content: what changed, independent of when it was fetched.

        The JSON is pydantic's own serialisation (in field declaration order,
        stable for a given model), several times faster than dumping to Python
        and re-encoding.
        """
        canonical = self.model_dump_json(exclude={"fetched_at"})
        return hashlib.sha256(canonical.encode()).hexdigest()

    def content(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"source", "source_record_id", "fetched_at"})

    def subjects(self) -> frozenset[str]:
        """The ID numbers of the people this record is about: whose consent it needs."""
        subject = getattr(self, "id_number", None)
        return frozenset((subject,)) if isinstance(subject, str) else frozenset()


class PersonRecord(Record):
    kind: ClassVar[str] = "person"
    id_number: IdNumber
    name: Text
    sex: Literal["M", "F"]
    birth_date: date
    phone: Annotated[str, Field(pattern=r"^[0-9+\- ]{5,20}$")] | None = None
    vital_status: Literal["alive", "deceased"]
    death_date: date | None = None
    disability_grade: Annotated[int, Field(ge=1, le=4)] | None = None
    school_level: (
        Literal["primary", "junior", "senior", "vocational", "undergraduate", "graduate"] | None
    ) = None
    serious_illness: bool = False


class HouseholdRecord(Record):
    kind: ClassVar[str] = "household"
    hukou_no: Text
    region_code: RegionCode
    township_code: TownshipCode
    township_name: Text
    urban: bool
    address: Text


class MembershipRecord(Record):
    kind: ClassVar[str] = "membership"
    hukou_no: Text
    id_number: IdNumber
    role: Literal["head", "spouse", "child", "parent", "grandchild", "sibling", "other"]
    since: date
    until: date | None = None


class RelationRecord(Record):
    kind: ClassVar[str] = "relation"
    from_id: IdNumber
    to_id: IdNumber
    relation: Literal["spouse", "parent", "supporter"]
    since: date | None = None

    def subjects(self) -> frozenset[str]:
        """Either end's consent suffices: the relation is a fact about each of them."""
        return frozenset((self.from_id, self.to_id))


class VehicleRecord(Record):
    kind: ClassVar[str] = "vehicle"
    plate: Text
    owner_id: IdNumber
    vehicle_kind: Text
    brand: Text
    registered_on: date
    value_fen: NonNegativeFen
    status: Text

    def subjects(self) -> frozenset[str]:
        return frozenset((self.owner_id,))


class DeathRecord(Record):
    kind: ClassVar[str] = "death"
    id_number: IdNumber
    hukou_no: Text
    region_code: RegionCode
    occurred_on: date


class PropertyOwner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
    id_number: IdNumber
    share_pct: Annotated[int, Field(ge=1, le=100)]


class PropertyRecord(Record):
    kind: ClassVar[str] = "property"
    cert_no: Text
    region_code: RegionCode
    address: Text
    usage: Text
    area_m2: Annotated[float, Field(gt=0, le=1_000_000)]
    registered_on: date
    value_fen: NonNegativeFen
    status: Text
    owners: tuple[PropertyOwner, ...] = Field(min_length=1)

    def subjects(self) -> frozenset[str]:
        return frozenset(owner.id_number for owner in self.owners)


class IncomeRecord(Record):
    kind: ClassVar[str] = "income"
    id_number: IdNumber
    period: Month
    category: Literal["wage", "labour", "business", "rental", "interest", "other"]
    payer_name: Text
    payer_tax_id: Text
    gross_fen: Fen
    tax_fen: NonNegativeFen
    filed_on: date


class BankAccountRecord(Record):
    kind: ClassVar[str] = "bank_account"
    account_no: Annotated[str, Field(pattern=r"^[0-9]{10,25}$")]
    id_number: IdNumber
    bank: Text
    account_kind: Text
    opened_on: date
    closed_on: date | None = None


class BalanceRecord(Record):
    kind: ClassVar[str] = "balance"
    account_no: Annotated[str, Field(pattern=r"^[0-9]{10,25}$")]
    id_number: IdNumber
    as_of: date
    balance_fen: Fen


class FinancialProductRecord(Record):
    kind: ClassVar[str] = "financial_product"
    product_id: Text
    id_number: IdNumber
    bank: Text
    product_kind: Text
    principal_fen: NonNegativeFen
    bought_on: date
    matures_on: date | None = None


class EnrolmentRecord(Record):
    kind: ClassVar[str] = "enrolment"
    enrolment_id: Text
    id_number: IdNumber
    scheme: Text
    region_code: RegionCode
    since: date
    until: date | None = None
    status: Text


class ClaimRecord(Record):
    kind: ClassVar[str] = "claim"
    claim_id: Text
    id_number: IdNumber
    settled_on: date
    hospital: Text
    claim_kind: Literal["inpatient", "outpatient", "pharmacy"]
    diagnosis_group: Text
    total_fen: NonNegativeFen
    fund_paid_fen: NonNegativeFen
    out_of_pocket_fen: NonNegativeFen


class Signature(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
    id_number: IdNumber
    signed_on: date


class AuthorisationRecord(Record):
    """A signed authorisation (授权书): which members let which departments be asked, when."""

    kind: ClassVar[str] = "authorisation"
    auth_no: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9A-Z]{6,30}$")]
    hukou_no: Text
    departments: tuple[Source, ...] = Field(min_length=1)
    purpose: Text
    valid_from: date
    valid_to: date
    revoked_on: date | None = None
    signatures: tuple[Signature, ...] = ()

    def subjects(self) -> frozenset[str]:
        return frozenset(s.id_number for s in self.signatures)


AssistanceCategory = Literal["dibao", "tekun", "low_income", "temporary"]


class AssistanceRecord(Record):
    """One grant on civil affairs' own roll (低保/特困/低收入/临时救助) for one person.

    The bureau cites a grant by its number, so the grant number is the
    record's source id: provenance can then be shown without opening a sealed
    field. A care level is assessed only for tekun (特困 供养), so it is
    required there and refused elsewhere; a grant that ends before it starts
    is a broken row, not a fact.
    """

    kind: ClassVar[str] = "assistance"
    grant_id: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9A-Z]{6,30}$")]
    id_number: IdNumber
    hukou_no: Text
    category: AssistanceCategory
    region_code: RegionCode
    township_code: TownshipCode
    valid_from: date
    valid_to: date | None = None
    amount_fen: NonNegativeFen
    care_level: Literal["full", "half", "self"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AssistanceRecord:
        if self.source_record_id != self.grant_id:
            raise ValueError("a roll grant's source record id is its grant number")
        if (self.category == "tekun") != (self.care_level is not None):
            raise ValueError("a care level is given for tekun grants and only for them")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("the grant ends before it starts")
        return self
