"""What the graph layer needs from field cryptography, as a protocol.

The writer never sees keys: it asks a `FieldProtector` for blind indexes
(keyed HMAC lookups: the MERGE keys of persons, households, accounts) and
sealed fields (AEAD ciphertexts whose associated data binds the node key and
the field name). `authz` provides the implementation; tests and the hub wire
it in.
"""

from __future__ import annotations

from typing import Protocol


class FieldProtector(Protocol):
    def blind(self, value: str, *, field: str) -> str:
        """A deterministic keyed digest of `value`, separated by field."""
        ...

    def seal(self, value: str, *, node_key: str, field: str) -> str:
        """An AEAD ciphertext of `value`, bound to the node it sits on and its field."""
        ...

    def open(self, token: str, *, node_key: str, field: str) -> str:
        """The plaintext back, only for the same node key and field."""
        ...
