"""Sign-up, sign-in, sign-out and the home page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..clients import ServiceUnavailable, UpstreamError
from ..deps import MaybePageUser, Svc
from ..api.forward import client_headers
from ..security import rotate_csrf_token, wait_in_words
from .common import PageText, problem_field, problem_text, safe_next, see_other
from ..problems import ProblemError
from .dashboard_page import render_dashboard
from .eligibility import city_id_or_404, find_cities, standing_html
from .kept import KEPT
from .navigation import landing
from .render import flash, render

router = APIRouter()


@router.get("/")
async def home(request: Request, user: MaybePageUser, svc: Svc) -> Response:
    if user is None:
        return render(request, "index.html", {"nav": "home"})
    if user.is_staff:
        return see_other(landing(user))  # each role starts where its work is
    if not user.city_id:
        return render(request, "index.html", {"nav": "home"})
    return await render_dashboard(request, user, svc, user.city_id)


@router.get("/api/docs")
async def api_docs(request: Request) -> Response:
    """The public API's documentation, readable: Swagger UI from the project's own assets."""
    return render(request, "api_docs.html", {})


@router.get("/signin")
async def signin_form(request: Request, user: MaybePageUser, next: PageText | None = None) -> Response:
    if user is not None:
        return see_other(safe_next(next))
    kept = request.session.get(KEPT)
    waiting = isinstance(kept, dict) and kept.get("path") == safe_next(next, "")
    return render(request, "signin.html", {"nav": "signin", "next": safe_next(next, ""), "kept": waiting})


def wait_page(request: Request, exc: UpstreamError, *, title: str, reason: str, retry_url: str, retry_label: str,
              advice: str | None = None, reset_link: bool = False) -> Response:
    """A refusal for "too many" (423 locked, 429 throttled) as a page with the wait in words."""
    body = exc.problem()
    retry_after = body.get("retry_after")
    seconds = int(retry_after) if isinstance(retry_after, int | float) and retry_after > 0 else 60
    return render(request, "too_many.html", {
        "title": title, "reason": reason, "advice": advice, "wait": wait_in_words(seconds),
        "retry_url": retry_url, "retry_label": retry_label, "reset_link": reset_link,
    }, status_code=exc.status, headers={"Retry-After": str(seconds)})


@router.post("/signin")
async def signin(request: Request, svc: Svc) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")  # exactly as typed: spaces are part of a password
    target = safe_next(str(form.get("next") or ""))
    error = None
    if not username or not password:
        error = "Enter your email address and password."
    else:
        try:
            pair = await svc.accounts.post_json(
                "/auth/token", data={"grant_type": "password", "username": username, "password": password},
                headers=client_headers(request),
            )
        except UpstreamError as exc:
            if exc.status == 423:
                return wait_page(request, exc, title="This account is locked for a while",
                                 reason="There were too many failed sign-ins to this account.",
                                 advice="If you have forgotten your password, choose a new one: the link we email "
                                        "you works at once and unlocks the account.",
                                 retry_url="/signin", retry_label="sign in", reset_link=True)
            if exc.status == 429:
                return wait_page(request, exc, title="Too many failed sign-ins",
                                 reason="There were too many failed sign-ins from your network.",
                                 retry_url="/signin", retry_label="sign in", reset_link=True)
            error = ("That email and password do not match an account." if exc.status == 401 else problem_text(exc))
        except ServiceUnavailable as exc:
            error = problem_text(exc)
    if error:
        return render(request, "signin.html", {"nav": "signin", "error": error, "username": username, "next": target},
                      status_code=400)
    # A fresh session on sign-in: nothing from before (a planted CSRF token) survives it, except a form
    # the person was typing when their session ended (web/kept.py), which they go back to.
    kept = request.session.get(KEPT)
    request.session.clear()
    if isinstance(kept, dict) and target == kept.get("path"):
        request.session[KEPT] = kept
    request.session["token"] = pair["access_token"]
    request.session["refresh"] = pair.get("refresh_token")
    rotate_csrf_token(request.session)
    return see_other(target)


@router.post("/signout")
async def signout(request: Request, svc: Svc) -> Response:
    refresh = request.session.get("refresh")
    if refresh:
        try:
            await svc.accounts.request("POST", "/auth/signout", json={"refresh_token": refresh})
        except (UpstreamError, ServiceUnavailable):
            pass  # the session ends here either way; the refresh token expires on its own
    request.session.clear()
    flash(request, "You are signed out.")
    return see_other("/signin")


SIGNUP_FIELDS = ("name", "title", "email", "phone", "city_id", "city_name")


async def _city(svc: Any, city_id: str) -> dict[str, Any] | None:
    if not city_id:
        return None
    try:
        return await svc.accounts.get_json(f"/cities/{city_id_or_404(city_id)}")
    except (UpstreamError, ServiceUnavailable, ProblemError):
        return None


async def _signup_page(request: Request, svc: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                       message: str | None = None, matches: list[dict] | None = None) -> Response:
    city = await _city(svc, values.get("city_id", ""))
    if city and not values.get("city_name"):
        values["city_name"] = f"{city['name']}, {city['state']}"
    return render(request, "signup.html", {"nav": "signup", "values": values, "errors": errors, "message": message,
                                           "matches": matches, "standing": standing_html(request, city)},
                  status_code=status_code)


@router.get("/signup")
async def signup_form(request: Request, svc: Svc, city_id: PageText = "") -> Response:
    return await _signup_page(request, svc, {"city_id": city_id[:128]}, {})


async def _resolve_city(svc: Any, values: dict[str, str]) -> list[dict]:
    """The typed city name when no city was picked from the list (no JavaScript): the cities it matches."""
    try:
        return await find_cities(svc, values["city_name"].split(",")[0], limit=20)
    except (UpstreamError, ServiceUnavailable):
        return []


@router.post("/signup")
async def signup(request: Request, svc: Svc) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in SIGNUP_FIELDS}
    password = str(form.get("password") or "")
    errors = {k: "This is required." for k in ("name", "title", "email") if not values[k]}
    matches = None
    if not values["city_id"] and values["city_name"]:
        matches = await _resolve_city(svc, values)
        if len(matches) == 1:
            values["city_id"] = matches[0]["city_id"]
            matches = None
        else:
            errors["city_id"] = ("Choose your city from the list below." if matches else
                                 f"No city matches “{values['city_name']}”. Check the spelling, or type the first letters.")
    elif not values["city_id"]:
        errors["city_id"] = "Type your city's name and choose it from the list."
    if not password:
        errors["password"] = "Choose a password."
    if errors:
        return await _signup_page(request, svc, values, errors, 400, "Please correct the fields marked below.", matches)
    body = {**{k: v for k, v in values.items() if v and k != "city_name"}, "password": password}
    try:
        account = await svc.accounts.post_json("/accounts/officials", json=body)
    except UpstreamError as exc:
        field = problem_field(exc) or ""
        text = problem_text(exc)
        if field == "city_id" and exc.status == 422:
            text = "This city does not meet NRN's distress tests yet: see below what it can do."
        return await _signup_page(request, svc, values, {field: text} if field else {}, 400, text)
    except ServiceUnavailable as exc:
        return await _signup_page(request, svc, values, {}, 503, problem_text(exc))
    # Signed in at once: the person lands on their city's page and sees where they stand.
    try:
        pair = await svc.accounts.post_json(
            "/auth/token", data={"grant_type": "password", "username": values["email"], "password": password},
            headers=client_headers(request))
    except (UpstreamError, ServiceUnavailable):
        flash(request, "Your account is created. Sign in to continue.")
        return see_other("/signin")
    request.session.clear()
    request.session["token"] = pair["access_token"]
    request.session["refresh"] = pair.get("refresh_token")
    rotate_csrf_token(request.session)
    verified = account.get("status") == "verified"
    flash(request, f"Welcome, {account.get('name') or 'and thank you'}: your account is created."
          + (" It is verified: you can ask NRN a question now." if verified else
             f" We sent a link to {account.get('email')} to confirm your address."))
    return see_other("/")
