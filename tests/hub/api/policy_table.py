"""What each role may see, written from the issue and DESIGN.md, apart from the implementation.

Two tables and one function:
- GUARDED: every schema field that opens a field group (the leaves below it
  belong to that group); a test checks the schema guards exactly these, so a
  new field cannot slip in unclassified.
- IDENTIFIERS: leaves shown in clear only with identifiers.unmasked, masked
  otherwise.
- `expected(...)`: whether a principal may see a group in a scenario.

Nothing here is imported from hub/ or authz/policies; if the implementation
and this file disagree, a test fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from authz.principal import Principal, Privilege, Role

HOUSEHOLD_TOWNSHIP = "410702001"
HOUSEHOLD_COUNTY = "410702"
HOUSEHOLD_CITY = "410700"

GUARDED: dict[str, str] = {
    "Household.relations": "household.relations",
    "MemberFinances.vehicles": "finance.public_security",
    "MemberFinances.death": "finance.public_security",
    "MemberFinances.properties": "finance.housing",
    "MemberFinances.income": "finance.tax",
    "MemberFinances.accounts": "finance.banking",
    "MemberFinances.financialProducts": "finance.banking",
    "MemberFinances.enrolments": "finance.medical",
    "MemberFinances.claims": "finance.medical",
    "HouseholdFinances.incomeByMonth": "finance.tax",
    "HouseholdFinances.propertyCount": "finance.housing",
    "HouseholdFinances.propertyValueFen": "finance.housing",
    "HouseholdFinances.depositsFen": "finance.banking",
    "HouseholdFinances.vehicleCount": "finance.public_security",
    "HouseholdFinances.outOfPocketFen": "finance.medical",
    "Case.authorisations": "case.read",
    "Case.verificationRequests": "verification.read",
    "Case.flags": "flags.read",
}

# The group a root object is shown under (its own leaves, unless a guarded field intervenes).
ROOT_GROUPS = {
    "household": "household.members",
    "case": "case.read",
    "assistanceStatus": "assistance.status",
    "health": "health.read",
}

IDENTIFIERS = frozenset(
    {
        "Household.hukouNo",
        "Member.idNumber",
        "Member.name",
        "RelatedPerson.idNumber",
        "RelatedPerson.name",
        "Provenance.sourceRecordId",
        "Vehicle.plate",
        "PropertyFact.address",
        "Account.accountNo",
    }
)

# Leaves the test household legitimately has no value for (absent in the data, not denied).
NO_DATA = frozenset(
    {
        "MemberFinances.death",
        "DeathFact.occurredOn",
        "DeathFact.regionCode",
        "Member.until",
        "Member.deathDate",
        "Member.disabilityGrade",
        "Member.schoolLevel",
        "Account.closedOn",
        "Enrolment.until",
        "Provenance.recordedTo",
        "Relation.since",
        "PageInfo.endCursor",  # present, but a page of one may end without a next cursor
        "SourceConsent.authNo",
        "Case.closedAt",
        "VerificationRequest.finishedAt",
        "VerificationRequest.outcome",
        "Flag.resolvedAt",
        "Authorisation.revokedOn",
        "StatusGrant.validTo",
    }
)

SOURCES = {
    "finance.public_security": "public_security",
    "finance.housing": "housing",
    "finance.tax": "tax",
    "finance.banking": "banking",
    "finance.medical": "medical",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    consented: frozenset[str]  # departments every member validly authorised now
    case_open: bool = True  # org-1's case for the household

    def consent_for(self, group: str) -> bool:
        source = SOURCES.get(group, "public_security")  # composition comes from public security
        return source in self.consented


ALL = frozenset(SOURCES.values())
SCENARIOS = (
    Scenario("valid consent", ALL),
    Scenario("no consent", frozenset()),
    Scenario("revoked consent", frozenset()),
    Scenario("expired consent", frozenset()),
    Scenario("partial consent", frozenset({"public_security", "tax"})),
    Scenario("case closed", ALL, case_open=False),
)


def _in_region(who: Principal) -> bool:
    if who.role is Role.CASEWORKER:
        return who.region == HOUSEHOLD_TOWNSHIP
    return who.region in (HOUSEHOLD_COUNTY, HOUSEHOLD_CITY)


def expected(who: Principal, scenario: Scenario, group: str, purpose: bool = True) -> bool:  # noqa: PLR0911
    """The spec: issue 5 §3 and DESIGN.md's table of users."""
    if who.role is Role.AGENCY:
        return group == "assistance.status" and purpose
    if who.role is Role.AUDITOR:
        return group == "audit.read"
    if who.role is Role.ADMINISTRATOR:
        return group == "health.read"
    if not _in_region(who):
        return False
    consent = scenario.consent_for(group)
    privileged = Privilege.UNMASK_IDENTIFIERS in who.privileges
    if who.role is Role.CASEWORKER:
        case_open = scenario.case_open and who.organisation == "org-1"
        if group in ("case.read", "flags.read", "verification.read"):
            return case_open
        if group == "identifiers.unmasked":
            return case_open and consent and privileged
        if group.startswith(("household.", "finance.")):
            return case_open and consent
        return False
    # verification centre
    if group in ("case.read", "flags.read", "verification.read"):
        return True
    if group == "identifiers.unmasked":
        return consent and privileged
    if group.startswith(("household.", "finance.")):
        return consent
    return False
