"""Bearer tokens: a compact JWS in, a `Principal` out, or `Unauthenticated`.

The order of checks is what makes the algorithm allow-list mean something:

1. the token's size and shape, then its header's `alg` against EdDSA and ES256
   only, before any key is looked up: `none`, HS* (the key-confusion attack,
   a public key used as an HMAC secret) and RS* never reach a key;
2. the key by `kid` from one configured `KeySource`, which must be a public
   key of exactly that algorithm (a key set cannot offer an HMAC secret);
3. the signature (PyJWT, told the one algorithm), then `exp`, `nbf`, `iat`
   (with a small leeway), `iss` and `aud`; every claim the hub relies on
   must be present;
4. our own rules: numeric dates, a bounded lifetime (`exp - iat`), a known
   role and privileges, a region that fits the role (`Principal`).

Every failure is one `Unauthenticated` whose `reason` is a `Reason` constant
for the audit log; the caller learns nothing but "unauthenticated". Key
sources: the embedded default's local Ed25519 key file (`LocalKeySource`), a
JWKS file, or a JWKS URL (cached, fetched with a timeout; its `blocking` flag
tells an async caller to verify off the event loop).

    key = SigningKey.load_or_create(key_dir / "token-signing-key.pem")
    token = mint(principal, timedelta(hours=1), key, "verification-hub-local", "verification-hub")
    verifier = TokenVerifier(LocalKeySource(key_dir / "token-signing-key.pem"),
                             issuer="verification-hub-local", audience="verification-hub")
    verifier.verify(token) == principal
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol, final
from urllib.parse import urlsplit

import jwt

from authz._jwks import ALLOWED_ALGORITHMS, SigningKey, accepted_jwk, jwk_thumbprint
from authz.errors import KeyFileCorrupt, KeyFileMissing, Unauthenticated
from authz.principal import InvalidPrincipal, Principal, Privilege, Role

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_LIFETIME",
    "REQUIRED_CLAIMS",
    "JwksFileSource",
    "JwksUrlSource",
    "KeySource",
    "LocalKeySource",
    "Reason",
    "SigningKey",
    "TokenVerifier",
    "jwk_thumbprint",
    "mint",
]

DEFAULT_LEEWAY: Final = timedelta(seconds=30)
DEFAULT_MAX_LIFETIME: Final = timedelta(hours=12)
REQUIRED_CLAIMS: Final = ("exp", "nbf", "iat", "iss", "aud", "sub", "role", "region", "org")
_MAX_TOKEN_CHARS: Final = 8192
_MAX_KID_CHARS: Final = 128


class Reason(StrEnum):
    """Why a token was refused: for the audit log, never for the caller."""

    MISSING = "missing"
    MALFORMED = "malformed"
    DISALLOWED_ALGORITHM = "disallowed_algorithm"
    UNKNOWN_KEY = "unknown_key"
    KEY_MISMATCH = "key_mismatch"
    KEYS_UNAVAILABLE = "keys_unavailable"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    MISSING_CLAIM = "missing_claim"
    MALFORMED_CLAIMS = "malformed_claims"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_PRIVILEGE = "unknown_privilege"
    INVALID_PRINCIPAL = "invalid_principal"


class KeySource(Protocol):
    """Where verification keys come from; asked only for a kid whose algorithm is allowed."""

    @property
    def blocking(self) -> bool:
        """True when `key_for` may wait on the network: verify in a thread, not the event loop."""
        ...

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        """The accepted public key with this kid, or None; `Unauthenticated` if keys are
        unreachable (reason `keys_unavailable`)."""
        ...


@final
class LocalKeySource:
    """The embedded default: the public half of the local signing key file.

    An existing file is read at once, so a loose or broken one stops the hub at
    start-up rather than failing requests; a missing one is looked for again on
    each token, so a key first minted after the hub started is still found.
    """

    __slots__ = ("_key", "_path")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._key: jwt.PyJWK | None = None
        if path.exists():
            self._key = SigningKey.load(path).verification_key()

    @property
    def blocking(self) -> bool:
        return False

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        if self._key is None:
            if not self._path.exists():
                return None
            self._key = SigningKey.load(self._path).verification_key()
        return self._key if self._key.key_id == kid else None

    def __repr__(self) -> str:
        return f"LocalKeySource({str(self._path)!r})"


def _key_set(document: object, where: str) -> dict[str, jwt.PyJWK]:
    """The accepted signing keys of a JWKS document by kid; refuses a document that is wrong."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise KeyFileCorrupt(where, 'not a JWKS: expected {"keys": [...]}')
    accepted: dict[str, jwt.PyJWK] = {}
    for entry in keys:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if "d" in entry:
            raise KeyFileCorrupt(where, "holds a private key; publish only public keys")
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            jwk = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if not accepted_jwk(jwk):
            continue
        if kid in accepted:
            raise KeyFileCorrupt(where, f"two keys share kid {kid!r}")
        accepted[kid] = jwk
    if not accepted:
        raise KeyFileCorrupt(where, "no Ed25519 (EdDSA) or P-256 (ES256) public key with a kid")
    return accepted


@final
class JwksFileSource:
    """A JWKS file, read once: restart (or build a new verifier) to pick up new keys."""

    __slots__ = ("_keys", "_path")

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileMissing(str(path), "JWKS file") from None
        try:
            document = json.loads(text)
        except ValueError:
            raise KeyFileCorrupt(str(path), "not JSON") from None
        self._keys = _key_set(document, str(path))

    @property
    def blocking(self) -> bool:
        return False

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def __repr__(self) -> str:
        return f"JwksFileSource({str(self._path)!r}, kids={sorted(self._keys)})"


@final
class JwksUrlSource:
    """An issuer's JWKS endpoint through PyJWKClient.

    The key set is cached for `cache_seconds`; an unknown kid refetches it at
    most once per `refresh_cooldown` (so a flood of made-up kids cannot hammer
    the issuer), and every fetch gives up after `timeout` seconds.
    """

    __slots__ = ("_client", "_url")

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        cache_seconds: float = 300.0,
        refresh_cooldown: float = 30.0,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("a JWKS URL must be http(s)")
        self._url = url
        self._client = jwt.PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=cache_seconds,
            timeout=timeout,
            cooldown_duration=refresh_cooldown,
        )

    @property
    def blocking(self) -> bool:
        return True

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        try:
            jwk = self._client.get_signing_key(kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError):
            raise Unauthenticated(Reason.KEYS_UNAVAILABLE) from None
        except jwt.PyJWKClientError:
            return None
        return jwk if accepted_jwk(jwk) else None

    def __repr__(self) -> str:
        return f"JwksUrlSource({self._url!r})"


# Most specific first: InvalidSignatureError is a DecodeError, and so on.
_PYJWT_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], Reason], ...]] = (
    (jwt.InvalidSignatureError, Reason.BAD_SIGNATURE),
    (jwt.ExpiredSignatureError, Reason.EXPIRED),
    (jwt.ImmatureSignatureError, Reason.NOT_YET_VALID),
    (jwt.InvalidIssuerError, Reason.WRONG_ISSUER),
    (jwt.InvalidAudienceError, Reason.WRONG_AUDIENCE),
    (jwt.MissingRequiredClaimError, Reason.MISSING_CLAIM),
    (jwt.InvalidAlgorithmError, Reason.DISALLOWED_ALGORITHM),
    (jwt.InvalidIssuedAtError, Reason.MALFORMED_CLAIMS),
    (jwt.exceptions.InvalidSubjectError, Reason.MALFORMED_CLAIMS),
    (jwt.exceptions.InvalidJTIError, Reason.MALFORMED_CLAIMS),
)


def _reason_for(error: jwt.PyJWTError) -> Reason:
    for kind, reason in _PYJWT_REASONS:
        if isinstance(error, kind):
            return reason
    return Reason.MALFORMED


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@final
class TokenVerifier:
    """Checks bearer tokens against one key source, one issuer and one audience."""

    __slots__ = ("_audience", "_issuer", "_keys", "_leeway", "_max_lifetime")

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway: timedelta = DEFAULT_LEEWAY,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("a verifier needs an issuer and an audience")
        if leeway < timedelta(0) or max_lifetime <= timedelta(0):
            raise ValueError("leeway must be >= 0 and the maximum lifetime > 0")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._max_lifetime = max_lifetime

    @property
    def blocking(self) -> bool:
        """True when `verify` may wait on the network (a JWKS URL)."""
        return self._keys.blocking

    def verify(self, token: str) -> Principal:
        """The principal `token` stands for; `Unauthenticated` for every reason it does not."""
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
            raise Unauthenticated(Reason.MALFORMED)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated(Reason.MALFORMED) from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(Reason.DISALLOWED_ALGORITHM)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID_CHARS:
            raise Unauthenticated(Reason.UNKNOWN_KEY)
        key = self._keys.key_for(kid)
        if key is None:
            raise Unauthenticated(Reason.UNKNOWN_KEY)
        if key.algorithm_name != algorithm:
            raise Unauthenticated(Reason.KEY_MISMATCH)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(_reason_for(error)) from None
        return self._principal(claims)

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        """Our rules on top of a signature and registered claims PyJWT already checked."""
        if not all(_is_number(claims[name]) for name in ("exp", "nbf", "iat")):
            raise Unauthenticated(Reason.MALFORMED_CLAIMS)
        if claims["exp"] - claims["iat"] > self._max_lifetime.total_seconds():
            raise Unauthenticated(Reason.LIFETIME_TOO_LONG)
        subject, role, region, org = (claims[n] for n in ("sub", "role", "region", "org"))
        if not all(isinstance(value, str) for value in (subject, role, region, org)):
            raise Unauthenticated(Reason.MALFORMED_CLAIMS)
        try:
            known_role = Role(role)
        except ValueError:
            raise Unauthenticated(Reason.UNKNOWN_ROLE) from None
        granted = claims.get("priv", [])
        if not isinstance(granted, list):
            raise Unauthenticated(Reason.UNKNOWN_PRIVILEGE)
        try:
            privileges = frozenset(Privilege(p) for p in granted)
        except ValueError:
            raise Unauthenticated(Reason.UNKNOWN_PRIVILEGE) from None
        try:
            return Principal(subject, known_role, region, org, privileges)
        except InvalidPrincipal:
            raise Unauthenticated(Reason.INVALID_PRINCIPAL) from None

    def __repr__(self) -> str:
        return (
            f"TokenVerifier({self._keys!r}, issuer={self._issuer!r}, audience={self._audience!r})"
        )


def mint(
    principal: Principal,
    ttl: timedelta,
    signing_key: SigningKey,
    issuer: str,
    audience: str,
    *,
    now: datetime | None = None,
) -> str:
    """A token for `principal`, valid from `now` for `ttl`: development and tests only.

    Production tokens come from the organisation's identity provider; this
    exists so the embedded default and the tests need no such provider.
    """
    if ttl <= timedelta(0):
        raise ValueError("a token's lifetime must be positive")
    issued = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": secrets.token_urlsafe(16),
        "role": principal.role.value,
        "region": principal.region,
        "org": principal.organisation,
    }
    if principal.privileges:
        claims["priv"] = sorted(p.value for p in principal.privileges)
    return signing_key.sign(claims)
