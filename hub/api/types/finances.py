"""Verified finances: the facts each department holds about a member, each with its provenance.

Every list here is one field group (one source department), guarded as a
whole: the member's consent for that department decides, at query time.
Household totals are shown only when every member consented to the source,
because a total over some members would understate the household.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types.info import Info

from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from hub.api.context import Context
from hub.api.guard import guarded
from hub.api.household_access import HouseholdAccess
from hub.api.masking import mask_reference
from hub.api.pagination import Connection, paginate
from hub.api.reveal import Revealer
from hub.api.scalars import Fen

Fact = dict[str, Any]


@strawberry.type(description="Where a fact came from and when the hub learnt it.")
class Provenance:
    source: str
    record_key: str = strawberry.field(
        description="A stable pseudonymous reference to the source record (a keyed digest)."
    )
    fetched_at: datetime
    content_hash: str
    recorded_from: datetime
    recorded_to: datetime | None
    _fact: strawberry.Private[Fact]
    _revealer: strawberry.Private[Revealer]

    @strawberry.field(description="The department's own record number, masked unless privileged.")
    def source_record_id(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal_fact_field(info, self._fact, "source_record_id")


def provenance(fact: Fact, revealer: Revealer) -> Provenance:
    return Provenance(
        source=fact["source"],
        record_key=fact["record_key"],
        fetched_at=fact["fetched_at"],
        content_hash=fact["content_hash"],
        recorded_from=fact["recorded_from"],
        recorded_to=fact.get("recorded_to"),
        _fact=fact,
        _revealer=revealer,
    )


@strawberry.type(description="A motor vehicle registered to the member (public security).")
class Vehicle:
    vehicle_kind: str
    brand: str
    registered_on: date
    value_fen: Fen
    status: str
    provenance: Provenance
    _fact: strawberry.Private[Fact]
    _revealer: strawberry.Private[Revealer]

    @strawberry.field(description="Number plate, masked unless privileged.")
    def plate(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal_fact_field(info, self._fact, "plate")


@strawberry.type(description="A death registered by public security.")
class DeathFact:
    occurred_on: date
    region_code: str
    provenance: Provenance


@strawberry.type(description="Real estate the member (co-)owns (housing).")
class PropertyFact:
    cert_no: str
    region_code: str
    usage: str
    area_m2: float
    registered_on: date
    value_fen: Fen
    status: str
    provenance: Provenance
    _fact: strawberry.Private[Fact]
    _revealer: strawberry.Private[Revealer]

    @strawberry.field(description="Address, masked unless privileged.")
    def address(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal_fact_field(info, self._fact, "address")


@strawberry.type(description="One month's income from one payer, as filed with the tax bureau.")
class IncomeFact:
    period: str
    category: str
    payer_name: str
    gross_fen: Fen
    tax_fen: Fen
    filed_on: date
    provenance: Provenance


@strawberry.type(description="An account balance on a date (banking).")
class Balance:
    as_of: date
    balance_fen: Fen
    provenance: Provenance


@strawberry.type(description="A bank account in the member's name, with its balances.")
class Account:
    bank: str
    account_kind: str
    opened_on: date
    closed_on: date | None
    balances: list[Balance]
    provenance: Provenance
    _fact: strawberry.Private[Fact]
    _revealer: strawberry.Private[Revealer]

    @strawberry.field(description="Account number, masked unless privileged.")
    def account_no(self, info: Info[Context, None]) -> str | None:
        return self._revealer.reveal_fact_field(info, self._fact, "account_no")


@strawberry.type(description="A wealth-management or other financial product (banking).")
class FinancialProduct:
    product_id: str
    bank: str
    product_kind: str
    principal_fen: Fen
    bought_on: date
    matures_on: date | None
    provenance: Provenance


@strawberry.type(description="Medical insurance enrolment.")
class Enrolment:
    scheme: str
    region_code: str
    status: str
    since: date | None
    until: date | None
    provenance: Provenance


@strawberry.type(description="A settled medical claim and what the member paid out of pocket.")
class Claim:
    settled_on: date
    hospital: str
    claim_kind: str
    diagnosis_group: str
    total_fen: Fen
    fund_paid_fen: Fen
    out_of_pocket_fen: Fen
    provenance: Provenance


def _of(facts: tuple[Fact, ...], label: str) -> list[Fact]:
    return [f for f in facts if f["kind"] == label]


def _vehicle(f: Fact, r: Revealer) -> Vehicle:
    return Vehicle(
        vehicle_kind=f["vehicle_kind"],
        brand=f["brand"],
        registered_on=f["registered_on"],
        value_fen=f["value_fen"],
        status=f["status"],
        provenance=provenance(f, r),
        _fact=f,
        _revealer=r,
    )


def _property(f: Fact, r: Revealer) -> PropertyFact:
    return PropertyFact(
        cert_no=mask_reference(f["cert_no"]),
        region_code=f["region_code"],
        usage=f["usage"],
        area_m2=f["area_m2"],
        registered_on=f["registered_on"],
        value_fen=f["value_fen"],
        status=f["status"],
        provenance=provenance(f, r),
        _fact=f,
        _revealer=r,
    )


def _income(f: Fact, r: Revealer) -> IncomeFact:
    return IncomeFact(
        period=f["period"],
        category=f["category"],
        payer_name=f["payer_name"],
        gross_fen=f["gross_fen"],
        tax_fen=f["tax_fen"],
        filed_on=f["filed_on"],
        provenance=provenance(f, r),
    )


def _claim(f: Fact, r: Revealer) -> Claim:
    return Claim(
        settled_on=f["settled_on"],
        hospital=f["hospital"],
        claim_kind=f["claim_kind"],
        diagnosis_group=f["diagnosis_group"],
        total_fen=f["total_fen"],
        fund_paid_fen=f["fund_paid_fen"],
        out_of_pocket_fen=f["out_of_pocket_fen"],
        provenance=provenance(f, r),
    )


@strawberry.type(description="One member's verified finances; each list is null without consent.")
class MemberFinances:
    _pid: strawberry.Private[str]
    _facts: strawberry.Private[tuple[Fact, ...]]
    _access: strawberry.Private[HouseholdAccess]

    def decision_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        return self._access.member_inputs(self._pid, group)

    @property
    def _revealer(self) -> Revealer:
        return Revealer(self._access, self._pid)

    @guarded(FieldGroup.FINANCE_PUBLIC_SECURITY)
    def vehicles(self) -> list[Vehicle] | None:
        r = self._revealer
        return [_vehicle(f, r) for f in _of(self._facts, "Vehicle")]

    @guarded(FieldGroup.FINANCE_PUBLIC_SECURITY)
    def death(self) -> DeathFact | None:
        r = self._revealer
        found = _of(self._facts, "DeathRecord")
        if not found:
            return None
        f = found[0]
        return DeathFact(
            occurred_on=f["occurred_on"], region_code=f["region_code"], provenance=provenance(f, r)
        )

    @guarded(FieldGroup.FINANCE_HOUSING)
    def properties(self) -> list[PropertyFact] | None:
        r = self._revealer
        return [_property(f, r) for f in _of(self._facts, "Property")]

    @guarded(FieldGroup.FINANCE_TAX)
    def income(
        self, first: int | None = None, after: str | None = None
    ) -> Connection[IncomeFact] | None:
        r = self._revealer
        facts = sorted(_of(self._facts, "IncomeRecord"), key=lambda f: (f["period"], f["vid"]))
        return paginate([_income(f, r) for f in facts], first, after)

    @guarded(FieldGroup.FINANCE_BANKING)
    def accounts(self) -> list[Account] | None:
        r = self._revealer
        balances: dict[str, list[Balance]] = defaultdict(list)
        for f in sorted(_of(self._facts, "BalanceSnapshot"), key=lambda f: f["as_of"]):
            balances[f["account_ref"]].append(
                Balance(as_of=f["as_of"], balance_fen=f["balance_fen"], provenance=provenance(f, r))
            )
        return [
            Account(
                bank=f["bank"],
                account_kind=f["account_kind"],
                opened_on=f["opened_on"],
                closed_on=f.get("closed_on"),
                balances=balances.get(f["account_ref"], []),
                provenance=provenance(f, r),
                _fact=f,
                _revealer=r,
            )
            for f in _of(self._facts, "BankAccount")
        ]

    @guarded(FieldGroup.FINANCE_BANKING)
    def financial_products(self) -> list[FinancialProduct] | None:
        r = self._revealer
        return [
            FinancialProduct(
                product_id=f["product_id"],
                bank=f["bank"],
                product_kind=f["product_kind"],
                principal_fen=f["principal_fen"],
                bought_on=f["bought_on"],
                matures_on=f.get("matures_on"),
                provenance=provenance(f, r),
            )
            for f in _of(self._facts, "FinancialProduct")
        ]

    @guarded(FieldGroup.FINANCE_MEDICAL)
    def enrolments(self) -> list[Enrolment] | None:
        r = self._revealer
        return [
            Enrolment(
                scheme=f["scheme"],
                region_code=f["region_code"],
                status=f["status"],
                since=f.get("valid_from"),
                until=f.get("valid_to"),
                provenance=provenance(f, r),
            )
            for f in _of(self._facts, "InsuranceEnrolment")
        ]

    @guarded(FieldGroup.FINANCE_MEDICAL)
    def claims(
        self, first: int | None = None, after: str | None = None
    ) -> Connection[Claim] | None:
        r = self._revealer
        facts = sorted(_of(self._facts, "MedicalClaim"), key=lambda f: (f["settled_on"], f["vid"]))
        return paginate([_claim(f, r) for f in facts], first, after)


@strawberry.type(description="Income of the whole household in one month.")
class MonthlyIncome:
    month: str
    gross_fen: Fen
    tax_fen: Fen


@strawberry.type(
    description="Household totals, each null unless every member consented to its source."
)
class HouseholdFinances:
    _facts: strawberry.Private[dict[str, tuple[Fact, ...]]]  # pid -> facts
    _access: strawberry.Private[HouseholdAccess]

    def decision_inputs(
        self, group: FieldGroup
    ) -> tuple[HouseholdResource | None, DecisionContext]:
        return self._access.household_inputs(group)

    def _all(self, label: str) -> list[Fact]:
        return [f for facts in self._facts.values() for f in facts if f["kind"] == label]

    @guarded(FieldGroup.FINANCE_TAX)
    def income_by_month(self) -> list[MonthlyIncome] | None:
        gross: dict[str, int] = defaultdict(int)
        tax: dict[str, int] = defaultdict(int)
        for f in self._all("IncomeRecord"):
            gross[f["period"]] += f["gross_fen"]
            tax[f["period"]] += f["tax_fen"]
        return [
            MonthlyIncome(month=m, gross_fen=Fen(gross[m]), tax_fen=Fen(tax[m]))
            for m in sorted(gross)
        ]

    @guarded(FieldGroup.FINANCE_HOUSING)
    def property_count(self) -> int | None:
        """Distinct certificates: a co-owned home counts once."""
        return len({f["cert_no"] for f in self._all("Property")})

    @guarded(FieldGroup.FINANCE_HOUSING)
    def property_value_fen(self) -> Fen | None:
        by_cert = {f["cert_no"]: f["value_fen"] for f in self._all("Property")}
        return Fen(sum(by_cert.values()))

    @guarded(FieldGroup.FINANCE_BANKING)
    def deposits_fen(self) -> Fen | None:
        """Latest balance of every account plus product principal in the window."""
        latest: dict[str, tuple[date, int]] = {}
        for f in self._all("BalanceSnapshot"):
            seen = latest.get(f["account_ref"])
            if seen is None or f["as_of"] > seen[0]:
                latest[f["account_ref"]] = (f["as_of"], f["balance_fen"])
        products = sum(f["principal_fen"] for f in self._all("FinancialProduct"))
        return Fen(sum(balance for _, balance in latest.values()) + products)

    @guarded(FieldGroup.FINANCE_PUBLIC_SECURITY)
    def vehicle_count(self) -> int | None:
        return len(self._all("Vehicle"))

    @guarded(FieldGroup.FINANCE_MEDICAL)
    def out_of_pocket_fen(self) -> Fen | None:
        return Fen(sum(f["out_of_pocket_fen"] for f in self._all("MedicalClaim")))
