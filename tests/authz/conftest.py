"""Fixtures for the crypto tests: a KEK, a key ring and its users, all under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from authz.blind_index import BlindIndex
from authz.field_crypto import FieldCipher
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing


@pytest.fixture
def kek_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "kek"


@pytest.fixture
def ring_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "keyring.json"


@pytest.fixture
def provider(kek_path: Path) -> LocalKeyProvider:
    return LocalKeyProvider.create(kek_path)


@pytest.fixture
def ring(ring_path: Path, provider: LocalKeyProvider) -> KeyRing:
    return KeyRing.create(ring_path, provider)


@pytest.fixture
def cipher(ring: KeyRing) -> FieldCipher:
    return FieldCipher(ring)


@pytest.fixture
def index(ring: KeyRing) -> BlindIndex:
    return BlindIndex(ring)
