"""Money as departments send it (yuan strings, integer yuan, floats) into integer fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def yuan_to_fen(value: object) -> int:
    """Exact for strings, integers and Decimals; floats go through their shortest repr."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TypeError("an amount must be a number or a numeric string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("an amount is not numeric") from None
    if not amount.is_finite():
        raise ValueError("an amount is not finite")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
