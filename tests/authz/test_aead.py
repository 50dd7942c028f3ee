from __future__ import annotations

import doctest

import pytest

import authz.aead
from authz.aead import NONCE_SIZE, InvalidTag, aead_for, sm4_gcm_supported
from authz.keys import Algorithm, KeyPurpose, SecretKey

requires_sm4 = pytest.mark.skipif(not sm4_gcm_supported(), reason="OpenSSL without SM4-GCM")


@requires_sm4
def test_sm4_gcm_matches_rfc_8998_appendix_a1() -> None:
    key = SecretKey(
        bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"), key_id="k1", algorithm=Algorithm.SM4_GCM
    )
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    aead = aead_for(key)
    assert aead.encrypt(nonce, plaintext, aad) == expected
    assert aead.decrypt(nonce, expected, aad) == plaintext


@pytest.mark.parametrize(
    "algorithm", [Algorithm.AES256_GCM, pytest.param(Algorithm.SM4_GCM, marks=requires_sm4)]
)
def test_round_trip_and_every_damage_is_caught(algorithm: Algorithm) -> None:
    aead = aead_for(SecretKey.generate(KeyPurpose.DATA_ENCRYPTION, algorithm))
    nonce = bytes(range(NONCE_SIZE))
    sealed = aead.encrypt(nonce, b"410702199001011234", b"aad")
    assert len(sealed) == 18 + 16
    assert aead.decrypt(nonce, sealed, b"aad") == b"410702199001011234"
    for position in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        with pytest.raises(InvalidTag):
            aead.decrypt(nonce, bytes(damaged), b"aad")
    with pytest.raises(InvalidTag):
        aead.decrypt(nonce, sealed, b"aae")
    with pytest.raises(InvalidTag):
        aead.decrypt(bytes(NONCE_SIZE), sealed, b"aad")
    with pytest.raises(InvalidTag):
        aead.decrypt(nonce, sealed[:10], b"aad")


def test_sm4_primitive_does_not_render_its_key() -> None:
    key = SecretKey(bytes(range(16)), key_id="k1", algorithm=Algorithm.SM4_GCM)
    assert bytes(range(16)).hex() not in repr(aead_for(key))


def test_index_keys_are_refused_for_encryption() -> None:
    with pytest.raises(ValueError, match="not a data key"):
        aead_for(SecretKey.generate(KeyPurpose.BLIND_INDEX, Algorithm.HMAC_SHA256))


def test_module_example_runs() -> None:
    result = doctest.testmod(authz.aead)
    assert result.attempted > 0
    assert result.failed == 0
