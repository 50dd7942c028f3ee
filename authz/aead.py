"""The AEAD primitives a data key can select: AES-256-GCM (default) and SM4-GCM.

Both take a 96-bit nonce and return ciphertext followed by a 128-bit tag, so
the token format does not depend on the algorithm; the algorithm belongs to the
key (the key ring records it), as in Tink. SM4-GCM (RFC 8998, national crypto)
comes from pyca/cryptography's `algorithms.SM4` with `modes.GCM`, which needs
an OpenSSL built with SM4 (`sm4_gcm_supported()` says whether this one is).

    >>> key = SecretKey.generate(KeyPurpose.DATA_ENCRYPTION, Algorithm.AES256_GCM)
    >>> aead = aead_for(key)
    >>> nonce = bytes(NONCE_SIZE)
    >>> aead.decrypt(nonce, aead.encrypt(nonce, b"secret", b"aad"), b"aad")
    b'secret'
"""

from __future__ import annotations

from typing import Final, Protocol

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authz.keys import Algorithm, KeyPurpose, SecretKey

__all__ = ["NONCE_SIZE", "TAG_SIZE", "Aead", "InvalidTag", "aead_for", "sm4_gcm_supported"]

NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16


class Aead(Protocol):
    """Authenticated encryption with associated data; `decrypt` raises `InvalidTag`."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes: ...


class _Sm4Gcm:
    """SM4-GCM with the same calling convention as `AESGCM` (ciphertext || tag)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "_Sm4Gcm(<redacted>)"

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(associated_data)
        body = encryptor.update(data) + encryptor.finalize()
        return body + encryptor.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        if len(data) < TAG_SIZE:
            raise InvalidTag
        body, tag = data[:-TAG_SIZE], data[-TAG_SIZE:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(associated_data)
        return decryptor.update(body) + decryptor.finalize()


def aead_for(key: SecretKey) -> Aead:
    """The AEAD primitive for a data-encryption key, chosen by the key's algorithm."""
    if key.purpose is not KeyPurpose.DATA_ENCRYPTION:
        raise ValueError(f"key {key.key_id!r} is a {key.purpose} key, not a data key")
    if key.algorithm is Algorithm.AES256_GCM:
        return AESGCM(key.reveal())
    if key.algorithm is Algorithm.SM4_GCM:
        return _Sm4Gcm(key.reveal())
    raise ValueError(f"no AEAD for {key.algorithm}")  # pragma: no cover - enum is closed


def sm4_gcm_supported() -> bool:
    """Whether the OpenSSL under pyca/cryptography offers SM4-GCM."""
    try:
        Cipher(
            algorithms.SM4(bytes(Algorithm.SM4_GCM.key_size)), modes.GCM(bytes(NONCE_SIZE))
        ).encryptor()
    except UnsupportedAlgorithm:
        return False
    return True
