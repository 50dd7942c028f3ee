"""Key material types: what a key is for, its id, and a wrapper that never leaks it.

A `SecretKey` carries its bytes together with its id, its purpose and its
algorithm. Its `repr`/`str`/`format` show only those labels, and it refuses
pickling and copying (`copy.copy`, `copy.deepcopy`, `pickle` all raise
`TypeError`), so a key cannot end up in a log line, a cache or a crash dump by
accident. Python cannot wipe `bytes` from memory; the wrapper keeps the bytes in
one place and hands them out only through `reveal()`.

Purposes are kept apart: a data-encryption key only encrypts fields, the
blind-index key only feeds HKDF, and every per-field blind-index key is
derived with its own HKDF `info` (domain separation), so the index of names
can never be compared with the index of ID numbers:

    >>> root = SecretKey.generate(KeyPurpose.BLIND_INDEX, Algorithm.HMAC_SHA256)
    >>> names = derive_field_key(root, BLIND_INDEX_INFO, "name")
    >>> ids = derive_field_key(root, BLIND_INDEX_INFO, "id_number")
    >>> names.reveal() != ids.reveal()
    True
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from typing import Final, NoReturn, final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authz.errors import InvalidName

__all__ = [
    "BLIND_INDEX_INFO",
    "FIELD_PATTERN",
    "KEY_ID_PATTERN",
    "Algorithm",
    "KeyPurpose",
    "SecretKey",
    "check_field",
    "check_key_id",
    "derive_field_key",
    "new_key_id",
]

KEY_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,31}$"
FIELD_PATTERN: Final = r"^[a-z][a-z0-9_]{0,63}$"
BLIND_INDEX_INFO: Final = b"hub/blind-index/v1/"
_KEY_ID = re.compile(KEY_ID_PATTERN)
_FIELD = re.compile(FIELD_PATTERN)


class KeyPurpose(StrEnum):
    """What a key may be used for; a key of one purpose is refused for another."""

    DATA_ENCRYPTION = "data"
    BLIND_INDEX = "blind-index"


class Algorithm(StrEnum):
    """The algorithm a key belongs to (its length follows from it)."""

    AES256_GCM = "aes256-gcm"
    SM4_GCM = "sm4-gcm"  # GB/T 32907 block cipher in GCM (RFC 8998); 128-bit keys
    HMAC_SHA256 = "hmac-sha256"

    @property
    def key_size(self) -> int:
        return 16 if self is Algorithm.SM4_GCM else 32

    @property
    def purpose(self) -> KeyPurpose:
        if self is Algorithm.HMAC_SHA256:
            return KeyPurpose.BLIND_INDEX
        return KeyPurpose.DATA_ENCRYPTION


def check_key_id(key_id: str) -> str:
    """`key_id` unchanged if it is a valid key id (short, lower-case, no dots)."""
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise InvalidName("key id", KEY_ID_PATTERN)
    return key_id


def check_field(field: str) -> str:
    """`field` unchanged if it is a valid field name (a schema name, never a value)."""
    if not isinstance(field, str) or not _FIELD.fullmatch(field):
        raise InvalidName("field name", FIELD_PATTERN)
    return field


def new_key_id() -> str:
    """A fresh random key id: 8 hex digits (collisions are checked by the key ring)."""
    return secrets.token_hex(4)


@final
class SecretKey:
    """Key bytes with their id, purpose and algorithm; never printed, pickled or copied."""

    __slots__ = ("_algorithm", "_key_id", "_material")

    def __init__(self, material: bytes, *, key_id: str, algorithm: Algorithm) -> None:
        if not isinstance(material, bytes) or len(material) != algorithm.key_size:
            raise ValueError(f"a {algorithm} key must be {algorithm.key_size} bytes")
        self._material = material
        self._key_id = check_key_id(key_id)
        self._algorithm = algorithm

    @classmethod
    def generate(
        cls, purpose: KeyPurpose, algorithm: Algorithm, key_id: str | None = None
    ) -> SecretKey:
        """A new random key from the OS CSPRNG."""
        if algorithm.purpose is not purpose:
            raise ValueError(f"{algorithm} keys cannot serve as {purpose} keys")
        material = secrets.token_bytes(algorithm.key_size)
        return cls(material, key_id=key_id or new_key_id(), algorithm=algorithm)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def algorithm(self) -> Algorithm:
        return self._algorithm

    @property
    def purpose(self) -> KeyPurpose:
        return self._algorithm.purpose

    def reveal(self) -> bytes:
        """The key bytes, for a cryptographic primitive only. Never log or store them."""
        return self._material

    def __repr__(self) -> str:
        return (
            f"SecretKey(key_id={self._key_id!r}, purpose={self.purpose.value!r}, "
            f"algorithm={self._algorithm.value!r}, material=<redacted>)"
        )

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("SecretKey refuses to be pickled or copied")

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretKey refuses to be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("SecretKey refuses to be pickled or copied")

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise TypeError("SecretKey refuses to be pickled or copied")

    def __getstate__(self) -> NoReturn:
        raise TypeError("SecretKey refuses to be pickled or copied")


def derive_field_key(root: SecretKey, domain: bytes, field: str) -> SecretKey:
    """A per-field subkey of `root`: HKDF-SHA256 with info = `domain` + field name.

    `domain` ends in "/" and field names cannot contain "/", so no two
    (domain, field) pairs give the same info, hence independent keys. The
    subkey keeps the root's id and algorithm (it is only ever used in memory).
    """
    if root.purpose is not KeyPurpose.BLIND_INDEX:
        raise ValueError("only blind-index keys have per-field subkeys")
    if not domain.endswith(b"/"):
        raise ValueError("an HKDF domain must end in '/'")
    info = domain + check_field(field).encode("ascii")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=root.algorithm.key_size, salt=None, info=info)
    return SecretKey(hkdf.derive(root.reveal()), key_id=root.key_id, algorithm=root.algorithm)
