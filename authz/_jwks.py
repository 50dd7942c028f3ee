"""JSON Web Keys for bearer tokens: the two key types we accept, thumbprints, signing keys.

Only two kinds of key exist here, matching the algorithm allow-list: Ed25519
(`EdDSA`) and P-256 (`ES256`). Anything else a key set offers (RSA, HMAC
secrets, other curves, private keys) is never used to verify, so a key set
cannot smuggle in a weaker or symmetric algorithm. A key's `kid` is its RFC 7638
thumbprint, so the same key always gets the same id and a kid names one key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, NoReturn, final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from authz._encoding import b64url_encode
from authz._files import read_owner_only, write_owner_only
from authz.errors import KeyFileCorrupt

__all__ = [
    "ALLOWED_ALGORITHMS",
    "PrivateKey",
    "PublicKey",
    "SigningKey",
    "accepted_jwk",
    "jwk_thumbprint",
]

ALLOWED_ALGORITHMS: Final = frozenset({"EdDSA", "ES256"})
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_WHAT: Final = "token signing key file"
_COORDINATE_BYTES: Final = 32


def _public_members(key: PublicKey) -> dict[str, str]:
    """The required members of RFC 7638 §3.2, which are also the whole public JWK."""
    if isinstance(key, Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}
    if not isinstance(key.curve, ec.SECP256R1):
        raise TypeError("only P-256 elliptic-curve keys are accepted (ES256)")
    numbers = key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }


def jwk_thumbprint(key: PublicKey) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace, base64url."""
    canonical = json.dumps(_public_members(key), sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def accepted_jwk(jwk: jwt.PyJWK) -> bool:
    """Whether a parsed JWK may verify tokens: an allowed algorithm over a public key of its type.

    PyJWK takes the algorithm from the JWK's own `alg`, or guesses it from `kty`
    (an `oct` key becomes HS256); both are checked against what the key really is.
    """
    key: Any = jwk.key
    if jwk.algorithm_name == "EdDSA":
        return isinstance(key, Ed25519PublicKey)
    if jwk.algorithm_name == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return False


@final
class SigningKey:
    """A private key that mints tokens: the embedded default's local key, or a test's key.

    It never prints, pickles or copies its private half.
    """

    __slots__ = ("_private", "algorithm", "kid")

    def __init__(self, private_key: PrivateKey) -> None:
        if isinstance(private_key, Ed25519PrivateKey):
            self.algorithm = "EdDSA"
        elif isinstance(private_key.curve, ec.SECP256R1):
            self.algorithm = "ES256"
        else:
            raise TypeError("a signing key must be Ed25519 or P-256")
        self._private = private_key
        self.kid = jwk_thumbprint(private_key.public_key())

    @classmethod
    def generate(cls, algorithm: str = "EdDSA") -> SigningKey:
        if algorithm == "EdDSA":
            return cls(Ed25519PrivateKey.generate())
        if algorithm == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        raise ValueError(f"algorithm must be one of {sorted(ALLOWED_ALGORITHMS)}")

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """The Ed25519 key in a PEM file; refuses a file that group or others may access."""
        data = read_owner_only(path, _WHAT)
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise KeyFileCorrupt(
                str(path), "not an unencrypted PEM private key; move it away to make a new one"
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileCorrupt(str(path), "the local token signing key must be Ed25519")
        return cls(private)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """First use writes a new Ed25519 key (PKCS#8 PEM, mode 0600); later uses load it."""
        if path.exists():
            return cls.load(path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_owner_only(path, pem, _WHAT, replace=False)
        return cls(key)

    def public_jwk(self) -> dict[str, str]:
        """What a JWKS publishes for this key: public members, kid, alg and use."""
        members = _public_members(self._private.public_key())
        return {**members, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def verification_key(self) -> jwt.PyJWK:
        return jwt.PyJWK(self.public_jwk())

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS of `claims` with this key's kid and algorithm in the header."""
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode(dict(claims), self._private, algorithm=self.algorithm, headers=headers)

    def __repr__(self) -> str:
        return f"SigningKey(algorithm={self.algorithm!r}, kid={self.kid!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey refuses to be pickled or copied")
