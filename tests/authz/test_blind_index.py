from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path

import pytest

from authz.blind_index import BlindIndex
from authz.errors import InvalidName
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing
from authz.keys import BLIND_INDEX_INFO, derive_field_key

DIGEST = re.compile(r"^bi1\.([a-z0-9][a-z0-9-]{0,31})\.([A-Za-z0-9_-]{43})$")
ID_NUMBER = "41070219900101123X"


def test_digest_format_names_the_index_key(index: BlindIndex, ring: KeyRing) -> None:
    digest = index.digest(ID_NUMBER, field="id_number")
    match = DIGEST.fullmatch(digest)
    assert match is not None
    assert match.group(1) == ring.blind_index_key.key_id == index.key_id
    assert match.group(1) != ring.primary_id


def test_digest_is_hmac_sha256_under_the_field_subkey(index: BlindIndex, ring: KeyRing) -> None:
    subkey = derive_field_key(ring.blind_index_key, BLIND_INDEX_INFO, "id_number").reveal()
    mac = hmac.new(subkey, ID_NUMBER.encode(), hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert index.digest(ID_NUMBER, field="id_number").split(".")[2] == expected


def test_digest_is_deterministic(index: BlindIndex, ring: KeyRing) -> None:
    first = index.digest(ID_NUMBER, field="id_number")
    assert index.digest(ID_NUMBER, field="id_number") == first
    assert BlindIndex(ring).digest(ID_NUMBER, field="id_number") == first


def test_the_same_value_in_different_fields_gives_unrelated_digests(index: BlindIndex) -> None:
    value = "6222020200112233"
    fields = ["id_number", "account_no", "phone", "name", "address"]
    digests = [index.digest(value, field=f) for f in fields]
    assert len(set(digests)) == len(fields)


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        ("id_number", "41070219900101123x", "41070219900101123X"),
        ("id_number", " 41070219900101123X ", "41070219900101123X"),
        ("phone", "+86 139-0373-0000", "13903730000"),
        ("name", "张三 ", "张三"),
    ],
)
def test_equal_values_after_normalisation_index_equally(
    index: BlindIndex, field: str, a: str, b: str
) -> None:
    assert index.digest(a, field=field) == index.digest(b, field=field)


def test_different_values_index_differently(index: BlindIndex) -> None:
    assert index.digest("410702199001011234", field="id_number") != index.digest(
        "410702199001011242", field="id_number"
    )
    assert index.digest("Zhang San", field="name") != index.digest("zhang san", field="name")


def test_digest_is_no_plain_hash(index: BlindIndex) -> None:
    mac = index.digest(ID_NUMBER, field="id_number").split(".")[2]
    for plain in (hashlib.sha256, hashlib.sha3_256, hashlib.blake2s):
        digest = plain(ID_NUMBER.encode()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != mac


def test_another_index_key_gives_other_digests(index: BlindIndex, tmp_path: Path) -> None:
    other_ring = KeyRing.create(tmp_path / "other.json", LocalKeyProvider.create(tmp_path / "k"))
    other = BlindIndex(other_ring)
    assert other.digest(ID_NUMBER, field="id_number") != index.digest(ID_NUMBER, field="id_number")
    assert other.key_id != index.key_id


def test_digests_survive_persistence_and_data_key_rotation(
    index: BlindIndex, ring: KeyRing, provider: LocalKeyProvider
) -> None:
    before = index.digest(ID_NUMBER, field="id_number")
    old = ring.primary_id
    ring.promote(ring.add_key().key_id)
    ring.retire(old, tokens_remaining=0)
    assert index.digest(ID_NUMBER, field="id_number") == before
    loaded = KeyRing.load(ring.path, provider)
    assert BlindIndex(loaded).digest(ID_NUMBER, field="id_number") == before


def test_an_empty_value_is_refused(index: BlindIndex) -> None:
    for empty in ("", "   ", "\u3000"):
        with pytest.raises(ValueError, match="nothing to index"):
            index.digest(empty, field="id_number")


def test_field_names_are_checked(index: BlindIndex) -> None:
    with pytest.raises(InvalidName):
        index.digest(ID_NUMBER, field="id number")


def test_the_index_never_shows_keys(index: BlindIndex, ring: KeyRing) -> None:
    index.digest(ID_NUMBER, field="id_number")
    assert ring.blind_index_key.reveal().hex() not in repr(index)
    assert index.key_id in repr(index)


def test_a_reloaded_index_key_replaces_the_cached_field_keys(
    index: BlindIndex, ring: KeyRing, provider: LocalKeyProvider, tmp_path: Path
) -> None:
    before = index.digest(ID_NUMBER, field="id_number")  # the field key is cached
    restored = KeyRing.create(tmp_path / "restored.json", provider)
    ring.path.write_bytes(restored.path.read_bytes())
    ring.reload()
    after = index.digest(ID_NUMBER, field="id_number")
    assert after == BlindIndex(restored).digest(ID_NUMBER, field="id_number")
    assert after != before
