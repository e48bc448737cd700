"""Verifying access tokens locally against the accounts service's JWKS.

Accounts signs short-lived EdDSA JWTs; the key set is fetched once and cached, and fetched
again (at most every ``REFRESH_FLOOR`` seconds) when a token names an unknown key id,
which is what a key rotation looks like from here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt

from .auth import InvalidToken, Principal, TokenVerifier
from .clients import ServiceClient

ISSUER = "nrn-accounts"
AUDIENCE = "nrn"
ALGORITHMS = ["EdDSA"]
REFRESH_FLOOR = 30.0


def principal_from_claims(claims: dict[str, Any], token: str) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("token has no subject")
    city = claims.get("city_id")
    return Principal(
        account_id=sub,
        token=token,
        kind=str(claims.get("kind") or "official"),
        roles=frozenset(str(r) for r in claims.get("roles") or ()),
        city_id=str(city) if city else None,
        name=claims.get("name"),
        email=claims.get("email"),
        status=claims.get("status"),
        claims=claims,
    )


class JwksCache:
    def __init__(self, fetch: Any, clock: Any = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> Any:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            if self._fetched_at is None or self._clock() - self._fetched_at >= REFRESH_FLOOR:
                jwks = await self._fetch()
                self._fetched_at = self._clock()
                self._keys = {k.get("kid"): jwt.PyJWK(k).key for k in jwks.get("keys", [])}
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise InvalidToken("token signed with an unknown key")


def jwks_verifier(settings: Any, accounts: ServiceClient, *, leeway: float = 5.0) -> TokenVerifier:
    async def fetch() -> dict[str, Any]:
        return await accounts.get_json(settings.accounts_jwks_url)

    cache = JwksCache(fetch)

    async def verify(token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        # Without the keys no signature can be checked: ServiceUnavailable propagates and
        # becomes a 503 ("try again"), not a 401 ("bad token").
        key = await cache.key(header.get("kid"))
        try:
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER, leeway=leeway,
                options={"require": ["exp", "sub", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return principal_from_claims(claims, token)

    return verify
