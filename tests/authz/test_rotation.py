"""Key rotation as the job runs it, phase by phase, with a second process reading the ring."""

from __future__ import annotations

import pytest

from authz.blind_index import BlindIndex
from authz.errors import KeyRetired, RotationRefused
from authz.field_crypto import FieldCipher, count_tokens_under, token_key_id
from authz.key_provider import LocalKeyProvider
from authz.keyring import KeyRing, KeyState
from authz.keys import Algorithm

PEOPLE = {f"person-{n}": f"41070219900101{n:03d}X" for n in range(12)}


@pytest.mark.parametrize("new_algorithm", [Algorithm.AES256_GCM, Algorithm.SM4_GCM])
def test_rotation_phase_by_phase(
    ring: KeyRing, provider: LocalKeyProvider, new_algorithm: Algorithm
) -> None:
    cipher = FieldCipher(ring)
    index = BlindIndex(ring)
    reader = KeyRing.load(ring.path, provider)  # another hub process
    reader_cipher = FieldCipher(reader)
    store = {
        node: cipher.encrypt(v, node_key=node, field="id_number") for node, v in PEOPLE.items()
    }
    digests = {node: index.digest(v, field="id_number") for node, v in PEOPLE.items()}
    old = ring.primary_id

    # Phase 1: add. Nothing changes for writers; readers learn the key on reload.
    new = ring.add_key(algorithm=new_algorithm).key_id
    assert ring.info(new).state is KeyState.ACTIVE
    assert not any(cipher.needs_reencryption(t) for t in store.values())
    reader.reload()
    assert reader.info(new).state is KeyState.ACTIVE

    # Phase 2: promote. New values go under the new key; old tokens still decrypt.
    ring.promote(new)
    fresh = cipher.encrypt("13903730000", node_key="person-0", field="phone")
    assert token_key_id(fresh) == new
    for node, token in store.items():
        assert cipher.decrypt(token, node_key=node, field="id_number") == PEOPLE[node]
        assert cipher.needs_reencryption(token)
    reader.reload()
    assert reader_cipher.decrypt(fresh, node_key="person-0", field="phone") == "13903730000"

    # Retiring now is refused: tokens remain under the old key.
    remaining = count_tokens_under(old, store.values())
    assert remaining == len(PEOPLE)
    with pytest.raises(RotationRefused):
        ring.retire(old, tokens_remaining=remaining)

    # Phase 3: re-encrypt, in two batches (the job may stop and resume).
    old_token = store["person-0"]  # a copy the job will not see (a backup, a log)
    for node in list(store)[:5]:
        store[node] = cipher.reencrypt(store[node], node_key=node, field="id_number")
    assert count_tokens_under(old, store.values()) == len(PEOPLE) - 5
    for node, token in store.items():
        if cipher.needs_reencryption(token):
            store[node] = cipher.reencrypt(token, node_key=node, field="id_number")
    assert count_tokens_under(old, store.values()) == 0
    for node, token in store.items():
        assert token_key_id(token) == new
        assert reader_cipher.decrypt(token, node_key=node, field="id_number") == PEOPLE[node]

    # Phase 4: retire. Old tokens now fail with the typed error; new ones work.
    ring.retire(old, tokens_remaining=count_tokens_under(old, store.values()))
    assert ring.info(old).state is KeyState.RETIRED
    with pytest.raises(KeyRetired):
        cipher.decrypt(old_token, node_key="person-0", field="id_number")
    reader.reload()
    with pytest.raises(KeyRetired):
        reader_cipher.decrypt(old_token, node_key="person-0", field="id_number")
    for node, token in store.items():
        assert cipher.decrypt(token, node_key=node, field="id_number") == PEOPLE[node]
        assert reader_cipher.decrypt(token, node_key=node, field="id_number") == PEOPLE[node]

    # The blind index is untouched by data-key rotation: the MERGE keys stay put.
    assert {n: index.digest(v, field="id_number") for n, v in PEOPLE.items()} == digests

    # And all of it survives a restart.
    restarted = FieldCipher(KeyRing.load(ring.path, provider))
    for node, token in store.items():
        assert restarted.decrypt(token, node_key=node, field="id_number") == PEOPLE[node]
    with pytest.raises(KeyRetired):
        restarted.decrypt(old_token, node_key="person-0", field="id_number")
