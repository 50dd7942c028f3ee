"""The packaged Cedar policies against the authorisation spec, cell by cell.

`expected` below is written from the spec (docs/architecture.md,
"Authorisation"), not from the .cedar text: every role x every field group x
where the household is x case open/closed x consent yes/no x purpose yes/no x
privilege yes/no goes through the decision point, and the answers must agree
exactly — no wrongful allow, no wrongful denial, the same policy ids named.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from authz.decision import POLICY_DIRECTORY, PolicyDecisionPoint
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Principal, Privilege, Role

CITY = "410700"
COUNTY = "410702"
TOWNSHIP = "410702001"

# Where the household is, seen from a caseworker of TOWNSHIP / a centre of COUNTY.
PLACES: dict[str, HouseholdResource | None] = {
    "own township": HouseholdResource(TOWNSHIP, COUNTY),
    "same county, other township": HouseholdResource("410702002", COUNTY),
    "other county of the city": HouseholdResource("410711003", "410711"),
    "other city": HouseholdResource("411102001", "411102"),
    "no household": None,
}

# One principal per role and region level (the centre both at county and at city level).
PRINCIPALS = {
    "caseworker": (Role.CASEWORKER, TOWNSHIP),
    "county centre": (Role.VERIFICATION_CENTRE, COUNTY),
    "city centre": (Role.VERIFICATION_CENTRE, CITY),
    "agency": (Role.AGENCY, COUNTY),
    "auditor": (Role.AUDITOR, COUNTY),
    "administrator": (Role.ADMINISTRATOR, CITY),
}

HOUSEHOLD_READ = {FieldGroup.HOUSEHOLD_MEMBERS, FieldGroup.HOUSEHOLD_RELATIONS}
FINANCE = {
    FieldGroup.FINANCE_PUBLIC_SECURITY,
    FieldGroup.FINANCE_HOUSING,
    FieldGroup.FINANCE_TAX,
    FieldGroup.FINANCE_BANKING,
    FieldGroup.FINANCE_MEDICAL,
}
PERSONAL_DATA = {
    *HOUSEHOLD_READ,
    *FINANCE,
    FieldGroup.IDENTIFIERS_UNMASKED,
    FieldGroup.CASE_OPEN,
    FieldGroup.CASE_READ,
    FieldGroup.CASE_MANAGE,
    FieldGroup.FLAGS_READ,
    FieldGroup.FLAGS_RESOLVE,
    FieldGroup.VERIFICATION_REQUEST,
    FieldGroup.VERIFICATION_READ,
}


@dataclass(frozen=True)
class Cell:
    who: str
    group: FieldGroup
    place: str
    case_open: bool
    consent: bool
    purpose: bool
    privilege: bool

    def principal(self) -> Principal:
        role, region = PRINCIPALS[self.who]
        privileges = frozenset({Privilege.UNMASK_IDENTIFIERS}) if self.privilege else frozenset()
        return Principal(f"user-{self.who.replace(' ', '-')}", role, region, "org-1", privileges)

    def context(self) -> DecisionContext:
        purpose = "dibao-application" if self.purpose else ""
        return DecisionContext(case_open=self.case_open, consent=self.consent, purpose=purpose)


BOTH = (True, False)
CELLS = [
    Cell(who, group, place, case_open, consent, purpose, privilege)
    for who, group, place, case_open, consent, purpose, privilege in itertools.product(
        PRINCIPALS, FieldGroup, PLACES, BOTH, BOTH, BOTH, BOTH
    )
]


def in_own_township(cell: Cell) -> bool:
    household = PLACES[cell.place]
    return household is not None and household.township_code == TOWNSHIP


def in_jurisdiction(cell: Cell) -> bool:
    household = PLACES[cell.place]
    if household is None:
        return False
    _, region = PRINCIPALS[cell.who]
    if region == CITY:
        return household.region_code.startswith("4107")
    return household.region_code == region


def expected(cell: Cell) -> tuple[bool, tuple[str, ...]]:  # noqa: PLR0911, PLR0912 - the spec, rule by rule
    """(allowed, policy ids that decide) from the spec alone."""
    role, _ = PRINCIPALS[cell.who]
    group = cell.group
    if role is Role.CASEWORKER:
        township = in_own_township(cell)
        if group is FieldGroup.CASE_OPEN:
            return (True, ("caseworker-case-open",)) if township else (False, ())
        if not (township and cell.case_open):
            return False, ()
        if group in {
            FieldGroup.CASE_READ,
            FieldGroup.CASE_MANAGE,
            FieldGroup.FLAGS_READ,
            FieldGroup.FLAGS_RESOLVE,
            FieldGroup.VERIFICATION_READ,
        }:
            return True, ("caseworker-case-work",)
        if group is FieldGroup.VERIFICATION_REQUEST:
            if cell.consent and cell.purpose:
                return True, ("caseworker-verification-request",)
            return False, ()
        if not cell.consent:
            return False, ()
        if group in HOUSEHOLD_READ:
            return True, ("caseworker-household-read",)
        if group in FINANCE:
            return True, ("caseworker-finance-read",)
        if group is FieldGroup.IDENTIFIERS_UNMASKED and cell.privilege:
            return True, ("caseworker-identifiers-unmask",)
        return False, ()
    if role is Role.VERIFICATION_CENTRE:
        if not in_jurisdiction(cell):
            return False, ()
        if group in {FieldGroup.CASE_READ, FieldGroup.FLAGS_READ, FieldGroup.VERIFICATION_READ}:
            return True, ("verification-centre-case-read",)
        if not cell.consent:
            return False, ()
        if group is FieldGroup.VERIFICATION_REQUEST and cell.purpose:
            return True, ("verification-centre-verification-request",)
        if group in HOUSEHOLD_READ:
            return True, ("verification-centre-household-read",)
        if group in FINANCE:
            return True, ("verification-centre-finance-read",)
        if group is FieldGroup.IDENTIFIERS_UNMASKED and cell.privilege:
            return True, ("verification-centre-identifiers-unmask",)
        return False, ()
    # Agency, auditor, administrator: never personal data, by an explicit forbid.
    if group in PERSONAL_DATA:
        return False, (f"forbid-{role.value}-personal-data",)
    if role is Role.AGENCY and group is FieldGroup.ASSISTANCE_STATUS and cell.purpose:
        return True, ("agency-assistance-status",)
    if role is Role.AUDITOR and group is FieldGroup.AUDIT_READ:
        return True, ("auditor-audit-read",)
    if role is Role.ADMINISTRATOR and group is FieldGroup.HEALTH_READ:
        return True, ("administrator-health-read",)
    return False, ()


@dataclass(frozen=True)
class Mismatch:
    cell: Cell
    want: tuple[bool, tuple[str, ...]]
    got: tuple[bool, tuple[str, ...]]


def mismatches(pdp: PolicyDecisionPoint) -> list[Mismatch]:
    found = []
    for cell in CELLS:
        decision = pdp.decide(cell.principal(), cell.group, PLACES[cell.place], cell.context())
        got = (decision.allowed, decision.policies)
        want = expected(cell)
        if got != want or decision.errors:
            found.append(Mismatch(cell, want, got))
    return found


@pytest.fixture(scope="module")
def packaged() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.from_directory()


def test_the_table_is_the_whole_product() -> None:
    assert len(CELLS) == len(PRINCIPALS) * len(FieldGroup) * len(PLACES) * 16
    assert {PRINCIPALS[w][0] for w in PRINCIPALS} == set(Role)
    # The table allows something for every role, and not everything for any.
    for who in PRINCIPALS:
        answers = {expected(c)[0] for c in CELLS if c.who == who}
        assert answers == {True, False}, who


def test_packaged_policies_agree_with_the_spec_in_every_cell(
    packaged: PolicyDecisionPoint,
) -> None:
    found = mismatches(packaged)
    wrongful_allows = [m for m in found if m.got[0] and not m.want[0]]
    wrongful_denials = [m for m in found if m.want[0] and not m.got[0]]
    assert wrongful_allows == []
    assert wrongful_denials == []
    assert found == []  # nor a different policy named


def test_the_answers_are_the_same_from_the_memo() -> None:
    pdp = PolicyDecisionPoint.from_directory(cache_size=2 * len(CELLS))
    mismatches(pdp)  # fills the memo
    before = pdp.cache_info()
    assert mismatches(pdp) == []
    after = pdp.cache_info()
    assert after.hits - before.hits == len(CELLS)
    assert after.misses == before.misses


def test_decide_many_gives_the_same_answers(packaged: PolicyDecisionPoint) -> None:
    fresh = PolicyDecisionPoint.from_directory()
    for cell in CELLS:
        if cell.group is not FieldGroup.HOUSEHOLD_MEMBERS:
            continue
        household, context = PLACES[cell.place], cell.context()
        many = fresh.decide_many(cell.principal(), list(FieldGroup), household, context)
        assert list(many) == list(FieldGroup)
        for group, decision in many.items():
            assert decision == packaged.decide(cell.principal(), group, household, context)


def test_the_no_personal_data_roles_are_forbidden_whatever_is_permitted(tmp_path: Path) -> None:
    """The global forbids win over a permit that would leak (defence in depth)."""
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIRECTORY, directory)
    (directory / "leak.cedar").write_text(
        '@id("leak")\npermit (principal, action, resource);\n', encoding="utf-8"
    )
    pdp = PolicyDecisionPoint.from_directory(directory)
    for cell in CELLS:
        role, _ = PRINCIPALS[cell.who]
        if role in {Role.AGENCY, Role.AUDITOR, Role.ADMINISTRATOR} and cell.group in PERSONAL_DATA:
            decision = pdp.decide(cell.principal(), cell.group, PLACES[cell.place], cell.context())
            assert not decision.allowed
            assert decision.policies == (f"forbid-{role.value}-personal-data",)


# The matrix test must be able to fail: a policy set one rule too generous or one
# file short is caught, with the cells it gets wrong.


def test_the_matrix_catches_a_wrongful_allow(tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIRECTORY, directory)
    caseworker = directory / "caseworker.cedar"
    text = caseworker.read_text(encoding="utf-8")
    generous = text.replace('principal.privileges.contains("unmask_identifiers") &&', "", 1)
    assert generous != text
    caseworker.write_text(generous, encoding="utf-8")
    found = mismatches(PolicyDecisionPoint.from_directory(directory))
    assert found
    assert all(m.got[0] and not m.want[0] for m in found)
    assert {m.cell.group for m in found} == {FieldGroup.IDENTIFIERS_UNMASKED}
    assert {m.cell.privilege for m in found} == {False}


def test_the_matrix_catches_a_wrongful_denial(tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIRECTORY, directory)
    (directory / "agency.cedar").unlink()
    found = mismatches(PolicyDecisionPoint.from_directory(directory))
    assert found
    assert all(m.want[0] and not m.got[0] for m in found)
    assert {(m.cell.who, m.cell.group) for m in found} == {("agency", FieldGroup.ASSISTANCE_STATUS)}


def test_the_matrix_catches_a_wrongly_named_policy(tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIRECTORY, directory)
    auditor = directory / "auditor.cedar"
    auditor.write_text(
        auditor.read_text(encoding="utf-8").replace("auditor-audit-read", "auditor-reads"),
        encoding="utf-8",
    )
    found = mismatches(PolicyDecisionPoint.from_directory(directory))
    assert found
    assert all(m.got == (True, ("auditor-reads",)) for m in found)
