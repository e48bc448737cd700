"""311 questions: /api/v1/requests and the staff actions on them.

No ``from __future__ import annotations`` here: the action routes are made by a factory
whose handlers take the body model as a real (evaluated) annotation.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from nrn_contracts.values import MultiLine, SingleLine

from .. import requests311_limits as R
from ..clients import ServiceUnavailable, UpstreamError
from ..deps import ApiUser, Svc, allow, require_city, require_staff
from ..problems import ProblemError
from . import models as m
from .forward import forward

router = APIRouter()
TAG, STAFF_TAG = "requests", "staff: requests"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "no such request (or not your city's)", **PROBLEM},
          409: {"description": "not allowed in this status, or a stale version", **PROBLEM},
          428: {"description": "version required (If-Match or body `version`)", **PROBLEM},
          503: {"description": "the requests service is unavailable", **PROBLEM}}

Queue = Literal["new", "awaiting_information", "by_expert", "due_soon", "overdue", "in_review", "follow_up_due"]
Status = Literal["submitted", "triaged", "awaiting_information", "assigned", "memo_drafted", "memo_in_review",
                 "memo_returned", "memo_approved", "memo_delivered", "call_scheduled", "call_completed", "call_missed",
                 "closed", "reopened", "declined"]


def _guard_city(user: Any, body: Any) -> None:
    """Defence in depth: whatever the service answered, an official never receives another
    city's request."""
    if isinstance(body, dict) and "city_id" in body and not user.may_see_city(body.get("city_id")):
        raise ProblemError(404, "Not found", "No such request, or it is not your city's.")


@router.get("/topics", tags=[TAG], summary="The topic taxonomy", responses=ERRORS)
async def topics(request: Request, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.requests311, "GET", "/topics", principal=user)


@router.get("/requests/similar", tags=[TAG], summary="Answered questions similar to a draft", responses=ERRORS)
async def similar(
    request: Request, user: ApiUser, svc: Svc,
    q: Annotated[MultiLine, Query(min_length=1, max_length=2000)],
    limit: Annotated[int | None, Query(ge=1, le=20)] = None,
) -> JSONResponse:
    """From the library's record of answered questions. Never fails for the asker: when the
    library does not answer, `skipped: true` and no items."""
    return JSONResponse(await similar_questions(svc, user, q, limit or 5))


async def similar_questions(svc: Any, user: Any, text: str, limit: int) -> dict[str, Any]:
    try:
        found = await svc.library.post_json("/similar-questions", json={"text": text, "limit": limit}, token=user.token,
                                             timeout=2.0)
    except (ServiceUnavailable, UpstreamError) as exc:
        return {"search_id": None, "items": [], "skipped": True, "reason": str(exc)}
    return {"search_id": found.get("search_id"), "items": found.get("items", []), "skipped": False}


@router.post("/requests", status_code=201, tags=[TAG], summary="An official asks a question", responses=ERRORS)
async def submit(request: Request, body: m.QuestionIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "request.submit", city_id=user.city_id)
    return await forward(request, svc.requests311, "POST", "/requests", principal=user, json=body.out(),
                         location_prefix="/api/v1/requests/")


@router.get("/requests", tags=[TAG], summary="List questions (an official: their city's; staff: all, filtered)",
            responses=ERRORS)
async def list_requests(
    request: Request, user: ApiUser, svc: Svc,
    queue: Queue | None = None,
    expert_id: Annotated[SingleLine | None, Query(max_length=R.ID_MAX)] = None,
    topic: m.Topic | None = None,
    city_id: Annotated[SingleLine | None, Query(max_length=R.ID_MAX)] = None,
    state: Annotated[str | None, Query(pattern=R.STATE_PATTERN)] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=R.LIST_LIMIT_MAX)] = None,
    cursor: Annotated[SingleLine | None, Query(max_length=R.CURSOR_MAX)] = None,
    reference: Annotated[SingleLine | None, Query(max_length=R.REFERENCE_MAX, pattern=R.REFERENCE_PATTERN)] = None,
    official_id: Annotated[SingleLine | None, Query(max_length=R.ID_MAX)] = None,
    q: Annotated[SingleLine | None, Query(max_length=R.SEARCH_MAX)] = None,
    sort: Literal["newest", "oldest", "due", "urgency"] | None = None,
) -> Response:
    if not user.is_staff:
        if city_id is not None:
            require_city(user, city_id)
        allow(user, "request.read", city_id=user.city_id)
        city_id = user.city_id
        queue, expert_id = None, None
    params: list[tuple[str, Any]] = [(k, v) for k, v in (
        ("queue", queue), ("expert_id", expert_id), ("topic", topic), ("city_id", city_id), ("state", state),
        ("limit", limit), ("cursor", cursor), ("reference", reference), ("official_id", official_id), ("q", q),
        ("sort", sort)) if v is not None]
    params += [("status", s) for s in status or []]
    page = await svc.requests311.get_json("/requests", token=user.token, params=params)
    if not user.is_staff and isinstance(page, dict):
        # Defence in depth: drop anything of another city, whatever the service sent.
        page["items"] = [i for i in page.get("items", []) if isinstance(i, dict) and user.may_see_city(i.get("city_id"))]
    return JSONResponse(page)


@router.get("/requests/{request_id}", tags=[TAG], summary="One question with its timeline and, once delivered, its memo",
            responses=ERRORS)
async def get_request(request: Request, request_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    body = await svc.requests311.get_json(f"/requests/{request_id}", token=user.token)
    _guard_city(user, body)
    return JSONResponse(body, headers={"ETag": f'"{body["version"]}"'} if isinstance(body, dict) and "version" in body else None)


@router.get("/requests/{request_id}/timeline", tags=[TAG], summary="A question's timeline", responses=ERRORS)
async def timeline(request: Request, request_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/timeline", principal=user)


@router.get("/requests/{request_id}/memo", tags=[TAG], summary="The memo (officials: once delivered)", responses=ERRORS)
async def memo(request: Request, request_id: m.Id, user: ApiUser, svc: Svc,
               memo_version: Annotated[int | None, Query(ge=1, le=R.MEMO_VERSION_MAX)] = None) -> Response:
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/memo", principal=user,
                         params={"memo_version": memo_version})


@router.get("/requests/{request_id}/memo.pdf", tags=[TAG], summary="The memo as a PDF download",
            responses={**ERRORS, 200: {"content": {"application/pdf": {}}}})
async def memo_pdf(request: Request, request_id: m.Id, user: ApiUser, svc: Svc,
                   memo_version: Annotated[int | None, Query(ge=1, le=R.MEMO_VERSION_MAX)] = None) -> Response:
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/memo.pdf", principal=user,
                         params={"memo_version": memo_version},
                         timeout=request.app.state.settings.document_read_timeout)


@router.get("/requests/{request_id}/memo.html", tags=[TAG], summary="The memo as a standalone HTML document",
            responses={**ERRORS, 200: {"content": {"text/html": {}}}})
async def memo_html(request: Request, request_id: m.Id, user: ApiUser, svc: Svc,
                    memo_version: Annotated[int | None, Query(ge=1, le=R.MEMO_VERSION_MAX)] = None) -> Response:
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/memo.html", principal=user,
                         params={"memo_version": memo_version})


def _action(suffix: str, model: type, summary: str, *, gate: str | None = None, staff: bool = False,
            method: str = "POST", status_code: int = 200, optional: bool = False) -> None:
    """One action on a request, passed through with the caller's token and If-Match. `optional`:
    the body may be left out (requests311 takes none for these; the version then comes in If-Match)."""
    tag = STAFF_TAG if (gate or staff) else TAG

    async def act(request: Request, request_id: str, body: Any, user: Any, svc: Any) -> Response:
        if staff or gate:
            require_staff(user)
        if gate:
            allow(user, gate)
        return await forward(request, svc.requests311, method, f"/requests/{request_id}/{suffix}", principal=user,
                             json=body.out() if body is not None else {})

    if optional:
        async def handler(request: Request, request_id: m.Id, user: ApiUser, svc: Svc,
                          body: model | None = None) -> Response:  # type: ignore[valid-type]
            return await act(request, request_id, body, user, svc)
    else:
        async def handler(request: Request, request_id: m.Id, body: model, user: ApiUser,  # type: ignore[no-redef,valid-type]
                          svc: Svc) -> Response:
            return await act(request, request_id, body, user, svc)

    router.add_api_route(f"/requests/{{request_id}}/{suffix}", handler, methods=[method], summary=summary, tags=[tag],
                         responses=ERRORS, status_code=status_code,
                         name=f"{method.lower()}_{suffix.replace('/', '_').replace('-', '_')}")


_action("triage", m.TriageIn, "Triage: confirm topic and urgency", gate="request.triage")
_action("information-requests", m.InformationRequestIn, "Ask the city for more information", staff=True)
_action("information", m.InformationIn, "The official answers a request for information")
_action("decline", m.DeclineIn, "Decline a question", gate="request.triage")
_action("assign", m.AssignIn, "Assign an expert (replacing one needs a reason)", gate="request.assign")
_action("unassign", m.UnassignIn, "Take the expert off the request, with the reason", gate="request.assign")
_action("memo/preview", m.MemoBody, "Preview a memo draft (no state change)", staff=True)
_action("memo/drafts", m.MemoDraftIn, "Save a new memo version", gate="memo.draft", status_code=201)
_action("memo/working-copy", m.WorkingCopyIn, "Autosave the memo as typed (no version made, no version moved)",
        gate="memo.draft", method="PUT")
_action("memo/submit", m.SubmitMemoIn, "Submit the memo for review", gate="memo.draft", optional=True)
_action("memo/approve", m.Versioned, "Approve the memo", gate="memo.review", optional=True)
_action("memo/return", m.MemoReturnIn, "Return the memo with comments", gate="memo.review")
_action("memo/deliver", m.Versioned, "Deliver the approved memo to the city", staff=True, optional=True)
_action("call-slots", m.CallSlotsIn, "Offer call slots", staff=True)
_action("call/schedule", m.ScheduleIn, "Pick a call slot")
_action("call/reschedule", m.CallRescheduleIn, "The official asks for another time for the booked call", optional=True)
_action("call/cancel", m.CallCancelIn, "The official cancels the booked call", optional=True)
_action("call/complete", m.CallCompleteIn, "Record the call", staff=True)
_action("call/missed", m.CallMissedIn, "Mark the call missed", staff=True, optional=True)
_action("close", m.CloseIn, "Close the request", staff=True, optional=True)
_action("feedback", m.FeedbackIn, "Rate the help (1–5)")
_action("follow-up", m.FollowUpIn, "Record the 90-day follow-up")
_action("reopen", m.ReopenIn, "Reopen within 30 days of closing")
_action("consent", m.ConsentIn, "Change consent to publish the answer", method="PUT")
_action("notes", m.NoteIn, "Add an internal note", staff=True)


@router.get("/requests/{request_id}/expert-suggestions", tags=[STAFF_TAG], summary="Experts suggested for a question",
            responses=ERRORS)
async def expert_suggestions(request: Request, request_id: m.Id, user: ApiUser, svc: Svc,
                             limit: Annotated[int | None, Query(ge=1, le=R.SUGGESTIONS_LIMIT_MAX)] = None) -> Response:
    require_staff(user)
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/expert-suggestions", principal=user,
                         params={"limit": limit})


@router.get("/requests/{request_id}/memo/template", tags=[STAFF_TAG], summary="A memo skeleton with every section",
            responses=ERRORS)
async def memo_template(request: Request, request_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    require_staff(user)
    return await forward(request, svc.requests311, "GET", f"/requests/{request_id}/memo/template", principal=user)


@router.get("/queues", tags=[STAFF_TAG], summary="Counts per staff queue", responses=ERRORS)
async def queues(request: Request, user: ApiUser, svc: Svc) -> Response:
    require_staff(user)
    return await forward(request, svc.requests311, "GET", "/queues", principal=user)


@router.get("/experts", tags=[STAFF_TAG], summary="Experts and their workload", responses=ERRORS)
async def experts(request: Request, user: ApiUser, svc: Svc, topic: m.Topic | None = None) -> Response:
    require_staff(user)
    return await forward(request, svc.requests311, "GET", "/experts", principal=user, params={"topic": topic})


@router.patch("/experts/{expert_id}", tags=[STAFF_TAG], summary="Set an expert's capacity or activity", responses=ERRORS)
async def patch_expert(request: Request, expert_id: m.Id, body: m.ExpertPatch, user: ApiUser, svc: Svc) -> Response:
    require_staff(user)
    return await forward(request, svc.requests311, "PATCH", f"/experts/{expert_id}", principal=user,
                         json=body.model_dump(mode="json", exclude_unset=True))


@router.get("/metrics/requests", tags=[STAFF_TAG], summary="311 program metrics", responses=ERRORS)
async def metrics(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "metrics.read")
    return await forward(request, svc.requests311, "GET", "/metrics", principal=user)
