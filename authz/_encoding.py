"""Canonical byte encodings shared by the crypto modules.

`length_prefixed` makes associated data unambiguous: every part is preceded by
its length, so ("ab", "c") and ("a", "bc") give different bytes.
`b64url_decode` accepts only the canonical unpadded form that `b64url_encode`
produces, so no two strings decode to the same bytes (a token cannot be
re-spelled without being noticed).
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["b64url_decode", "b64url_encode", "length_prefixed"]


def length_prefixed(*parts: str | bytes) -> bytes:
    """Each part (str as UTF-8) preceded by its length as 4 big-endian bytes."""
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        out += len(raw).to_bytes(4, "big")
        out += raw
    return bytes(out)


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding (ASCII, no '.', safe in a Neo4j string)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The inverse of `b64url_encode`; `ValueError` for anything it would not produce."""
    try:
        raw = text.encode("ascii")
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not unpadded base64url") from None
    if b64url_encode(data) != text:
        raise ValueError("not canonical unpadded base64url")
    return data
