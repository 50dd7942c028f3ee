from __future__ import annotations

import re
from pathlib import Path

import pytest

from authz._encoding import b64url_decode, b64url_encode
from authz.errors import (
    DecryptionFailed,
    InvalidName,
    KeyRetired,
    MalformedToken,
    TokenAuthenticationFailed,
    UnknownKey,
)
from authz.field_crypto import FieldCipher, count_tokens_under, token_key_id, token_prefix
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing
from authz.keys import Algorithm

TOKEN = re.compile(r"^v1\.([a-z0-9][a-z0-9-]{0,31})\.([A-Za-z0-9_-]+)$")
ID_NUMBER = "41070219900101123X"
NODE = "person-7f3a"

VALUES = [
    "",
    ID_NUMBER,
    "张三",
    "买买提·艾力",
    "河南省新乡市红旗区人民路 12 号 3 单元 401 室",
    "13903730000",
    "6222020200112233445",
    "x" * 5000,
    "emoji 🙂 and \x00 nul",
]


@pytest.mark.parametrize("value", VALUES)
def test_round_trip(cipher: FieldCipher, value: str) -> None:
    token = cipher.encrypt(value, node_key=NODE, field="name")
    assert cipher.decrypt(token, node_key=NODE, field="name") == value


def test_sm4_gcm_round_trip(tmp_path: Path, provider: LocalKeyProvider) -> None:
    ring = KeyRing.create(tmp_path / "sm4.json", provider, algorithm=Algorithm.SM4_GCM)
    cipher = FieldCipher(ring)
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    assert cipher.decrypt(token, node_key=NODE, field="id_number") == ID_NUMBER
    with pytest.raises(TokenAuthenticationFailed):
        cipher.decrypt(token, node_key=NODE, field="name")


def test_token_format_names_the_primary_key(cipher: FieldCipher, ring: KeyRing) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    match = TOKEN.fullmatch(token)
    assert match is not None
    assert match.group(1) == ring.primary_id == token_key_id(token)
    payload = b64url_decode(match.group(2))
    assert len(payload) == 12 + len(ID_NUMBER) + 16
    assert token.isascii()
    assert ID_NUMBER not in token


def test_nonces_differ_between_encryptions_of_one_value(cipher: FieldCipher) -> None:
    tokens = [cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number") for _ in range(50)]
    assert len(set(tokens)) == 50
    nonces = {b64url_decode(t.split(".")[2])[:12] for t in tokens}
    assert len(nonces) == 50


@pytest.mark.parametrize(
    ("node_key", "field"),
    [
        ("person-other", "id_number"),  # moved to another node
        (NODE, "phone"),  # moved to another field of the same node
        ("person-other", "phone"),
        (NODE.upper(), "id_number"),
    ],
)
def test_a_token_moved_elsewhere_fails(cipher: FieldCipher, node_key: str, field: str) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    with pytest.raises(TokenAuthenticationFailed):
        cipher.decrypt(token, node_key=node_key, field=field)


def test_node_key_and_field_cannot_slide_into_each_other(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key="p1x", field="name")
    with pytest.raises(TokenAuthenticationFailed):
        cipher.decrypt(token, node_key="p1", field="xname")


def test_changing_any_character_of_a_token_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    for position, char in enumerate(token):
        for replacement in {"A", "a", "0", "-", ".", "_"} - {char}:
            damaged = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(DecryptionFailed):
                cipher.decrypt(damaged, node_key=NODE, field="id_number")


def test_flipping_any_bit_of_the_payload_fails_authentication(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    head, _, encoded = token.rpartition(".")
    payload = b64url_decode(encoded)
    for position in range(len(payload)):
        for bit in (0x01, 0x80):
            damaged = bytearray(payload)
            damaged[position] ^= bit
            damaged_token = f"{head}.{b64url_encode(bytes(damaged))}"
            with pytest.raises(TokenAuthenticationFailed):
                cipher.decrypt(damaged_token, node_key=NODE, field="id_number")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "does not start"),
        ("v2.k1.AAAA", "does not start"),
        ("v1", "does not start"),
        ("v1.K1.AAAA", "no valid key id"),
        ("v1..AAAA", "no valid key id"),
        ("v1.k1", "no payload"),
        ("v1.k1.AAAA", "too short"),
        ("v1.k1." + "A" * 37 + "=", "base64url"),
        ("v1.k1." + "A" * 36 + "+/", "base64url"),
        ("v1.k1." + "A" * 36 + ".A", "base64url"),
        ("V1.k1." + "A" * 38, "does not start"),
    ],
)
def test_malformed_tokens(cipher: FieldCipher, token: str, reason: str) -> None:
    with pytest.raises(MalformedToken, match=reason):
        cipher.decrypt(token, node_key=NODE, field="id_number")


def test_truncated_tokens_fail(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    for end in range(len(token)):
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(token[:end], node_key=NODE, field="id_number")


def test_a_key_id_the_ring_does_not_know(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    foreign = "v1.feedbeef." + token.split(".")[2]
    with pytest.raises(UnknownKey, match="feedbeef"):
        cipher.decrypt(foreign, node_key=NODE, field="id_number")


def test_a_token_relabelled_to_another_live_key_fails(cipher: FieldCipher, ring: KeyRing) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    other = ring.add_key().key_id
    relabelled = f"v1.{other}.{token.split('.')[2]}"
    with pytest.raises(TokenAuthenticationFailed):
        cipher.decrypt(relabelled, node_key=NODE, field="id_number")


def test_errors_never_carry_the_value_node_key_or_token(cipher: FieldCipher, ring: KeyRing) -> None:
    token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    _, _, encoded = token.rpartition(".")
    attempts = [
        (token, "person-other", "id_number"),
        (token[:-3], NODE, "id_number"),
        (f"v1.feedbeef.{encoded}", NODE, "id_number"),
        ("v1.k1." + ID_NUMBER, NODE, "id_number"),
    ]
    caught: list[DecryptionFailed] = []

    def attempt(bad: str, node_key: str, field: str) -> None:
        with pytest.raises(DecryptionFailed) as info:
            cipher.decrypt(bad, node_key=node_key, field=field)
        caught.append(info.value)

    for bad, node_key, field in attempts:
        attempt(bad, node_key, field)
    old = ring.primary_id
    ring.promote(ring.add_key().key_id)
    ring.retire(old, tokens_remaining=0)
    attempt(token, NODE, "id_number")
    assert {type(e) for e in caught} == {
        TokenAuthenticationFailed,
        MalformedToken,
        UnknownKey,
        KeyRetired,
    }
    for error in caught:
        rendered = f"{error} {error!r} {error.args} {vars(error)}"
        for secret in (ID_NUMBER, NODE, "person-other", encoded, encoded[:20]):
            assert secret not in rendered
        assert error.__cause__ is None
        assert error.__suppress_context__ or error.__context__ is None


def test_names_are_checked(cipher: FieldCipher) -> None:
    with pytest.raises(InvalidName):
        cipher.encrypt(ID_NUMBER, node_key=NODE, field="ID Number")
    with pytest.raises(ValueError, match="node_key"):
        cipher.encrypt(ID_NUMBER, node_key="", field="id_number")


def test_needs_reencryption_and_reencrypt(cipher: FieldCipher, ring: KeyRing) -> None:
    old_token = cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    assert not cipher.needs_reencryption(old_token)
    assert cipher.reencrypt(old_token, node_key=NODE, field="id_number") == old_token
    new = ring.add_key().key_id
    assert not cipher.needs_reencryption(old_token)  # adding a key changes nothing yet
    ring.promote(new)
    assert cipher.needs_reencryption(old_token)
    new_token = cipher.reencrypt(old_token, node_key=NODE, field="id_number")
    assert token_key_id(new_token) == new
    assert not cipher.needs_reencryption(new_token)
    assert cipher.decrypt(new_token, node_key=NODE, field="id_number") == ID_NUMBER
    with pytest.raises(TokenAuthenticationFailed):  # re-encryption keeps the binding
        cipher.reencrypt(old_token, node_key="person-other", field="id_number")


def test_token_prefix_and_counting(cipher: FieldCipher, ring: KeyRing) -> None:
    old = ring.primary_id
    tokens = [cipher.encrypt(str(n), node_key=NODE, field="phone") for n in range(3)]
    new = ring.add_key(key_id="k2").key_id
    ring.promote(new)
    tokens += [cipher.encrypt(str(n), node_key=NODE, field="phone") for n in range(2)]
    assert token_prefix("k2") == "v1.k2."
    assert all(t.startswith(token_prefix(old)) for t in tokens[:3])
    assert count_tokens_under(old, tokens) == 3
    assert count_tokens_under(new, tokens) == 2
    assert count_tokens_under("k22", [*tokens, "v1.k22.x"]) == 1  # the dot ends the id
    with pytest.raises(InvalidName):
        token_prefix("k2.")
    with pytest.raises(MalformedToken):
        token_key_id("not a token")


def test_a_reloaded_ring_is_picked_up(
    cipher: FieldCipher, ring: KeyRing, provider: LocalKeyProvider
) -> None:
    other_process = KeyRing.load(ring.path, provider)
    other_process.promote(other_process.add_key().key_id)
    token = FieldCipher(other_process).encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    with pytest.raises(UnknownKey):
        cipher.decrypt(token, node_key=NODE, field="id_number")
    ring.reload()
    assert cipher.decrypt(token, node_key=NODE, field="id_number") == ID_NUMBER
    fresh = cipher.encrypt("x", node_key=NODE, field="name")
    assert token_key_id(fresh) == other_process.primary_id


def test_the_cipher_never_shows_keys(cipher: FieldCipher, ring: KeyRing) -> None:
    cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    assert ring.primary_key.reveal().hex() not in repr(cipher)
    assert ring.primary_id in repr(cipher)


def test_a_reloaded_key_with_the_same_id_replaces_the_cached_one(
    cipher: FieldCipher, ring: KeyRing, provider: LocalKeyProvider, tmp_path: Path
) -> None:
    ring.promote(ring.add_key(key_id="k2").key_id)
    cipher.encrypt(ID_NUMBER, node_key=NODE, field="id_number")  # k2's primitive is cached
    restored = KeyRing.create(tmp_path / "restored.json", provider)
    restored.promote(restored.add_key(key_id="k2").key_id)
    token = FieldCipher(restored).encrypt(ID_NUMBER, node_key=NODE, field="id_number")
    ring.path.write_bytes(restored.path.read_bytes())  # e.g. a key file restored from backup
    ring.reload()
    assert cipher.decrypt(token, node_key=NODE, field="id_number") == ID_NUMBER
