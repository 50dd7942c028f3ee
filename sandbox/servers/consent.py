"""The authorisation register (授权书) a department checks before it answers about a person.

Real departments will not answer an enquiry about a person without the signed
authorisation's number; the sandbox holds civil affairs' register in memory
(it is small: applicant and recipient households only) and checks, for every
subject enquiry, that the number exists, is inside its window, is not revoked,
covers this department, and that each person asked about signed it. Bulk
exports need the bureau's batch-comparison agreement number instead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.servers.errors import DepartmentError, bad_request, forbidden
from sandbox.store import CIVIL_AFFAIRS, open_read_only

NOT_AUTHORISED = "not_authorised"


@dataclass(frozen=True)
class Authorisation:
    auth_no: str
    departments: frozenset[str]
    valid_from: date
    valid_to: date
    revoked_on: date | None
    signers: frozenset[str]


class AuthorisationRegister:
    def __init__(self, authorisations: dict[str, Authorisation], bulk_agreement_no: str) -> None:
        self._authorisations = authorisations
        self.bulk_agreement_no = bulk_agreement_no

    @classmethod
    def load(cls, data_dir: Path, bulk_agreement_no: str) -> AuthorisationRegister:
        connection = open_read_only(data_dir, CIVIL_AFFAIRS)
        try:
            return cls(_read(connection), bulk_agreement_no)
        finally:
            connection.close()

    def __len__(self) -> int:
        return len(self._authorisations)

    def require_subject_authorisation(
        self, auth_no: str | None, department: str, today: date
    ) -> Authorisation:
        """The authorisation behind a subject enquiry, or the error the department answers."""
        if not auth_no:
            raise bad_request(
                "MISSING_AUTHORISATION", "every enquiry must carry the authorisation number"
            )
        found = self._authorisations.get(auth_no)
        if found is None:
            raise forbidden("UNKNOWN_AUTHORISATION", "no authorisation with this number")
        if found.revoked_on is not None and found.revoked_on <= today:
            raise forbidden("AUTHORISATION_REVOKED", "the authorisation has been revoked")
        if not found.valid_from <= today <= found.valid_to:
            raise forbidden("AUTHORISATION_EXPIRED", "the authorisation is outside its window")
        if department not in found.departments:
            raise forbidden(
                "DEPARTMENT_NOT_COVERED", f"the authorisation does not cover {department}"
            )
        return found

    def require_bulk_agreement(self, auth_no: str | None) -> None:
        if not auth_no:
            raise bad_request(
                "MISSING_AUTHORISATION", "bulk exports must carry the agreement number"
            )
        if auth_no != self.bulk_agreement_no:
            raise DepartmentError(
                403, "NOT_A_BULK_AGREEMENT", "bulk exports need the batch-comparison agreement"
            )


def _read(connection: sqlite3.Connection) -> dict[str, Authorisation]:
    signers: dict[str, set[str]] = {}
    for auth_no, id_number in connection.execute(
        "SELECT auth_no, id_number FROM authorisation_signers"
    ):
        signers.setdefault(auth_no, set()).add(id_number)
    found: dict[str, Authorisation] = {}
    for auth_no, departments, valid_from, valid_to, revoked_on in connection.execute(
        "SELECT auth_no, departments, valid_from, valid_to, revoked_on FROM authorisations"
    ):
        found[auth_no] = Authorisation(
            auth_no=auth_no,
            departments=frozenset(filter(None, departments.split(","))),
            valid_from=date.fromisoformat(valid_from),
            valid_to=date.fromisoformat(valid_to),
            revoked_on=date.fromisoformat(revoked_on) if revoked_on else None,
            signers=frozenset(signers.get(auth_no, ())),
        )
    return found
