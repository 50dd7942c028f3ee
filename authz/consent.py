"""Consent decisions: may the hub ask (or show) a department's data about this person, now?

Pure logic over the authorisations (授权书) a person signed, handed in by the
graph layer. A department may be asked about a person only under an
authorisation that the person signed, that covers that department, whose
window covers the time point, and that was not revoked by then
(VERIFY-WITH-AUTHORISATION, §5.2). The decision names the authorisation it
rests on (for the request header and the audit log) or the reason it failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ConsentReason(StrEnum):
    GRANTED = "granted"
    NO_AUTHORISATION = "no_authorisation"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DEPARTMENT_NOT_COVERED = "department_not_covered"


@dataclass(frozen=True)
class SignedAuthorisation:
    """One authorisation as it concerns one signer."""

    auth_no: str
    departments: frozenset[str]
    valid_from: date
    valid_to: date
    revoked_on: date | None


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    reason: ConsentReason
    auth_no: str | None = None


# When no authorisation grants, the most telling reason wins (a revoked one over a missing one).
_PRECEDENCE = (
    ConsentReason.REVOKED,
    ConsentReason.EXPIRED,
    ConsentReason.NOT_YET_VALID,
    ConsentReason.DEPARTMENT_NOT_COVERED,
)


def decide_consent(
    authorisations: Iterable[SignedAuthorisation], department: str, at: date
) -> ConsentDecision:
    """Allowed under the granting authorisation that runs longest; else the best reason why not."""
    granting: list[SignedAuthorisation] = []
    reasons: set[ConsentReason] = set()
    for authorisation in authorisations:
        reason = _check(authorisation, department, at)
        if reason is ConsentReason.GRANTED:
            granting.append(authorisation)
        else:
            reasons.add(reason)
    if granting:
        best = max(granting, key=lambda a: (a.valid_to, a.auth_no))
        return ConsentDecision(True, ConsentReason.GRANTED, best.auth_no)
    for reason in _PRECEDENCE:
        if reason in reasons:
            return ConsentDecision(False, reason)
    return ConsentDecision(False, ConsentReason.NO_AUTHORISATION)


def standing(authorisation: SignedAuthorisation, at: date) -> ConsentReason:
    """Whether the authorisation itself is in force on `at`, whatever it covers."""
    if authorisation.revoked_on is not None and authorisation.revoked_on <= at:
        return ConsentReason.REVOKED
    if at < authorisation.valid_from:
        return ConsentReason.NOT_YET_VALID
    if at > authorisation.valid_to:
        return ConsentReason.EXPIRED
    return ConsentReason.GRANTED


def _check(authorisation: SignedAuthorisation, department: str, at: date) -> ConsentReason:
    reason = standing(authorisation, at)
    if reason is ConsentReason.GRANTED and department not in authorisation.departments:
        return ConsentReason.DEPARTMENT_NOT_COVERED
    return reason
