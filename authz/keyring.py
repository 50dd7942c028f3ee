"""The key ring: data-encryption keys with ids and states, plus one blind-index key.

Exactly one data key is `primary` (it encrypts new values); `active` keys still
decrypt; `retired` keys have had their material destroyed and stay only as a
record (so the id is never reused and old tokens fail with `KeyRetired`, not
`UnknownKey`). Every change is written at once, atomically and owner-only, to
the key file, which holds only keys wrapped by the `KeyProvider`.

Rotation without downtime is a job in four phases, each safe to pause after:

    ring.add_key()                  1. new key `active`: every process reloads the
                                       ring and can now decrypt under it
    ring.promote(new_id)            2. new values are encrypted under it; old ones
                                       still decrypt under the old key (now active)
    cipher.reencrypt(token, ...)    3. the re-encryption job rewrites every token for
                                       which cipher.needs_reencryption(token) is true
    ring.retire(old_id, tokens_remaining=count_tokens_under(old_id, tokens))
                                    4. only once nothing is left under it

Processes that only read the ring call `reload()` between phases (a later
issue can drive it from a file watch). Only one process changes the ring at a
time: rotation is an operator's job, not something requests do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Final, NoReturn

from authz._files import read_owner_only, write_owner_only
from authz._keyring_file import KeyEntry, KeyFile, KeyState, unwrap_keys, wrap_entry
from authz.aead import sm4_gcm_supported
from authz.errors import (
    DuplicateKeyId,
    KeyRetired,
    RotationRefused,
    UnknownKey,
)
from authz.key_provider import KeyProvider
from authz.keys import Algorithm, KeyPurpose, SecretKey, check_key_id, new_key_id

__all__ = ["KeyInfo", "KeyRing", "KeyState"]

_WHAT: Final = "key ring file"


@dataclass(frozen=True)
class KeyInfo:
    """What may be said about a key in public: no material."""

    key_id: str
    algorithm: Algorithm
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True)
class _Ring:
    """One consistent snapshot: the file's entries and the unwrapped keys."""

    file: KeyFile
    keys: dict[str, SecretKey]  # unwrapped, non-retired data keys and the index key

    @cached_property
    def primary(self) -> SecretKey:
        (entry,) = (e for e in self.file.data_keys if e.state is KeyState.PRIMARY)
        return self.keys[entry.id]

    def entry(self, key_id: str) -> KeyEntry:
        for entry in self.file.data_keys:
            if entry.id == key_id:
                return entry
        raise UnknownKey(key_id)


class KeyRing:
    """Data keys and the blind-index key, persisted wrapped in an owner-only JSON file.

    Obtain one with `KeyRing.create` (first use) or `KeyRing.load`.
    """

    def __init__(self, path: Path, provider: KeyProvider, ring: _Ring) -> None:
        self._path = path
        self._provider = provider
        self._ring = ring
        self._revision = 0

    # -- creating and loading -------------------------------------------------

    @classmethod
    def create(
        cls, path: Path, provider: KeyProvider, *, algorithm: Algorithm = Algorithm.AES256_GCM
    ) -> KeyRing:
        """First use: one primary data key and one blind-index key, written to `path`."""
        _check_supported(algorithm)
        now = datetime.now(UTC)
        data = SecretKey.generate(KeyPurpose.DATA_ENCRYPTION, algorithm)
        index = SecretKey.generate(KeyPurpose.BLIND_INDEX, Algorithm.HMAC_SHA256)
        file = KeyFile(
            kek_id=provider.kek_id,
            data_keys=(wrap_entry(provider, data, KeyState.PRIMARY, now),),
            blind_index_key=wrap_entry(provider, index, KeyState.PRIMARY, now),
        )
        write_owner_only(path, file.dump(), _WHAT, replace=False)
        return cls(path, provider, _Ring(file, {data.key_id: data, index.key_id: index}))

    @classmethod
    def load(cls, path: Path, provider: KeyProvider) -> KeyRing:
        """The ring in `path`, every live key unwrapped by `provider`."""
        return cls(path, provider, _read(path, provider))

    def reload(self) -> None:
        """Re-read the key file (another process added, promoted or retired a key)."""
        self._ring = _read(self._path, self._provider)
        self._revision += 1

    # -- what the ring holds ------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def revision(self) -> int:
        """Counts changes to this ring object (for caches of primitives built from its keys)."""
        return self._revision

    @property
    def primary_id(self) -> str:
        return self.primary_key.key_id

    @property
    def primary_key(self) -> SecretKey:
        """The data key new values are encrypted under."""
        return self._ring.primary

    @property
    def blind_index_key(self) -> SecretKey:
        """The root blind-index key (use per-field HKDF subkeys of it, never it directly)."""
        return self._ring.keys[self._ring.file.blind_index_key.id]

    def decryption_key(self, key_id: str) -> SecretKey:
        """The data key a token names; `UnknownKey` or `KeyRetired` if it cannot decrypt."""
        entry = self._ring.entry(key_id)
        if entry.state is KeyState.RETIRED:
            raise KeyRetired(key_id)
        return self._ring.keys[key_id]

    def data_keys(self) -> tuple[KeyInfo, ...]:
        """Every data key ever in the ring, oldest first, retired ones included."""
        return tuple(_info(entry) for entry in self._ring.file.data_keys)

    def info(self, key_id: str) -> KeyInfo:
        return _info(self._ring.entry(key_id))

    def __repr__(self) -> str:
        states = ", ".join(f"{e.id}={e.state.value}" for e in self._ring.file.data_keys)
        return f"KeyRing(path={str(self._path)!r}, data_keys=[{states}])"

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeyRing refuses to be pickled or copied")

    # -- rotation -------------------------------------------------------------------

    def add_key(self, *, algorithm: Algorithm | None = None, key_id: str | None = None) -> KeyInfo:
        """Phase 1: a new `active` data key (default: the primary's algorithm)."""
        file = self._ring.file
        algorithm = algorithm or self.primary_key.algorithm
        if algorithm.purpose is not KeyPurpose.DATA_ENCRYPTION:
            raise ValueError(f"{algorithm} is not a data-encryption algorithm")
        _check_supported(algorithm)
        key_id = check_key_id(key_id) if key_id is not None else _fresh_id(file)
        if key_id in {e.id for e in file.data_keys} | {file.blind_index_key.id}:
            raise DuplicateKeyId(key_id)
        key = SecretKey.generate(KeyPurpose.DATA_ENCRYPTION, algorithm, key_id)
        entry = wrap_entry(self._provider, key, KeyState.ACTIVE, datetime.now(UTC))
        self._commit(
            file.model_copy(update={"data_keys": (*file.data_keys, entry)}),
            {**self._ring.keys, key_id: key},
        )
        return _info(entry)

    def promote(self, key_id: str) -> None:
        """Phase 2: `key_id` becomes the primary; the old primary stays `active`."""
        entry = self._ring.entry(key_id)
        if entry.state is KeyState.RETIRED:
            raise RotationRefused(key_id, "a retired key cannot encrypt again")
        if entry.state is KeyState.PRIMARY:
            return

        def demote_or_promote(e: KeyEntry) -> KeyEntry:
            if e.id == key_id:
                return e.model_copy(update={"state": KeyState.PRIMARY})
            if e.state is KeyState.PRIMARY:
                return e.model_copy(update={"state": KeyState.ACTIVE})
            return e

        data_keys = tuple(demote_or_promote(e) for e in self._ring.file.data_keys)
        self._commit(self._ring.file.model_copy(update={"data_keys": data_keys}), self._ring.keys)

    def retire(self, key_id: str, *, tokens_remaining: int) -> None:
        """Phase 4: destroy `key_id`'s material, keeping its record.

        `tokens_remaining` is the caller's count of values still encrypted under
        the key (`count_tokens_under`, or a graph query on `token_prefix`); any
        count but zero is refused, as is retiring the primary. Retiring a
        retired key does nothing.
        """
        if tokens_remaining < 0:
            raise ValueError("tokens_remaining is a count, never negative")
        entry = self._ring.entry(key_id)
        if entry.state is KeyState.RETIRED:
            return
        if entry.state is KeyState.PRIMARY:
            raise RotationRefused(key_id, "it is the primary; promote another key first")
        if tokens_remaining:
            raise RotationRefused(
                key_id,
                f"{tokens_remaining} values are still encrypted under it; "
                "re-encrypt them first, then count again",
            )
        retired = entry.model_copy(
            update={"state": KeyState.RETIRED, "retired_at": datetime.now(UTC), "wrapped": None}
        )
        data_keys = tuple(retired if e.id == key_id else e for e in self._ring.file.data_keys)
        keys = {k: v for k, v in self._ring.keys.items() if k != key_id}
        self._commit(self._ring.file.model_copy(update={"data_keys": data_keys}), keys)

    def _commit(self, file: KeyFile, keys: dict[str, SecretKey]) -> None:
        """Write first, then switch: a failed write leaves the ring as it was."""
        problem = file.problem()
        if problem:  # pragma: no cover - the operations above keep the invariants
            raise AssertionError(problem)
        write_owner_only(self._path, file.dump(), _WHAT, replace=True)
        self._ring = _Ring(file, keys)
        self._revision += 1


def _read(path: Path, provider: KeyProvider) -> _Ring:
    file = KeyFile.parse(read_owner_only(path, _WHAT), str(path))
    return _Ring(file, unwrap_keys(file, provider, str(path)))


def _fresh_id(file: KeyFile) -> str:
    taken = {e.id for e in file.data_keys} | {file.blind_index_key.id}
    while (key_id := new_key_id()) in taken:  # pragma: no cover - 1 in 4 billion
        pass
    return key_id


def _check_supported(algorithm: Algorithm) -> None:
    if algorithm is Algorithm.SM4_GCM and not sm4_gcm_supported():
        raise ValueError("this OpenSSL build has no SM4-GCM; use aes256-gcm")


def _info(entry: KeyEntry) -> KeyInfo:
    return KeyInfo(entry.id, entry.algorithm, entry.state, entry.created_at, entry.retired_at)
