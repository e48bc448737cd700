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
from .dashboard_page import render_dashboard
from .render import flash, render

router = APIRouter()


@router.get("/")
async def home(request: Request, user: MaybePageUser, svc: Svc) -> Response:
    if user is None:
        return render(request, "index.html", {"nav": "home"})
    if user.is_staff:
        return see_other("/staff/queue")
    if not user.city_id:
        return render(request, "index.html", {"nav": "home"})
    return await render_dashboard(request, user, svc, user.city_id)


@router.get("/signin")
async def signin_form(request: Request, user: MaybePageUser, next: PageText | None = None) -> Response:
    if user is not None:
        return see_other(safe_next(next))
    return render(request, "signin.html", {"nav": "signin", "next": safe_next(next, "")})


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
                                 advice="If you have forgotten your password, choose a new one: the link we e-mail "
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
    # A fresh session on sign-in: nothing from before (a planted CSRF token) survives it.
    request.session.clear()
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


async def eligible_cities(svc: Any) -> list[dict[str, Any]]:
    cities: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await svc.accounts.get_json("/cities", params={"eligible": "true", "limit": 200, "offset": offset})
        items = page.get("items", [])
        cities.extend(items)
        offset += len(items)
        if not items or offset >= page.get("total", 0) or offset >= 2000:
            return cities


SIGNUP_FIELDS = ("name", "title", "email", "phone", "city_id")


async def _signup_page(request: Request, svc: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                       message: str | None = None) -> Response:
    try:
        cities = await eligible_cities(svc)
        unavailable = None
    except (UpstreamError, ServiceUnavailable) as exc:
        cities, unavailable = [], problem_text(exc)
    by_state: dict[str, list[dict[str, Any]]] = {}
    for city in sorted(cities, key=lambda c: (c.get("state", ""), c.get("name", ""))):
        by_state.setdefault(city.get("state", ""), []).append(city)
    return render(request, "signup.html", {"nav": "signup", "values": values, "errors": errors, "by_state": by_state,
                                           "unavailable": unavailable, "message": message}, status_code=status_code)


@router.get("/signup")
async def signup_form(request: Request, svc: Svc) -> Response:
    return await _signup_page(request, svc, {}, {})


@router.post("/signup")
async def signup(request: Request, svc: Svc) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in SIGNUP_FIELDS}
    password = str(form.get("password") or "")
    errors = {k: "This is required." for k in ("name", "title", "email", "city_id") if not values[k]}
    if not password:
        errors["password"] = "Choose a password."
    if errors:
        return await _signup_page(request, svc, values, errors, 400, "Please correct the fields marked below.")
    body = {**{k: v for k, v in values.items() if v}, "password": password}
    try:
        account = await svc.accounts.post_json("/accounts/officials", json=body)
    except UpstreamError as exc:
        field = problem_field(exc) or ""
        text = problem_text(exc)
        return await _signup_page(request, svc, values, {field: text} if field else {}, 400, text)
    except ServiceUnavailable as exc:
        return await _signup_page(request, svc, values, {}, 503, problem_text(exc))
    try:
        city = await svc.accounts.get_json(f"/cities/{account.get('city_id')}")
        city_name = f"{city['name']}, {city['state']}"
    except (UpstreamError, ServiceUnavailable, KeyError, TypeError):
        city_name = None
    return render(request, "signup_done.html", {"nav": "signup", "account": account, "city_name": city_name},
                  status_code=201)
