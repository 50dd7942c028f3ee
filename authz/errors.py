"""Errors raised by authz's field encryption, blind index, key handling and token checks.

Messages say what to do next. They may name a key id, a field name or a file
path; they never carry a plaintext value, a node key, a token or key bytes, and
`repr` shows only the message.

    AuthzError
    ├── Unauthenticated               a bearer token was refused; `reason` says why (for audit)
    └── CryptoError                   field encryption, blind index, their keys
        ├── InvalidName               a key id or field name outside the allowed alphabet
        ├── KeyFileError              a key file (key-encryption key, key ring, token keys)
        │   ├── KeyFileMissing        it does not exist yet
        │   ├── KeyFileExists         create() refuses to overwrite one
        │   ├── InsecureKeyFile       group or others may access it: chmod 600
        │   └── KeyFileCorrupt        not a key file of a known format, or inconsistent
        ├── KeyUnwrapFailed           the key-encryption key did not open a wrapped key
        ├── KeyRingError              a key-ring operation was refused
        │   ├── DuplicateKeyId        that id is already in the ring
        │   ├── RotationRefused       retire the primary, retire with tokens left, ...
        │   └── KeyUnavailable ─┐     (also a DecryptionFailed) the token's key is unusable
        │       ├── UnknownKey  │     no key with that id in the ring
        │       └── KeyRetired  │     retired: its material was destroyed
        └── DecryptionFailed  ◄─┘     a token could not be decrypted
            ├── MalformedToken        not a token of a known format (truncated, re-encoded)
            └── TokenAuthenticationFailed  tampered, or moved to another node or field
"""

from __future__ import annotations

__all__ = [
    "AuthzError",
    "CryptoError",
    "DecryptionFailed",
    "DuplicateKeyId",
    "InsecureKeyFile",
    "InvalidName",
    "KeyFileCorrupt",
    "KeyFileError",
    "KeyFileExists",
    "KeyFileMissing",
    "KeyRetired",
    "KeyRingError",
    "KeyUnavailable",
    "KeyUnwrapFailed",
    "MalformedToken",
    "RotationRefused",
    "TokenAuthenticationFailed",
    "Unauthenticated",
    "UnknownKey",
]


class AuthzError(Exception):
    """Base of every error the authz package raises on purpose."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class CryptoError(AuthzError):
    """Field encryption, the blind index or their keys."""


class InvalidName(CryptoError, ValueError):
    def __init__(self, kind: str, pattern: str) -> None:
        self.kind = kind
        super().__init__(f"invalid {kind}: it must match {pattern}")


class KeyFileError(CryptoError):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class KeyFileMissing(KeyFileError):
    def __init__(self, path: str, what: str) -> None:
        super().__init__(path, f"no {what} here. Create one first (first use), or fix the path.")


class KeyFileExists(KeyFileError):
    def __init__(self, path: str, what: str) -> None:
        super().__init__(
            path, f"a {what} already exists; load it instead of creating a new one over it."
        )


class InsecureKeyFile(KeyFileError):
    def __init__(self, path: str, mode: int) -> None:
        self.mode = mode
        super().__init__(
            path,
            f"mode {mode:04o} lets group or others access this key file; refusing to use it. "
            f"Fix it with `chmod 600 {path}` (and check who may have copied it).",
        )


class KeyFileCorrupt(KeyFileError):
    pass


class KeyUnwrapFailed(CryptoError):
    pass


class KeyRingError(CryptoError):
    pass


class DuplicateKeyId(KeyRingError):
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"key id {key_id!r} is already in the key ring (ids are never reused)")


class RotationRefused(KeyRingError):
    def __init__(self, key_id: str, reason: str) -> None:
        self.key_id = key_id
        super().__init__(f"refused for key {key_id!r}: {reason}")


class DecryptionFailed(CryptoError):
    """A token could not be decrypted; catch this for every decrypt failure."""


class KeyUnavailable(KeyRingError, DecryptionFailed):
    def __init__(self, key_id: str, message: str) -> None:
        self.key_id = key_id
        super().__init__(message)


class UnknownKey(KeyUnavailable):
    def __init__(self, key_id: str) -> None:
        super().__init__(
            key_id,
            f"no key {key_id!r} in the key ring. If another process added it, reload the ring.",
        )


class KeyRetired(KeyUnavailable):
    def __init__(self, key_id: str) -> None:
        super().__init__(
            key_id,
            f"key {key_id!r} is retired and its material destroyed; "
            "values still encrypted under it cannot be recovered.",
        )


class MalformedToken(DecryptionFailed):
    def __init__(self, reason: str) -> None:
        super().__init__(f"not a field-encryption token: {reason}")


class TokenAuthenticationFailed(DecryptionFailed):
    def __init__(self, key_id: str, field: str) -> None:
        self.key_id = key_id
        self.field = field
        super().__init__(
            f"token for field {field!r} under key {key_id!r} failed authentication: it was "
            "altered, or belongs to another node or field"
        )


class Unauthenticated(AuthzError):
    """A bearer token was refused, for one of a fixed set of reasons.

    The caller only ever learns "unauthenticated"; `reason` (a short constant
    such as "expired" or "bad_signature") is kept for the audit log. Neither the
    message nor the reason ever carries the token or a claim value.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"bearer token refused: {reason}")
