"""Pages for NRN staff: queues and triage, the memo editor and review, accounts and cities."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from .. import requests311_limits as R
from ..auth import Principal
from ..clients import ServiceUnavailable, UpstreamError
from ..compose import Section, compose
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .common import PageOffset, PageText, act, markdown, problem_text, see_other, version_of
from .dashboard_page import render_dashboard
from .render import EASTERN, flash, render

router = APIRouter()

QUEUES = [("new", "New"), ("awaiting_information", "Awaiting information"), ("in_review", "In review"),
          ("due_soon", "Due soon"), ("overdue", "Overdue"), ("follow_up_due", "Follow-up due"), ("mine", "Assigned to me"),
          ("all", "All")]
ROLES = ["administrator", "program_manager", "triage_lead", "subject_matter_expert", "reviewer", "curator"]
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")


def staff_only(user: Principal) -> None:
    if not user.is_staff:
        raise ProblemError(403, "Forbidden", "This page is for NRN staff.")


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise ProblemError(404, "Not found", "No such item.")
    return value


# --- queues and triage ---------------------------------------------------------------------------


STATUSES = ["submitted", "triaged", "awaiting_information", "assigned", "memo_drafted", "memo_in_review",
            "memo_returned", "memo_approved", "memo_delivered", "call_scheduled", "call_completed", "call_missed",
            "closed", "reopened", "declined"]


@router.get("/staff/queue")
async def queue(request: Request, user: PageUser, svc: Svc, queue: PageText = "new", topic: PageText = "",
                state: PageText = "", city_id: PageText = "", status: PageText = "", expert_id: PageText = "",
                reference: PageText = "") -> Response:
    staff_only(user)
    if queue not in dict(QUEUES):
        queue = "new"  # by_expert is reached with expert_id below
    status = status if status in STATUSES else ""
    city_id = city_id if ID.fullmatch(city_id) else ""
    expert_id = expert_id if ID.fullmatch(expert_id) else ""
    params: dict[str, Any] = {"limit": 50, "topic": topic or None, "state": state.upper()[:2] or None,
                              "city_id": city_id or None, "status": status or None}
    match = REFERENCE.fullmatch(reference or "")
    if match:  # a reference finds its question whatever queue is open
        params = {"limit": 50, "reference": match.group(1)}
        queue = "all"
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
        return await svc.requests311.get_json("/requests", params=params, token=user.token)

    async def topics(_: None) -> Any:
        return await svc.requests311.get_json("/topics", token=user.token)

    async def experts(_: None) -> Any:
        return await svc.requests311.get_json("/experts", token=user.token)

    out = await compose([Section("counts", "Queue counts", "requests311", counts),
                         Section("items", "Questions", "requests311", items),
                         Section("topics", "Topics", "requests311", topics),
                         Section("experts", "Experts and their workload", "requests311", experts)],
                        None, default_timeout=5.0)
    expert_list = sorted(out.sections.get("experts") or [], key=lambda e: (-(e.get("open_requests") or 0),
                                                                            str(e.get("name") or "")))
    return render(request, "staff/queue.html", {
        "nav": "queue", "queues": QUEUES, "current": queue, "counts": out.sections.get("counts") or {},
        "items": (out.sections.get("items") or {}).get("items", []), "topic": topic, "state": state,
        "city_id": city_id, "status": status, "statuses": STATUSES, "expert_id": expert_id,
        "topics": out.sections.get("topics") or [], "experts": expert_list,
        "expert_name": next((e.get("name") for e in expert_list if e.get("id") == expert_id), expert_id),
        "reference": reference[:40],
    }, missing=out.missing)


@router.get("/staff/requests/{request_id}")
async def triage_screen(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    rid = _id(request_id)
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)

    async def suggestions(_: None) -> Any:
        return await svc.requests311.get_json(f"/requests/{rid}/expert-suggestions", token=user.token)

    async def topics(_: None) -> Any:
        return await svc.requests311.get_json("/topics", token=user.token)

    out = await compose([Section("suggestions", "Expert suggestions", "requests311", suggestions),
                         Section("topics", "Topics", "requests311", topics)], None, default_timeout=3.0)
    return render(request, "staff/request.html", {
        "nav": "queue", "r": view, "suggestions": out.sections.get("suggestions") or [],
        "topics": out.sections.get("topics") or [], "can": {a: user.can(a) for a in
                                                          ("request.triage", "request.assign", "memo.draft", "memo.review")},
        "is_expert": view.get("expert_id") == user.account_id,
        "slot_form": request.session.pop("slot_form", None) or {}, "slot_fields": SLOT_FIELDS,
        "zone": view.get("city_time_zone") or EASTERN.key, "staff_zone": request.app.state.settings.staff_time_zone,
    }, missing=out.missing)


SLOT_FIELDS = 3  # the form's slot inputs: starts_at (repeated) and fold-1 … fold-3


def _slots(form: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """The form's filled-in slots as requests311 takes them, and each one's slot number on the form.

    The times are local wall-clock times in the city's zone (as the form says); requests311
    makes them instants (nrn_kit.localtime), refusing a time in the spring-forward gap and asking
    which is meant when one happens twice. What a person typed goes on as typed: a value that is not
    a date and time, or a length that is not a number, comes back as a message, never dropped.
    """
    duration = str(form.get("duration_minutes") or "30").strip()
    # the page offers times in the city's own zone (requests311 checks the name)
    zone = str(form.get("time_zone") or EASTERN.key)[:64]
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


async def offer_slots(request: Request, rid: str, user: Principal, svc: Any, form: Any) -> Response:
    """Offer the form's call slots; a time that happens twice comes back with the two choices beside it."""
    back = f"/staff/requests/{rid}"
    slots, numbers = _slots(form)
    payload = {"slots": slots, "version": version_of(form)}
    try:
        await svc.requests311.request("POST", f"/requests/{rid}/call-slots", token=user.token, json=payload)
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        # what was typed stays on the form; an ambiguous slot gets its two choices as radio buttons
        pending: dict[str, Any] = {"starts_at": [str(v) for v in form.getlist("starts_at")[:SLOT_FIELDS]],
                                   "duration_minutes": str(form.get("duration_minutes") or "30")[:8], "choices": {}}
        body = exc.problem() if isinstance(exc, UpstreamError) else {}
        match = re.fullmatch(r"slots\.(\d+)\.starts_at", str(body.get("field") or ""))
        if match and body.get("choices") and int(match.group(1)) < len(numbers):
            pending["choices"][str(numbers[int(match.group(1))])] = [
                {"fold": c.get("fold"), "label": c.get("label")} for c in body["choices"][:2]]
        request.session["slot_form"] = pending
        return see_other(back + "#slots-h")
    flash(request, "Call slots offered to the city.", "success")
    return see_other(back)


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


# Staff actions on a request: the page's name → (service path suffix, payload from the form, message).
ACTIONS: dict[str, tuple[str, Any, str]] = {
    "triage": ("triage", lambda f: {"topic": f.get("topic"), "urgency": f.get("urgency") or None, "note": f.get("note") or None},
               "Triaged."),
    "decline": ("decline", lambda f: {"reason": f.get("reason"), "explanation": f.get("explanation") or None,
                                      "duplicate_of": f.get("duplicate_of") or None}, "Declined."),
    "ask": ("information-requests", lambda f: {"question": f.get("question")}, "The question was sent to the city."),
    "assign": ("assign", lambda f: {"expert_id": f.get("expert_id")}, "Expert assigned."),
    "draft": ("memo/drafts", lambda f: {"body": f.get("body")}, "Memo draft saved."),
    "submit": ("memo/submit", lambda f: {}, "Memo sent for review."),
    "approve": ("memo/approve", lambda f: {}, "Memo approved."),
    "return": ("memo/return", lambda f: {"comments": _lines(f.get("comments"))}, "Memo returned to the expert."),
    "deliver": ("memo/deliver", lambda f: {}, "Memo delivered to the city."),
    "complete": ("call/complete", lambda f: {"summary": f.get("summary"), "next_steps": _lines(f.get("next_steps")),
                                             "close": f.get("close") == "on"}, "Call recorded."),
    "missed": ("call/missed", lambda f: {"missed_by": f.get("missed_by") or None}, "Call marked as missed."),
    "close": ("close", lambda f: {"note": f.get("note") or None}, "Request closed."),
    "note": ("notes", lambda f: {"text": f.get("text")}, "Note added."),
}


REFERENCE = re.compile(r"\s*(nrn-\d{4}-\d{1,10})\s*", re.IGNORECASE)


async def _request_by_reference(svc: Any, user: Principal, text: str) -> str:
    """The request a typed reference (NRN-2026-00123, zeros optional) names; the text as typed otherwise
    (requests311 then says what is wrong with it)."""
    match = REFERENCE.fullmatch(text)
    if not match:
        return text.strip()
    try:
        page = await svc.requests311.get_json("/requests", params={"reference": match.group(1), "limit": 1},
                                              token=user.token)
    except (UpstreamError, ServiceUnavailable):
        return text.strip()
    items = page.get("items") or []
    return items[0]["id"] if items else text.strip()


@router.post("/staff/requests/{request_id}/do/{action}")
async def staff_action(request: Request, request_id: str, action: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    rid = _id(request_id)
    if action not in ACTIONS and action != "slots":
        raise ProblemError(404, "Not found", "No such action.")
    form = await request.form()
    if action == "slots":
        return await offer_slots(request, rid, user, svc, form)
    suffix, build, message = ACTIONS[action]
    payload = {k: v for k, v in build(form).items() if v is not None}
    payload["version"] = version_of(form)
    if action == "decline" and payload.get("duplicate_of"):
        payload["duplicate_of"] = await _request_by_reference(svc, user, str(payload["duplicate_of"]))
    back = f"/staff/requests/{rid}/memo" if action in ("draft", "submit", "approve", "return") else f"/staff/requests/{rid}"
    _, response = await act(request, svc.requests311, "POST", f"/requests/{rid}/{suffix}", token=user.token,
                            json=payload, back=back, success=message)
    return response


# --- memo editor and review ----------------------------------------------------------------------


@router.get("/staff/requests/{request_id}/memo")
async def memo_editor(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    rid = _id(request_id)
    view = await svc.requests311.get_json(f"/requests/{rid}", token=user.token)
    versions = view.get("memo_versions") or []
    body = versions[-1]["body"] if versions else None
    if body is None:
        try:
            body = (await svc.requests311.get_json(f"/requests/{rid}/memo/template", token=user.token)).get("body", "")
        except (UpstreamError, ServiceUnavailable):
            body = ""
    return render(request, "staff/memo.html", {
        "nav": "queue", "r": view, "body": body, "versions": versions,
        "versions_html": [markdown(v.get("body")) for v in versions],
        "can": {a: user.can(a) for a in ("memo.draft", "memo.review")},
        "is_expert": view.get("expert_id") == user.account_id,
    })


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


# --- accounts ------------------------------------------------------------------------------------


@router.get("/staff/accounts")
async def accounts_page(request: Request, user: PageUser, svc: Svc, status: PageText = "pending", kind: PageText = "",
                        q: PageText = "", offset: PageOffset = 0) -> Response:
    staff_only(user)
    params = {"status": status if status in ("pending", "verified", "deactivated") else None,
              "kind": kind if kind in ("official", "staff", "partner_member") else None,
              "q": q[:200] or None, "limit": 50, "offset": max(0, offset)}
    page, error = {"items": [], "total": 0}, None
    try:
        page = await svc.accounts.get_json("/accounts", params=params, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    return render(request, "staff/accounts.html", {"nav": "accounts", "page": page, "error": error,
                                                   "status": status, "kind": kind, "q": q,
                                                   "can_verify": user.can("account.verify")})


@router.get("/staff/accounts/{account_id}")
async def account_page(request: Request, account_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    account = await svc.accounts.get_json(f"/accounts/{_id(account_id)}", token=user.token)
    return render(request, "staff/account.html", {"nav": "accounts", "a": account, "roles": ROLES,
                                                  "can": {a: user.can(a) for a in ("account.verify", "account.manage", "role.grant")}})


@router.post("/staff/accounts/{account_id}/verify")
async def verify(request: Request, account_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    aid = _id(account_id)
    form = await request.form()
    back = str(form.get("back") or f"/staff/accounts/{aid}")
    back = back if back.startswith("/staff/") else f"/staff/accounts/{aid}"
    _, response = await act(request, svc.accounts, "POST", f"/accounts/{aid}/verify", token=user.token, back=back,
                            success="Account verified.")
    return response


@router.post("/staff/accounts/{account_id}/roles")
async def grant_role(request: Request, account_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    aid = _id(account_id)
    form = await request.form()
    payload: dict[str, Any] = {"role": str(form.get("role") or "")}
    expertise = [str(e) for e in form.getlist("expertise") if str(e).strip()]
    if expertise:
        payload["expertise"] = expertise
    _, response = await act(request, svc.accounts, "POST", f"/accounts/{aid}/roles", token=user.token, json=payload,
                            back=f"/staff/accounts/{aid}", success="Role granted.")
    return response


@router.post("/staff/accounts/{account_id}/roles/{role}/revoke")
async def revoke_role(request: Request, account_id: str, role: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    aid = _id(account_id)
    if role not in ROLES:
        raise ProblemError(404, "Not found", "No such role.")
    _, response = await act(request, svc.accounts, "DELETE", f"/accounts/{aid}/roles/{role}", token=user.token,
                            back=f"/staff/accounts/{aid}", success="Role revoked.")
    return response


@router.post("/staff/accounts/{account_id}/deactivate")
async def deactivate(request: Request, account_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    aid = _id(account_id)
    form = await request.form()
    _, response = await act(request, svc.accounts, "POST", f"/accounts/{aid}/deactivate", token=user.token,
                            json={"reason": str(form.get("reason") or "")}, back=f"/staff/accounts/{aid}",
                            success="Account deactivated.")
    return response


# --- cities --------------------------------------------------------------------------------------


@router.get("/staff/cities")
async def cities_page(request: Request, user: PageUser, svc: Svc, eligible: PageText = "", state: PageText = "",
                      q: PageText = "", offset: PageOffset = 0) -> Response:
    staff_only(user)
    params = {"eligible": eligible if eligible in ("true", "false") else None, "state": state.upper()[:2] or None,
              "q": q[:200] or None, "limit": 50, "offset": max(0, offset)}
    page, error = {"items": [], "total": 0}, None
    try:
        page = await svc.accounts.get_json("/cities", params=params, token=user.token)
    except (UpstreamError, ServiceUnavailable) as exc:
        error = problem_text(exc)
    report = request.session.pop("import_report", None)
    exceptions, exceptions_error = None, None
    if user.can("eligibility.exception"):
        try:
            exceptions = (await svc.accounts.get_json("/exception-requests", params={"status": "open", "limit": 100},
                                                      token=user.token)).get("items", [])
        except (UpstreamError, ServiceUnavailable) as exc:
            exceptions_error = problem_text(exc)
    return render(request, "staff/cities.html", {"nav": "cities", "page": page, "error": error, "eligible": eligible,
                                                 "state": state, "q": q, "offset": max(0, offset), "report": report,
                                                 "can_import": user.can("city.import"),
                                                 "can_except": user.can("eligibility.exception"),
                                                 "exceptions": exceptions, "exceptions_error": exceptions_error})


@router.post("/staff/exception-requests/{request_id}/decline")
async def decline_exception_request(request: Request, request_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    _, response = await act(request, svc.accounts, "POST", f"/exception-requests/{_id(request_id)}/decline",
                            token=user.token, json={"reason": str(form.get("reason") or "")}, back="/staff/cities",
                            success="The exception request is declined.")
    return response


@router.post("/staff/cities/import")
async def import_cities(request: Request, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        flash(request, "Choose a CSV file to import.", "error")
        return see_other("/staff/cities")
    limit = request.app.state.settings.max_import_bytes
    content = await upload.read(limit + 1)
    if len(content) > limit:
        flash(request, f"The file is larger than {limit // (1024 * 1024)} MiB.", "error")
        return see_other("/staff/cities")
    report, response = await act(request, svc.accounts, "POST", "/cities/import", token=user.token, back="/staff/cities",
                                 files={"file": (upload.filename or "cities.csv", content, "text/csv")})
    if report is not None:
        # Kept small in the session cookie: the counts and the rows that need attention.
        rows = [r for r in report.get("rows", []) if r.get("outcome") == "failed"][:20]
        request.session["import_report"] = {k: report.get(k) for k in ("created", "updated", "unchanged", "failed")} | {
            "rows": rows, "file_errors": (report.get("file_errors") or [])[:10]}
    return response


@router.get("/staff/cities/{city_id}")
async def city_admin(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    city = await svc.accounts.get_json(f"/cities/{_id(city_id)}", token=user.token)
    return render(request, "staff/city.html", {"nav": "cities", "city": city,
                                               "can_except": user.can("eligibility.exception")})


@router.post("/staff/cities/{city_id}/exception")
async def grant_exception(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    staff_only(user)
    cid = _id(city_id)
    form = await request.form()
    revoke = form.get("revoke") == "1"
    path = f"/cities/{cid}/exception/revoke" if revoke else f"/cities/{cid}/exception"
    _, response = await act(request, svc.accounts, "POST", path, token=user.token,
                            json={"reason": str(form.get("reason") or "")}, back=f"/staff/cities/{cid}",
                            success="Exception revoked." if revoke else "Exception granted.")
    return response


@router.get("/cities/{city_id}")
async def city_dashboard(request: Request, city_id: str, user: PageUser, svc: Svc) -> Response:
    return await render_dashboard(request, user, svc, _id(city_id))
