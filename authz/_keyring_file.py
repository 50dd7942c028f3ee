"""The key ring's JSON file: wrapped keys and their states, never plaintext key bytes.

    {
      "format": "hub-keyring/v1",
      "kek_id": "<the KeyProvider's kek_id that wrapped every key>",
      "data_keys": [
        {"id": "3f9a0c1e", "algorithm": "aes256-gcm", "state": "primary",
         "created_at": "...", "retired_at": null, "wrapped": "<base64>"},
        {"id": "0b7d44a2", "algorithm": "aes256-gcm", "state": "retired",
         "created_at": "...", "retired_at": "...", "wrapped": null}
      ],
      "blind_index_key": {"id": "c81e...", "algorithm": "hmac-sha256", "state": "primary",
                          "created_at": "...", "retired_at": null, "wrapped": "<base64>"}
    }

`parse` checks the shape and the invariants (exactly one primary, unique ids,
retired keys hold no material, algorithms fit their purpose) so the key ring
can trust what it loads. Each wrapped key is bound (the provider's associated
data) to its purpose, algorithm and id, so entries cannot be swapped.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from authz.errors import KeyFileCorrupt, KeyUnwrapFailed
from authz.key_provider import KeyProvider
from authz.keys import KEY_ID_PATTERN, Algorithm, KeyPurpose, SecretKey

__all__ = ["FORMAT", "KeyEntry", "KeyFile", "KeyState", "unwrap_keys", "wrap_entry"]

FORMAT: Final = "hub-keyring/v1"
_KEY_ID: Final = re.compile(KEY_ID_PATTERN)


class KeyState(StrEnum):
    PRIMARY = "primary"  # encrypts new values (exactly one data key), and decrypts
    ACTIVE = "active"  # decrypts only
    RETIRED = "retired"  # material destroyed; kept as a record so the id is never reused


class KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    algorithm: Algorithm
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None
    wrapped: str | None = None


class KeyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["hub-keyring/v1"] = FORMAT
    kek_id: str
    data_keys: tuple[KeyEntry, ...]
    blind_index_key: KeyEntry

    def dump(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), indent=2) + "\n").encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes, path: str) -> KeyFile:
        try:
            parsed = cls.model_validate_json(raw)
        except ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise KeyFileCorrupt(path, f"not a {FORMAT} key ring file ({where})") from None
        problem = parsed.problem()
        if problem:
            raise KeyFileCorrupt(path, f"inconsistent key ring file: {problem}")
        return parsed

    def problem(self) -> str | None:
        """The first broken invariant, or None."""
        return next(self._problems(), None)

    def _problems(self) -> Iterator[str]:
        ids = [e.id for e in self.data_keys] + [self.blind_index_key.id]
        if not all(_KEY_ID.fullmatch(key_id) for key_id in ids):
            yield f"a key id does not match {KEY_ID_PATTERN}"
        if len(set(ids)) != len(ids):
            yield "a key id appears twice"
        primaries = [e for e in self.data_keys if e.state is KeyState.PRIMARY]
        if len(primaries) != 1:
            yield f"{len(primaries)} primary data keys (exactly one is required)"
        for entry in self.data_keys:
            if entry.algorithm.purpose is not KeyPurpose.DATA_ENCRYPTION:
                yield f"data key {entry.id!r} has the non-encryption algorithm {entry.algorithm}"
            if (entry.state is KeyState.RETIRED) != (entry.wrapped is None):
                yield f"data key {entry.id!r}: only retired keys lack material"
            if (entry.state is KeyState.RETIRED) != (entry.retired_at is not None):
                yield f"data key {entry.id!r}: only retired keys have a retirement time"
        index = self.blind_index_key
        if index.algorithm.purpose is not KeyPurpose.BLIND_INDEX:
            yield "the blind-index key has a non-index algorithm"
        if index.state is not KeyState.PRIMARY or index.wrapped is None:
            yield "the blind-index key must be primary and hold material"


def wrap_entry(provider: KeyProvider, key: SecretKey, state: KeyState, now: datetime) -> KeyEntry:
    """The file entry of `key`: its labels and its material wrapped by `provider`."""
    wrapped = provider.wrap(_label(key.key_id, key.algorithm), key.reveal())
    return KeyEntry(
        id=key.key_id,
        algorithm=key.algorithm,
        state=state,
        created_at=now,
        wrapped=base64.b64encode(wrapped).decode("ascii"),
    )


def unwrap_keys(file: KeyFile, provider: KeyProvider, path: str) -> dict[str, SecretKey]:
    """Every key of `file` that still has material, unwrapped by `provider`."""
    if file.kek_id != provider.kek_id:
        raise KeyUnwrapFailed(
            f"{path} was wrapped by key-encryption key {file.kek_id!r}, but the key provider "
            f"holds {provider.kek_id!r}: point the hub at the matching KEK file"
        )
    keys: dict[str, SecretKey] = {}
    for entry in (*file.data_keys, file.blind_index_key):
        if entry.wrapped is None:
            continue
        try:
            wrapped = base64.b64decode(entry.wrapped.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            raise KeyFileCorrupt(path, f"wrapped key {entry.id!r} is not base64") from None
        material = provider.unwrap(_label(entry.id, entry.algorithm), wrapped)
        try:
            keys[entry.id] = SecretKey(material, key_id=entry.id, algorithm=entry.algorithm)
        except ValueError:
            raise KeyFileCorrupt(path, f"key {entry.id!r} has the wrong length") from None
    return keys


def _label(key_id: str, algorithm: Algorithm) -> str:
    """What a wrapped key is bound to: purpose, algorithm and id (entries cannot be swapped)."""
    return f"{algorithm.purpose.value}/{algorithm.value}/{key_id}"
