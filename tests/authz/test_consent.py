from __future__ import annotations

from datetime import date

import pytest

from authz.consent import ConsentReason, SignedAuthorisation, decide_consent

AT = date(2026, 11, 1)
ALL = frozenset({"public_security", "housing", "tax", "banking", "medical"})


def auth(
    auth_no: str = "SQ1",
    departments: frozenset[str] = ALL,
    valid: tuple[date, date] = (date(2026, 6, 1), date(2027, 5, 31)),
    revoked_on: date | None = None,
) -> SignedAuthorisation:
    return SignedAuthorisation(auth_no, departments, valid[0], valid[1], revoked_on)


def test_a_valid_authorisation_grants_and_is_named() -> None:
    decision = decide_consent([auth()], "tax", AT)
    assert (decision.allowed, decision.reason, decision.auth_no) == (
        True,
        ConsentReason.GRANTED,
        "SQ1",
    )


@pytest.mark.parametrize(
    ("authorisation", "reason"),
    [
        (auth(revoked_on=date(2026, 10, 1)), ConsentReason.REVOKED),
        (auth(revoked_on=AT), ConsentReason.REVOKED),
        (auth(valid=(date(2025, 1, 1), date(2025, 12, 31))), ConsentReason.EXPIRED),
        (auth(valid=(date(2026, 12, 1), date(2027, 5, 31))), ConsentReason.NOT_YET_VALID),
        (auth(departments=ALL - {"tax"}), ConsentReason.DEPARTMENT_NOT_COVERED),
    ],
)
def test_each_way_to_fail(authorisation: SignedAuthorisation, reason: ConsentReason) -> None:
    decision = decide_consent([authorisation], "tax", AT)
    assert (decision.allowed, decision.reason, decision.auth_no) == (False, reason, None)


def test_no_authorisation_at_all() -> None:
    assert decide_consent([], "tax", AT).reason is ConsentReason.NO_AUTHORISATION


def test_revocation_in_the_future_still_grants_today() -> None:
    assert decide_consent([auth(revoked_on=date(2026, 12, 1))], "tax", AT).allowed


def test_window_edges_are_inclusive() -> None:
    assert decide_consent([auth(valid=(AT, AT))], "tax", AT).allowed


def test_any_granting_authorisation_wins_over_failing_ones() -> None:
    decision = decide_consent(
        [auth("SQ-OLD", revoked_on=date(2026, 7, 1)), auth("SQ-NEW")], "tax", AT
    )
    assert decision.auth_no == "SQ-NEW"


def test_the_longest_running_grant_is_chosen() -> None:
    short = auth("SQ-A", valid=(date(2026, 1, 1), date(2026, 12, 31)))
    long = auth("SQ-B", valid=(date(2026, 6, 1), date(2027, 5, 31)))
    assert decide_consent([short, long], "tax", AT).auth_no == "SQ-B"


def test_revoked_is_reported_over_expired() -> None:
    revoked = auth("SQ-A", revoked_on=date(2026, 7, 1))
    expired = auth("SQ-B", valid=(date(2025, 1, 1), date(2025, 12, 31)))
    assert decide_consent([expired, revoked], "tax", AT).reason is ConsentReason.REVOKED
