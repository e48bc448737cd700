"""Request dependencies: who is calling, and may they."""

from __future__ import annotations

import hashlib

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from nrn_kit.idempotency import HEADER as IDEMPOTENCY_HEADER
from nrn_kit.idempotency import KEY_DESCRIPTION, KEY_MAX, valid_key

from .auth import InvalidToken, Principal, authorize
from .clients import UNSAFE_METHODS, ServiceUnavailable, Services, UpstreamError, use_idempotency_key
from .problems import ProblemError

# Declares the bearer scheme in the OpenAPI document (tokenUrl is the sign-in route).
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain-def dependency in a worker thread, per request
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


PERSON = "person"  # session key: {"account_id", "name"} of the signed-in person, for the page header
# (and, for an official awaiting verification, "mailbox_confirmed", "email", "city_name" for the banner)


async def _named(request: Request, principal: Principal) -> Principal:
    """Put the signed-in person's name where pages find it (``request.state.person_name``).
    Access tokens carry no name, so it comes from accounts' ``/me`` once and is kept in the
    session, keyed by account id; a token refresh (every 15 minutes) drops it so a changed
    name shows within that time. When accounts does not answer, the page goes without it."""
    cached = request.session.get(PERSON)
    if isinstance(cached, dict) and cached.get("account_id") == principal.account_id:
        request.state.person_name = cached.get("name")
        request.state.person = cached
        return principal
    request.state.person_name = None
    try:
        me = await request.app.state.services.accounts.get_json("/me", token=principal.token)
    except (UpstreamError, ServiceUnavailable):
        return principal  # nothing cached: the next page asks again
    name = me.get("name") if isinstance(me, dict) else None
    name = name.strip()[:300] if isinstance(name, str) else ""
    person = {"account_id": principal.account_id, "name": name or None}
    if isinstance(me, dict) and principal.is_official and not principal.verified:
        # what a pending official's banner says: whether they still have to confirm their mailbox
        person.update(mailbox_confirmed=bool(me.get("mailbox_confirmed")), email=me.get("email"),
                      city_name=me.get("city_name"), at_city_domain=bool(me.get("email_at_city_domain")))
    request.session[PERSON] = person
    request.state.person_name = name or None
    request.state.person = person
    return principal


async def rotate_refresh(request: Request, refresh: str) -> dict:
    """Exchange the session's refresh token for a new pair, once per token in this process.

    Several requests of one browser session (tabs, htmx fragments) that find the access token
    expired arrive together with the same refresh token. They share one call to accounts
    (single-flight), and for ``REFRESH_SHARE_SECONDS`` afterwards a request still carrying the
    old cookie gets the same new pair instead of spending the token again. Accounts honours a
    just-rotated token once more for a short while too (another gateway replica racing)."""
    key = hashlib.sha256(refresh.encode()).hexdigest()
    accounts = request.app.state.services.accounts
    return await request.app.state.refreshes.get(
        key, lambda: accounts.post_json("/auth/refresh", json={"refresh_token": refresh}))


async def optional_page_principal(request: Request) -> Principal | None:
    """The page session's principal. An expired access token is renewed with the session's
    refresh token (rotated by accounts), so a person is not signed out every 15 minutes, nor when
    several of their requests renew at once, nor when accounts is briefly unreachable (the
    session is kept; the page says the service is unavailable)."""
    token = request.session.get("token")
    if not isinstance(token, str) or not token:
        return None
    try:
        return await _named(request, await _verify(request, token))
    except ProblemError:
        pass
    refresh = request.session.get("refresh")
    if not isinstance(refresh, str) or not refresh:
        request.session.pop("token", None)
        request.session.pop(PERSON, None)
        return None
    try:
        pair = await rotate_refresh(request, refresh)
    except ServiceUnavailable:
        raise  # keep the session: accounts is down, not the person's sign-in
    except UpstreamError:
        # refused (expired, revoked, signed out elsewhere): the session is over
        for key in ("token", "refresh", PERSON):
            request.session.pop(key, None)
        return None
    request.session["token"] = pair.get("access_token")
    request.session["refresh"] = pair.get("refresh_token")
    request.session.pop(PERSON, None)
    try:
        principal = await _verify(request, request.session["token"])
    except ProblemError:
        return None
    return await _named(request, principal)


async def page_principal(request: Request) -> Principal:
    principal = await optional_page_principal(request)
    if principal is None:
        raise ProblemError(401, "Not signed in", "Please sign in to continue.")
    return principal


async def api_idempotency_key(
    request: Request,
    key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER, description=KEY_DESCRIPTION)] = None,
) -> None:
    """Router dependency of the API: a command's Idempotency-Key goes on to the services."""
    if request.method not in UNSAFE_METHODS or key is None:
        return
    if not valid_key(key):
        raise ProblemError(422, "Invalid input", f"{IDEMPOTENCY_HEADER} must be 1 to {KEY_MAX} visible ASCII "
                           "characters (a UUID is typical).", field=IDEMPOTENCY_HEADER)
    use_idempotency_key(key, from_form=False)


FORM_KEY_FIELD = "idempotency_key"


async def form_idempotency_key(request: Request) -> None:
    """Router dependency of the pages: every form carries a key (rendered with it, kept on Back by
    app.js), so sending a form twice makes one command."""
    if request.method not in UNSAFE_METHODS:
        return
    if not request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                                "multipart/form-data")):
        return
    value = (await request.form()).get(FORM_KEY_FIELD)  # cached: the route reads the form again for free
    if isinstance(value, str) and valid_key(value):
        use_idempotency_key(value, from_form=True)


def allow(principal: Principal, action: str, *, city_id: str | None = None, partner_id: str | None = None) -> None:
    """The kit's authorisation matrix, checked before any upstream call (403 problem)."""
    authorize(principal, action, city_id=city_id, partner_id=partner_id)


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
