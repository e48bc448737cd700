"""Pages for a partner organization's administrators: their webhook endpoints, the delivery log, test
events, secret rotation, replays. The signing secret is shown once, on the page the command answers
with (never kept in the session, never shown again)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from nrn_contracts import TOPIC_TAXONOMY
from nrn_kit.localtime import us_date

from ..auth import Principal
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import PageUser, Svc
from ..problems import ProblemError
from .common import PageText, act, problem_field, problem_text, see_other
from .render import EASTERN, flash, render

router = APIRouter()
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
GROUPS = [("*", "Everything your agreement allows"),
          ("org.nationalresourcenetwork.requests311.*", "311 for Cities: questions, memos, calls"),
          ("org.nationalresourcenetwork.library.*", "Resource library: published and archived resources"),
          ("org.nationalresourcenetwork.engagements.*", "Direct technical assistance: applications and engagements"),
          ("org.nationalresourcenetwork.peer.*", "Peer networking: convenings and registrations"),
          ("org.nationalresourcenetwork.accounts.*", "Cities and accounts: eligibility, registrations")]
TOPIC_LABELS = {t: t.replace("_", " ").capitalize() for t in TOPIC_TAXONOMY}
STATE_LABELS = {"pending": "Waiting to retry", "sending": "Sending", "succeeded": "Delivered", "failed": "Failed",
                "cancelled": "Cancelled"}


def _partner(user: Principal) -> str:
    if not user.is_partner or not user.partner_id:
        raise ProblemError(403, "Forbidden", "This page is for partner organizations' administrators.")
    if not user.is_partner_admin:
        raise ProblemError(403, "Forbidden", "Only your organization's webhook administrators can open this page. "
                                             "Ask NRN to give you that role.")
    return user.partner_id


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise ProblemError(404, "Not found", "No such item.")
    return value


def _list(raw: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", raw or "") if p.strip()]


async def _overview(svc: Svc, user: Principal, partner_id: str) -> dict[str, Any]:
    return await svc.partners.get_json(f"/partners/{partner_id}", token=user.token)


@router.get("/partner/webhooks")
async def webhooks(request: Request, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    overview = await _overview(svc, user, partner_id)
    return render(request, "partner/webhooks.html", {"nav": "webhooks", "overview": overview, "groups": GROUPS,
                                                      "topics": TOPIC_LABELS, "form": {}, "error": None})


@router.post("/partner/webhooks")
async def register(request: Request, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    form = await request.form()
    chosen = [v for v in form.getlist("event_types") if isinstance(v, str)] + _list(str(form.get("more_types", "")))
    body = {"url": str(form.get("url", "")).strip(), "description": str(form.get("description", "")).strip() or None,
            "event_types": chosen or ["*"], "states": [s.upper() for s in _list(str(form.get("states", "")))],
            "topics": [v for v in form.getlist("topics") if isinstance(v, str)]}
    try:
        created = await svc.partners.post_json(f"/partners/{partner_id}/endpoints", token=user.token, json=body)
    except (UpstreamError, ServiceUnavailable) as exc:
        overview = await _overview(svc, user, partner_id)
        error = {"text": problem_text(exc), "field": problem_field(exc) if isinstance(exc, UpstreamError) else None}
        return render(request, "partner/webhooks.html", {
            "nav": "webhooks", "overview": overview, "groups": GROUPS, "topics": TOPIC_LABELS,
            "form": {**body, "states": " ".join(body["states"]), "more_types": str(form.get("more_types", ""))},
            "error": error}, status_code=422 if isinstance(exc, UpstreamError) else 503)
    return render(request, "partner/secret.html", {"nav": "webhooks", "endpoint": created, "secret": created["secret"],
                                                   "rotated": False}, status_code=201)


@router.get("/partner/webhooks/{endpoint_id}")
async def endpoint(request: Request, endpoint_id: str, user: PageUser, svc: Svc, state: PageText = "") -> Response:
    partner_id = _partner(user)
    endpoint_id = _id(endpoint_id)
    detail = await svc.partners.get_json(f"/partners/{partner_id}/endpoints/{endpoint_id}", token=user.token)
    params = {"limit": 50, "state": state if state in STATE_LABELS else None}
    log = await svc.partners.get_json(f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries",
                                      token=user.token, params=params)
    return render(request, "partner/endpoint.html", {"nav": "webhooks", "endpoint": detail, "log": log["items"],
                                                      "state": state, "states": STATE_LABELS,
                                                      "today": datetime.now(EASTERN).date().isoformat()})


@router.post("/partner/webhooks/{endpoint_id}/test")
async def test_event(request: Request, endpoint_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    back = f"/partner/webhooks/{_id(endpoint_id)}"
    _, response = await act(request, svc.partners, "POST", f"/partners/{partner_id}/endpoints/{endpoint_id}/test",
                            token=user.token, back=back,
                            success="Test event sent. It appears in the delivery log below within a few seconds.")
    return response


@router.post("/partner/webhooks/{endpoint_id}/enabled")
async def set_enabled(request: Request, endpoint_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    back = f"/partner/webhooks/{_id(endpoint_id)}"
    enable = (await request.form()).get("enabled") == "true"
    _, response = await act(request, svc.partners, "PATCH", f"/partners/{partner_id}/endpoints/{endpoint_id}",
                            token=user.token, back=back, json={"enabled": enable},
                            success="Deliveries resumed." if enable else "Deliveries paused.")
    return response


@router.post("/partner/webhooks/{endpoint_id}/rotate")
async def rotate(request: Request, endpoint_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    endpoint_id = _id(endpoint_id)
    try:
        rotated = await svc.partners.post_json(f"/partners/{partner_id}/endpoints/{endpoint_id}/secret/rotate",
                                               token=user.token, json={"grace_hours": 24})
    except (UpstreamError, ServiceUnavailable) as exc:
        flash(request, problem_text(exc), "error")
        return see_other(f"/partner/webhooks/{endpoint_id}")
    return render(request, "partner/secret.html", {"nav": "webhooks", "endpoint": rotated, "secret": rotated["secret"],
                                                   "rotated": True})


@router.post("/partner/webhooks/{endpoint_id}/replay")
async def replay_since(request: Request, endpoint_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    back = f"/partner/webhooks/{_id(endpoint_id)}"
    raw = str((await request.form()).get("since", ""))
    try:
        since = datetime.combine(datetime.fromisoformat(raw).date(), time(0, 0), tzinfo=EASTERN)
    except ValueError:
        flash(request, "Choose the day to replay from.", "error")
        return see_other(back)
    body, response = await act(request, svc.partners, "POST", f"/partners/{partner_id}/endpoints/{endpoint_id}/replay",
                               token=user.token, back=back, json={"since": since.isoformat()})
    if body is not None:
        count = body.get("queued", 0)
        flash(request, f"{count} event{'s' if count != 1 else ''} since {us_date(since)} will be sent again, in order.",
              "success")
    return response


@router.post("/partner/webhooks/deliveries/{delivery_id}/replay")
async def replay(request: Request, delivery_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    endpoint_id = _id(str((await request.form()).get("endpoint_id", "")))
    _, response = await act(request, svc.partners, "POST", f"/partners/{partner_id}/deliveries/{_id(delivery_id)}/replay",
                            token=user.token, back=f"/partner/webhooks/{endpoint_id}",
                            success="The delivery will be sent again, with the same webhook-id.")
    return response


@router.get("/partner/webhooks/deliveries/{delivery_id}")
async def delivery(request: Request, delivery_id: str, user: PageUser, svc: Svc) -> Response:
    partner_id = _partner(user)
    detail = await svc.partners.get_json(f"/partners/{partner_id}/deliveries/{_id(delivery_id)}", token=user.token)
    return render(request, "partner/delivery.html", {"nav": "webhooks", "delivery": detail, "states": STATE_LABELS})


# --- NRN administrators: partners' agreements ------------------------------------------------------


def _staff(user: Principal) -> None:
    if not user.is_staff or not user.can("webhook.read"):
        raise ProblemError(403, "Forbidden", "This page is for NRN administrators and program managers.")


@router.get("/staff/partners")
async def staff_partners(request: Request, user: PageUser, svc: Svc) -> Response:
    _staff(user)
    partners = await svc.partners.get_json("/partners", token=user.token)
    return render(request, "partner/staff_partners.html", {"nav": "partners", "partners": partners})


@router.get("/staff/partners/{partner_id}")
async def staff_partner(request: Request, partner_id: str, user: PageUser, svc: Svc) -> Response:
    _staff(user)
    overview = await svc.partners.get_json(f"/partners/{_id(partner_id)}", token=user.token)
    return render(request, "partner/staff_partner.html", {
        "nav": "partners", "overview": overview, "can_manage": user.can("agreement.manage"),
        # NRN writes the agreement: "everything" is every public event type, not "your agreement"
        "groups": [("*", "Every event type of the public topics"), *GROUPS[1:]]})


@router.post("/staff/partners/{partner_id}/agreement")
async def staff_agreement(request: Request, partner_id: str, user: PageUser, svc: Svc) -> Response:
    _staff(user)
    partner_id = _id(partner_id)
    form = await request.form()
    types = [v for v in form.getlist("event_types") if isinstance(v, str)] + _list(str(form.get("more_types", "")))
    version = str(form.get("version", ""))
    body = {"event_types": types or ["*"], "personal_data": form.get("personal_data") == "yes",
            "filters": [v for v in form.getlist("filters") if v in ("state", "topic")],
            "version": int(version) if version.isdigit() else None}
    _, response = await act(request, svc.partners, "PUT", f"/partners/{partner_id}/agreement", token=user.token,
                            back=f"/staff/partners/{partner_id}", json=body, success="Agreement saved.")
    return response
