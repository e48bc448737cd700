"""The pro bono talent network's pages. One home, ``/probono``, shaped by who reads it:

* a partner member registers as a volunteer (skills from the managed list, hours, period, where they
  work), then sees their matches with the reasons, accepts or declines, and logs hours; a pro bono
  coordinator also confirms their organization's volunteers;
* a city official posts projects for their city and follows them;
* NRN staff review projects waiting, enroll organizations and read the council's totals.

A project's page (``/probono/projects/{id}``) is where staff and the city see the suggestions with
their reasons, offer a volunteer, answer, approve hours and record the outcome. The volunteer's email
and phone show there only once both sides accepted (peer decides; the page shows what it is given)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import peer_limits as P
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc, allow
from ..problems import ProblemError
from .common import act, problem_text, see_other
from .render import flash, render
from .staff import _id

router = APIRouter()
HOME = "/probono"
SECTORS = (("company", "Company"), ("university", "University"), ("foundation", "Foundation"),
           ("nonprofit", "Nonprofit organization"), ("other", "Other organization"))
WORK_MODES = (("remote", "Remote"), ("on_site", "On site"), ("either", "Remote or on site"))


def _ctx(**kw: Any) -> dict[str, Any]:
    limits = {"name": P.NAME_MAX, "title": P.TITLE_MAX, "problem": P.PROBLEM_MAX, "summary": P.SUMMARY_MAX,
              "experience": P.EXPERIENCE_MAX, "phone": P.PHONE_MAX, "comment": P.COMMENT_MAX,
              "hours_per_month": P.HOURS_PER_MONTH_MAX, "project_hours": P.PROJECT_HOURS_MAX}
    return {"nav": "peer", "sub": "probono", "limits": limits, "work_modes": WORK_MODES, "sectors": SECTORS, **kw}


async def _get(svc: Svc, user: PageUser, path: str, *, missing_ok: bool = False, **params: Any) -> tuple[Any, str | None]:
    """peer's answer, or (None, the sentence to show); a 404 is the page's 404 unless ``missing_ok``."""
    try:
        return await svc.peer.get_json(path, params=params or None, token=user.token), None
    except UpstreamError as exc:
        if exc.status == 404 and missing_ok:
            return None, None
        if exc.status in (403, 404):
            raise ProblemError(404, "Not found", problem_text(exc)) from exc
        return None, problem_text(exc)
    except ServiceUnavailable as exc:
        return None, problem_text(exc)


def _number(value: Any) -> Any:
    """A form's number as a number; what is not one goes as typed, for peer to refuse naming the field."""
    text = str(value or "").strip()
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        return text


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "")


@router.get("/probono")
async def home(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.read")
    skills, error = await _get(svc, user, "/probono/skills")
    ctx = _ctx(skills=skills or [], error=error)
    if user.is_partner:
        me, _ = await _get(svc, user, "/probono/volunteers/me", missing_ok=True)
        organizations, _ = await _get(svc, user, "/probono/organizations")
        enrolled = any(o["id"] == user.partner_id for o in organizations or [])
        waiting = []
        if user.is_probono_coordinator:
            waiting, _ = await _get(svc, user, "/probono/volunteers", status="awaiting_confirmation")
        ctx.update(me=me, enrolled=enrolled, waiting=waiting or [])
    elif user.is_official:
        allow(user, "probono.post", city_id=user.city_id)  # a verified official, for their own city
        projects, error = await _get(svc, user, "/probono/projects")
        ctx.update(projects=projects or [], error=error or ctx["error"])
    else:
        allow(user, "probono.manage")
        projects, error = await _get(svc, user, "/probono/projects")
        organizations, _ = await _get(svc, user, "/probono/organizations")
        partners: list[dict[str, Any]] = []
        if user.can("account.read"):
            try:
                found = await svc.accounts.get_json("/partners", params={"limit": 200}, token=user.token)
                enrolled_ids = {o["id"] for o in organizations or []}
                partners = [p for p in found.get("items", []) if p["partner_id"] not in enrolled_ids]
            except (UpstreamError, ServiceUnavailable):
                partners = []
        ctx.update(projects=projects or [], organizations=organizations or [], partners=partners,
                   error=error or ctx["error"])
    return render(request, "probono/home.html", ctx)


# ---------------------------------------------------------------------------- volunteers


def _profile(form: Any) -> dict[str, Any]:
    return {"title": _text(form, "title"), "skills": [str(s) for s in form.getlist("skills")][:P.SKILLS_MAX],
            "hours_per_month": _number(form.get("hours_per_month")), "available_from": _text(form, "available_from"),
            "available_until": _text(form, "available_until"), "work_mode": _text(form, "work_mode"),
            "base_city": _text(form, "base_city"), "base_state": _text(form, "base_state").upper() or None,
            "experience": _text(form, "experience"), "phone": _text(form, "phone")}


@router.post("/probono/volunteer")
async def register(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.volunteer")
    form = await request.form()
    method = "PUT" if form.get("update") else "POST"
    path = "/probono/volunteers/me" if method == "PUT" else "/probono/volunteers"
    _, response = await act(request, svc.peer, method, path, token=user.token, back=HOME, json=_profile(form),
                            success="Your profile is saved." if method == "PUT" else
                            "You are registered. Your organization's pro bono coordinator confirms you next.")
    return response


@router.post("/probono/volunteers/{vid}/confirm")
async def confirm(request: Request, vid: str, user: PageUser, svc: Svc) -> Response:
    _, response = await act(request, svc.peer, "POST", f"/probono/volunteers/{_id(vid)}/confirm", token=user.token,
                            back=HOME, success="Confirmed: the volunteer can now be matched to city projects.")
    return response


@router.post("/probono/organizations")
async def enroll(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.manage")
    form = await request.form()
    _, response = await act(request, svc.peer, "POST", "/probono/organizations", token=user.token, back=HOME,
                            success="The organization joined the talent network: its members may register.",
                            json={"partner_id": _text(form, "partner_id"), "sector": _text(form, "sector"),
                                  "description": _text(form, "description")})
    return response


# ---------------------------------------------------------------------------- projects


@router.get("/probono/projects/new")
async def new_project(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    skills, error = await _get(svc, user, "/probono/skills")
    return render(request, "probono/project_form.html", _ctx(skills=skills or [], error=error))


@router.post("/probono/projects")
async def post_project(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    form = await request.form()
    body = {"department": _text(form, "department"), "title": _text(form, "title"), "problem": _text(form, "problem"),
            "skills": [str(s) for s in form.getlist("skills")][:P.SKILLS_MAX],
            "hours_needed": _number(form.get("hours_needed")), "starts_on": _text(form, "starts_on"),
            "ends_on": _text(form, "ends_on"), "work_mode": _text(form, "work_mode"),
            "on_site_needs": _text(form, "on_site_needs")}
    project, response = await act(request, svc.peer, "POST", "/probono/projects", token=user.token,
                                  back="/probono/projects/new", json=body,
                                  success="Posted. NRN reviews the project before volunteers are matched to it.")
    if project is not None:
        return see_other(f"/probono/projects/{project['id']}")
    return response


@router.get("/probono/projects/{pid}")
async def project(request: Request, pid: str, user: PageUser, svc: Svc) -> Response:
    pid = _id(pid)
    item, error = await _get(svc, user, f"/probono/projects/{pid}")
    suggestions: list[Any] = []
    if item and item["status"] in ("open", "active"):
        suggestions, _ = await _get(svc, user, f"/probono/projects/{pid}/suggestions", limit=10)
    return render(request, "probono/project.html", _ctx(project=item, error=error, suggestions=suggestions or []))


@router.post("/probono/projects/{pid}/review")
async def review(request: Request, pid: str, user: PageUser, svc: Svc) -> Response:
    pid = _id(pid)
    form = await request.form()
    decision = _text(form, "decision")
    words = {"opened": "Opened: volunteers can now be matched to it.", "returned": "Returned to the city with your note.",
             "declined": "Declined; the city sees your note."}
    _, response = await act(request, svc.peer, "POST", f"/probono/projects/{pid}/review", token=user.token,
                            back=f"/probono/projects/{pid}", success=words.get(decision),
                            json={"decision": decision, "note": _text(form, "note")})
    return response


@router.post("/probono/projects/{pid}/matches")
async def propose(request: Request, pid: str, user: PageUser, svc: Svc) -> Response:
    pid = _id(pid)
    form = await request.form()
    body: dict[str, Any] = {"volunteer_id": _text(form, "volunteer_id")}
    if _text(form, "hours_agreed").strip():
        body["hours_agreed"] = _number(form.get("hours_agreed"))
    _, response = await act(request, svc.peer, "POST", f"/probono/projects/{pid}/matches", token=user.token,
                            back=f"/probono/projects/{pid}", json=body,
                            success="Offered. The volunteer is asked to accept." if user.is_official else
                            "Offered. The volunteer and the city are asked to accept.")
    return response


@router.post("/probono/projects/{pid}/complete")
async def complete(request: Request, pid: str, user: PageUser, svc: Svc) -> Response:
    pid = _id(pid)
    form = await request.form()
    _, response = await act(request, svc.peer, "POST", f"/probono/projects/{pid}/complete", token=user.token,
                            back=f"/probono/projects/{pid}", success="The outcome is recorded. Thank you.",
                            json={"outcome": _text(form, "outcome")})
    return response


# ---------------------------------------------------------------------------- matches and hours


def _back(form: Any) -> str:
    """Back to the project's page (the city, staff) or the volunteer's home."""
    pid = _text(form, "project_id")
    return f"/probono/projects/{_id(pid)}" if pid else HOME


@router.post("/probono/matches/{mid}/answer")
async def answer(request: Request, mid: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    accepted = _text(form, "decision") == "accept"
    _, response = await act(request, svc.peer, "POST", f"/probono/matches/{_id(mid)}/answer", token=user.token,
                            back=_back(form), json={"accepted": accepted, "reason": _text(form, "reason")},
                            success="Accepted." if accepted else "Declined.")
    return response


@router.post("/probono/matches/{mid}/hours")
async def log_hours(request: Request, mid: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    _, response = await act(request, svc.peer, "POST", f"/probono/matches/{_id(mid)}/hours", token=user.token,
                            back=HOME, success="Hours logged. The city approves them next.",
                            json={"worked_on": _text(form, "worked_on"), "hours": _number(form.get("hours")),
                                  "note": _text(form, "note")})
    return response


@router.post("/probono/matches/{mid}/hours/{eid}/review")
async def review_hours(request: Request, mid: str, eid: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    approved = _text(form, "decision") == "approve"
    _, response = await act(request, svc.peer, "POST", f"/probono/matches/{_id(mid)}/hours/{_id(eid)}/review",
                            token=user.token, back=_back(form), json={"approved": approved, "note": _text(form, "note")},
                            success="Hours approved." if approved else "Hours returned to the volunteer.")
    return response


# ---------------------------------------------------------------------------- the council


@router.get("/probono/council")
async def council(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "probono.council", partner_id=user.partner_id)
    totals, error = await _get(svc, user, "/probono/council")
    if totals is None and error is None:
        flash(request, "The totals are not available.", "error")
    return render(request, "probono/council.html", _ctx(totals=totals, error=error))
