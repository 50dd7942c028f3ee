from __future__ import annotations

import copy
import pickle
import stat
from pathlib import Path

import pytest

from authz.errors import InsecureKeyFile, KeyFileCorrupt, KeyFileExists, KeyUnwrapFailed
from authz.key_provider import KEK_SIZE, KeyProvider, LocalKeyProvider

DATA_KEY = bytes(range(100, 132))


def test_create_writes_32_random_bytes_owner_only(kek_path: Path) -> None:
    LocalKeyProvider.create(kek_path)
    assert stat.S_IMODE(kek_path.stat().st_mode) == 0o600
    assert len(kek_path.read_bytes()) == KEK_SIZE
    other = kek_path.with_name("other")
    LocalKeyProvider.create(other)
    assert other.read_bytes() != kek_path.read_bytes()


def test_create_refuses_to_replace_a_kek(kek_path: Path) -> None:
    LocalKeyProvider.create(kek_path)
    before = kek_path.read_bytes()
    with pytest.raises(KeyFileExists):
        LocalKeyProvider.create(kek_path)
    assert kek_path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_a_kek_file_others_may_read_is_refused_with_the_fix(kek_path: Path, mode: int) -> None:
    LocalKeyProvider.create(kek_path)
    kek_path.chmod(mode)
    with pytest.raises(InsecureKeyFile) as caught:
        LocalKeyProvider.load(kek_path)
    assert f"chmod 600 {kek_path}" in str(caught.value)
    kek_path.chmod(0o600)
    LocalKeyProvider.load(kek_path)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_a_kek_file_of_the_wrong_size_is_refused(kek_path: Path, size: int) -> None:
    kek_path.parent.mkdir(parents=True)
    kek_path.write_bytes(b"k" * size)
    kek_path.chmod(0o600)
    with pytest.raises(KeyFileCorrupt, match="exactly 32 bytes"):
        LocalKeyProvider.load(kek_path)


def test_load_or_create(kek_path: Path) -> None:
    created = LocalKeyProvider.load_or_create(kek_path)
    loaded = LocalKeyProvider.load_or_create(kek_path)
    assert created.kek_id == loaded.kek_id
    assert loaded.unwrap("k1", created.wrap("k1", DATA_KEY)) == DATA_KEY


def test_wrap_unwrap_round_trip_across_loads(provider: LocalKeyProvider, kek_path: Path) -> None:
    wrapped = provider.wrap("k1", DATA_KEY)
    assert DATA_KEY not in wrapped
    assert len(wrapped) == 1 + 12 + 32 + 16
    assert LocalKeyProvider.load(kek_path).unwrap("k1", wrapped) == DATA_KEY
    assert provider.wrap("k1", DATA_KEY) != wrapped  # fresh nonce each time


def test_the_wrapping_is_bound_to_the_key_id(provider: LocalKeyProvider) -> None:
    wrapped = provider.wrap("data/aes256-gcm/k1", DATA_KEY)
    with pytest.raises(KeyUnwrapFailed, match="did not unwrap"):
        provider.unwrap("data/aes256-gcm/k2", wrapped)


def test_any_damage_to_a_wrapped_key_is_refused(provider: LocalKeyProvider) -> None:
    wrapped = provider.wrap("k1", DATA_KEY)
    for position in range(len(wrapped)):
        damaged = bytearray(wrapped)
        damaged[position] ^= 0x80
        with pytest.raises(KeyUnwrapFailed):
            provider.unwrap("k1", bytes(damaged))
    for truncated in (b"", wrapped[:1], wrapped[:28]):
        with pytest.raises(KeyUnwrapFailed):
            provider.unwrap("k1", truncated)


def test_another_kek_cannot_unwrap(provider: LocalKeyProvider, tmp_path: Path) -> None:
    other = LocalKeyProvider.create(tmp_path / "other-kek")
    assert other.kek_id != provider.kek_id
    with pytest.raises(KeyUnwrapFailed, match=provider.kek_id.join("''")):
        provider.unwrap("k1", other.wrap("k1", DATA_KEY))


def test_the_provider_never_shows_or_pickles_its_kek(
    provider: LocalKeyProvider, kek_path: Path
) -> None:
    kek = kek_path.read_bytes()
    assert kek.hex() not in repr(provider)
    assert provider.kek_id in repr(provider)
    assert kek.hex()[:16] != provider.kek_id
    with pytest.raises(TypeError, match="refuses"):
        pickle.dumps(provider)
    with pytest.raises(TypeError, match="refuses"):
        copy.deepcopy(provider)


def test_local_provider_satisfies_the_protocol(provider: LocalKeyProvider) -> None:
    as_protocol: KeyProvider = provider
    assert as_protocol.kek_id == provider.kek_id
    assert len(provider.kek_id) == 16


def test_kek_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LocalKeyProvider(bytes(16))
