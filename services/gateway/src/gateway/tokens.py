"""Token verification: the kit's ``TokenVerifier`` over the accounts client.

The JWKS is fetched through the gateway's shared accounts client (same timeouts and
breaker), cached, and fetched again on an unknown key id at most every 30 s.
"""

from __future__ import annotations

from typing import Any

from nrn_kit.auth import AuthError
from nrn_kit.auth import TokenVerifier as KitVerifier

from .auth import InvalidToken, Principal, TokenVerifier
from .clients import ServiceClient, ServiceUnavailable


def wrap(kit_verifier: KitVerifier) -> TokenVerifier:
    async def verify(token: str) -> Principal:
        try:
            principal = await kit_verifier.verify(token)
        except AuthError as exc:
            if exc.reason.startswith("cannot fetch the accounts JWKS"):
                # No keys, no verdict: "try again" (503), not "bad token" (401).
                raise ServiceUnavailable("accounts", "key set unavailable") from None
            raise InvalidToken(exc.reason) from None
        return Principal.of(principal, token)

    return verify


def jwks_verifier(settings: Any, accounts: ServiceClient) -> TokenVerifier:
    return wrap(KitVerifier(jwks_url=settings.accounts_jwks_url, http_client=accounts.http))
