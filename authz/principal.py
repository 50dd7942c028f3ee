"""Who is asking: the principal a verified bearer token stands for.

A principal is what every authorisation decision is made about, and what the
audit log will record. It carries no personal data of the person asking beyond
an opaque subject identifier from the token issuer.

Region semantics, by role (the token's `region` claim):
- caseworker: a township code (9 digits, 乡镇/街道), e.g. 410702001;
- verification centre: a county code (6 digits, 县/区, e.g. 410702) or the
  city code 410700 for the city centre;
- agency, auditor, administrator: the region of the organisation (6 digits);
  it limits nothing they may see, since what they may see is not regional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"
    VERIFICATION_CENTRE = "verification_centre"
    AGENCY = "agency"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Privilege(StrEnum):
    """Explicit extras a token may carry; none is implied by a role."""

    UNMASK_IDENTIFIERS = "unmask_identifiers"


_TOWNSHIP = re.compile(r"^41[0-9]{7}$")
_COUNTY_OR_CITY = re.compile(r"^41[0-9]{4}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
_ORGANISATION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class InvalidPrincipal(ValueError):
    """The claims do not describe a principal the hub serves; the token is refused."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    region: str
    organisation: str
    privileges: frozenset[Privilege] = frozenset()

    def __post_init__(self) -> None:
        if not _SUBJECT.fullmatch(self.subject):
            raise InvalidPrincipal("subject must be 1-128 characters of [A-Za-z0-9._:@-]")
        if not _ORGANISATION.fullmatch(self.organisation):
            raise InvalidPrincipal("organisation must be 1-64 characters of [A-Za-z0-9._:-]")
        wants_township = self.role is Role.CASEWORKER
        pattern = _TOWNSHIP if wants_township else _COUNTY_OR_CITY
        if not pattern.fullmatch(self.region):
            kind = "a 9-digit township code" if wants_township else "a 6-digit region code"
            raise InvalidPrincipal(f"a {self.role.value} token's region must be {kind}")

    def holds(self, privilege: Privilege) -> bool:
        return privilege in self.privileges

    def __repr__(self) -> str:
        return f"Principal(role={self.role.value}, region={self.region}, org={self.organisation})"
