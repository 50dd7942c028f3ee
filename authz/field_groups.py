"""What may be asked, as the policy decision point sees it.

Every GraphQL field that returns data belongs to exactly one field group, and
the decision point is asked once per (principal, field group, resource,
context) tuple, never per value. The schema maps fields to groups; the
policies (`authz/policies/*.cedar`) decide groups; neither knows the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldGroup(StrEnum):
    """Cedar actions: `Hub::Action::"<value>"`."""

    # Reading a household a case or jurisdiction gives access to.
    HOUSEHOLD_MEMBERS = "household.members"  # members, roles, birth dates, vital status
    HOUSEHOLD_RELATIONS = "household.relations"  # spouse/parent/legal supporters
    IDENTIFIERS_UNMASKED = "identifiers.unmasked"  # full ID numbers and names
    # Verified finances, one group per source department (consent is per source).
    FINANCE_PUBLIC_SECURITY = "finance.public_security"  # vehicles, deaths
    FINANCE_HOUSING = "finance.housing"  # property
    FINANCE_TAX = "finance.tax"  # income by month and source
    FINANCE_BANKING = "finance.banking"  # accounts, balances, financial products
    FINANCE_MEDICAL = "finance.medical"  # enrolment, claims, out-of-pocket costs
    # Case work.
    CASE_OPEN = "case.open"
    CASE_READ = "case.read"
    CASE_MANAGE = "case.manage"  # record or revoke authorisations, close
    FLAGS_READ = "flags.read"
    FLAGS_RESOLVE = "flags.resolve"
    VERIFICATION_REQUEST = "verification.request"
    VERIFICATION_READ = "verification.read"
    # Other agencies.
    ASSISTANCE_STATUS = "assistance.status"
    # Operations without personal data.
    HEALTH_READ = "health.read"
    AUDIT_READ = "audit.read"


@dataclass(frozen=True)
class HouseholdResource:
    """The household a request touches, reduced to what policies may look at.

    `jurisdictions` holds the township, county and city codes the household
    falls under (e.g. 410702001, 410702, 410700), so one `contains` test in a
    policy expresses "in my region" at every level.
    """

    township_code: str
    region_code: str

    @property
    def jurisdictions(self) -> frozenset[str]:
        return frozenset({self.township_code, self.region_code, self.region_code[:4] + "00"})


# The resource of requests that concern no household (health, audit, status look-ups).
NO_HOUSEHOLD: HouseholdResource | None = None


@dataclass(frozen=True)
class DecisionContext:
    """Facts about this request that policies weigh besides who and what.

    case_open: the principal's own organisation has an open case for the household.
    consent: every person whose data the group returns has a valid authorisation
      covering the group's source (for groups without a source: covering any).
    purpose: the declared purpose, "" when none was given.
    """

    case_open: bool = False
    consent: bool = False
    purpose: str = ""
