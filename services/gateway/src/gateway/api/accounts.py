"""Accounts, sign-in and cities: /api/v1/accounts, /auth, /me, /cities."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from nrn_contracts.values import SingleLine

from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..dashboard import DashboardContext, build_dashboard
from ..deps import ApiUser, Svc, allow, require_city
from ..problems import ProblemError
from .forward import forward
from .models import (
    Id,
    MemberCreate,
    MessageIn,
    OfficialSignup,
    OptionalReasonIn,
    PasswordChange,
    PartnerCreate,
    ReasonIn,
    RefreshIn,
    ResetConfirm,
    ResetRequest,
    Role,
    RoleGrant,
    StaffCreate,
    TokenIn,
)

router = APIRouter()

Limit = Annotated[int | None, Query(ge=1, le=200)]
Offset = Annotated[int | None, Query(ge=0, le=1_000_000)]
Q = Annotated[SingleLine | None, Query(max_length=100)]
StateCode = Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")]

PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "not found", **PROBLEM}, 503: {"description": "a service is unavailable", **PROBLEM}}


# --- sign-up and sign-in -----------------------------------------------------------------------


@router.post("/accounts", status_code=201, tags=["accounts"], summary="An official signs up",
             responses={409: {"description": "email already registered", **PROBLEM},
                        422: {"description": "invalid input, unknown or ineligible city, weak password", **PROBLEM}})
async def sign_up(request: Request, body: OfficialSignup, svc: Svc) -> Response:
    """Creates the official's account: 201 with the account and its `status` (`pending`, or
    `verified` when the email is at one of the city's official domains)."""
    return await forward(request, svc.accounts, "POST", "/accounts/officials", principal=None, json=body.out(),
                         location_prefix="/api/v1/accounts/")


@router.post("/auth/token", tags=["auth"], summary="Sign in (OAuth2 password form)",
             responses={401: {"description": "wrong email or password", **PROBLEM},
                        423: {"description": "locked after repeated failures", **PROBLEM},
                        429: {"description": "too many attempts", **PROBLEM}})
async def token(
    request: Request,
    svc: Svc,
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    grant_type: Annotated[str | None, Form(pattern=r"^(password|refresh_token)$")] = None,
    refresh_token: Annotated[str | None, Form(max_length=4096)] = None,
    scope: Annotated[str | None, Form(max_length=1000)] = None,
) -> Response:
    """`username` (email) and `password` → `{access_token, token_type, expires_in, refresh_token, …}`.
    With `grant_type=refresh_token` and `refresh_token`, a new pair (the old refresh token is spent)."""
    if grant_type == "refresh_token":
        if not refresh_token:
            raise ProblemError(422, "Invalid input", "refresh_token: required with grant_type=refresh_token", field="refresh_token")
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    else:
        if not username or not password:
            field = "username" if not username else "password"
            raise ProblemError(422, "Invalid input", f"{field}: required", field=field)
        data = {"grant_type": "password", "username": username, "password": password}
    return await forward(request, svc.accounts, "POST", "/auth/token", principal=None, data=data)


@router.post("/auth/refresh", tags=["auth"], summary="Exchange a refresh token for a new pair")
async def refresh(request: Request, body: RefreshIn, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "POST", "/auth/refresh", principal=None, json=body.out())


@router.post("/auth/signout", status_code=204, tags=["auth"], summary="Revoke a refresh token's family")
async def signout(request: Request, body: RefreshIn, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "POST", "/auth/signout", principal=None, json=body.out())


@router.post("/auth/password-reset", status_code=202, tags=["auth"], summary="Ask for a password reset")
async def password_reset(request: Request, body: ResetRequest, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "POST", "/auth/password-reset", principal=None, json=body.out())


@router.post("/auth/password-reset/confirm", status_code=204, tags=["auth"], summary="Set a new password with a reset token")
async def password_reset_confirm(request: Request, body: ResetConfirm, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "POST", "/auth/password-reset/confirm", principal=None, json=body.out())


@router.post("/auth/confirm-email", tags=["auth"], summary="Confirm a mailbox with the link's token",
             responses={400: {"description": "the link is invalid, used or expired (`field: token`)", **PROBLEM}})
async def confirm_email(request: Request, body: TokenIn, svc: Svc) -> Response:
    """`{account_id, email, status, mailbox_confirmed}`; `status` is `verified` when the address is
    at the city's official domain (the domain rule applies only once the mailbox is confirmed)."""
    return await forward(request, svc.accounts, "POST", "/auth/confirm-email", principal=None, json=body.out())


@router.post("/auth/confirm-email/resend", status_code=202, tags=["auth"], summary="Send the confirmation link again",
             responses={429: {"description": "too many requests for a link", **PROBLEM}})
async def confirm_email_resend(request: Request, body: ResetRequest, svc: Svc) -> Response:
    """202 alike for every address; a new link goes only to an account waiting for confirmation."""
    return await forward(request, svc.accounts, "POST", "/auth/confirm-email/resend", principal=None, json=body.out())


@router.post("/me/password", tags=["auth"], summary="Change the signed-in person's password",
             responses={**ERRORS, 422: {"description": "wrong current password, or the new one breaks the policy", **PROBLEM},
                        423: {"description": "locked after repeated failures", **PROBLEM}})
async def change_password(request: Request, body: PasswordChange, user: ApiUser, svc: Svc) -> Response:
    """A new token pair for this client; every other refresh token of the account is revoked."""
    return await forward(request, svc.accounts, "POST", "/me/password", principal=user, json=body.out())


# --- me ------------------------------------------------------------------------------------------


@router.get("/me", tags=["accounts"], summary="The signed-in account, its roles and city", responses=ERRORS)
async def me(user: ApiUser, svc: Svc) -> JSONResponse:
    """What the token says (always), the account record and the city (when their services
    answer; otherwise `partial: true` and `missing` name what is absent)."""

    async def account(_: None) -> Any:
        return await svc.accounts.get_json("/me", token=user.token)

    async def city(_: None) -> Any:
        return await svc.accounts.get_json(f"/cities/{user.city_id}", token=user.token)

    sections = [Section("account", "Account", "accounts", account)]
    if user.city_id:
        sections.append(Section("city", "City", "accounts", city))
    out = await compose(sections, None, default_timeout=5.0)
    return JSONResponse({
        "account_id": user.account_id,
        "kind": user.kind,
        "status": user.status,
        "roles": sorted(user.roles),
        "expertise": sorted(user.expertise),
        "city_id": user.city_id,
        "account": out.sections.get("account"),
        "city": out.sections.get("city"),
        "partial": out.partial,
        "missing": [m.as_dict() for m in out.missing],
    })


# --- staff: accounts -----------------------------------------------------------------------------


@router.get("/accounts", tags=["staff: accounts"], summary="List accounts (staff)", responses=ERRORS)
async def list_accounts(
    request: Request, user: ApiUser, svc: Svc,
    kind: Annotated[str | None, Query(pattern=r"^(official|staff|partner_member)$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(pending|verified|deactivated|rejected)$")] = None,
    city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    partner_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    role: Role | None = None,
    expertise: Annotated[SingleLine | None, Query(max_length=100)] = None,
    q: Q = None, limit: Limit = None, offset: Offset = None,
) -> Response:
    allow(user, "account.read")
    params = {"kind": kind, "status": status, "city_id": city_id, "partner_id": partner_id, "role": role,
              "expertise": expertise, "q": q, "limit": limit, "offset": offset}
    return await forward(request, svc.accounts, "GET", "/accounts", principal=user, params=params)


@router.get("/accounts/{account_id}", tags=["staff: accounts"], summary="One account (self, or staff)", responses=ERRORS)
async def get_account(request: Request, account_id: Id, user: ApiUser, svc: Svc) -> Response:
    if account_id != user.account_id:
        allow(user, "account.read")
    return await forward(request, svc.accounts, "GET", f"/accounts/{account_id}", principal=user)


@router.post("/accounts/{account_id}/verify", tags=["staff: accounts"], summary="Staff verify an official's account",
             responses={**ERRORS, 409: {"description": "not pending", **PROBLEM}})
async def verify_account(request: Request, account_id: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.verify")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/verify", principal=user)


@router.get("/accounts/{account_id}/contact", tags=["staff: accounts"],
            summary="How to reach an official about their request (staff answering it, or oneself)", responses=ERRORS)
async def contact_card(request: Request, account_id: Id, user: ApiUser, svc: Svc) -> Response:
    if account_id != user.account_id:
        allow(user, "account.contact")
    return await forward(request, svc.accounts, "GET", f"/accounts/{account_id}/contact", principal=user)


@router.post("/accounts/{account_id}/reject", tags=["staff: accounts"],
             summary="Refuse a pending official's sign-up, with the reason they are told", responses=ERRORS)
async def reject_account(request: Request, account_id: Id, body: ReasonIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.verify")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/reject", principal=user,
                         json=body.out())


@router.post("/accounts/{account_id}/information-requests", tags=["staff: accounts"],
             summary="Ask a pending official for more before verifying them", responses=ERRORS)
async def request_account_information(request: Request, account_id: Id, body: MessageIn, user: ApiUser,
                                      svc: Svc) -> Response:
    allow(user, "account.verify")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/information-requests",
                         principal=user, json=body.out())


@router.post("/accounts/{account_id}/reactivate", tags=["staff: accounts"],
             summary="Let a deactivated or rejected account sign in again", responses=ERRORS)
async def reactivate_account(request: Request, account_id: Id, user: ApiUser, svc: Svc,
                             body: OptionalReasonIn | None = None) -> Response:
    allow(user, "account.manage")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/reactivate", principal=user,
                         json=body.out() if body is not None else {})


@router.post("/accounts/{account_id}/deactivate", tags=["staff: accounts"], summary="Deactivate an account", responses=ERRORS)
async def deactivate_account(request: Request, account_id: Id, body: ReasonIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.manage")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/deactivate", principal=user, json=body.out())


@router.post("/accounts/{account_id}/roles", tags=["staff: accounts"], summary="Grant a staff role", responses=ERRORS)
async def grant_role(request: Request, account_id: Id, body: RoleGrant, user: ApiUser, svc: Svc) -> Response:
    allow(user, "role.grant")
    return await forward(request, svc.accounts, "POST", f"/accounts/{account_id}/roles", principal=user, json=body.out())


@router.delete("/accounts/{account_id}/roles/{role}", tags=["staff: accounts"], summary="Revoke a staff role", responses=ERRORS)
async def revoke_role(request: Request, account_id: Id, role: Role, user: ApiUser, svc: Svc) -> Response:
    allow(user, "role.grant")
    return await forward(request, svc.accounts, "DELETE", f"/accounts/{account_id}/roles/{role}", principal=user)


@router.post("/accounts/staff", status_code=201, tags=["staff: accounts"], summary="Create a staff account (administrators)",
             responses=ERRORS)
async def create_staff(request: Request, body: StaffCreate, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.manage")
    return await forward(request, svc.accounts, "POST", "/accounts/staff", principal=user, json=body.out(),
                         location_prefix="/api/v1/accounts/")


@router.get("/partners", tags=["staff: accounts"], summary="List partner organizations", responses=ERRORS)
async def list_partners(
    request: Request, user: ApiUser, svc: Svc,
    kind: Annotated[str | None, Query(pattern=r"^(consortium_member|federal_agency)$")] = None,
    limit: Limit = None, offset: Offset = None,
) -> Response:
    allow(user, "account.read")
    return await forward(request, svc.accounts, "GET", "/partners", principal=user,
                         params={"kind": kind, "limit": limit, "offset": offset})


@router.post("/partners", status_code=201, tags=["staff: accounts"], summary="Create a partner organization", responses=ERRORS)
async def create_partner(request: Request, body: PartnerCreate, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.manage")
    return await forward(request, svc.accounts, "POST", "/partners", principal=user, json=body.out(),
                         location_prefix="/api/v1/partners/", location_id_field="partner_id")


@router.get("/partners/{partner_id}", tags=["staff: accounts"], summary="One partner with its members", responses=ERRORS)
async def get_partner(request: Request, partner_id: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.read")
    return await forward(request, svc.accounts, "GET", f"/partners/{partner_id}", principal=user)


@router.post("/partners/{partner_id}/members", status_code=201, tags=["staff: accounts"], summary="Add a partner member",
             responses=ERRORS)
async def add_partner_member(request: Request, partner_id: Id, body: MemberCreate, user: ApiUser, svc: Svc) -> Response:
    allow(user, "account.manage")
    return await forward(request, svc.accounts, "POST", f"/partners/{partner_id}/members", principal=user, json=body.out())


# --- cities ----------------------------------------------------------------------------------------

ELIGIBILITY_FANOUT = 8  # concurrent eligibility look-ups, only for items that came without one


async def with_eligibility(svc: Any, items: list[dict[str, Any]], token: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Each city with its eligibility explanation (reasons). Accounts' list carries it
    (``with_eligibility=true``), so this fetches nothing; only a city that came without one
    (an accounts that predates the option, during a rolling deploy) is fetched on its own."""
    semaphore = asyncio.Semaphore(ELIGIBILITY_FANOUT)
    failed: list[str] = []

    async def one(item: dict[str, Any]) -> dict[str, Any]:
        if isinstance(item.get("eligibility"), dict):
            return item
        async with semaphore:
            try:
                eligibility = await svc.accounts.get_json(f"/cities/{item['city_id']}/eligibility", token=token)
            except (ServiceUnavailable, UpstreamError):
                failed.append(str(item.get("city_id")))
                eligibility = None
        return {**item, "eligibility": eligibility}

    enriched = await asyncio.gather(*(one(i) for i in items if isinstance(i, dict) and "city_id" in i))
    return list(enriched), failed


@router.get("/cities", tags=["cities"], summary="Cities with their eligibility and its reasons")
async def list_cities(
    svc: Svc,
    eligible: bool | None = None,
    state: StateCode = None,
    q: Q = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Offset = None,
) -> JSONResponse:
    """Public. `eligible`, `state` (USPS code) and `q` (name) filter; each city carries
    `eligibility` (`eligible`, `basis`, `summary`, `reasons[]`). One call to accounts per page.
    If some explanations could not be fetched, `partial` is true and those cities have
    `eligibility: null`."""
    page = await svc.accounts.get_json(
        "/cities", params={"eligible": None if eligible is None else str(eligible).lower(), "state": state,
                           "q": q, "limit": limit, "offset": offset, "with_eligibility": "true"})
    items, failed = await with_eligibility(svc, page.get("items", []), None)
    missing = [{"section": "eligibility", "service": "accounts", "reason": f"explanation unavailable for {c}"} for c in failed]
    return JSONResponse({**page, "items": items, "partial": bool(failed), "missing": missing})


@router.get("/cities/{city_id}", tags=["cities"], summary="One city with its eligibility explanation",
            responses={404: {"description": "unknown city", **PROBLEM}})
async def get_city(request: Request, city_id: Id, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "GET", f"/cities/{city_id}", principal=None)


@router.get("/cities/{city_id}/dashboard", tags=["cities"], summary="The composed view of a city", responses=ERRORS)
async def city_dashboard(request: Request, city_id: Id, user: ApiUser, svc: Svc) -> JSONResponse:
    """Account holders, 311 requests and their state, recommended resources, and whatever
    sections later services register. Officials see only their own city (404 otherwise).
    When a service does not answer, the other sections still come, with `partial: true`
    and `missing: [{section, title, service, reason}]`."""
    require_city(user, city_id)
    if user.is_partner:
        raise ProblemError(403, "Forbidden", "The city dashboard is for the city's officials and NRN staff.")
    settings = request.app.state.settings
    out = await build_dashboard(request.app.state.sections, DashboardContext(user, city_id, svc, shared=request.app.state.shared),
                                timeout=settings.section_timeout)
    city_missing = next((m for m in out.missing if m.section == "city"), None)
    if city_missing is not None and city_missing.status == 404:
        raise ProblemError(404, "Not found", f"No city {city_id}.")
    return JSONResponse({
        "city_id": city_id,
        "sections": out.sections,
        "partial": out.partial,
        "missing": [m.as_dict() for m in out.missing],
    })


@router.get("/cities/import/format", tags=["cities"], summary="The city CSV's columns and a template file")
async def import_format(request: Request, svc: Svc) -> Response:
    return await forward(request, svc.accounts, "GET", "/cities/import/format", principal=None)


@router.post("/cities/import", tags=["staff: cities"],
             summary="Import cities from CSV (multipart `file`); `dry_run=true` reports what would change", responses=ERRORS)
async def import_cities(request: Request, user: ApiUser, svc: Svc, file: Annotated[UploadFile, File()],
                        dry_run: bool = False) -> Response:
    allow(user, "city.import")
    limit = request.app.state.settings.max_import_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ProblemError(413, "Too large", f"file: at most {limit // (1024 * 1024)} MiB", field="file")
    files = {"file": (file.filename or "cities.csv", content, file.content_type or "text/csv")}
    return await forward(request, svc.accounts, "POST", "/cities/import", principal=user, files=files,
                         params={"dry_run": "true"} if dry_run else None,
                         timeout=request.app.state.settings.import_read_timeout)


@router.post("/cities/{city_id}/exception", tags=["staff: cities"], summary="Grant an eligibility exception", responses=ERRORS)
async def grant_exception(request: Request, city_id: Id, body: ReasonIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "eligibility.exception")
    return await forward(request, svc.accounts, "POST", f"/cities/{city_id}/exception", principal=user, json=body.out())


@router.post("/cities/{city_id}/exception/revoke", tags=["staff: cities"], summary="Revoke an eligibility exception",
             responses=ERRORS)
async def revoke_exception(request: Request, city_id: Id, body: ReasonIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "eligibility.exception")
    return await forward(request, svc.accounts, "POST", f"/cities/{city_id}/exception/revoke", principal=user, json=body.out())
