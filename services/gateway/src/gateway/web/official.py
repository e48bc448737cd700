"""Pages for officials: ask a question, follow it, read the memo, book the call, rate the help."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

from nrn_kit.calendar import Attendee, Invitation, build_ics

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import requests311_limits as R
from ..clients import ServiceUnavailable, UpstreamError
from ..api.requests import similar_questions
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .common import PageLines, PageText, act, markdown, problem_field, problem_text, see_other, version_of
from .kept import take_kept
from .words import request_words
from .render import render

router = APIRouter()

ASK_FIELDS = ("title", "question", "context", "desired_outcome", "topic", "urgency", "consent", "preferred_call_times")
URGENCIES = [("routine", "Routine"), ("soon", "Soon — within a few weeks"), ("urgent", "Urgent")]
CONSENTS = [("named", "Yes, with our city's name"), ("anonymous", "Yes, without naming our city"), ("none", "No, keep it private")]


def _rid(request_id: str) -> str:
    # Same rule as the API's path ids: nothing that could change the upstream path.
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}", request_id):
        raise ProblemError(404, "Not found", "No such request.")
    return request_id


async def _topics(svc: Any, token: str) -> list[dict[str, str]]:
    try:
        topics = await svc.requests311.get_json("/topics", token=token)
    except (UpstreamError, ServiceUnavailable):
        return []
    return topics if isinstance(topics, list) else topics.get("items", [])


@router.get("/requests")
async def my_requests(request: Request, user: PageUser, svc: Svc) -> Response:
    if user.is_staff:
        return see_other("/staff/queue")
    page, error = {"items": []}, None
    try:
        if user.verified:  # a pending official's page explains instead (requests311 would refuse)
            page = await svc.requests311.get_json("/requests", params={"city_id": user.city_id, "limit": 100},
                                                  token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    items = [i for i in page.get("items", []) if user.may_see_city(i.get("city_id"))]
    return render(request, "official/requests.html", {"nav": "requests", "items": items, "error": error})


@router.get("/requests/new")
async def new_request(request: Request, user: PageUser, svc: Svc, title: PageText = "", question: PageLines = "") -> Response:
    # "Ask NRN this question" from a search fills the form in; the consent question is left unanswered
    # on purpose: publishing is the official's explicit choice, never a default
    values = {"urgency": "routine", "title": title.strip()[:R.page_limits()["title"]],
              "question": question.strip()[:R.page_limits()["question"]]}
    kept = take_kept(request, "/requests/new")  # typed before the session ended (web/kept.py)
    if kept:
        values.update({k: str(v) for k, v in kept.items() if k in ASK_FIELDS})
    return render(request, "official/ask.html", {
        "nav": "ask", "topics": await _topics(svc, user.token) if user.verified else [], "values": values,
        "errors": {}, "urgencies": URGENCIES, "consents": CONSENTS, "limits": R.page_limits(), "kept": bool(kept),
    })


@router.get("/requests/similar")
async def similar(request: Request, user: PageUser, svc: Svc, title: PageText = "", question: PageLines = "") -> Response:
    """The htmx fragment under the question box: answered questions like the one being typed."""
    text = f"{title} {question}".strip()[:2000]
    result: dict[str, Any] = {"items": []}
    if len(text) >= 12:
        result = await similar_questions(svc, user, text, 5)
    return render(request, "partials/similar.html", {"result": result, "typed": len(text) >= 12})


# Questions this session sent lately, so that the same text sent again under a new form key (typed
# again, or a form drawn afresh) is caught: "you asked this a minute ago". Kept in the signed session.
RECENT_QUESTIONS = "recent_questions"
REPEAT_WINDOW_S = 15 * 60


def _question_print(values: dict[str, str]) -> str:
    text = "\0".join(" ".join(values[k].casefold().split()) for k in ("title", "question"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "a moment ago"
    if seconds < 120:
        return "a minute ago"
    return f"{int(seconds // 60)} minutes ago"


def _recent_questions(request: Request, user: Any) -> list[dict[str, Any]]:
    now = time.time()
    kept = request.session.get(RECENT_QUESTIONS)
    return [r for r in kept if isinstance(r, dict) and r.get("by") == user.account_id
            and now - float(r.get("at", 0)) < REPEAT_WINDOW_S] if isinstance(kept, list) else []


def _repeat_of(request: Request, user: Any, form: Any, values: dict[str, str]) -> dict[str, Any] | None:
    """The question this session sent lately with the same text under another form key, if any."""
    if form.get("confirm_repeat"):
        return None
    printed = _question_print(values)
    for recent in _recent_questions(request, user):
        if recent.get("print") == printed and recent.get("key") != form.get("idempotency_key"):
            return {"id": recent["id"], "ago": _ago(time.time() - float(recent["at"]))}
    return None


def _remember_question(request: Request, user: Any, form: Any, values: dict[str, str], request_id: str) -> None:
    recent = [r for r in _recent_questions(request, user) if r.get("id") != request_id][-4:]
    recent.append({"print": _question_print(values), "key": str(form.get("idempotency_key") or ""),
                   "id": request_id, "at": time.time(), "by": user.account_id})
    request.session[RECENT_QUESTIONS] = recent


@router.post("/requests/new")
async def submit_request(request: Request, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ASK_FIELDS}
    if not user.verified:  # the page explains; the form is not offered until the account is verified
        return see_other("/requests/new")
    errors = {k: "This is required." for k in ("title", "question", "topic") if not values[k]}
    if values["consent"] not in {c for c, _ in CONSENTS}:
        errors["consent"] = "Choose whether the answer may join the public record."
    repeat = None if errors else _repeat_of(request, user, form, values)
    if repeat is not None:
        return render(request, "official/ask.html", {
            "nav": "ask", "topics": await _topics(svc, user.token), "values": values, "errors": {},
            "urgencies": URGENCIES, "consents": CONSENTS, "limits": R.page_limits(), "repeat": repeat,
        })
    if not errors:
        body: dict[str, Any] = {k: values[k] for k in ("title", "question", "topic") if values[k]}
        for k in ("context", "desired_outcome", "urgency", "consent"):
            if values[k]:
                body[k] = values[k]
        times = [t.strip() for t in values["preferred_call_times"].splitlines() if t.strip()]
        if times:
            body["preferred_call_times"] = times[:R.CALL_TIMES_MAX]
        try:
            created = await svc.requests311.post_json("/requests", json=body, token=user.token)
        except (UpstreamError, ServiceUnavailable) as exc:
            field = problem_field(exc) if isinstance(exc, UpstreamError) else None
            errors[field or "_form"] = problem_text(exc)
        else:
            _remember_question(request, user, form, values, created["id"])
            return see_other(f"/requests/{created['id']}")
    return render(request, "official/ask.html", {
        "nav": "ask", "topics": await _topics(svc, user.token), "values": values, "errors": errors,
        "urgencies": URGENCIES, "consents": CONSENTS, "limits": R.page_limits(),
    }, status_code=400)


@router.get("/requests/{request_id}")
async def request_page(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    rid = _rid(request_id)
    if user.is_staff:
        return see_other(f"/staff/requests/{rid}")
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    if not user.may_see_city(view.get("city_id")):
        raise ProblemError(404, "Not found", "No such request, or it is not your city's.")
    memo = view.get("memo")
    return render(request, "official/request.html", {
        "nav": "requests", "r": view, "actions": set(view.get("actions") or []),
        "memo_html": markdown(memo.get("body")) if memo else None, "consents": CONSENTS,
        "zone": view.get("city_time_zone"), **request_words(),
    })


@router.get("/requests/{request_id}/call.ics")
async def call_ics(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    """The booked call as a calendar file, in the city's time zone (VEVENT with its TZID and VTIMEZONE)."""
    rid = _rid(request_id)
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    if not user.may_see_city(view.get("city_id")):
        raise ProblemError(404, "Not found", "No such request, or it is not your city's.")
    calls = [c for c in view.get("calls") or [] if (c.get("outcome") or "scheduled") == "scheduled"]
    if not calls:
        raise ProblemError(404, "Not found", "This question has no booked call.")
    call = calls[-1]
    base = str(request.base_url).rstrip("/")
    invitation = Invitation(
        uid=f"call-{rid}-{call['id']}@nrn", sequence=0, method="PUBLISH",
        starts_at=datetime.fromisoformat(str(call["starts_at"]).replace("Z", "+00:00")),
        duration_minutes=int(call.get("duration_minutes") or 30),
        zone=view.get("city_time_zone") or "America/New_York",
        summary=f"NRN call: {view.get('title')}",
        description=f"Call with the SC2 National Resource Network about “{view.get('title')}”"
                    + (f" ({view['reference']})" if view.get("reference") else "") + f".\nThe question: {base}/requests/{rid}",
        url=f"{base}/requests/{rid}", organizer=Attendee("SC2 National Resource Network", "calls@nrn.example"),
    )
    name = (view.get("reference") or "nrn-call").lower()
    return Response(build_ics(invitation), media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}-call.ics"', "Cache-Control": "no-store"})


@router.post("/requests/{request_id}/call/reschedule")
async def ask_to_reschedule(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    times = [t.strip() for t in str(form.get("preferred_call_times") or "").splitlines() if t.strip()]
    return await _official_action(request, user, svc, request_id, "call/reschedule",
                                  {"reason": str(form.get("reason") or "").strip(),
                                   "preferred_call_times": times[:R.CALL_TIMES_MAX]},
                                  "NRN has your request for another time: your expert will offer new times.")


@router.post("/requests/{request_id}/call/cancel")
async def cancel_the_call(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    return await _official_action(request, user, svc, request_id, "call/cancel",
                                  {"reason": str(form.get("reason") or "").strip()}, "The call is cancelled.")


@router.get("/requests/{request_id}/memo.pdf")
async def memo_pdf(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    rid = _rid(request_id)
    response = await svc.requests311.request("GET", f"/requests/{rid}/memo.pdf", token=user.token,
                                             timeout=request.app.state.settings.document_read_timeout)
    return Response(response.content, media_type="application/pdf", headers={
        "Content-Disposition": response.headers.get("content-disposition", f'attachment; filename="memo-{rid}.pdf"'),
        "Cache-Control": "no-store",
    })


async def _official_action(request: Request, user: Any, svc: Any, request_id: str, suffix: str, payload: dict[str, Any],
                           success: str, method: str = "POST") -> Response:
    rid = _rid(request_id)
    form = await request.form()
    body = {**payload, "version": version_of(form)}
    _, response = await act(request, svc.requests311, method, f"/requests/{rid}/{suffix}", token=user.token,
                            json=body, back=f"/requests/{rid}", success=success)
    return response


@router.post("/requests/{request_id}/information")
async def provide_information(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    return await _official_action(request, user, svc, request_id, "information",
                                  {"answer": str(form.get("answer") or "")}, "Thank you: your answer was sent.")


@router.post("/requests/{request_id}/schedule")
async def pick_slot(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    return await _official_action(request, user, svc, request_id, "call/schedule",
                                  {"slot_id": str(form.get("slot_id") or "")}, "Your call is booked.")


@router.post("/requests/{request_id}/feedback")
async def feedback(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    try:
        rating = int(str(form.get("rating") or "0"))
    except ValueError:
        rating = 0
    payload: dict[str, Any] = {"rating": rating}
    if form.get("comment"):
        payload["comment"] = str(form.get("comment"))
    return await _official_action(request, user, svc, request_id, "feedback", payload, "Thank you for your feedback.")


@router.post("/requests/{request_id}/consent")
async def consent(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    return await _official_action(request, user, svc, request_id, "consent", {"consent": str(form.get("consent") or "")},
                                  "Your choice about publishing the answer is saved.", method="PUT")


@router.post("/requests/{request_id}/reopen")
async def reopen(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    return await _official_action(request, user, svc, request_id, "reopen", {"reason": str(form.get("reason") or "")},
                                  "The question is reopened.")


@router.post("/requests/{request_id}/follow-up")
async def follow_up(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    form = await request.form()
    payload = {"outcome": str(form.get("outcome") or "")}
    if form.get("description"):
        payload["description"] = str(form.get("description"))
    return await _official_action(request, user, svc, request_id, "follow-up", payload, "Thank you: the follow-up is recorded.")
