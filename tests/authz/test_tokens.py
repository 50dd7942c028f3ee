"""Bearer-token verification: every way a token can be wrong ends in one typed refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pickle
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from authz import tokens
from authz.errors import InsecureKeyFile, KeyFileCorrupt, KeyFileMissing, Unauthenticated
from authz.principal import Principal, Privilege, Role
from authz.tokens import (
    REQUIRED_CLAIMS,
    JwksFileSource,
    JwksUrlSource,
    LocalKeySource,
    Reason,
    SigningKey,
    TokenVerifier,
    jwk_thumbprint,
    mint,
)

ISSUER = "verification-hub-local"
AUDIENCE = "verification-hub"
CASEWORKER = Principal("cw-0042", Role.CASEWORKER, "410702001", "wangcun-township")
HOUR = timedelta(hours=1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def craft(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token put together by hand, the way an attacker would."""
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


class SpySource:
    """A key source that records what it was asked."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.asked: list[str] = []

    @property
    def blocking(self) -> bool:
        return False

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        self.asked.append(kid)
        return self.key.verification_key() if kid == self.key.kid else None


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "token-signing-key.pem"


@pytest.fixture
def key(key_path: Path) -> SigningKey:
    return SigningKey.load_or_create(key_path)


@pytest.fixture
def spy(key: SigningKey) -> SpySource:
    return SpySource(key)


@pytest.fixture
def verifier(spy: SpySource) -> TokenVerifier:
    return TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)


def refused(verifier: TokenVerifier, token: str) -> Reason:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return Reason(caught.value.reason)


def signed(key: SigningKey, **changes: Any) -> str:
    """A token with valid signature whose claims differ from a good one by `changes`."""
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    for name, value in changes.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    return key.sign(claims)


# --- the happy path -------------------------------------------------------------


def test_a_minted_token_verifies_to_its_principal(key: SigningKey, key_path: Path) -> None:
    principal = Principal(
        "centre-7", Role.VERIFICATION_CENTRE, "410700", "city-centre",
        frozenset({Privilege.UNMASK_IDENTIFIERS}),
    )  # fmt: skip
    token = mint(principal, HOUR, key, ISSUER, AUDIENCE)
    verifier = TokenVerifier(LocalKeySource(key_path), issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(token) == principal
    assert verifier.verify(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)).privileges == frozenset()


def test_minted_claims_and_header(key: SigningKey) -> None:
    token = mint(CASEWORKER, timedelta(minutes=30), key, ISSUER, AUDIENCE)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    claims = claims_of(token)
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["nbf"] == claims["iat"]
    assert "priv" not in claims
    assert claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))["jti"] != claims["jti"]


def test_a_small_clock_skew_is_tolerated(key: SigningKey, verifier: TokenVerifier) -> None:
    just_expired = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE, now=_ago(HOUR + _s(10)))
    assert verifier.verify(just_expired) == CASEWORKER
    strict = TokenVerifier(SpySource(key), issuer=ISSUER, audience=AUDIENCE, leeway=_s(0))
    assert refused(strict, just_expired) is Reason.EXPIRED


# --- time ---------------------------------------------------------------------------


def _s(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def _ago(delta: timedelta) -> datetime:
    return datetime.now(UTC) - delta


def test_expired(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE, now=_ago(2 * HOUR))
    assert refused(verifier, token) is Reason.EXPIRED


def test_not_yet_valid(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE, now=_ago(-timedelta(minutes=5)))
    assert refused(verifier, token) is Reason.NOT_YET_VALID


def test_nbf_in_the_future(key: SigningKey, verifier: TokenVerifier) -> None:
    later = int(datetime.now(UTC).timestamp()) + 600
    assert refused(verifier, signed(key, nbf=later)) is Reason.NOT_YET_VALID


def test_a_lifetime_beyond_the_maximum_is_refused(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint(CASEWORKER, timedelta(hours=13), key, ISSUER, AUDIENCE)
    assert refused(verifier, token) is Reason.LIFETIME_TOO_LONG
    short = TokenVerifier(SpySource(key), issuer=ISSUER, audience=AUDIENCE, max_lifetime=HOUR / 2)
    assert refused(short, mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE)) is Reason.LIFETIME_TOO_LONG
    assert short.verify(mint(CASEWORKER, HOUR / 2, key, ISSUER, AUDIENCE)) == CASEWORKER


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_dates_must_be_numbers(key: SigningKey, verifier: TokenVerifier, claim: str) -> None:
    value = str(claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))[claim])
    assert refused(verifier, signed(key, **{claim: value})) in {
        Reason.MALFORMED,
        Reason.MALFORMED_CLAIMS,
    }


# --- who issued it, for whom -------------------------------------------------------


def test_wrong_issuer(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint(CASEWORKER, HOUR, key, "someone-else", AUDIENCE)
    assert refused(verifier, token) is Reason.WRONG_ISSUER


def test_wrong_audience(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint(CASEWORKER, HOUR, key, ISSUER, "another-api")
    assert refused(verifier, token) is Reason.WRONG_AUDIENCE


def test_an_audience_list_that_names_us_is_accepted(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    assert verifier.verify(signed(key, aud=["another-api", AUDIENCE])) == CASEWORKER


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_every_required_claim_is_required(
    key: SigningKey, verifier: TokenVerifier, claim: str
) -> None:
    assert refused(verifier, signed(key, **{claim: None})) is Reason.MISSING_CLAIM


# --- signatures and algorithms ------------------------------------------------------


def test_a_forged_signature_is_refused(key: SigningKey, verifier: TokenVerifier) -> None:
    impostor = SigningKey.generate()
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    forged = jwt.encode(
        claims, impostor._private, algorithm="EdDSA", headers={"kid": key.kid, "typ": "JWT"}
    )
    assert refused(verifier, forged) is Reason.BAD_SIGNATURE


def test_an_edited_payload_breaks_the_signature(key: SigningKey, verifier: TokenVerifier) -> None:
    head, _, signature = mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE).split(".")
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    claims["role"], claims["region"] = "administrator", "410700"
    edited = f"{head}.{b64(json.dumps(claims).encode())}.{signature}"
    assert refused(verifier, edited) is Reason.BAD_SIGNATURE


def test_alg_none_never_reaches_a_key(key: SigningKey, spy: SpySource) -> None:
    verifier = TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    for alg in ("none", "None", "NONE", ""):
        token = craft({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims)
        assert refused(verifier, token) is Reason.DISALLOWED_ALGORITHM
    assert refused(verifier, craft({"kid": key.kid}, claims)) is Reason.DISALLOWED_ALGORITHM
    assert spy.asked == []


@pytest.mark.parametrize("encoding", ["pem", "raw"])
def test_hs256_signed_with_the_public_key_is_refused(
    key: SigningKey, spy: SpySource, encoding: str
) -> None:
    """The key-confusion attack: the public key, which anyone has, used as an HMAC secret."""
    public: Any = key.verification_key().key
    secret = (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if encoding == "pem"
        else public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    head_and_body = craft(header, claims).rsplit(".", 1)[0]
    mac = hmac.new(secret, head_and_body.encode(), hashlib.sha256).digest()
    verifier = TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)
    assert refused(verifier, f"{head_and_body}.{b64(mac)}") is Reason.DISALLOWED_ALGORITHM
    assert spy.asked == []


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "PS256", "ES384", "ES512", "Ed25519"])
def test_only_eddsa_and_es256_are_allowed(key: SigningKey, spy: SpySource, alg: str) -> None:
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    token = craft({"alg": alg, "kid": key.kid}, claims, b"\x00" * 64)
    verifier = TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)
    assert refused(verifier, token) is Reason.DISALLOWED_ALGORITHM
    assert spy.asked == []


def test_a_key_is_used_only_with_its_own_algorithm(key: SigningKey, spy: SpySource) -> None:
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    token = craft({"alg": "ES256", "kid": key.kid}, claims, b"\x01" * 64)
    verifier = TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)
    assert refused(verifier, token) is Reason.KEY_MISMATCH


def test_unknown_and_missing_kid(key: SigningKey, spy: SpySource) -> None:
    verifier = TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE)
    other = SigningKey.generate()
    assert refused(verifier, mint(CASEWORKER, HOUR, other, ISSUER, AUDIENCE)) is Reason.UNKNOWN_KEY
    assert spy.asked == [other.kid]
    claims = claims_of(mint(CASEWORKER, HOUR, key, ISSUER, AUDIENCE))
    no_kid = jwt.encode(claims, key._private, algorithm="EdDSA")
    assert refused(verifier, no_kid) is Reason.UNKNOWN_KEY
    long_kid = craft({"alg": "EdDSA", "kid": "k" * 500}, claims, b"\x00" * 64)
    assert refused(verifier, long_kid) is Reason.UNKNOWN_KEY
    assert spy.asked == [other.kid]


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "...", "e30.e30", "x" * 9000, "eyJhbGciOiJFZERTQSJ9.%%%.abc"],
)
def test_garbage_is_malformed(verifier: TokenVerifier, token: str) -> None:
    assert refused(verifier, token) is Reason.MALFORMED


# --- who the token speaks for -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"role": "superuser"}, Reason.UNKNOWN_ROLE),
        ({"role": "Caseworker"}, Reason.UNKNOWN_ROLE),
        ({"priv": ["unmask_everything"]}, Reason.UNKNOWN_PRIVILEGE),
        ({"priv": "unmask_identifiers"}, Reason.UNKNOWN_PRIVILEGE),
        ({"priv": [1]}, Reason.UNKNOWN_PRIVILEGE),
        ({"region": "410702"}, Reason.INVALID_PRINCIPAL),  # a caseworker needs a township
        ({"region": "110101001"}, Reason.INVALID_PRINCIPAL),  # not in Henan
        ({"sub": "has spaces"}, Reason.INVALID_PRINCIPAL),
        ({"org": "x" * 65}, Reason.INVALID_PRINCIPAL),
        ({"region": 410702001}, Reason.MALFORMED_CLAIMS),
        ({"org": ["a"]}, Reason.MALFORMED_CLAIMS),
        ({"sub": 7}, Reason.MALFORMED_CLAIMS),
    ],
)
def test_claims_that_describe_no_principal(
    key: SigningKey, verifier: TokenVerifier, changes: dict[str, Any], reason: Reason
) -> None:
    assert refused(verifier, signed(key, **changes)) is reason


def test_region_must_fit_the_role(key: SigningKey, verifier: TokenVerifier) -> None:
    assert verifier.verify(signed(key, role="agency", region="410702")).role is Role.AGENCY
    assert refused(verifier, signed(key, role="agency")) is Reason.INVALID_PRINCIPAL


def test_the_error_never_carries_the_token_or_claims(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    token = signed(key, role="superuser-x9")
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    error = caught.value
    shown = f"{error} {error!r} {error.args}"
    for secret in (token, token.split(".")[1], "superuser-x9", "cw-0042", "wangcun"):
        assert secret not in shown
    assert error.reason == "unknown_role"
    assert error.__cause__ is None
    assert error.__suppress_context__


# --- keys -------------------------------------------------------------------------


def test_rfc_8037_thumbprint() -> None:
    """RFC 8037 appendix A.3: the thumbprint of the RFC's Ed25519 example key."""
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert jwk_thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_local_key_file(key_path: Path, key: SigningKey) -> None:
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = SigningKey.load_or_create(key_path)
    assert again.kid == key.kid == jwk_thumbprint(key.verification_key().key)
    assert key.public_jwk()["kid"] == key.kid
    assert "d" not in key.public_jwk()


def test_a_readable_key_file_is_refused(key_path: Path, key: SigningKey) -> None:
    os.chmod(key_path, 0o644)
    with pytest.raises(InsecureKeyFile):
        SigningKey.load(key_path)
    with pytest.raises(InsecureKeyFile):
        LocalKeySource(key_path)  # at start-up, not on the first request


def test_a_key_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ed448.pem"
    path.write_bytes(
        Ed448PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    with pytest.raises(KeyFileCorrupt):
        SigningKey.load(path)
    path.write_bytes(b"not a key")
    with pytest.raises(KeyFileCorrupt):
        SigningKey.load(path)


def test_signing_keys_do_not_leak(key: SigningKey) -> None:
    assert repr(key) == f"SigningKey(algorithm='EdDSA', kid={key.kid!r})"
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_the_local_source_finds_a_key_minted_after_it_started(tmp_path: Path) -> None:
    path = tmp_path / "late" / "token-signing-key.pem"
    verifier = TokenVerifier(LocalKeySource(path), issuer=ISSUER, audience=AUDIENCE)
    stranger = SigningKey.generate()
    assert refused(verifier, mint(CASEWORKER, HOUR, stranger, ISSUER, AUDIENCE)) is (
        Reason.UNKNOWN_KEY
    )
    late = SigningKey.load_or_create(path)
    assert verifier.verify(mint(CASEWORKER, HOUR, late, ISSUER, AUDIENCE)) == CASEWORKER
    assert not verifier.blocking


# --- JWKS file ----------------------------------------------------------------------


def write_jwks(path: Path, *keys: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"keys": list(keys)}), encoding="utf-8")
    return path


def test_es256_from_a_jwks_file(tmp_path: Path) -> None:
    es = SigningKey.generate("ES256")
    ed = SigningKey.generate("EdDSA")
    source = JwksFileSource(write_jwks(tmp_path / "jwks.json", es.public_jwk(), ed.public_jwk()))
    verifier = TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)
    token = mint(CASEWORKER, HOUR, es, ISSUER, AUDIENCE)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert verifier.verify(token) == CASEWORKER
    assert verifier.verify(mint(CASEWORKER, HOUR, ed, ISSUER, AUDIENCE)) == CASEWORKER
    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[5] ^= 0xFF
    assert refused(verifier, f"{head}.{body}.{b64(bytes(raw))}") is Reason.BAD_SIGNATURE


def test_a_jwks_cannot_offer_an_hmac_secret_or_another_curve(tmp_path: Path) -> None:
    es = SigningKey.generate("ES256")
    ed448 = Ed448PrivateKey.generate().public_key()
    x448 = b64(ed448.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    secret = b"a-shared-secret-of-thirty-two-by"
    path = write_jwks(
        tmp_path / "jwks.json",
        {"kty": "oct", "k": b64(secret), "kid": "hmac", "alg": "HS256"},
        {"kty": "oct", "k": b64(secret), "kid": "hmac-as-eddsa", "alg": "EdDSA"},
        {"kty": "OKP", "crv": "Ed448", "x": x448, "kid": "ed448", "alg": "EdDSA"},
        {**es.public_jwk(), "kid": "enc-key", "use": "enc"},
        es.public_jwk(),
    )
    source = JwksFileSource(path)
    for kid in ("hmac", "hmac-as-eddsa", "ed448", "enc-key"):
        assert source.key_for(kid) is None
    assert source.key_for(es.kid) is not None
    verifier = TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)
    claims = claims_of(mint(CASEWORKER, HOUR, es, ISSUER, AUDIENCE))
    head_and_body = craft({"alg": "HS256", "kid": "hmac"}, claims).rsplit(".", 1)[0]
    mac = hmac.new(secret, head_and_body.encode(), hashlib.sha256).digest()
    assert refused(verifier, f"{head_and_body}.{b64(mac)}") is Reason.DISALLOWED_ALGORITHM
    as_eddsa = craft({"alg": "EdDSA", "kid": "hmac-as-eddsa"}, claims, b"\x00" * 64)
    assert refused(verifier, as_eddsa) is Reason.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("not json", KeyFileCorrupt),
        ('{"keys": {}}', KeyFileCorrupt),
        ("[]", KeyFileCorrupt),
        ('{"keys": []}', KeyFileCorrupt),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}', KeyFileCorrupt),
    ],
)
def test_a_bad_jwks_file_is_refused(tmp_path: Path, content: str, error: type[Exception]) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(error):
        JwksFileSource(path)


def test_a_jwks_file_with_a_private_key_or_twin_kids_is_refused(tmp_path: Path) -> None:
    ed = SigningKey.generate()
    private: Any = ed._private
    d = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    with pytest.raises(KeyFileCorrupt, match="private key"):
        JwksFileSource(write_jwks(tmp_path / "a.json", {**ed.public_jwk(), "d": b64(d)}))
    with pytest.raises(KeyFileCorrupt, match="share kid"):
        JwksFileSource(write_jwks(tmp_path / "b.json", ed.public_jwk(), ed.public_jwk()))
    with pytest.raises(KeyFileMissing):
        JwksFileSource(tmp_path / "absent.json")


# --- JWKS URL -----------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set a test can change."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


def test_es256_from_a_jwks_url(jwks_server: JwksServer) -> None:
    es = SigningKey.generate("ES256")
    jwks_server.document = {"keys": [es.public_jwk()]}
    verifier = TokenVerifier(JwksUrlSource(jwks_server.url), issuer=ISSUER, audience=AUDIENCE)
    assert verifier.blocking
    for _ in range(3):
        assert verifier.verify(mint(CASEWORKER, HOUR, es, ISSUER, AUDIENCE)) == CASEWORKER
    assert jwks_server.hits == 1  # cached
    stranger = SigningKey.generate("ES256")
    token = mint(CASEWORKER, HOUR, stranger, ISSUER, AUDIENCE)
    assert refused(verifier, token) is Reason.UNKNOWN_KEY
    assert jwks_server.hits == 1  # an unknown kid right after a fetch waits for the cooldown


def test_a_rotated_key_is_fetched_on_first_sight(jwks_server: JwksServer) -> None:
    old, new = SigningKey.generate("ES256"), SigningKey.generate("EdDSA")
    jwks_server.document = {"keys": [old.public_jwk()]}
    source = JwksUrlSource(jwks_server.url, refresh_cooldown=0)
    verifier = TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(mint(CASEWORKER, HOUR, old, ISSUER, AUDIENCE)) == CASEWORKER
    jwks_server.document = {"keys": [old.public_jwk(), new.public_jwk()]}
    assert verifier.verify(mint(CASEWORKER, HOUR, new, ISSUER, AUDIENCE)) == CASEWORKER
    assert jwks_server.hits == 2


def test_a_jwks_url_offering_an_hmac_secret_is_not_used(jwks_server: JwksServer) -> None:
    jwks_server.document = {"keys": [{"kty": "oct", "k": b64(b"s" * 32), "kid": "h"}]}
    source = JwksUrlSource(jwks_server.url, refresh_cooldown=0)
    assert source.key_for("h") is None


def test_an_unreachable_jwks_url(free_port: int) -> None:
    source = JwksUrlSource(f"http://127.0.0.1:{free_port}/jwks", timeout=2)
    verifier = TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE)
    token = mint(CASEWORKER, HOUR, SigningKey.generate(), ISSUER, AUDIENCE)
    assert refused(verifier, token) is Reason.KEYS_UNAVAILABLE


def test_a_jwks_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        JwksUrlSource("file:///etc/jwks.json")


def test_verifier_arguments_are_checked(spy: SpySource) -> None:
    with pytest.raises(ValueError, match="issuer"):
        TokenVerifier(spy, issuer="", audience=AUDIENCE)
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier(spy, issuer=ISSUER, audience=AUDIENCE, leeway=-_s(1))
    with pytest.raises(ValueError, match="lifetime"):
        mint(CASEWORKER, timedelta(0), SigningKey.generate(), ISSUER, AUDIENCE)


def test_public_names() -> None:
    assert set(tokens.__all__) == {
        "ALLOWED_ALGORITHMS", "DEFAULT_LEEWAY", "DEFAULT_MAX_LIFETIME", "REQUIRED_CLAIMS",
        "JwksFileSource", "JwksUrlSource", "KeySource", "LocalKeySource", "Reason",
        "SigningKey", "TokenVerifier", "jwk_thumbprint", "mint",
    }  # fmt: skip
    assert frozenset({"EdDSA", "ES256"}) == tokens.ALLOWED_ALGORITHMS
    assert all(hasattr(tokens, name) for name in tokens.__all__)
