"""Envelope encryption: data keys are stored only wrapped by a key-encryption key.

`KeyProvider` is the small KMS-like interface the key ring needs; the embedded
default is `LocalKeyProvider`, whose key-encryption key (KEK) is 32 random
bytes in a local owner-only file. A production deployment swaps in a KMS or
HSM provider with the same three members; the KEK then never leaves it.

Wrapping is AES-256-GCM under the KEK, the associated data binding the id the
wrapped key is stored under, so a wrapped key copied to another entry of the
key file fails to unwrap:

    wrapped = 0x01 || nonce (12) || AES-256-GCM(KEK, nonce, key, aad)
    aad     = length_prefixed(b"hub/kek-wrap/v1", key_id)

    provider = LocalKeyProvider.load_or_create(state_dir / "kek")
    provider.unwrap("k1", provider.wrap("k1", data_key)) == data_key
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Final, NoReturn, Protocol, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authz._encoding import length_prefixed
from authz._files import read_owner_only, write_owner_only
from authz.errors import KeyFileCorrupt, KeyUnwrapFailed

__all__ = ["KEK_SIZE", "KeyProvider", "LocalKeyProvider"]

KEK_SIZE: Final = 32
_WRAP_VERSION: Final = b"\x01"
_WRAP_DOMAIN: Final = b"hub/kek-wrap/v1"
_KEK_ID_DOMAIN: Final = b"hub/kek-id/v1"
_NONCE_SIZE: Final = 12
_WHAT: Final = "key-encryption key file"


class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a key-encryption key it never reveals."""

    @property
    def kek_id(self) -> str:
        """A stable, non-secret name of the key-encryption key (recorded in key files)."""
        ...

    def wrap(self, key_id: str, plaintext_key: bytes) -> bytes:
        """`plaintext_key` encrypted under the KEK, bound to `key_id`."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """The key `wrap(key_id, ...)` produced; `KeyUnwrapFailed` for anything else."""
        ...


@final
class LocalKeyProvider:
    """A KEK in a local file (mode 0600) for the embedded, one-machine default."""

    __slots__ = ("_aead", "_kek_id", "_path")

    def __init__(self, kek: bytes, *, path: Path | None = None) -> None:
        if len(kek) != KEK_SIZE:
            raise ValueError(f"a key-encryption key must be {KEK_SIZE} bytes")
        self._aead = AESGCM(kek)
        self._kek_id = hashlib.sha256(_KEK_ID_DOMAIN + kek).hexdigest()[:16]
        self._path = path

    @classmethod
    def create(cls, path: Path) -> LocalKeyProvider:
        """First use: a new random KEK written to `path` with mode 0600 (never overwrites)."""
        kek = secrets.token_bytes(KEK_SIZE)
        write_owner_only(path, kek, _WHAT, replace=False)
        return cls(kek, path=path)

    @classmethod
    def load(cls, path: Path) -> LocalKeyProvider:
        """The KEK in `path`; refuses a file that group or others may access."""
        kek = read_owner_only(path, _WHAT)
        if len(kek) != KEK_SIZE:
            raise KeyFileCorrupt(
                str(path), f"a key-encryption key file holds exactly {KEK_SIZE} bytes"
            )
        return cls(kek, path=path)

    @classmethod
    def load_or_create(cls, path: Path) -> LocalKeyProvider:
        return cls.load(path) if path.exists() else cls.create(path)

    @property
    def kek_id(self) -> str:
        return self._kek_id

    @property
    def path(self) -> Path | None:
        return self._path

    def __repr__(self) -> str:
        return f"LocalKeyProvider(kek_id={self._kek_id!r}, path={str(self._path)!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("LocalKeyProvider refuses to be pickled or copied")

    def wrap(self, key_id: str, plaintext_key: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, plaintext_key, _aad(key_id))
        return _WRAP_VERSION + nonce + sealed

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        if wrapped[:1] != _WRAP_VERSION or len(wrapped) < 1 + _NONCE_SIZE + 16:
            raise KeyUnwrapFailed(f"wrapped key {key_id!r} is not in the v1 wrapping format")
        nonce, sealed = wrapped[1 : 1 + _NONCE_SIZE], wrapped[1 + _NONCE_SIZE :]
        try:
            return self._aead.decrypt(nonce, sealed, _aad(key_id))
        except InvalidTag:
            raise KeyUnwrapFailed(
                f"wrapped key {key_id!r} did not unwrap under key-encryption key "
                f"{self._kek_id!r}: wrong KEK file, or the key file was edited"
            ) from None


def _aad(key_id: str) -> bytes:
    return length_prefixed(_WRAP_DOMAIN, key_id)
