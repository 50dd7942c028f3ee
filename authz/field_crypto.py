"""Field encryption: one personal value -> one self-describing AEAD token.

A token is a compact ASCII string, safe as a Neo4j string property:

    v1.<key id>.<base64url, unpadded: nonce (12 bytes) || ciphertext || tag (16 bytes)>

The version says how to read the rest; the key id says which key of the ring
decrypts it (its algorithm, AES-256-GCM or SM4-GCM, is the key's). The nonce
is 96 random bits per encryption, so equal values give unrelated tokens. The
associated data binds the token to where it is stored,

    aad = length_prefixed(b"hub/field/v1", key id, node key, field name)

so a token copied to another node or another field fails authentication
instead of decrypting to someone else's value. Use the blind index, not the
token, to find or compare values.

    cipher = FieldCipher(KeyRing.load(path, LocalKeyProvider.load(kek_path)))
    token = cipher.encrypt("410702199001011234", node_key="p-1", field="id_number")
    cipher.decrypt(token, node_key="p-1", field="id_number")  # -> "410702199001011234"

For rotation: `needs_reencryption(token)` is true for tokens not under the
primary key, `reencrypt` rewrites one under the primary, and `token_prefix` /
`count_tokens_under` count what is left under a key before it is retired.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import Final

from authz._encoding import b64url_decode, b64url_encode, length_prefixed
from authz.aead import NONCE_SIZE, TAG_SIZE, Aead, InvalidTag, aead_for
from authz.errors import InvalidName, MalformedToken, TokenAuthenticationFailed
from authz.keyring import KeyRing
from authz.keys import SecretKey, check_field, check_key_id

__all__ = [
    "TOKEN_VERSION",
    "FieldCipher",
    "count_tokens_under",
    "token_key_id",
    "token_prefix",
]

TOKEN_VERSION: Final = "v1"  # noqa: S105 - a format tag, not a secret
_AAD_DOMAIN: Final = b"hub/field/v1"


def token_prefix(key_id: str) -> str:
    """What every token under `key_id` starts with (for `STARTS WITH` in Cypher)."""
    return f"{TOKEN_VERSION}.{check_key_id(key_id)}."


def token_key_id(token: str) -> str:
    """The id of the key a token was encrypted under (`MalformedToken` if none)."""
    return _parse(token)[0]


def count_tokens_under(key_id: str, tokens: Iterable[str]) -> int:
    """How many of `tokens` are encrypted under `key_id` (for `KeyRing.retire`)."""
    prefix = token_prefix(key_id)
    return sum(1 for token in tokens if token.startswith(prefix))


class FieldCipher:
    """Encrypts under the ring's primary key and decrypts under the key a token names."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._aeads: dict[str, Aead] = {}
        self._revision = ring.revision

    def encrypt(self, value: str, *, node_key: str, field: str) -> str:
        key = self._ring.primary_key
        nonce = os.urandom(NONCE_SIZE)  # what secrets.token_bytes returns, one call fewer
        aad = _aad(key.key_id, node_key, field)
        sealed = self._aead(key).encrypt(nonce, value.encode("utf-8"), aad)
        return f"{TOKEN_VERSION}.{key.key_id}.{b64url_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, node_key: str, field: str) -> str:
        """The value; `DecryptionFailed` (a subclass of it) for anything else."""
        key_id, payload = _parse(token)
        aad = _aad(key_id, node_key, field)
        key = self._ring.decryption_key(key_id)
        nonce, sealed = payload[:NONCE_SIZE], payload[NONCE_SIZE:]
        try:
            return self._aead(key).decrypt(nonce, sealed, aad).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise TokenAuthenticationFailed(key_id, field) from None

    def needs_reencryption(self, token: str) -> bool:
        """Whether `token` is under a key other than the primary."""
        return token_key_id(token) != self._ring.primary_id

    def reencrypt(self, token: str, *, node_key: str, field: str) -> str:
        """`token`'s value encrypted under the primary key (unchanged if it already is)."""
        if not self.needs_reencryption(token):
            return token
        value = self.decrypt(token, node_key=node_key, field=field)
        return self.encrypt(value, node_key=node_key, field=field)

    def __repr__(self) -> str:
        return f"FieldCipher(primary={self._ring.primary_id!r})"

    def _aead(self, key: SecretKey) -> Aead:
        # Primitives are cached per ring revision: when a key is added, promoted,
        # retired or reloaded, the old primitives (and their key schedules) go.
        if self._revision != self._ring.revision:
            self._aeads.clear()
            self._revision = self._ring.revision
        aead = self._aeads.get(key.key_id)
        if aead is None:
            aead = self._aeads[key.key_id] = aead_for(key)
        return aead


def _parse(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise MalformedToken("not a string")
    version, dot, rest = token.partition(".")
    if version != TOKEN_VERSION or not dot:
        raise MalformedToken(f"does not start with {TOKEN_VERSION!r}.")
    key_id, dot, encoded = rest.partition(".")
    try:
        check_key_id(key_id)
    except InvalidName:
        raise MalformedToken("no valid key id") from None
    if not dot:
        raise MalformedToken("no payload")
    try:
        payload = b64url_decode(encoded)
    except ValueError:
        raise MalformedToken("payload is not canonical unpadded base64url") from None
    if len(payload) < NONCE_SIZE + TAG_SIZE:
        raise MalformedToken("payload too short")
    return key_id, payload


def _aad(key_id: str, node_key: str, field: str) -> bytes:
    """`length_prefixed(domain, key id, node key, field)`, its fixed parts built once.

    A graph write seals a field on every fact, so the prefix and the checked
    field name are cached (the concatenation of length-prefixed parts is the
    length-prefixed whole).
    """
    if not node_key:
        raise ValueError("node_key must not be empty")
    return _aad_head(key_id) + length_prefixed(node_key) + _aad_field(field)


@functools.lru_cache(maxsize=64)
def _aad_head(key_id: str) -> bytes:
    return length_prefixed(_AAD_DOMAIN, key_id)


@functools.lru_cache(maxsize=256)
def _aad_field(field: str) -> bytes:
    return length_prefixed(check_field(field))
