"""Access tokens: short-lived JWTs signed with Ed25519 and the JWKS that lets every service verify them.

Other services never call accounts to check a token: they fetch the JWKS once (nrn_kit.auth)
and verify signatures locally. The key id is the RFC 7638 thumbprint of the public key, so it
is stable for a given key and changes when the key is rotated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ISSUER = "nrn-accounts"
AUDIENCE = "nrn"
ALGORITHM = "EdDSA"
ACCESS_TOKEN_TTL = timedelta(minutes=15)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    thumbprint = _b64url(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**jwk, "kid": kid or thumbprint, "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey = field(repr=False)
    kid: str

    @property
    def jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key.public_key(), self.kid)

    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def signing_key_from_private(private_key: Ed25519PrivateKey) -> SigningKey:
    return SigningKey(private_key=private_key, kid=public_jwk(private_key.public_key())["kid"])


def generate_signing_key() -> SigningKey:
    return signing_key_from_private(Ed25519PrivateKey.generate())


def load_signing_key(pem: str) -> SigningKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the token signing key must be an Ed25519 private key in PEM (PKCS#8)")
    return signing_key_from_private(key)


@dataclass(frozen=True)
class TokenClaims:
    """What an access token says about its bearer (mirrors nrn_kit.auth.Principal)."""

    account_id: str
    kind: str
    status: str
    roles: tuple[str, ...] = ()
    expertise: tuple[str, ...] = ()
    city_id: str | None = None
    partner_id: str | None = None


class TokenIssuer:
    """Signs with the first key; publishes every key so tokens signed before a rotation still verify."""

    def __init__(
        self,
        keys: list[SigningKey],
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        ttl: timedelta = ACCESS_TOKEN_TTL,
    ) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    @property
    def active_key(self) -> SigningKey:
        return self._keys[0]

    def issue(self, claims: TokenClaims, *, now: datetime) -> tuple[str, int]:
        """Return the signed token and its lifetime in seconds."""
        iat = int(now.timestamp())
        exp = iat + int(self.ttl.total_seconds())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": claims.account_id,
            "iat": iat,
            "nbf": iat,
            "exp": exp,
            "jti": secrets.token_hex(12),
            "kind": claims.kind,
            "status": claims.status,
            "roles": sorted(claims.roles),
            "expertise": sorted(claims.expertise),
            "city_id": claims.city_id,
            "partner_id": claims.partner_id,
        }
        token = jwt.encode(
            payload, self.active_key.private_key, algorithm=ALGORITHM, headers={"kid": self.active_key.kid, "typ": "JWT"}
        )
        return token, exp - iat

    def jwks(self) -> dict:
        return {"keys": [k.jwk for k in self._keys]}
