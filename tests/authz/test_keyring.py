from __future__ import annotations

import base64
import copy
import json
import pickle
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import authz.keyring
from authz.errors import (
    DuplicateKeyId,
    InsecureKeyFile,
    InvalidName,
    KeyFileCorrupt,
    KeyFileExists,
    KeyFileMissing,
    KeyRetired,
    KeyUnwrapFailed,
    RotationRefused,
    UnknownKey,
)
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing, KeyState
from authz.keys import Algorithm, KeyPurpose, SecretKey


def states(ring: KeyRing) -> dict[str, KeyState]:
    return {info.key_id: info.state for info in ring.data_keys()}


def encodings(material: bytes) -> list[bytes]:
    """Every way a key's bytes could show up in a text file."""
    forms = [
        material,
        material.hex().encode(),
        material.hex().upper().encode(),
        base64.b64encode(material),
        base64.urlsafe_b64encode(material),
    ]
    return forms + [f.rstrip(b"=") for f in forms if f.endswith(b"=")]


def test_create_makes_one_primary_data_key_and_one_index_key(ring: KeyRing) -> None:
    (only,) = ring.data_keys()
    assert only.state is KeyState.PRIMARY
    assert only.algorithm is Algorithm.AES256_GCM
    assert ring.primary_id == only.key_id == ring.primary_key.key_id
    assert ring.primary_key.purpose is KeyPurpose.DATA_ENCRYPTION
    assert ring.blind_index_key.purpose is KeyPurpose.BLIND_INDEX
    assert ring.blind_index_key.key_id != only.key_id
    assert ring.blind_index_key.reveal() != ring.primary_key.reveal()


def test_create_refuses_an_existing_key_file(ring: KeyRing, provider: LocalKeyProvider) -> None:
    before = ring.path.read_bytes()
    with pytest.raises(KeyFileExists):
        KeyRing.create(ring.path, provider)
    assert ring.path.read_bytes() == before


def test_create_can_choose_sm4_gcm(tmp_path: Path, provider: LocalKeyProvider) -> None:
    ring = KeyRing.create(tmp_path / "sm4.json", provider, algorithm=Algorithm.SM4_GCM)
    assert ring.primary_key.algorithm is Algorithm.SM4_GCM
    assert len(ring.primary_key.reveal()) == 16
    assert KeyRing.load(tmp_path / "sm4.json", provider).primary_key.algorithm is Algorithm.SM4_GCM


def test_the_key_file_is_owner_only_after_every_change(ring: KeyRing) -> None:
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    new = ring.add_key()
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    ring.promote(new.key_id)
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in ring.path.parent.iterdir()) == ["kek", "keyring.json"]


def test_the_key_file_holds_no_plaintext_key_in_any_encoding(ring: KeyRing, kek_path: Path) -> None:
    ring.promote(ring.add_key(algorithm=Algorithm.SM4_GCM).key_id)
    raw = ring.path.read_bytes()
    secrets = [ring.decryption_key(i.key_id).reveal() for i in ring.data_keys()]
    secrets += [ring.blind_index_key.reveal(), kek_path.read_bytes()]
    assert len(secrets) == 4
    for secret in secrets:
        for form in encodings(secret):
            assert form not in raw
    # ...and the check would have seen one: the wrapped keys are in there in base64.
    wrapped = json.loads(raw)["data_keys"][0]["wrapped"]
    assert wrapped.encode() in raw


def test_a_loaded_ring_has_the_same_keys(ring: KeyRing, kek_path: Path) -> None:
    ring.add_key(key_id="k2")
    loaded = KeyRing.load(ring.path, LocalKeyProvider.load(kek_path))
    assert loaded.data_keys() == ring.data_keys()
    assert loaded.primary_key.reveal() == ring.primary_key.reveal()
    assert loaded.decryption_key("k2").reveal() == ring.decryption_key("k2").reveal()
    assert loaded.blind_index_key.reveal() == ring.blind_index_key.reveal()


def test_load_refuses_a_world_readable_key_file(ring: KeyRing, provider: LocalKeyProvider) -> None:
    ring.path.chmod(0o644)
    with pytest.raises(InsecureKeyFile, match="chmod 600"):
        KeyRing.load(ring.path, provider)


def test_load_of_a_missing_file(tmp_path: Path, provider: LocalKeyProvider) -> None:
    with pytest.raises(KeyFileMissing, match="no key ring file"):
        KeyRing.load(tmp_path / "none.json", provider)


def test_load_with_another_kek_names_both(
    ring: KeyRing, provider: LocalKeyProvider, tmp_path: Path
) -> None:
    other = LocalKeyProvider.create(tmp_path / "other-kek")
    with pytest.raises(KeyUnwrapFailed) as caught:
        KeyRing.load(ring.path, other)
    assert provider.kek_id in str(caught.value)
    assert other.kek_id in str(caught.value)


Document = dict[str, Any]


def edit(path: Path, change: Callable[[Document], object]) -> None:
    document = json.loads(path.read_bytes())
    change(document)
    path.write_text(json.dumps(document))


def test_swapped_wrapped_keys_do_not_unwrap(ring: KeyRing, provider: LocalKeyProvider) -> None:
    ring.add_key(key_id="k2")

    def swap(doc: Document) -> None:
        first, second = doc["data_keys"]
        first["wrapped"], second["wrapped"] = second["wrapped"], first["wrapped"]

    edit(ring.path, swap)
    with pytest.raises(KeyUnwrapFailed):
        KeyRing.load(ring.path, provider)


def test_an_index_key_moved_into_the_data_keys_does_not_unwrap(
    ring: KeyRing, provider: LocalKeyProvider
) -> None:
    def move(doc: Document) -> None:
        doc["data_keys"][0]["wrapped"] = doc["blind_index_key"]["wrapped"]

    edit(ring.path, move)
    with pytest.raises(KeyUnwrapFailed):
        KeyRing.load(ring.path, provider)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="hub-keyring/v9"), "format"),
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d["data_keys"][0].update(state="primary?"), "state"),
        (lambda d: d["data_keys"][0].update(state="active"), "0 primary"),
        (lambda d: d["data_keys"].append(dict(d["data_keys"][0])), "twice"),
        (lambda d: d["data_keys"][0].update(id="K.1"), "key id"),
        (lambda d: d["data_keys"][0].update(wrapped=None), "lack material"),
        (lambda d: d["data_keys"][0].update(algorithm="hmac-sha256"), "non-encryption"),
        (lambda d: d["blind_index_key"].update(algorithm="aes256-gcm"), "non-index"),
        (lambda d: d["blind_index_key"].update(state="active"), "must be primary"),
        (lambda d: d["data_keys"][0].update(wrapped="not base64!"), "not base64"),
        (lambda d: d["data_keys"][0].update(retired_at="2026-01-01T00:00:00Z"), "retirement"),
        (lambda d: d.pop("blind_index_key"), "blind_index_key"),
    ],
)
def test_an_inconsistent_key_file_is_refused(
    ring: KeyRing, provider: LocalKeyProvider, change: Callable[[Document], object], message: str
) -> None:
    edit(ring.path, change)
    with pytest.raises(KeyFileCorrupt, match=message) as caught:
        KeyRing.load(ring.path, provider)
    assert "wrapped" not in str(caught.value) or "not base64" in str(caught.value)


def test_not_json_at_all(ring: KeyRing, provider: LocalKeyProvider) -> None:
    ring.path.write_bytes(b"\x00garbage")
    with pytest.raises(KeyFileCorrupt, match="not a hub-keyring/v1 key ring file"):
        KeyRing.load(ring.path, provider)


def test_add_key_is_active_and_decrypt_capable_but_not_primary(ring: KeyRing) -> None:
    old = ring.primary_id
    new = ring.add_key()
    assert new.state is KeyState.ACTIVE
    assert new.algorithm is Algorithm.AES256_GCM
    assert ring.primary_id == old
    assert ring.decryption_key(new.key_id).key_id == new.key_id
    assert ring.info(new.key_id) == new


def test_add_key_ids_are_unique_and_never_reused(ring: KeyRing) -> None:
    ring.add_key(key_id="k2")
    with pytest.raises(DuplicateKeyId):
        ring.add_key(key_id="k2")
    with pytest.raises(DuplicateKeyId):
        ring.add_key(key_id=ring.blind_index_key.key_id)
    ring.retire("k2", tokens_remaining=0)
    with pytest.raises(DuplicateKeyId):
        ring.add_key(key_id="k2")
    with pytest.raises(InvalidName):
        ring.add_key(key_id="K2.x")


def test_add_key_refuses_an_index_algorithm(ring: KeyRing) -> None:
    with pytest.raises(ValueError, match="not a data-encryption algorithm"):
        ring.add_key(algorithm=Algorithm.HMAC_SHA256)


def test_promote_swaps_primary_and_active(ring: KeyRing) -> None:
    old = ring.primary_id
    new = ring.add_key().key_id
    ring.promote(new)
    assert states(ring) == {old: KeyState.ACTIVE, new: KeyState.PRIMARY}
    assert ring.primary_id == new
    ring.promote(new)  # already primary: nothing changes
    assert states(ring) == {old: KeyState.ACTIVE, new: KeyState.PRIMARY}
    ring.promote(old)  # rolling back is allowed while the old key lives
    assert states(ring) == {old: KeyState.PRIMARY, new: KeyState.ACTIVE}


def test_retire_refuses_the_primary(ring: KeyRing) -> None:
    with pytest.raises(RotationRefused, match="primary"):
        ring.retire(ring.primary_id, tokens_remaining=0)
    assert ring.info(ring.primary_id).state is KeyState.PRIMARY


def test_retire_refuses_while_tokens_remain(ring: KeyRing) -> None:
    old = ring.primary_id
    ring.promote(ring.add_key().key_id)
    with pytest.raises(RotationRefused, match="3 values are still encrypted"):
        ring.retire(old, tokens_remaining=3)
    with pytest.raises(ValueError, match="never negative"):
        ring.retire(old, tokens_remaining=-1)
    assert ring.info(old).state is KeyState.ACTIVE


def test_retire_destroys_the_material_and_keeps_the_record(
    ring: KeyRing, provider: LocalKeyProvider
) -> None:
    old = ring.primary_id
    ring.promote(ring.add_key().key_id)
    ring.retire(old, tokens_remaining=0)
    info = ring.info(old)
    assert info.state is KeyState.RETIRED
    assert info.retired_at is not None
    assert info.retired_at >= info.created_at
    with pytest.raises(KeyRetired):
        ring.decryption_key(old)
    (entry,) = (e for e in json.loads(ring.path.read_bytes())["data_keys"] if e["id"] == old)
    assert entry["wrapped"] is None
    with pytest.raises(KeyRetired):
        KeyRing.load(ring.path, provider).decryption_key(old)
    ring.retire(old, tokens_remaining=0)  # again: nothing to do
    with pytest.raises(RotationRefused, match="retired key cannot encrypt"):
        ring.promote(old)


def test_unknown_keys(ring: KeyRing) -> None:
    for operation in (
        ring.decryption_key,
        ring.info,
        ring.promote,
        lambda key_id: ring.retire(key_id, tokens_remaining=0),
    ):
        with pytest.raises(UnknownKey, match="'nope'"):
            operation("nope")
    with pytest.raises(UnknownKey):  # the index key is not a data key
        ring.decryption_key(ring.blind_index_key.key_id)


def test_a_failed_write_leaves_the_ring_unchanged(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_file, before_keys, before_revision = (
        ring.path.read_bytes(),
        ring.data_keys(),
        ring.revision,
    )

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(authz.keyring, "write_owner_only", full_disk)
    with pytest.raises(OSError, match="No space"):
        ring.add_key()
    assert ring.data_keys() == before_keys
    assert ring.revision == before_revision
    assert ring.path.read_bytes() == before_file


def test_reload_sees_what_another_process_changed(
    ring: KeyRing, provider: LocalKeyProvider
) -> None:
    other_process = KeyRing.load(ring.path, provider)
    new = other_process.add_key().key_id
    with pytest.raises(UnknownKey):
        ring.decryption_key(new)
    revision = ring.revision
    ring.reload()
    assert ring.revision > revision
    assert ring.decryption_key(new).reveal() == other_process.decryption_key(new).reveal()


def test_the_ring_never_shows_or_pickles_keys(ring: KeyRing) -> None:
    text = repr(ring)
    assert ring.primary_key.reveal().hex() not in text
    assert ring.primary_id in text
    for duplicate in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="refuses"):
            duplicate(ring)


def test_revision_counts_changes(ring: KeyRing) -> None:
    start = ring.revision
    new = ring.add_key().key_id
    ring.promote(new)
    assert ring.revision == start + 2
    ring.promote(new)  # no change, no new revision
    assert ring.revision == start + 2


def test_secret_keys_from_the_ring_stay_unpicklable(ring: KeyRing) -> None:
    key: SecretKey = ring.primary_key
    with pytest.raises(TypeError):
        pickle.dumps(key)
