"""Masked identifiers: what a caller sees of an ID without the unmask privilege.

Masking keeps what a caseworker needs to tell people apart on a screen (the
issuing area and the last four characters) and hides what identifies a
person outright. A masked value is never a lookup key.
"""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """410702********1234: area code and last four kept, the birth date hidden."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str) -> str:
    """王** : the surname's first character kept."""
    return value[:1] + "*" * max(len(value) - 1, 1)


def mask_reference(value: str) -> str:
    """A document or record number (hukou, certificate, plate): first two and last two kept."""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]
