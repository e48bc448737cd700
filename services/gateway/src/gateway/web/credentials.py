"""Pages behind the links accounts emails (through notifications), and the password pages:

- ``/forgot-password`` — ask for a reset link; the same answer for every address;
- ``/reset-password?token=`` — choose a new password with the link (1 hour, once);
- ``/confirm-email?token=`` — confirm the mailbox (48 hours, once), with a button: mail scanners
  that open every link must not use it up;
- ``/confirm-email/resend`` — send the confirmation link again; the same answer for every address;
- ``/account/password`` — change the password while signed in.

Passwords go to accounts exactly as typed; accounts applies the one password policy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..api.forward import client_headers
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc, rotate_refresh
from .common import problem_field, problem_text, see_other
from .public import wait_page
from .render import flash, render

router = APIRouter()

RESET_HOURS_TEXT = "1 hour"
CONFIRM_HOURS_TEXT = "48 hours"


def _address(form: Any) -> str:
    return str(form.get("email") or "").strip()[:320]


async def _link_works(svc: Any, path: str, token: str) -> bool | None:
    """True or False, or None when accounts cannot say (unavailable)."""
    if not token or len(token) > 512:
        return False
    try:
        await svc.accounts.post_json(path, json={"token": token})
        return True
    except UpstreamError:
        return False
    except ServiceUnavailable:
        return None


def _expired(request: Request, kind: str, status_code: int = 400) -> Response:
    return render(request, "link_expired.html", {"kind": kind}, status_code=status_code)


def _unavailable(request: Request, exc: ServiceUnavailable | None = None) -> Response:
    detail = problem_text(exc) if exc else "The accounts service is not available right now. Please try again in a moment."
    return render(request, "error.html", {"status": 503, "title": "Please try again shortly", "detail": detail},
                  status_code=503, headers={"Retry-After": "5"})


# --- forgot password --------------------------------------------------------------------------


@router.get("/forgot-password")
async def forgot_form(request: Request, email: str = "") -> Response:
    return render(request, "forgot_password.html", {"nav": "signin", "email": email[:320]})


async def _ask_for_link(request: Request, svc: Any, *, kind: str, page: str, upstream: str, empty: str,
                       valid_for: str) -> Response:
    """"Send me a link" (a reset or a confirmation): the same answer whatever the address."""
    email = _address(await request.form())
    if not email:
        return render(request, page, {"nav": "signin", "email": "", "error": empty}, status_code=400)
    try:
        await svc.accounts.post_json(upstream, json={"email": email}, headers=client_headers(request))
    except UpstreamError as exc:
        if exc.status == 429:
            return wait_page(request, exc, title="Too many requests for a link",
                             reason="Several links were asked for in a short time.",
                             retry_url=str(request.url.path), retry_label="the form")
        return render(request, page, {"nav": "signin", "email": email, "error": problem_text(exc)}, status_code=400)
    except ServiceUnavailable as exc:
        return _unavailable(request, exc)
    # The same page whether or not the address has an account.
    return render(request, "link_sent.html", {"nav": "signin", "kind": kind, "email": email, "valid_for": valid_for})


@router.post("/forgot-password")
async def forgot(request: Request, svc: Svc) -> Response:
    return await _ask_for_link(request, svc, kind="reset", page="forgot_password.html", upstream="/auth/password-reset",
                               empty="Enter the email address you sign in with.", valid_for=RESET_HOURS_TEXT)


# --- reset password ---------------------------------------------------------------------------


@router.get("/reset-password")
async def reset_form(request: Request, svc: Svc, token: str = "") -> Response:
    works = await _link_works(svc, "/auth/password-reset/check", token)
    if works is None:
        return _unavailable(request)
    if not works:
        return _expired(request, "reset")
    return render(request, "reset_password.html", {"nav": "signin", "token": token, "errors": {}})


@router.post("/reset-password")
async def reset(request: Request, svc: Svc) -> Response:
    form = await request.form()
    token = str(form.get("token") or "")[:512]
    password = str(form.get("new_password") or "")  # exactly as typed
    again = str(form.get("confirm_password") or "")
    errors: dict[str, str] = {}
    if not password:
        errors["new_password"] = "Choose a new password."
    elif password != again:
        errors["confirm_password"] = "The two passwords are not the same. Type the new password twice, exactly alike."
    if not errors:
        try:
            await svc.accounts.request("POST", "/auth/password-reset/confirm",
                                       json={"token": token, "new_password": password})
        except UpstreamError as exc:
            if problem_field(exc) == "token" or exc.status == 400:
                return _expired(request, "reset")
            errors["new_password"] = problem_text(exc)
        except ServiceUnavailable as exc:
            return _unavailable(request, exc)
    if errors:
        return render(request, "reset_password.html", {"nav": "signin", "token": token, "errors": errors},
                      status_code=400)
    request.session.clear()  # whatever session this browser had is over: accounts revoked them all
    flash(request, "Your password has been changed. Sign in with your new password.")
    return see_other("/signin")


# --- confirm the mailbox ------------------------------------------------------------------------


@router.get("/confirm-email")
async def confirm_form(request: Request, svc: Svc, token: str = "") -> Response:
    works = await _link_works(svc, "/auth/confirm-email/check", token)
    if works is None:
        return _unavailable(request)
    if not works:
        return _expired(request, "confirm")
    return render(request, "confirm_email.html", {"token": token})


@router.post("/confirm-email")
async def confirm(request: Request, svc: Svc) -> Response:
    token = str((await request.form()).get("token") or "")[:512]
    try:
        result = await svc.accounts.post_json("/auth/confirm-email", json={"token": token})
    except UpstreamError:
        return _expired(request, "confirm")
    except ServiceUnavailable as exc:
        return _unavailable(request, exc)
    refresh = request.session.get("refresh")
    if result.get("status") == "verified" and isinstance(refresh, str) and refresh:
        # A signed-in browser's access token still says "pending": renew it now, not in 15 minutes.
        try:
            pair = await rotate_refresh(request, refresh)
            request.session.update(token=pair["access_token"], refresh=pair["refresh_token"])
        except (UpstreamError, ServiceUnavailable, KeyError):
            pass  # the session renews itself when the token expires
    return render(request, "email_confirmed.html", {"result": result})


@router.get("/confirm-email/resend")
async def resend_form(request: Request, email: str = "") -> Response:
    return render(request, "confirm_resend.html", {"email": email[:320]})


@router.post("/confirm-email/resend")
async def resend(request: Request, svc: Svc) -> Response:
    return await _ask_for_link(request, svc, kind="confirm", page="confirm_resend.html",
                               upstream="/auth/confirm-email/resend",
                               empty="Enter the email address of your account.", valid_for=CONFIRM_HOURS_TEXT)


# --- change the password while signed in ----------------------------------------------------------


@router.get("/account/password")
async def password_form(request: Request, user: PageUser) -> Response:
    return render(request, "change_password.html", {"nav": "password", "errors": {}})


@router.post("/account/password")
async def change_password(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    current = str(form.get("current_password") or "")
    password = str(form.get("new_password") or "")
    again = str(form.get("confirm_password") or "")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "Enter your current password."
    if not password:
        errors["new_password"] = "Choose a new password."
    elif password != again:
        errors["confirm_password"] = "The two passwords are not the same. Type the new password twice, exactly alike."
    if not errors:
        try:
            pair = await svc.accounts.post_json("/me/password", token=user.token,
                                                json={"current_password": current, "new_password": password})
        except UpstreamError as exc:
            if exc.status == 423:
                return wait_page(request, exc, title="This account is locked for a while",
                                 reason="There were too many wrong passwords for this account.",
                                 retry_url="/account/password", retry_label="the form", reset_link=True)
            field = problem_field(exc)
            errors["current_password" if field == "current_password" else "new_password"] = (
                "That is not your current password." if field == "current_password" else problem_text(exc))
        except ServiceUnavailable as exc:
            return _unavailable(request, exc)
    if errors:
        return render(request, "change_password.html", {"nav": "password", "errors": errors}, status_code=400)
    request.session["token"] = pair["access_token"]
    request.session["refresh"] = pair.get("refresh_token")
    flash(request, "Your password has been changed. Other browsers signed in to your account have been signed out.")
    return see_other("/")
