"""Request dependencies: who is calling, and may they."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from .auth import InvalidToken, Principal, authorize
from .clients import ServiceUnavailable, Services, UpstreamError
from .problems import ProblemError

# Declares the bearer scheme in the OpenAPI document (tokenUrl is the sign-in route).
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def services(request: Request) -> Services:
    return request.app.state.services


async def _verify(request: Request, token: str) -> Principal:
    try:
        principal = await request.app.state.verifier(token)
    except InvalidToken as exc:
        raise ProblemError(401, "Not signed in", f"The access token is not valid: {exc}") from exc
    request.state.principal = principal
    return principal


async def api_principal(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise ProblemError(401, "Not signed in", "Send an access token as 'Authorization: Bearer <token>'.")
    return await _verify(request, token)


async def api_principal_optional(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Principal | None:
    """Public reads: anonymous is fine, a bad token is not."""
    return await _verify(request, token) if token else None


async def optional_page_principal(request: Request) -> Principal | None:
    """The page session's principal. An expired access token is renewed with the session's
    refresh token (rotated by accounts), so a person is not signed out every 15 minutes."""
    token = request.session.get("token")
    if not isinstance(token, str) or not token:
        return None
    try:
        return await _verify(request, token)
    except ProblemError:
        pass
    refresh = request.session.get("refresh")
    request.session.pop("token", None)
    if isinstance(refresh, str) and refresh:
        try:
            pair = await request.app.state.services.accounts.post_json("/auth/refresh", json={"refresh_token": refresh})
        except (UpstreamError, ServiceUnavailable):
            request.session.pop("refresh", None)
            return None
        request.session["token"] = pair.get("access_token")
        request.session["refresh"] = pair.get("refresh_token")
        try:
            return await _verify(request, request.session["token"])
        except ProblemError:
            return None
    return None


async def page_principal(request: Request) -> Principal:
    principal = await optional_page_principal(request)
    if principal is None:
        raise ProblemError(401, "Not signed in", "Please sign in to continue.")
    return principal


def allow(principal: Principal, action: str, *, city_id: str | None = None) -> None:
    """The kit's authorisation matrix, checked before any upstream call (403 problem)."""
    authorize(principal, action, city_id=city_id)


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise ProblemError(403, "Forbidden", "This is for NRN staff only.")


def require_city(principal: Principal, city_id: str | None) -> None:
    """An official can never reach another city's data, whatever the URL says.

    404 rather than 403, so that ids of other cities are not even confirmed to exist."""
    if not principal.may_see_city(city_id):
        raise ProblemError(404, "Not found", "No such city, or it is not yours.")


ApiUser = Annotated[Principal, Depends(api_principal)]
PageUser = Annotated[Principal, Depends(page_principal)]
MaybePageUser = Annotated[Principal | None, Depends(optional_page_principal)]
Svc = Annotated[Services, Depends(services)]
