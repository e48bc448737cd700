"""Peer networking pages: convenings (register, waitlist, confirm a place, the agenda as a calendar),
staff scheduling and the printable check-in list, working groups and the steering committee with
their deliverables, and peer introductions (staff offer; each city answers for itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from nrn_kit.auth import permitted

from .. import peer_limits as P
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc, allow
from ..problems import ProblemError
from .common import act, markdown, problem_field, problem_text, see_other
from .render import flash, render, venue_time

router = APIRouter()

# Zones of US venues, named as people name them.
ZONES = [("America/New_York", "Eastern"), ("America/Chicago", "Central"), ("America/Denver", "Mountain"),
         ("America/Phoenix", "Arizona"), ("America/Los_Angeles", "Pacific"), ("America/Anchorage", "Alaska"),
         ("Pacific/Honolulu", "Hawaii"), ("America/Puerto_Rico", "Atlantic (Puerto Rico)")]
ZONE_NAMES = dict(ZONES)
KINDS = [("annual_convening", "Annual convening"), ("webinar", "Webinar"),
         ("working_group", "Working group meeting"), ("steering_committee", "Steering committee meeting")]
STATUS_WORDS = {"confirmed": "Registered", "waitlisted": "On the waitlist", "offered": "A place is held for you",
                "cancelled": "Cancelled"}
CANCEL_WORDS = {"by_registrant": "cancelled by the registrant", "by_staff": "cancelled by NRN staff",
                "hold_expired": "the hold lapsed before it was confirmed",
                "convening_cancelled": "the convening was cancelled"}
MATERIAL_KINDS = [("slides", "Slides"), ("recording", "Recording"), ("notes", "Notes"), ("other", "Other")]
SHARES = [("contact", "Our contact: the name, title and email of the official who accepts"),
          ("barriers", "The barriers our city named"), ("questions", "The subjects of our 311 questions"),
          ("note", "A note to the other city")]
TERM_WORDS = {"ending_soon": "Term ending soon", "ended": "Term ended", "serving": "Serving", "none": ""}
SESSION_ROWS = 4


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"nav": "peer", "vt": venue_time, "zone_names": ZONE_NAMES, "status_words": STATUS_WORDS,
            "cancel_words": CANCEL_WORDS, "term_words": TERM_WORDS, "limits": P.page_limits(), "md": markdown, **kw}


def _id(value: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}", value):
        raise ProblemError(404, "Not found", "No such page.")
    return value


async def _get(svc: Svc, user: PageUser, path: str, **params: Any) -> tuple[Any, str | None]:
    try:
        return await svc.peer.get_json(path, params=params or None, token=user.token), None
    except UpstreamError as exc:
        if exc.status == 404:
            raise ProblemError(404, "Not found", problem_text(exc)) from exc
        return None, problem_text(exc)
    except ServiceUnavailable as exc:
        return None, problem_text(exc)


def _form_text(form: Any, *names: str) -> dict[str, str]:
    return {n: str(form.get(n) or "").strip() for n in names}


# ============================================================================ convenings


@router.get("/convenings")
async def convenings(request: Request, user: PageUser, svc: Svc) -> Response:
    items, error = await _get(svc, user, "/convenings")
    return render(request, "peer/convenings.html", _ctx(items=items or [], error=error, sub="convenings"))


@router.get("/convenings/{cid}")
async def convening(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    c, error = await _get(svc, user, f"/convenings/{_id(cid)}")
    now = datetime.now(UTC)

    def passed(key: str) -> bool:
        return bool(c) and datetime.fromisoformat(str(c[key]).replace("Z", "+00:00")) <= now

    return render(request, "peer/convening.html", _ctx(
        c=c, error=error, sub="convenings", ended=passed("ends_at"), closed=passed("registration_closes_at"),
        not_open=bool(c) and not passed("registration_opens_at"), can_register=not user.is_staff))


@router.get("/convenings/{cid}/agenda.ics")
async def agenda(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    response = await svc.peer.request("GET", f"/convenings/{_id(cid)}/agenda.ics", token=user.token)
    return Response(response.content, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="agenda.ics"'})


@router.post("/convenings/{cid}/register")
async def register(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    cid = _id(cid)
    form = await request.form()
    body: dict[str, Any] = _form_text(form, "role", "dietary_needs", "accessibility_needs")
    body["session_ids"] = [str(s) for s in form.getlist("session_ids")][: P.SESSIONS_MAX]
    reg, response = await act(request, svc.peer, "POST", f"/convenings/{cid}/registrations", token=user.token,
                              back=f"/convenings/{cid}", json=body)
    if reg:
        flash(request, "You are registered." if reg["status"] == "confirmed" else
              f"The convening is full: you are number {reg['position']} on the waitlist. If a place frees, "
              "it is offered to you and you will be asked to confirm it.", "success")
    return response


@router.post("/registrations/{rid}/{action}")
async def registration_action(request: Request, rid: str, action: str, user: PageUser, svc: Svc) -> Response:
    if action not in ("cancel", "confirm", "attendance", "feedback"):
        raise ProblemError(404, "Not found", "No such action.")
    form = await request.form()
    back = str(form.get("back") or "/convenings")
    back = back if back.startswith("/") and not back.startswith("//") else "/convenings"
    json: dict[str, Any] | None = None
    if action == "attendance":
        json = {"attended": form.get("attended") != "false"}
    elif action == "feedback":
        try:
            json = {"rating": int(str(form.get("rating") or "0")), "comment": str(form.get("comment") or "").strip()}
        except ValueError:
            json = {"rating": 0}
    words = {"cancel": "The registration is cancelled.", "confirm": "Your place is confirmed.",
             "attendance": "Attendance recorded.", "feedback": "Thank you for your feedback."}
    _, response = await act(request, svc.peer, "POST", f"/registrations/{_id(rid)}/{action}", token=user.token,
                            back=back, success=words[action], json=json)
    return response


# ---------------------------------------------------------------------------- staff: convenings


@router.get("/staff/convenings/new")
async def new_convening(request: Request, user: PageUser) -> Response:
    allow(user, "convening.manage")
    return render(request, "peer/convening_form.html", _ctx(values={"timezone": "America/New_York",
                                                                    "kind": "annual_convening"},
                                                            errors={}, zones=ZONES, kinds=KINDS, rows=SESSION_ROWS,
                                                            sub="convenings"))


def _rows(form: Any) -> int:
    try:
        return max(SESSION_ROWS, min(int(str(form.get("rows") or SESSION_ROWS)), P.SESSIONS_MAX))
    except ValueError:
        return SESSION_ROWS


def _convening_body(form: Any) -> dict[str, Any]:
    v = _form_text(form, "kind", "title", "description", "venue", "address", "timezone", "starts_at", "ends_at",
                   "capacity", "per_city_limit", "registration_opens_at", "registration_closes_at")
    body: dict[str, Any] = {k: v[k] for k in ("kind", "title", "description", "venue", "address", "timezone",
                                              "starts_at", "ends_at", "registration_opens_at",
                                              "registration_closes_at") if v[k]}
    for k in ("capacity", "per_city_limit"):
        if v[k]:
            body[k] = int(v[k]) if v[k].isdigit() else v[k]
    sessions = []
    for i in range(_rows(form)):
        s = _form_text(form, f"s{i}_title", f"s{i}_date", f"s{i}_start", f"s{i}_end", f"s{i}_speakers", f"s{i}_track")
        if not s[f"s{i}_title"]:
            continue
        sessions.append({"id": str(form.get(f"s{i}_id") or f"s{i + 1}"), "title": s[f"s{i}_title"],
                         "starts_at": f"{s[f's{i}_date']}T{s[f's{i}_start']}",
                         "ends_at": f"{s[f's{i}_date']}T{s[f's{i}_end']}", "track": s[f"s{i}_track"],
                         "speakers": [x.strip() for x in s[f"s{i}_speakers"].split(";") if x.strip()]})
    body["sessions"] = sessions
    return body


@router.post("/staff/convenings/new")
async def schedule_convening(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    required = ("title", "starts_at", "ends_at", "capacity", "registration_opens_at", "registration_closes_at")
    errors = {k: "This is required." for k in required if not values.get(k, "").strip()}
    if not errors:
        try:
            c = await svc.peer.post_json("/convenings", json=_convening_body(form), token=user.token)
        except UpstreamError as exc:
            errors[_field_key(problem_field(exc))] = problem_text(exc)
        except ServiceUnavailable as exc:
            errors["_form"] = problem_text(exc)
        else:
            flash(request, "The convening is scheduled; registration opens as set.", "success")
            return see_other(f"/staff/convenings/{c['id']}")
    return render(request, "peer/convening_form.html", _ctx(values=values, errors=errors, zones=ZONES, kinds=KINDS,
                                                            rows=SESSION_ROWS, sub="convenings"), status_code=422)


def _field_key(field: str | None) -> str:
    """A problem's field as the form names it ("sessions.1.starts_at" is the second row's start)."""
    if not field:
        return "_form"
    parts = field.split(".")
    if parts[0] == "sessions" and len(parts) > 1 and parts[1].isdigit():
        return f"s{parts[1]}_start"
    return parts[0]


def _local_values(c: dict[str, Any]) -> dict[str, str]:
    """The convening as the form shows it: every time the venue's wall clock."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(c["timezone"])

    def wall(value: str) -> datetime:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(tz)

    values = {k: str(c.get(k) or "") for k in ("kind", "title", "description", "venue", "address", "timezone")}
    for k in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        values[k] = wall(c[k]).strftime("%Y-%m-%dT%H:%M")
    values["capacity"], values["per_city_limit"] = str(c["capacity"]), str(c.get("per_city_limit") or "")
    for i, session in enumerate(c.get("sessions", [])):
        start, end = wall(session["starts_at"]), wall(session["ends_at"])
        values.update({f"s{i}_id": session["id"], f"s{i}_title": session["title"], f"s{i}_date": f"{start:%Y-%m-%d}",
                       f"s{i}_start": f"{start:%H:%M}", f"s{i}_end": f"{end:%H:%M}",
                       f"s{i}_speakers": "; ".join(session.get("speakers", [])), f"s{i}_track": session.get("track", "")})
    return values


@router.get("/staff/convenings/{cid}/edit")
async def edit_convening(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    c, error = await _get(svc, user, f"/convenings/{_id(cid)}")
    if c is None:
        raise ProblemError(503, "Service unavailable", error or "The convening could not be loaded.")
    rows = max(SESSION_ROWS, len(c.get("sessions", [])) + 1)
    return render(request, "peer/convening_form.html", _ctx(values=_local_values(c), errors={}, zones=ZONES,
                                                            kinds=KINDS, rows=rows, sub="convenings", editing=c))


@router.post("/staff/convenings/{cid}/edit")
async def update_convening(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    allow(user, "convening.manage")
    cid = _id(cid)
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    try:
        await svc.peer.request("PUT", f"/convenings/{cid}", json=_convening_body(form), token=user.token)
    except UpstreamError as exc:
        errors = {_field_key(problem_field(exc)): problem_text(exc)}
    except ServiceUnavailable as exc:
        errors = {"_form": problem_text(exc)}
    else:
        flash(request, "The convening is updated; registrants keep their places.", "success")
        return see_other(f"/staff/convenings/{cid}")
    return render(request, "peer/convening_form.html", _ctx(values=values, errors=errors, zones=ZONES, kinds=KINDS,
                                                            rows=_rows(form), sub="convenings",
                                                            editing={"id": cid}), status_code=422)


@router.get("/staff/convenings")
async def staff_convenings(request: Request, user: PageUser, svc: Svc) -> Response:
    allow(user, "convening.attendance")
    items, error = await _get(svc, user, "/convenings", include_past="true")
    return render(request, "peer/convenings.html", _ctx(items=items or [], error=error, staff=True, sub="convenings"))


@router.get("/staff/convenings/{cid}")
async def staff_convening(request: Request, cid: str, user: PageUser, svc: Svc) -> Response:
    allow(user, "convening.attendance")
    cid = _id(cid)
    c, error = await _get(svc, user, f"/convenings/{cid}")
    regs, error2 = await _get(svc, user, f"/convenings/{cid}/registrations")
    feedback, _ = await _get(svc, user, f"/convenings/{cid}/feedback")
    sessions = {s["id"]: s["title"] for s in (c or {}).get("sessions", [])}
    return render(request, "peer/checkin.html", _ctx(c=c, regs=regs or [], error=error or error2, feedback=feedback,
                                                     sessions=sessions, material_kinds=MATERIAL_KINDS,
                                                     sub="convenings"))


@router.post("/staff/convenings/{cid}/{action}")
async def staff_convening_action(request: Request, cid: str, action: str, user: PageUser, svc: Svc) -> Response:
    cid = _id(cid)
    form = await request.form()
    if action == "cancel":
        json, path, words = {"reason": str(form.get("reason") or "").strip()}, f"/convenings/{cid}/cancel", \
            "The convening is cancelled; every registrant is told."
    elif action == "materials":
        json = _form_text(form, "kind", "title", "summary", "body", "link")
        if not json["link"]:
            json.pop("link")
        path, words = f"/convenings/{cid}/materials", "Published to the library."
    else:
        raise ProblemError(404, "Not found", "No such action.")
    _, response = await act(request, svc.peer, "POST", path, token=user.token, back=f"/staff/convenings/{cid}",
                            success=words, json=json)
    return response


# ============================================================================ groups


@router.get("/groups")
async def groups(request: Request, user: PageUser, svc: Svc) -> Response:
    items, error = await _get(svc, user, "/groups")
    return render(request, "peer/groups.html", _ctx(items=items or [], error=error, sub="groups"))


@router.get("/groups/{gid}")
async def group(request: Request, gid: str, user: PageUser, svc: Svc) -> Response:
    g, error = await _get(svc, user, f"/groups/{_id(gid)}")
    # staff pick a new member by name; nobody types an account or city reference
    candidates = (await _get(svc, user, f"/groups/{_id(gid)}/candidates"))[0] if g and user.is_staff else None
    return render(request, "peer/group.html", _ctx(g=g, error=error, sub="groups", zones=ZONES,
                                                   candidates=candidates))


@router.post("/groups/new")
async def form_group(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    json = _form_text(form, "kind", "name", "purpose")
    body, response = await act(request, svc.peer, "POST", "/groups", token=user.token, back="/groups",
                               success="The group is formed.", json=json)
    return see_other(f"/groups/{body['id']}") if body else response


@router.post("/groups/{gid}/{action}")
async def group_action(request: Request, gid: str, action: str, user: PageUser, svc: Svc) -> Response:
    gid = _id(gid)
    form = await request.form()
    if action == "members":
        json: dict[str, Any] = {k: v for k, v in _form_text(
            form, "member_kind", "member_id", "organization", "term_starts_on", "term_ends_on").items() if v}
        # the form's one choice is "<kind>|<id>" ("city|mi-flint"): the kind comes with the person or city
        kind, _, member_id = str(form.get("member") or "").partition("|")
        if member_id:
            json |= {"member_kind": kind, "member_id": member_id}
        path, words = f"/groups/{gid}/members", "Member added."
    elif action == "leave":
        json = _form_text(form, "member_kind", "member_id")
        path, words = f"/groups/{gid}/members/leave", "Member removed."
    elif action == "meetings":
        json = _form_text(form, "title", "starts_at", "timezone", "agenda")
        path, words = f"/groups/{gid}/meetings", "Meeting scheduled."
    elif action == "notes":
        mid = _id(str(form.get("meeting_id") or "x"))
        json = _form_text(form, "notes")
        path, words = f"/groups/{gid}/meetings/{mid}", "Notes saved."
        _, response = await act(request, svc.peer, "PATCH", path, token=user.token, back=f"/groups/{gid}",
                                success=words, json=json)
        return response
    elif action == "decisions":
        mid = _id(str(form.get("meeting_id") or "x"))
        json = _form_text(form, "summary", "decided_on")
        path, words = f"/groups/{gid}/meetings/{mid}/decisions", "Decision recorded."
    elif action == "deliverables":
        json = _form_text(form, "title", "summary", "body")
        body, response = await act(request, svc.peer, "POST", f"/groups/{gid}/deliverables", token=user.token,
                                   back=f"/groups/{gid}", success="Deliverable started.", json=json)
        return see_other(f"/deliverables/{body['id']}") if body else response
    else:
        raise ProblemError(404, "Not found", "No such action.")
    _, response = await act(request, svc.peer, "POST", path, token=user.token, back=f"/groups/{gid}", success=words,
                            json=json)
    return response


@router.get("/deliverables/{did}")
async def deliverable(request: Request, did: str, user: PageUser, svc: Svc) -> Response:
    d, error = await _get(svc, user, f"/deliverables/{_id(did)}")
    g = None
    if d:
        g, _ = await _get(svc, user, f"/groups/{_id(d['group_id'])}")
    return render(request, "peer/deliverable.html", _ctx(d=d, g=g, error=error, sub="groups",
                                                         may_review=permitted(user, "deliverable.review")))


@router.post("/deliverables/{did}/{action}")
async def deliverable_action(request: Request, did: str, action: str, user: PageUser, svc: Svc) -> Response:
    did = _id(did)
    form = await request.form()
    text = str(form.get("body") or "").strip()
    if action in ("drafts", "comments"):
        json: dict[str, Any] | None = {"body": text}
    elif action == "submit":
        json = None
    elif action == "review":
        json = {"approve": form.get("decision") == "approve", "note": text}
    else:
        raise ProblemError(404, "Not found", "No such action.")
    words = {"drafts": "Draft saved.", "comments": "Comment added.", "submit": "Sent for review.",
             "review": "Approved: it is published to the library." if json and json.get("approve")
             else "Sent back for changes."}
    _, response = await act(request, svc.peer, "POST", f"/deliverables/{did}/{action}", token=user.token,
                            back=f"/deliverables/{did}", success=words[action], json=json)
    return response


# ============================================================================ introductions


@router.get("/introductions")
async def introductions(request: Request, user: PageUser, svc: Svc) -> Response:
    items, error = await _get(svc, user, "/introductions")
    suggestions = None
    if user.is_staff:
        suggestions, _ = await _get(svc, user, "/introductions/suggestions")
    return render(request, "peer/introductions.html", _ctx(items=items or [], suggestions=suggestions or [],
                                                          error=error, shares=SHARES, sub="introductions"))


@router.post("/introductions/offer")
async def offer(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    json = _form_text(form, "city_id", "other_city_id", "reason_kind", "reason")
    _, response = await act(request, svc.peer, "POST", "/introductions", token=user.token, back="/introductions",
                            success="Introduction offered to both cities.", json=json)
    return response


@router.post("/introductions/{iid}/{action}")
async def introduction_action(request: Request, iid: str, action: str, user: PageUser, svc: Svc) -> Response:
    iid = _id(iid)
    form = await request.form()
    if action == "answer":
        accepted = form.get("decision") == "accept"
        json: dict[str, Any] = {"accepted": accepted, "shares": [str(s) for s in form.getlist("shares")][:4],
                                "note": str(form.get("note") or "").strip()}
        words = "You accepted the introduction." if accepted else "You declined the introduction."
    elif action == "progress":
        json = {k: v for k, v in _form_text(form, "met_on", "outcome").items() if v}
        words = "Recorded."
    else:
        raise ProblemError(404, "Not found", "No such action.")
    _, response = await act(request, svc.peer, "POST", f"/introductions/{iid}/{action}", token=user.token,
                            back="/introductions", success=words, json=json)
    return response
