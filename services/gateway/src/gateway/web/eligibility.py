"""Is my city eligible? — the public answer with each distress test, the city type-ahead that sign-up
shares, and, for a city that does not qualify, what it can do: ask NRN staff for an exception (with a
reason) or join a regional application led by an eligible city."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from ..clients import ServiceUnavailable, UpstreamError
from ..deps import MaybePageUser, Svc
from ..problems import ProblemError
from .common import PageText, problem_field, problem_text
from .render import render

router = APIRouter()

# The distress tests as people read them (accounts names them by the indicator each one reads).
TEST_NAMES = {
    "unemployment_rate": "Unemployment rate",
    "adult_poverty_rate": "Adults living in poverty",
    "population_change_2000_2010": "Population change, 2000 to 2010",
}
THRESHOLDS = {
    "unemployment_rate": "Above 9%",
    "adult_poverty_rate": "More than 20%",
    "population_change_2000_2010": "A loss of more than 5%",
}
SUGGESTIONS = 8
MODES = {"eligibility", "signup", "lead"}
_CITY_ID = re.compile(r"[a-z]{2}-[a-z0-9-]{1,120}")


def city_id_or_404(city_id: str) -> str:
    if not _CITY_ID.fullmatch(city_id or ""):
        raise ProblemError(404, "Not found", "We do not know that city.")
    return city_id


async def find_cities(svc: Any, text: str, *, eligible_only: bool = False, limit: int = SUGGESTIONS) -> list[dict]:
    """Cities whose name (or a section's name: "La Jolla" finds San Diego) starts with ``text``."""
    text = " ".join(text.split())[:100]
    if not text:
        return []
    params: dict[str, Any] = {"q": text, "limit": limit}
    if eligible_only:
        params["eligible"] = "true"
    page = await svc.accounts.get_json("/cities", params=params)
    return page.get("items", []) if isinstance(page, dict) else []


def answer_context(city: dict[str, Any]) -> dict[str, Any]:
    reasons = (city.get("eligibility") or {}).get("reasons") or []
    return {"city": city, "test_names": TEST_NAMES, "thresholds": THRESHOLDS,
            "illustrative": any("illustrative" in str(r.get("source") or "") for r in reasons)}


async def _neighbors(svc: Any, city: dict[str, Any]) -> list[dict]:
    """Eligible cities of the same state, largest first: candidates to lead a regional application."""
    try:
        page = await svc.accounts.get_json("/cities", params={"state": city.get("state"), "eligible": "true", "limit": 100})
    except (UpstreamError, ServiceUnavailable):
        return []
    items = [c for c in page.get("items", []) if c.get("city_id") != city.get("city_id")]
    return sorted(items, key=lambda c: -(c.get("population") or 0))[:5]


EXCEPTION_FIELDS = ("name", "email", "title", "reason", "lead_city_id", "lead_city_name")


async def _eligibility_page(request: Request, svc: Any, *, q: str = "", city_id: str = "", section: str | None = None,
                            values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                            status_code: int = 200, message: str | None = None) -> Response:
    ctx: dict[str, Any] = {"nav": "eligibility", "q": q, "values": values or {}, "errors": errors or {},
                           "message": message, "matches": None, "city": None}
    try:
        if city_id:
            city = await svc.accounts.get_json(f"/cities/{city_id_or_404(city_id)}")
            if section:  # found by a section's name: say that it is part of this city
                city["matched_section"] = section
            ctx.update(answer_context(city))
            ctx["q"] = q or f"{city['name']}, {city['state']}"
            if not city.get("eligible"):
                ctx["neighbors"] = await _neighbors(svc, city)
        elif q.strip():
            ctx["matches"] = await find_cities(svc, q, limit=20)
            if len(ctx["matches"]) == 1:  # one match: answer at once
                only = ctx["matches"][0]
                return await _eligibility_page(request, svc, q=q, city_id=only["city_id"],
                                               section=only.get("matched_section"))
    except UpstreamError as exc:
        if exc.status == 404:
            raise ProblemError(404, "Not found", "We do not know that city.") from None
        ctx["unavailable"] = problem_text(exc)
    except ServiceUnavailable as exc:
        ctx["unavailable"] = problem_text(exc)
    return render(request, "public/eligibility.html", ctx, status_code=status_code)


@router.get("/eligibility")
async def eligibility(request: Request, svc: Svc, q: PageText = "", city_id: PageText = "") -> Response:
    return await _eligibility_page(request, svc, q=q[:100], city_id=city_id)


@router.post("/eligibility/{city_id}/exception")
async def ask_for_exception(request: Request, city_id: str, svc: Svc) -> Response:
    city_id = city_id_or_404(city_id)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in EXCEPTION_FIELDS}
    errors = {k: "This is required." for k in ("name", "email", "title", "reason") if not values[k]}
    if values["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        errors["email"] = "Enter an email address like name@city.gov."
    if values["lead_city_name"] and not values["lead_city_id"]:
        try:
            found = await find_cities(svc, values["lead_city_name"].split(",")[0], eligible_only=True, limit=2)
        except (UpstreamError, ServiceUnavailable):
            found = []
        if len(found) == 1:
            values["lead_city_id"], values["lead_city_name"] = found[0]["city_id"], f"{found[0]['name']}, {found[0]['state']}"
        else:
            errors["lead_city_id"] = "Choose the lead city from the list of eligible cities, or leave it empty."
    if errors:
        return await _eligibility_page(request, svc, city_id=city_id, values=values, errors=errors, status_code=400,
                                       message="Please correct the fields marked below.")
    body = {k: values[k] for k in ("name", "email", "title", "reason")}
    if values["lead_city_id"]:
        body["lead_city_id"] = values["lead_city_id"]
    try:
        made = await svc.accounts.post_json(f"/cities/{city_id}/exception-requests", json=body)
    except UpstreamError as exc:
        field = problem_field(exc)
        text = problem_text(exc)
        return await _eligibility_page(request, svc, city_id=city_id, values=values,
                                       errors={field: text} if field in EXCEPTION_FIELDS else {}, status_code=400,
                                       message=text)
    except ServiceUnavailable as exc:
        return await _eligibility_page(request, svc, city_id=city_id, values=values, status_code=503,
                                       message=problem_text(exc))
    return render(request, "public/exception_sent.html", {"nav": "eligibility", "made": made, "email": values["email"]},
                  status_code=201)


@router.get("/eligibility/suggest")
async def suggest(request: Request, svc: Svc, mode: PageText = "eligibility", list: PageText = "city-list",  # noqa: A002
                  field: PageText = "q") -> Response:
    """The combobox's options (an htmx fragment of role="option" items)."""
    mode = mode if mode in MODES else "eligibility"
    list_id = list if re.fullmatch(r"[a-z][a-z0-9-]{0,40}", list) else "city-list"
    text = str(request.query_params.get(field if re.fullmatch(r"[a-z_]{1,40}", field) else "q") or "")[:100]
    if any(ord(c) < 32 for c in text):  # control characters: nothing matches them
        text = ""
    try:
        cities = await find_cities(svc, text, eligible_only=mode == "lead") if len(text.strip()) >= 2 else []
    except (UpstreamError, ServiceUnavailable):
        cities = []
    return render(request, "partials/city_options.html", {"cities": cities, "list_id": list_id, "mode": mode})


@router.get("/eligibility/standing")
async def standing(request: Request, svc: Svc, city_id: PageText = "", mode: PageText = "signup") -> Response:
    """Under the sign-up city field: whether the chosen city qualifies, and what to do if not."""
    city = None
    if _CITY_ID.fullmatch(city_id):
        try:
            city = await svc.accounts.get_json(f"/cities/{city_id}")
        except (UpstreamError, ServiceUnavailable):
            city = None
    return render(request, "partials/city_standing.html", {"c": city})


def standing_html(request: Request, city: dict[str, Any] | None) -> Markup:
    """The same fragment drawn into the sign-up page (no JavaScript, or after an error)."""
    if not city:
        return Markup("")
    templates = request.app.state.templates
    return Markup(templates.get_template("partials/city_standing.html").render({"c": city}))
