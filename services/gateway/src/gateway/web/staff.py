"""Pages for NRN staff working 311 questions: the queue, a request's page (triage, assignment, the call,
notes), the memo editor and review. Accounts and cities are in `staff_accounts.py`.

A refused action draws the page again with what was typed still in its form and the reason above it
(never a redirect that loses the text); an action that cannot be taken yet says so instead of failing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from nrn_kit.localtime import zone_label

from .. import requests311_limits as R
from ..auth import Principal
from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..deps import PageUser, Svc, allow
from ..problems import ProblemError
from .common import PageText, markdown, problem_field, problem_text, see_other, version_of
from .dashboard_page import render_dashboard
from .navigation import default_queue
from .render import EASTERN, flash, render

router = APIRouter()

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
QUEUES = [("new", "New"), ("awaiting_information", "Awaiting information"), ("in_review", "In review"),
          ("due_soon", "Due soon"), ("overdue", "Overdue"), ("follow_up_due", "Follow-up due"),
          ("mine", "Assigned to me"), ("all", "All")]
SORTS = [("newest", "Newest first"), ("oldest", "Oldest first"), ("due", "Due soonest"),
         ("urgency", "Most urgent first")]
STATUSES = ["submitted", "triaged", "awaiting_information", "assigned", "memo_drafted", "memo_in_review",
            "memo_returned", "memo_approved", "memo_delivered", "call_scheduled", "call_completed", "call_missed",
            "closed", "reopened", "declined"]
# what each status is called on a page
STATUS_WORDS = {"submitted": "New", "triaged": "Triaged", "awaiting_information": "Waiting for the city",
                "assigned": "Assigned", "memo_drafted": "Memo being written", "memo_in_review": "Memo in review",
                "memo_returned": "Memo returned", "memo_approved": "Memo approved", "memo_delivered": "Memo delivered",
                "call_scheduled": "Call booked", "call_completed": "Call held", "call_missed": "Call missed",
                "closed": "Closed", "reopened": "Reopened", "declined": "Declined"}
CLOCKS = {"acknowledge": "Acknowledge", "memo": "Memo", "call": "Call", "response_after_reopen": "Reply after reopening"}
URGENCIES = [("routine", "Routine"), ("soon", "Soon"), ("urgent", "Urgent")]
SLOT_FIELDS = 3  # the form's slot inputs: starts_at (repeated) and fold-1 … fold-3


def staff_only(user: Principal) -> None:
    if not user.is_staff:
        raise ProblemError(403, "Forbidden", "This page is for NRN staff.")


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise ProblemError(404, "Not found", "No such item.")
    return value


def _aware(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the queue ---------------------------------------------------------------------------------------


# a reference as people type it (NRN-2026-00123; case and leading zeros do not matter)
REFERENCE = re.compile(r"\s*(nrn-\d{4}-\d{1,10})\s*", re.IGNORECASE)


@router.get("/staff/queue")
async def queue(request: Request, user: PageUser, svc: Svc, queue: PageText = "", topic: PageText = "",
                state: PageText = "", city_id: PageText = "", status: PageText = "", expert_id: PageText = "",
                q: PageText = "", sort: PageText = "", cursor: PageText = "", reference: PageText = "") -> Response:
    staff_only(user)
    allow(user, "request.read")
    is_expert = "subject_matter_expert" in user.roles
    tabs = [(k, label) for k, label in QUEUES if k != "mine" or is_expert]
    queue = queue if queue in dict(tabs) else default_queue(user)
    status = status if status in STATUSES else ""
    sort = sort if sort in dict(SORTS) else ""
    city_id = city_id if ID.fullmatch(city_id) else ""
    expert_id = expert_id if ID.fullmatch(expert_id) else ""
    state = state.strip().upper()[:2]
    state = state if re.fullmatch(r"[A-Z]{2}", state) else ""
    q = " ".join(q.split())[:200]
    params: dict[str, Any] = {"limit": 50, "topic": topic or None, "state": state or None, "city_id": city_id or None,
                              "status": status or None, "q": q or None, "sort": sort or None,
                              "cursor": cursor[:500] or None}
    match = REFERENCE.fullmatch(q or reference)
    if match:  # a reference finds its question whatever queue is open, as typed (case, leading zeros)
        params = {"limit": 50, "reference": match.group(1)}
        queue, q = "all", match.group(1).upper()
    if expert_id:  # one expert's open requests, chosen from the workload table
        queue = "by_expert"
        params.update(queue="by_expert", expert_id=expert_id)
    elif queue == "mine":
        params.update(queue="by_expert", expert_id="me")
    elif queue != "all":
        params["queue"] = queue

    async def counts(_: None) -> Any:
        return await svc.requests311.get_json("/queues", token=user.token)

    async def items(_: None) -> Any:
        return await svc.requests311.get_json("/requests", params={k: v for k, v in params.items() if v},
                                               token=user.token)

    async def topics(_: None) -> Any:
        return await svc.requests311.get_json("/topics", token=user.token)

    async def experts(_: None) -> Any:
        return await svc.requests311.get_json("/experts", token=user.token)

    sections = [Section("counts", "Queue counts", "requests311", counts),
                Section("items", "Questions", "requests311", items),
                Section("topics", "Topics", "requests311", topics)]
    if user.can("request.assign"):
        sections.append(Section("experts", "Experts and their workload", "requests311", experts))
    out = await compose(sections, None, default_timeout=5.0)
    page = out.sections.get("items") or {}
    expert_list = sorted(out.sections.get("experts") or [],
                         key=lambda e: (-(e.get("open_requests") or 0), str(e.get("name") or "")))
    topic_list = out.sections.get("topics") or []
    keep = {"queue": queue if queue != "by_expert" else "all", "topic": topic, "state": state, "city_id": city_id,
            "status": status, "expert_id": expert_id, "q": q, "sort": sort}
    next_page = ("/staff/queue?" + urlencode({**{k: v for k, v in keep.items() if v}, "cursor": page["next_cursor"]})
                 if page.get("next_cursor") else None)
    rows = page.get("items", []) or []
    city_name = next((f"{r.get('city_name')}, {r.get('state')}" for r in rows if r.get("city_id") == city_id), "")
    return render(request, "staff/queue.html", {
        "nav": "queue", "queues": tabs, "current": queue, "counts": out.sections.get("counts") or {},
        "items": rows, "topic": topic, "state": state, "city_id": city_id, "city_name": city_name, "status": status,
        "statuses": STATUSES, "status_words": STATUS_WORDS, "expert_id": expert_id, "q": q, "sort": sort,
        "sorts": SORTS, "topics": topic_list, "topic_labels": {t["id"]: t["label"] for t in topic_list},
        "experts": expert_list, "clocks": CLOCKS, "next_page": next_page, "now": datetime.now(UTC),
        "expert_name": next((e.get("name") for e in expert_list if e.get("id") == expert_id), "the expert"),
        "filtered": any((topic, state, city_id, status, expert_id, q)),
    }, missing=out.missing)


# --- a request's page --------------------------------------------------------------------------------


def _zone_of(view: dict[str, Any]) -> str:
    return view.get("city_time_zone") or EASTERN.key


async def request_page(request: Request, user: Principal, svc: Any, rid: str, *, kept: dict[str, Any] | None = None,
                       status_code: int = 200, dup_q: str = "") -> Response:
    """The request with everything staff act on; `kept`: a refused form's action and what was typed in it."""
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    official_id = str(view.get("official_id") or "")

    async def suggestions(_: None) -> Any:
        return await svc.requests311.get_json(f"/requests/{rid}/expert-suggestions", params={"limit": 200},
                                              token=user.token)

    async def topics(_: None) -> Any:
        return await svc.requests311.get_json("/topics", token=user.token)

    async def levels(_: None) -> Any:
        return await svc.requests311.get_json("/service-levels", token=user.token)

    async def requester(_: None) -> Any:
        return await svc.accounts.get_json(f"/accounts/{official_id}/contact", token=user.token)

    async def theirs(_: None) -> Any:
        found = await svc.requests311.get_json("/requests", params={
            "city_id": view.get("city_id"), "official_id": official_id, "limit": 20}, token=user.token)
        return [r for r in found.get("items", []) if r.get("id") != rid and r.get("status") not in ("closed", "declined")]

    async def duplicates(_: None) -> Any:
        return await _duplicate_candidates(svc, user, view, dup_q)

    wanted = [Section("topics", "Topics", "requests311", topics),
              Section("levels", "Service levels", "requests311", levels),
              Section("requester", "The requester's contact details", "accounts", requester),
              Section("theirs", "The requester's other open questions", "requests311", theirs)]
    if user.can("request.assign"):
        wanted.append(Section("suggestions", "Experts", "requests311", suggestions))
    if user.can("request.triage") and view.get("status") in ("submitted", "triaged", "awaiting_information"):
        wanted.append(Section("duplicates", "Questions it may duplicate", "requests311", duplicates))
    out = await compose(wanted, None, default_timeout=4.0)
    zone = _zone_of(view)
    staff_zone = request.app.state.settings.staff_time_zone  # the staff member's own, beside the city's
    call = (view.get("calls") or [None])[-1]
    call_started = bool(call and call.get("outcome") == "scheduled" and (_aware(call.get("starts_at")) or datetime.max.replace(
        tzinfo=UTC)) <= datetime.now(UTC))
    kept = kept or {}
    slot_form = kept.get("slots") or {}
    levels = out.sections.get("levels") or {}
    urgency_clocks = [(key, label, _urgency_words(levels, key)) for key, label in URGENCIES]
    return render(request, "staff/request.html", {
        "nav": "queue", "r": view, "suggestions": out.sections.get("suggestions") or [],
        "topics": out.sections.get("topics") or [], "levels": out.sections.get("levels") or {},
        "requester": out.sections.get("requester"), "theirs": out.sections.get("theirs") or [],
        "duplicates": out.sections.get("duplicates") or [], "dup_q": dup_q,
        "can": {a: user.can(a) for a in ("request.triage", "request.assign", "memo.draft", "memo.review",
                                          "call.schedule")},
        "is_expert": view.get("expert_id") == user.account_id, "kept": kept, "slot_form": slot_form,
        "slot_fields": SLOT_FIELDS, "status_words": STATUS_WORDS, "clocks": CLOCKS, "urgencies": URGENCIES,
        "zone": zone, "zone_label": zone_label(zone), "staff_zone": staff_zone,
        "staff_zone_label": zone_label(staff_zone), "call": call,
        "call_started": call_started, "urgency_clocks": urgency_clocks, "topic_labels": {t["id"]: t["label"] for t in out.sections.get("topics") or []},
    }, status_code=status_code, missing=out.missing)


def _urgency_words(levels: dict[str, Any], urgency: str) -> str:
    """"memo in 4 business days, call within 2": the clocks a question of this urgency runs on."""
    if not levels:
        return "the service levels cannot be read right now"
    faster = levels.get(urgency) if urgency != "routine" else None

    def days(step: str) -> float:
        value = (faster or {}).get(f"{step}_business_days") or levels.get(f"{step}_business_days") or 0
        return float(value)

    def n(value: float) -> str:
        return f"{value:g}"

    return f"memo in {n(days('memo'))} business days, call within {n(days('call'))} of the memo"


async def _duplicate_candidates(svc: Any, user: Principal, view: dict[str, Any], q: str) -> list[dict[str, Any]]:
    """Questions this one may repeat: those matching the words searched, else the city's latest."""
    params: dict[str, Any] = {"limit": 10}
    if q:
        params["q"] = q
    else:
        params["city_id"] = view.get("city_id")
    found = await svc.requests311.get_json("/requests", params=params, token=user.token)
    return [r for r in found.get("items", []) if r.get("id") != view.get("id")]


@router.get("/staff/requests/{request_id}")
async def triage_screen(request: Request, request_id: str, user: PageUser, svc: Svc, dup_q: PageText = "") -> Response:
    staff_only(user)
    allow(user, "request.read")
    return await request_page(request, user, svc, _id(request_id), dup_q=" ".join(dup_q.split())[:200])


@router.get("/staff/requests/{request_id}/duplicates")
async def duplicate_picker(request: Request, request_id: str, user: PageUser, svc: Svc, dup_q: PageText = "") -> Response:
    """htmx fragment: the questions matching what the triage lead types, to pick the one this repeats."""
    staff_only(user)
    allow(user, "request.triage")
    rid = _id(request_id)
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    found = await _duplicate_candidates(svc, user, view, " ".join(dup_q.split())[:200])
    return render(request, "partials/duplicate_choices.html", {"duplicates": found, "dup_q": dup_q,
                                                               "status_words": STATUS_WORDS})


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def _text(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


# Staff actions on a request: the page's name → (requests311 path suffix, payload from the form, message).
ACTIONS: dict[str, tuple[str, Any, str]] = {
    "triage": ("triage", lambda f: {"topic": f.get("topic"), "urgency": f.get("urgency") or None,
                                    "note": _text(f, "note")}, "Triaged."),
    "decline": ("decline", lambda f: {"reason": f.get("reason"), "explanation": _text(f, "explanation"),
                                      "duplicate_of": (f.get("duplicate_of") or None) if f.get("reason") == "duplicate"
                                      else None}, "Declined."),
    "ask": ("information-requests", lambda f: {"question": f.get("question")}, "The question was sent to the city."),
    "assign": ("assign", lambda f: {"expert_id": f.get("expert_id"), "reason": _text(f, "reason")}, "Expert assigned."),
    "unassign": ("unassign", lambda f: {"reason": f.get("reason")}, "The expert was taken off the request."),
    "draft": ("memo/drafts", lambda f: {"body": f.get("body")}, "Memo draft saved."),
    "approve": ("memo/approve", lambda f: {}, "Memo approved."),
    "return": ("memo/return", lambda f: {"comments": _lines(f.get("comments"))}, "Memo returned to the expert."),
    "deliver": ("memo/deliver", lambda f: {}, "Memo delivered to the city."),
    "complete": ("call/complete", lambda f: {"summary": f.get("summary"), "next_steps": _lines(f.get("next_steps")),
                                             "close": f.get("close") == "on"}, "Call recorded."),
    "missed": ("call/missed", lambda f: {"missed_by": f.get("missed_by") or None}, "Call marked as missed."),
    "reschedule": ("call/reschedule", lambda f: {"reason": f.get("reason")},
                   "The call was released; offer the city new times."),
    "cancel_call": ("call/cancel", lambda f: {"reason": f.get("reason")}, "The call was cancelled."),
    "close": ("close", lambda f: {"note": _text(f, "note")}, "Request closed."),
    "note": ("notes", lambda f: {"text": f.get("text")}, "Note added."),
}
MEMO_ACTIONS = ("draft", "approve", "return")


MULTIPLE = {"starts_at", "roles", "expertise"}  # fields a form may send several times


def _typed(form: Any) -> dict[str, Any]:
    """What the person typed and chose, to put back into the form the service refused."""
    out: dict[str, Any] = {}
    for key in form.keys():
        if key in ("csrf_token", "idempotency_key", "version"):
            continue
        values = [str(v) for v in form.getlist(key)]
        out[key] = values if len(values) > 1 or key in MULTIPLE else values[0]
    return out


@router.post("/staff/requests/{request_id}/do/{action}")
async def staff_action(request: Request, request_id: str, action: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    rid = _id(request_id)
    if action not in ACTIONS and action not in ("slots", "send"):
        raise ProblemError(404, "Not found", "No such action.")
    form = await request.form()
    if action == "slots":
        return await offer_slots(request, rid, user, svc, form)
    if action == "send":
        return await send_for_review(request, rid, user, svc, form)
    suffix, build, message = ACTIONS[action]
    payload = {k: v for k, v in build(form).items() if v is not None}
    payload["version"] = version_of(form)
    memo = action in MEMO_ACTIONS
    try:
        await svc.requests311.request("POST", f"/requests/{rid}/{suffix}", token=user.token, json=payload)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        kept = {"action": action, "typed": _typed(form),
                "field": problem_field(exc) if isinstance(exc, UpstreamError) else None}
        if memo:
            return await memo_page(request, user, svc, rid, kept=kept, status_code=_status(exc))
        return await request_page(request, user, svc, rid, kept=kept, status_code=_status(exc))
    flash(request, message, "success")
    return see_other(f"/staff/requests/{rid}/memo" if memo else f"/staff/requests/{rid}")


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, UpstreamError) and 400 <= exc.status < 500 else 503


# --- call slots -----------------------------------------------------------------------------------------


def _slots(form: Any, zone: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The form's filled-in slots as requests311 takes them, and each one's slot number on the form.

    The times are local wall-clock times in the zone the form names (the city's by default, or the staff
    member's own); requests311 makes them instants (nrn_kit.localtime), refusing a time in the
    spring-forward gap and asking which is meant when one happens twice. What a person typed goes on as
    typed: a value that is not a date and time comes back as a message, never dropped.
    """
    duration = str(form.get("duration_minutes") or "30").strip()
    slots, numbers = [], []
    for n, raw in enumerate(form.getlist("starts_at")[:SLOT_FIELDS], start=1):
        raw = str(raw).strip()
        if not raw:
            continue
        slot: dict[str, Any] = {"starts_at": raw, "time_zone": zone, "duration_minutes": duration}
        fold = str(form.get(f"fold-{n}") or "")
        if fold in ("0", "1"):
            slot["fold"] = int(fold)
        slots.append(slot)
        numbers.append(n)
    return slots, numbers


def _form_zone(value: Any, fallback: str) -> str:
    name = str(value or "").strip()
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):
        return fallback
    return name if "/" in name else fallback


async def offer_slots(request: Request, rid: str, user: Principal, svc: Any, form: Any) -> Response:
    """Offer the form's call slots. A time that happens twice comes back with the two choices beside it; a
    slot outside the city's business hours comes back with a box to confirm it."""
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    zone = _form_zone(form.get("time_zone"), _zone_of(view))
    slots, numbers = _slots(form, zone)
    payload = {"slots": slots, "version": version_of(form), "meeting": str(form.get("meeting") or "").strip()[:500],
               "outside_business_hours_confirmed": form.get("outside_hours") == "on"}
    try:
        await svc.requests311.request("POST", f"/requests/{rid}/call-slots", token=user.token, json=payload)
    except (UpstreamError, ServiceUnavailable) as exc:
        body = exc.problem() if isinstance(exc, UpstreamError) else {}
        match = re.fullmatch(r"slots\.(\d+)\.(\w+)", str(body.get("field") or ""))
        if match and int(match.group(1)) < len(numbers):
            # the service's own words name its fields ("slots.1.starts_at"): say which time of the form
            if body.get("rule") == "slot_outside_business_hours":  # the service names the slot and why
                flash(request, problem_text(exc), "error")
            elif body.get("code") == "invalid-input":  # not a date and time at all: what to enter
                what = "a date and a time" if match.group(2) == "starts_at" else "a length from 15 to 120 minutes"
                flash(request, f"Time {numbers[int(match.group(1))]}: enter {what}.", "error")
            else:  # a time in the clocks' gap, one that happens twice, one outside business hours: why
                flash(request, f"Time {numbers[int(match.group(1))]}: {problem_text(exc)}", "error")
        else:
            flash(request, problem_text(exc), "error")
        pending: dict[str, Any] = {"starts_at": [str(v) for v in form.getlist("starts_at")[:SLOT_FIELDS]],
                                   "duration_minutes": str(form.get("duration_minutes") or "30")[:8],
                                   "meeting": payload["meeting"], "time_zone": zone, "choices": {},
                                   "outside_hours": False,
                                   # which of a twice-happening time was chosen stays chosen on the next try
                                   "folds": {str(n): str(form.get(f"fold-{n}")) for n in numbers
                                             if str(form.get(f"fold-{n}") or "") in ("0", "1")}}
        match = re.fullmatch(r"slots\.(\d+)\.starts_at", str(body.get("field") or ""))
        if match and body.get("choices") and int(match.group(1)) < len(numbers):
            pending["choices"][str(numbers[int(match.group(1))])] = [
                {"fold": c.get("fold"), "label": c.get("label")} for c in body["choices"][:2]]
        if body.get("rule") == "slot_outside_business_hours":
            pending["outside_hours"] = True  # the form now asks to confirm
        return await request_page(request, user, svc, rid, kept={"action": "slots", "slots": pending},
                                  status_code=_status(exc))
    flash(request, "Call slots offered to the city.", "success")
    return see_other(f"/staff/requests/{rid}#call-h")


# --- the memo editor and review --------------------------------------------------------------------------


def memo_checks(version: dict[str, Any] | None) -> list[str]:
    """What a saved version fails of the memo's own checks, in words (empty: nothing)."""
    if not version:
        return []
    out = []
    for flag in version.get("flags") or []:
        if flag == "too_short":
            out.append(f"It is {version.get('word_count', 0):,} words; a memo is 800 to 1,800 words (2 to 3 pages).")
        elif flag == "too_long":
            out.append(f"It is {version.get('word_count', 0):,} words; a memo is 800 to 1,800 words (2 to 3 pages).")
        elif flag.startswith("missing_section:"):
            out.append(f"The section “{flag.split(':', 1)[1].replace('_', ' ')}” is missing.")
        elif flag.startswith("empty_section:"):
            out.append(f"The section “{flag.split(':', 1)[1].replace('_', ' ')}” is empty.")
    return out


async def send_for_review(request: Request, rid: str, user: Principal, svc: Any, form: Any) -> Response:
    """"Send for review" from the editor: the text is saved as a version first when it changed; a memo
    that fails its own checks (too short, a section missing or empty) asks for confirmation first."""
    version = version_of(form)
    body = form.get("body")
    confirmed = form.get("confirmed") == "yes"
    try:
        view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
        latest = (view.get("memo_versions") or [None])[-1]
        if body is not None and (latest is None or latest.get("state") != "draft" or latest.get("body") != body):
            response = await svc.requests311.request("POST", f"/requests/{rid}/memo/drafts", token=user.token,
                                                     json={"body": body, "version": version})
            view = response.json()
            version = view["version"]
            latest = view["memo_versions"][-1]
        problems = memo_checks(latest)
        if problems and not confirmed:
            return render(request, "staff/memo_confirm.html", {"nav": "queue", "r": view, "problems": problems,
                                                               "latest": latest})
        await svc.requests311.request("POST", f"/requests/{rid}/memo/submit", token=user.token,
                                      json={"version": version, "accept_incomplete": bool(problems)})
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return await memo_page(request, user, svc, rid, kept={"action": "draft", "typed": _typed(form)},
                               status_code=_status(exc))
    flash(request, "Memo sent for review.", "success")
    return see_other(f"/staff/requests/{rid}/memo")


async def memo_page(request: Request, user: Principal, svc: Any, rid: str, *, kept: dict[str, Any] | None = None,
                    status_code: int = 200) -> Response:
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    versions = view.get("memo_versions") or []
    latest = versions[-1] if versions else None
    copy = view.get("memo_working_copy")
    restored = None
    kept = kept or {}
    if kept.get("typed", {}).get("body") is not None:
        body = kept["typed"]["body"]
    elif copy and (latest is None or (_aware(copy.get("saved_at")) or datetime.min.replace(tzinfo=UTC))
                   > (_aware(latest.get("drafted_at")) or datetime.min.replace(tzinfo=UTC))):
        body, restored = copy.get("body") or "", copy  # what was typed since the last saved version
    elif latest is not None:
        body = latest["body"]
    else:
        try:
            body = (await svc.requests311.get_json(f"/requests/{rid}/memo/template", token=user.token)).get("body", "")
        except (UpstreamError, ServiceUnavailable):
            body = ""
    returned = next((v for v in reversed(versions) if v.get("review_comments")), None)
    return render(request, "staff/memo.html", {
        "nav": "queue", "r": view, "body": body, "versions": versions, "latest": latest,
        "versions_html": [markdown(v.get("body")) for v in versions], "kept": kept,
        "can": {a: user.can(a) for a in ("memo.draft", "memo.review")},
        "is_expert": view.get("expert_id") == user.account_id, "restored": restored,
        "base_revision": (copy or {}).get("revision", 0),
        "returned": returned if view.get("status") in ("memo_returned", "memo_drafted") and returned else None,
        "problems": memo_checks(latest) if latest and latest.get("state") == "draft" else [],
        "review_problems": memo_checks(latest) if latest and latest.get("state") == "in_review" else [],
        "status_words": STATUS_WORDS,
    }, status_code=status_code)


@router.get("/staff/requests/{request_id}/memo")
async def memo_editor(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    allow(user, "request.read")
    return await memo_page(request, user, svc, _id(request_id))


@router.post("/staff/requests/{request_id}/memo/autosave")
async def memo_autosave(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    """htmx: keep what the expert is typing (not a version; the request's version does not move, so the
    page's other forms stay valid). A save made elsewhere meanwhile is never overwritten: the editor says so."""
    staff_only(user)
    rid = _id(request_id)
    form = await request.form()
    try:
        base = int(str(form.get("base_revision") or "0"))
    except ValueError:
        base = 0
    try:
        saved = await svc.requests311.request("PUT", f"/requests/{rid}/memo/working-copy", token=user.token, json={
            "body": str(form.get("body") or ""), "base_revision": base, "version": version_of(form)})
    except (UpstreamError, ServiceUnavailable) as exc:
        body = exc.problem() if isinstance(exc, UpstreamError) else {}
        conflict = body.get("rule") in ("working_copy_changed", "version_mismatch")
        return render(request, "partials/autosave.html", {
            "error": ("This memo was changed elsewhere since you opened it. Copy what you typed, reload the page "
                      "and compare." if conflict else problem_text(exc)), "revision": base})
    answer = saved.json()
    return render(request, "partials/autosave.html", {"saved_at": answer.get("saved_at"),
                                                      "revision": answer.get("revision", base)})


@router.get("/staff/requests/{request_id}/memo.pdf")
async def memo_pdf(request: Request, request_id: str, user: PageUser, svc: Svc,
                   memo_version: Annotated[int | None, Query(ge=1, le=R.MEMO_VERSION_MAX)] = None) -> Response:
    """Any version of the memo exactly as the city would receive it, to check the print before delivery."""
    staff_only(user)
    rid = _id(request_id)
    params = {"memo_version": memo_version} if memo_version and memo_version > 0 else None
    response = await svc.requests311.request("GET", f"/requests/{rid}/memo.pdf", token=user.token, params=params,
                                             timeout=request.app.state.settings.document_read_timeout)
    return Response(response.content, media_type="application/pdf", headers={
        "Content-Disposition": response.headers.get("content-disposition", f'attachment; filename="memo-{rid}.pdf"'),
        "Cache-Control": "no-store",
    })


@router.post("/staff/requests/{request_id}/memo/preview")
async def memo_preview(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    """htmx fragment: the memo as the city will see it, with its length and section checks."""
    staff_only(user)
    rid = _id(request_id)
    form = await request.form()
    body = str(form.get("body") or "")
    checks: dict[str, Any] = {}
    try:
        checks = await svc.requests311.post_json(f"/requests/{rid}/memo/preview", json={"body": body}, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        checks = {"error": problem_text(exc)}
    # Rendered here with raw HTML escaped, whatever the service's own preview contains.
    return render(request, "partials/memo_preview.html", {"html": markdown(body), "checks": checks})


@router.get("/cities/{city_id}")
async def city_dashboard(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    return await render_dashboard(request, user, svc, _id(city_id))
