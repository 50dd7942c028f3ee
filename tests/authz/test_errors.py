from __future__ import annotations

import re

import pytest

import authz.errors as errors_module
from authz.errors import (
    AuthzError,
    CryptoError,
    DecryptionFailed,
    DuplicateKeyId,
    InsecureKeyFile,
    InvalidName,
    KeyFileCorrupt,
    KeyFileError,
    KeyFileExists,
    KeyFileMissing,
    KeyRetired,
    KeyRingError,
    KeyUnavailable,
    KeyUnwrapFailed,
    MalformedToken,
    RotationRefused,
    TokenAuthenticationFailed,
    Unauthenticated,
    UnknownKey,
)

PARENTS = {
    CryptoError: AuthzError,
    InvalidName: CryptoError,
    KeyFileError: CryptoError,
    KeyFileMissing: KeyFileError,
    KeyFileExists: KeyFileError,
    InsecureKeyFile: KeyFileError,
    KeyFileCorrupt: KeyFileError,
    KeyUnwrapFailed: CryptoError,
    KeyRingError: CryptoError,
    DuplicateKeyId: KeyRingError,
    RotationRefused: KeyRingError,
    KeyUnavailable: KeyRingError,
    UnknownKey: KeyUnavailable,
    KeyRetired: KeyUnavailable,
    DecryptionFailed: CryptoError,
    MalformedToken: DecryptionFailed,
    TokenAuthenticationFailed: DecryptionFailed,
    Unauthenticated: AuthzError,
}


@pytest.mark.parametrize(("child", "parent"), PARENTS.items())
def test_the_tree(child: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(child, parent)


def test_every_decrypt_failure_is_a_decryption_failure() -> None:
    for unavailable in (UnknownKey, KeyRetired):
        assert issubclass(unavailable, DecryptionFailed)
        assert issubclass(unavailable, KeyRingError)


def test_the_docstring_draws_every_error() -> None:
    doc = errors_module.__doc__ or ""
    drawn = set(re.findall(r"([A-Z][A-Za-z]+)", doc))
    assert set(errors_module.__all__) <= drawn
    assert set(PARENTS) | {AuthzError} == {getattr(errors_module, n) for n in errors_module.__all__}


@pytest.mark.parametrize(
    "error",
    [
        InsecureKeyFile("/keys/kek", 0o644),
        KeyFileMissing("/keys/kek", "key-encryption key file"),
        KeyFileExists("/keys/ring.json", "key ring file"),
        UnknownKey("k9"),
        KeyRetired("k1"),
        DuplicateKeyId("k2"),
        RotationRefused("k1", "it is the primary"),
        MalformedToken("payload too short"),
        TokenAuthenticationFailed("k1", "id_number"),
        InvalidName("field name", "^x$"),
    ],
)
def test_repr_shows_the_class_and_the_message(error: AuthzError) -> None:
    assert repr(error) == f"{type(error).__name__}({str(error)!r})"


def test_messages_say_what_to_do() -> None:
    assert "chmod 600 /keys/kek" in str(InsecureKeyFile("/keys/kek", 0o644))
    assert "0644" in str(InsecureKeyFile("/keys/kek", 0o644))
    assert "reload" in str(UnknownKey("k9"))
