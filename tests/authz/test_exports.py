"""Each module's public surface is its `__all__`, and every name in it exists."""

from __future__ import annotations

import ast
import importlib
import sys

import pytest

from tests.support import ROOT

EXPORTS = {
    "authz.keys": {
        "BLIND_INDEX_INFO",
        "FIELD_PATTERN",
        "KEY_ID_PATTERN",
        "Algorithm",
        "KeyPurpose",
        "SecretKey",
        "check_field",
        "check_key_id",
        "derive_field_key",
        "new_key_id",
    },
    "authz.aead": {"NONCE_SIZE", "TAG_SIZE", "Aead", "InvalidTag", "aead_for", "sm4_gcm_supported"},
    "authz.key_provider": {"KEK_SIZE", "KeyProvider", "LocalKeyProvider"},
    "authz.keyring": {"KeyInfo", "KeyRing", "KeyState"},
    "authz.field_crypto": {
        "TOKEN_VERSION",
        "FieldCipher",
        "count_tokens_under",
        "token_key_id",
        "token_prefix",
    },
    "authz.blind_index": {"INDEX_VERSION", "BlindIndex"},
    "authz.normalise": {"normalise"},
}


@pytest.mark.parametrize(("module_name", "expected"), EXPORTS.items())
def test_public_names(module_name: str, expected: set[str]) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == expected
    for name in module.__all__:
        assert hasattr(module, name)


def test_authz_imports_only_the_standard_library_and_its_chosen_libraries() -> None:
    allowed = {"authz", "cryptography", "pydantic", "jwt", "cedarpy", "__future__"}
    for path in (ROOT / "authz").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in allowed or top in sys.stdlib_module_names, (path.name, top)
