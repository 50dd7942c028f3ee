"""Blind index: a keyed, deterministic digest to find and merge persons without plaintext.

    digest = "bi1." + key id + "." + base64url(HMAC-SHA256(K_field, normalise(value)))
    K_field = HKDF-SHA256(blind-index key, info = b"hub/blind-index/v1/" + field name)

Why not a plain hash: an 18-digit resident ID number has little entropy. Its
six-digit area code is one of a few thousand (a dozen for one prefecture), its
eight-digit birth date one of ~36,500 in a century, then a three-digit
sequence and a computed check digit: about 1e11 candidates for all of China,
under 1e9 for one prefecture. A GPU computes ~1e10 SHA-256 per second, so
every unkeyed hash of an ID number (or of an 11-digit phone number) is
reversed in seconds. An HMAC under a key that never leaves the key ring cannot
be computed by whoever copies the graph.

Each field has its own HKDF subkey, so equal strings in different fields
(a name and an address, an ID number and an account number) give unrelated
digests and the indexes cannot be joined against each other. The digest is
deterministic under one key -- it is the MERGE key of persons in the graph --
and names the key, so a future index key can coexist with this one (moving to
it means recomputing every digest from the decrypted values: a separate job).

    index = BlindIndex(ring)
    index.digest("41070219900101123x", field="id_number")  # -> "bi1.b611c50f.h1vZFxHi..."
"""

from __future__ import annotations

import hmac
from typing import Final

from authz._encoding import b64url_encode
from authz.keyring import KeyRing
from authz.keys import BLIND_INDEX_INFO, derive_field_key
from authz.normalise import normalise

__all__ = ["INDEX_VERSION", "BlindIndex"]

INDEX_VERSION: Final = "bi1"


class BlindIndex:
    """HMAC-SHA256 digests of normalised values under per-field keys of the ring's index key."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._field_keys: dict[str, bytes] = {}
        self._revision = ring.revision

    @property
    def key_id(self) -> str:
        return self._ring.blind_index_key.key_id

    def digest(self, value: str, *, field: str) -> str:
        """The tagged digest of `value` as an identifier of kind `field`."""
        canonical = normalise(value, field=field)
        if not canonical:
            raise ValueError(f"nothing to index: the {field} value is empty once normalised")
        mac = hmac.digest(self._field_key(field), canonical.encode("utf-8"), "sha256")
        return f"{INDEX_VERSION}.{self.key_id}.{b64url_encode(mac)}"

    def __repr__(self) -> str:
        return f"BlindIndex(key_id={self.key_id!r})"

    def _field_key(self, field: str) -> bytes:
        if self._revision != self._ring.revision:
            self._field_keys.clear()
            self._revision = self._ring.revision
        key = self._field_keys.get(field)
        if key is None:
            subkey = derive_field_key(self._ring.blind_index_key, BLIND_INDEX_INFO, field)
            key = self._field_keys[field] = subkey.reveal()
        return key
