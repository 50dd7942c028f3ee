"""Normalising identifiers before they are indexed, so equal values index equally.

Every value is first put in Unicode NFKC form, which folds the full-width
digits and letters of Chinese input methods (U+FF10..U+FF19, U+FF38) into ASCII; then a
rule per field:

    id_number    all whitespace removed, upper-cased (a final 'x' matches 'X')
    phone        whitespace, '-', '(' and ')' removed; a leading +86 / 0086 dropped
    account_no   whitespace and '-' removed
    anything else (name, address, ...)  trimmed, inner whitespace runs -> one space

    >>> normalise(" 41070219900101123x ", field="id_number")
    '41070219900101123X'
    >>> normalise("+86 139-0373-0000", field="phone")
    '13903730000'

Normalisation is for matching only: it does not validate (a wrong check digit
stays wrong) and the stored ciphertext keeps whatever the caller encrypts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final

__all__ = ["normalise"]

_WHITESPACE: Final = re.compile(r"\s+")
_PHONE_NOISE: Final = re.compile(r"[\s\-()]+")
_ACCOUNT_NOISE: Final = re.compile(r"[\s\-]+")
_COUNTRY_CODE: Final = re.compile(r"^(?:\+86|0086)")


def _id_number(text: str) -> str:
    return _WHITESPACE.sub("", text).upper()


def _phone(text: str) -> str:
    return _COUNTRY_CODE.sub("", _PHONE_NOISE.sub("", text))


def _account(text: str) -> str:
    return _ACCOUNT_NOISE.sub("", text)


def _text(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


_RULES: Final[dict[str, Callable[[str], str]]] = {
    "id_number": _id_number,
    "phone": _phone,
    "account_no": _account,
}


def normalise(value: str, *, field: str) -> str:
    """`value` in the canonical form the blind index of `field` hashes."""
    return _RULES.get(field, _text)(unicodedata.normalize("NFKC", value))
