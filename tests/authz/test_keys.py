from __future__ import annotations

import copy
import doctest
import hashlib
import hmac
import logging
import pickle
from collections.abc import Callable

import pytest

import authz.keys
from authz.errors import InvalidName
from authz.keys import (
    BLIND_INDEX_INFO,
    Algorithm,
    KeyPurpose,
    SecretKey,
    check_field,
    check_key_id,
    derive_field_key,
    new_key_id,
)

MATERIAL = bytes(range(32))


def data_key() -> SecretKey:
    return SecretKey(MATERIAL, key_id="k1", algorithm=Algorithm.AES256_GCM)


def index_key() -> SecretKey:
    return SecretKey(MATERIAL, key_id="b1", algorithm=Algorithm.HMAC_SHA256)


def leaks(text: str) -> bool:
    return any(
        form in text
        for form in (MATERIAL.hex(), MATERIAL.hex().upper(), repr(MATERIAL), str(list(MATERIAL)))
    )


RENDERINGS: list[Callable[[SecretKey], str]] = [
    repr,
    str,
    lambda k: f"{k}",
    lambda k: f"{k!r}",
    "{:>10}".format,
    lambda k: "%s" % (k,),  # noqa: UP031 - the logging style
]


@pytest.mark.parametrize("render", RENDERINGS)
def test_a_key_never_renders_its_bytes(render: Callable[[SecretKey], str]) -> None:
    text = render(data_key())
    assert not leaks(text)
    assert "k1" in text
    assert "redacted" in text


def test_a_key_in_a_log_line_shows_no_bytes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("using %s and %r", data_key(), data_key())
    assert caplog.records
    assert not leaks(caplog.text)


@pytest.mark.parametrize(
    "duplicate",
    [
        pickle.dumps,
        lambda k: pickle.dumps(k, protocol=0),
        lambda k: pickle.dumps(k, protocol=pickle.HIGHEST_PROTOCOL),
        copy.copy,
        copy.deepcopy,
        lambda k: copy.deepcopy({"nested": [k]}),
    ],
)
def test_a_key_refuses_pickling_and_copying(duplicate: Callable[[SecretKey], object]) -> None:
    with pytest.raises(TypeError, match="refuses"):
        duplicate(data_key())


def test_a_key_has_no_instance_dict_to_dump() -> None:
    with pytest.raises(TypeError):
        vars(data_key())


def test_reveal_gives_the_bytes_and_labels_are_kept() -> None:
    key = data_key()
    assert key.reveal() == MATERIAL
    assert key.key_id == "k1"
    assert key.algorithm is Algorithm.AES256_GCM
    assert key.purpose is KeyPurpose.DATA_ENCRYPTION
    assert index_key().purpose is KeyPurpose.BLIND_INDEX


@pytest.mark.parametrize(
    ("algorithm", "size"),
    [(Algorithm.AES256_GCM, 32), (Algorithm.SM4_GCM, 16), (Algorithm.HMAC_SHA256, 32)],
)
def test_key_length_follows_the_algorithm(algorithm: Algorithm, size: int) -> None:
    assert len(SecretKey.generate(algorithm.purpose, algorithm).reveal()) == size
    with pytest.raises(ValueError, match=f"{size} bytes"):
        SecretKey(bytes(size - 1), key_id="k1", algorithm=algorithm)


def test_material_must_be_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretKey(bytearray(32), key_id="k1", algorithm=Algorithm.AES256_GCM)  # type: ignore[arg-type]


def test_generate_refuses_a_purpose_the_algorithm_does_not_serve() -> None:
    with pytest.raises(ValueError, match="cannot serve"):
        SecretKey.generate(KeyPurpose.BLIND_INDEX, Algorithm.AES256_GCM)


def test_generated_keys_are_random_with_fresh_ids() -> None:
    keys = [SecretKey.generate(KeyPurpose.DATA_ENCRYPTION, Algorithm.AES256_GCM) for _ in range(20)]
    assert len({k.reveal() for k in keys}) == 20
    assert len({k.key_id for k in keys}) == 20


def test_new_key_ids_are_eight_hex_digits() -> None:
    key_id = new_key_id()
    assert len(key_id) == 8
    int(key_id, 16)
    assert check_key_id(key_id) == key_id


@pytest.mark.parametrize("good", ["k1", "0a1b2c3d", "kms-2026-01", "a" * 32])
def test_valid_key_ids(good: str) -> None:
    assert check_key_id(good) == good


@pytest.mark.parametrize("bad", ["", "K1", "k.1", "-k1", "k 1", "k/1", "a" * 33, "ключ"])
def test_invalid_key_ids(bad: str) -> None:
    with pytest.raises(InvalidName, match="key id"):
        check_key_id(bad)


@pytest.mark.parametrize("bad", ["", "Name", "1name", "id-number", "name/x", "a" * 65])
def test_invalid_field_names(bad: str) -> None:
    with pytest.raises(InvalidName, match="field name"):
        check_field(bad)
    assert isinstance(InvalidName("x", "y"), ValueError)


def rfc5869_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF written out from RFC 5869 (salt absent = 32 zero bytes), to check the library call."""
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def test_field_keys_are_hkdf_with_the_field_in_info() -> None:
    derived = derive_field_key(index_key(), BLIND_INDEX_INFO, "id_number")
    assert derived.reveal() == rfc5869_sha256(MATERIAL, b"hub/blind-index/v1/id_number", 32)
    assert derived.key_id == "b1"
    assert derived.purpose is KeyPurpose.BLIND_INDEX


def test_field_keys_are_separate_per_field_and_stable() -> None:
    fields = ["id_number", "name", "phone", "address", "account_no", "name_2"]
    keys = [derive_field_key(index_key(), BLIND_INDEX_INFO, f).reveal() for f in fields]
    assert len(set(keys)) == len(fields)
    assert MATERIAL not in keys
    assert derive_field_key(index_key(), BLIND_INDEX_INFO, "name").reveal() == keys[1]


def test_only_index_keys_have_field_keys() -> None:
    with pytest.raises(ValueError, match="blind-index keys"):
        derive_field_key(data_key(), BLIND_INDEX_INFO, "name")
    with pytest.raises(ValueError, match="end in '/'"):
        derive_field_key(index_key(), b"hub/blind-index/v1", "name")
    with pytest.raises(InvalidName):
        derive_field_key(index_key(), BLIND_INDEX_INFO, "../name")


def test_module_example_runs() -> None:
    result = doctest.testmod(authz.keys)
    assert result.attempted > 0
    assert result.failed == 0
