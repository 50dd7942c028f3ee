"""Identifiers: bijective scattering, check digits, plates."""

from __future__ import annotations

import random

import pytest

from sandbox.city import codes

USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_scatter_is_a_bijection() -> None:
    assert sorted(codes.scatter(n, 1000, 7) for n in range(1000)) == list(range(1000))
    with pytest.raises(OverflowError):
        codes.scatter(1000, 1000)


def test_account_numbers_pass_luhn() -> None:
    for index in (0, 1, 99, 123_456_789, 899_999_999):
        number = codes.account_no("622202", index)
        assert len(number) == 16
        digits = [int(d) for d in reversed(number)]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
        )
        assert total % 10 == 0, number


def test_social_credit_codes_carry_their_check_character() -> None:
    rng = random.Random(1)  # noqa: S311 - test data
    for _ in range(100):
        code = codes.social_credit_code("410702", rng)
        assert len(code) == 18
        assert code.startswith("91410702")
        total = sum(USCC.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=False))
        assert USCC[(31 - total % 31) % 31] == code[17]


def test_plates_are_unique_and_look_like_plates() -> None:
    plates = [codes.plate(n) for n in range(20_000)]
    assert len(set(plates)) == len(plates)
    assert all(p.startswith("豫G·") and len(p) == 8 for p in plates)
