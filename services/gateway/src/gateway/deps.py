"""Request dependencies: who is calling, and may they."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from .auth import InvalidToken, Principal
from .clients import Services
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


async def optional_page_principal(request: Request) -> Principal | None:
    token = request.session.get("token")
    if not isinstance(token, str) or not token:
        return None
    try:
        return await _verify(request, token)
    except ProblemError:
        request.session.pop("token", None)
        return None


async def page_principal(request: Request) -> Principal:
    principal = await optional_page_principal(request)
    if principal is None:
        raise ProblemError(401, "Not signed in", "Please sign in to continue.")
    return principal


def require_staff(principal: Principal, *roles: str) -> None:
    if not principal.is_staff:
        raise ProblemError(403, "Forbidden", "This is for NRN staff only.")
    if roles and not principal.has_role(*roles):
        raise ProblemError(403, "Forbidden", "Your staff role does not allow this: it needs " + " or ".join(roles) + ".")


def require_city(principal: Principal, city_id: str | None) -> None:
    """An official can never reach another city's data, whatever the URL says.

    404 rather than 403, so that ids of other cities are not even confirmed to exist."""
    if not principal.may_see_city(city_id):
        raise ProblemError(404, "Not found", "No such city, or it is not yours.")


ApiUser = Annotated[Principal, Depends(api_principal)]
PageUser = Annotated[Principal, Depends(page_principal)]
MaybePageUser = Annotated[Principal | None, Depends(optional_page_principal)]
Svc = Annotated[Services, Depends(services)]
