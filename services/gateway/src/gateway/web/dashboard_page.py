"""The city dashboard page: the same composition as the API, one partial per section."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ..auth import Principal
from ..clients import Services
from ..dashboard import DashboardContext, build_dashboard, city_timeline
from ..problems import ProblemError
from .render import render


async def render_dashboard(request: Request, user: Principal, svc: Services, city_id: str) -> Response:
    if not user.may_see_city(city_id) or user.is_partner:
        raise ProblemError(404, "Not found", "No such city, or it is not yours.")
    registry = request.app.state.sections
    out = await build_dashboard(registry, DashboardContext(user, city_id, svc, shared=request.app.state.shared),
                                timeout=request.app.state.settings.section_timeout)
    city_missing = next((m for m in out.missing if m.section == "city"), None)
    if city_missing is not None and city_missing.status == 404:
        raise ProblemError(404, "Not found", f"No city {city_id}.")
    city = out.sections.get("city") or {"city_id": city_id, "name": city_id}
    return render(request, "dashboard.html", {
        "nav": "home" if not user.is_staff else "cities",
        "city": city,
        "sections": [s for s in registry if s.name != "city"],
        "data": out.sections,
        "missing_names": out.missing_names(),
        "missing_by_name": {m.section: m for m in out.missing},
        "timeline": city_timeline(registry, out.sections)[:30],
    }, missing=out.missing)
