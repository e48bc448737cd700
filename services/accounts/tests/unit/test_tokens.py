"""Access tokens: Ed25519 JWTs with the agreed claims, verifiable by nrn_kit.auth from the JWKS alone."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from accounts.tokens import (
    TokenClaims,
    TokenIssuer,
    generate_signing_key,
    load_signing_key,
)
from nrn_kit.auth import AuthError, TokenVerifier


def claims(**kw) -> TokenClaims:
    base = dict(account_id="acc-1", kind="official", status="verified", city_id="mi-flint")
    base.update(kw)
    return TokenClaims(**base)


def test_token_has_the_agreed_claims_and_header() -> None:
    key = generate_signing_key()
    issuer = TokenIssuer([key])
    now = datetime.now(UTC)
    token, expires_in = issuer.issue(
        claims(kind="staff", city_id=None, roles=("reviewer", "curator"), expertise=("housing",)), now=now
    )
    assert expires_in == 900
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == key.kid
    body = jwt.decode(token, key.private_key.public_key(), algorithms=["EdDSA"], audience="nrn", issuer="nrn-accounts")
    assert body["sub"] == "acc-1" and body["kind"] == "staff" and body["status"] == "verified"
    assert body["roles"] == ["curator", "reviewer"] and body["expertise"] == ["housing"]
    assert body["city_id"] is None and body["exp"] - body["iat"] == 900 and body["jti"]


async def test_kit_verifier_accepts_tokens_using_only_the_jwks() -> None:
    issuer = TokenIssuer([generate_signing_key()])
    token, _ = issuer.issue(claims(), now=datetime.now(UTC))
    principal = await TokenVerifier(jwks=issuer.jwks()).verify(token)
    assert principal.account_id == "acc-1" and principal.city_id == "mi-flint" and principal.verified


async def test_tokens_expire_after_fifteen_minutes() -> None:
    issuer = TokenIssuer([generate_signing_key()])
    token, _ = issuer.issue(claims(), now=datetime.now(UTC) - timedelta(minutes=16))
    with pytest.raises(AuthError, match="expired"):
        await TokenVerifier(jwks=issuer.jwks()).verify(token)


async def test_rotation_keeps_old_tokens_valid_while_the_old_key_is_published() -> None:
    old, new = generate_signing_key(), generate_signing_key()
    old_token, _ = TokenIssuer([old]).issue(claims(), now=datetime.now(UTC))
    rotated = TokenIssuer([new, old])
    new_token, _ = rotated.issue(claims(), now=datetime.now(UTC))
    assert jwt.get_unverified_header(new_token)["kid"] == new.kid
    verifier = TokenVerifier(jwks=rotated.jwks())
    assert (await verifier.verify(old_token)).account_id == "acc-1"
    assert (await verifier.verify(new_token)).account_id == "acc-1"
    # once the old key is dropped, its tokens fail
    with pytest.raises(AuthError):
        await TokenVerifier(jwks=TokenIssuer([new]).jwks()).verify(old_token)


def test_jwks_publishes_public_keys_only() -> None:
    key = generate_signing_key()
    [jwk] = TokenIssuer([key]).jwks()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")


def test_key_round_trips_through_pem_with_a_stable_kid() -> None:
    key = generate_signing_key()
    again = load_signing_key(key.private_pem())
    assert again.kid == key.kid
    with pytest.raises(ValueError, match="Ed25519"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
        load_signing_key(pem)
