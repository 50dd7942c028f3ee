"""Field protection in one object: the blind index and the field cipher over one key ring.

This is the implementation of the graph layer's `FieldProtector` protocol
(blind / seal / open); the graph writer and readers never touch keys.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from authz.blind_index import BlindIndex
from authz.field_crypto import FieldCipher, token_prefix
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing


class FieldProtection:
    def __init__(self, ring: KeyRing, blind_cache_size: int = 100_000) -> None:
        self.ring = ring
        self.cipher = FieldCipher(ring)
        self.index = BlindIndex(ring)
        # A person's ID is blinded once per fact about them (a dozen income months, say);
        # blind indexes never change under one key ring, so repeats come from memory.
        self._blind = lru_cache(maxsize=blind_cache_size)(self._digest)

    @classmethod
    def local(cls, key_dir: Path) -> FieldProtection:
        """The embedded default: a KEK file and a key ring file in `key_dir`, made on first use."""
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        provider = LocalKeyProvider.load_or_create(key_dir / "kek.key")
        ring_path = key_dir / "keyring.json"
        ring = (
            KeyRing.load(ring_path, provider)
            if ring_path.exists()
            else KeyRing.create(ring_path, provider)
        )
        return cls(ring)

    def blind(self, value: str, *, field: str) -> str:
        return self._blind(value, field)

    def _digest(self, value: str, field: str) -> str:
        return self.index.digest(value, field=field)

    def seal(self, value: str, *, node_key: str, field: str) -> str:
        return self.cipher.encrypt(value, node_key=node_key, field=field)

    def open(self, token: str, *, node_key: str, field: str) -> str:
        return self.cipher.decrypt(token, node_key=node_key, field=field)

    def primary_prefix(self) -> str:
        """What every token under the current primary key starts with."""
        return token_prefix(self.ring.primary_id)

    def reseal(self, token: str, *, node_key: str, field: str) -> str:
        return self.cipher.reencrypt(token, node_key=node_key, field=field)

    def __repr__(self) -> str:
        return f"FieldProtection(primary={self.ring.primary_id!r})"
