"""Pure security logic (tokens, policy decisions, consent decisions, field crypto).

Imports none of the hub's other packages: records are handed to it to decide on.

Personal identifiers at rest (ID numbers, names, phones, addresses, accounts):

    keys.py          key material types: SecretKey (never printed/pickled), purposes, HKDF
    aead.py          the AEAD a data key selects: AES-256-GCM (default) or SM4-GCM
    key_provider.py  envelope encryption: KeyProvider protocol, LocalKeyProvider (0600 KEK file)
    keyring.py       KeyRing: data keys (primary/active/retired), blind-index key, rotation
    field_crypto.py  FieldCipher: value <-> "v1.<kid>.<b64url>" bound to (node key, field)
    blind_index.py   BlindIndex: "bi1.<kid>.<b64url>" keyed HMAC, the MERGE key of persons
    normalise.py     identifier normalisation before indexing
    errors.py        the exception tree
"""
