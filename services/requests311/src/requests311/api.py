"""HTTP routes: parse → command → handler → response. The contract is in README.md ("HTTP API")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from nrn_contracts.values import MultiLine, SingleLine, Version
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import STAFF_ROLES, Principal, authorize, principal_dependency
from nrn_kit.html import render_markdown
from nrn_kit.http import Forbidden
from nrn_kit.idempotency import IDEMPOTENT
from nrn_kit.localtime import check_local_has_zone, check_zone_name, resolve

from . import handlers as h
from .adapters import mongo as repo
from .domain import memo as memo_rules
from .domain.errors import InvalidInput, NotFound, NotPermitted
from .domain.metrics import flatten, from_totals
from .domain.model import (
    TOPIC_LABELS,
    Actor,
    Consent,
    DeclineReason,
    FollowUpOutcome,
    QuestionDraft,
    Role,
    Topic,
    Urgency,
)
from .domain.request import Request as Req
from .domain.routing import suggest_experts
from .domain.states import Status
from .domain.views import official_view, staff_view
from .render import MEMO_CSP, MemoDocument, memo_html_document, memo_pdf, unprintable

# Every command honours Idempotency-Key (safe methods pass through the dependency).
router = APIRouter(dependencies=[IDEMPOTENT])

principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
PrincipalDep = Annotated[Principal, Depends(principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# ---------------------------------------------------------------------------- who is calling


def actor_of(p: Principal) -> Actor:
    if p.kind == "official":
        return Actor(id=p.account_id, kind="official", roles=frozenset({Role.official}), city_id=p.city_id,
                     verified=p.verified)
    if p.kind == "staff":
        if not p.verified:
            raise NotPermitted("staff_not_verified", "the staff account is not verified")
        roles = frozenset(Role(r) for r in p.roles if r in STAFF_ROLES and r in Role.__members__)
        return Actor(id=p.account_id, kind="staff", roles=roles, verified=True)
    raise NotPermitted("officials_and_staff_only", "311 for Cities serves city officials and NRN staff")


def staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise NotPermitted("staff_only", "only NRN staff may do this")


def deps(runtime: Runtime) -> h.Deps:
    return runtime.state["deps"]


def _etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    if if_match:
        raw = if_match.strip()
        if raw.startswith("W/"):
            raw = raw[2:]
        raw = raw.strip('"')
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput("if_match_invalid", "If-Match must be the request's version, e.g. \"3\"",
                               field="If-Match") from None
    return body_version


IfMatch = Annotated[str | None, Header(alias="If-Match")]
MAX_MEMO_VERSION = 10_000  # far above any request's drafts; a bound so that no number is past what we store


async def view_response(runtime: Runtime, req: Req, actor: Actor, now: datetime, *, status: int = 200,
                        headers: dict[str, str] | None = None) -> JSONResponse:
    if actor.is_staff:
        body = staff_view(req, now).model_dump(mode="json")
        body["print_check"] = await _print_check(runtime, req)
    else:
        body = official_view(req, now).model_dump(mode="json")
    name_people(body, await repo.people_names(runtime.db, people_in(req)))
    return JSONResponse(body, status_code=status, headers={"ETag": _etag(req.version), **(headers or {})})


SYSTEM_NAMES = {"requests311": "NRN (automatic)", "library": "NRN library", "system:bootstrap": "NRN"}


def people_in(req: Req) -> set[str]:
    """Every account id the request names as someone who acted."""
    ids = {e.actor_id for e in req.timeline} | {n.by for n in req.notes} | {req.official_id}
    ids |= {x for x in (req.triaged_by, req.expert_id) if x}
    for m in req.memo_versions:
        ids |= {m.author_id, *(c.by for c in m.review_comments), *([m.approved_by] if m.approved_by else [])}
    ids |= {a.by for a in req.assignments} | {i.asked_by for i in req.information_requests}
    if req.memo_working_copy:
        ids.add(req.memo_working_copy.by)
    return ids - set(SYSTEM_NAMES)


def name_people(body: dict[str, Any], names: dict[str, str]) -> None:
    """People by name beside their ids in a request's view (`actor_name`, `by_name`, `author_name`, …):
    a page shows who acted, never an account id. Someone this service never heard of is "NRN staff"."""
    def name(account_id: str | None) -> str | None:
        if not account_id:
            return None
        return names.get(account_id) or SYSTEM_NAMES.get(account_id) or "NRN staff"

    for entry in body.get("timeline") or []:
        entry["actor_name"] = (names.get(entry["actor_id"]) or SYSTEM_NAMES.get(entry["actor_id"])
                               or ("City official" if entry.get("actor_kind") == "official" else "NRN staff"))
    body["official_name"] = names.get(body.get("official_id") or "") or None
    for note in body.get("notes") or []:
        note["by_name"] = name(note.get("by"))
    if "triaged_by" in body:
        body["triaged_by_name"] = name(body.get("triaged_by"))
    for memo in body.get("memo_versions") or []:
        memo["author_name"] = name(memo.get("author_id"))
        memo["approved_by_name"] = name(memo.get("approved_by"))
        for c in memo.get("review_comments") or []:
            c["by_name"] = name(c.get("by"))
    if body.get("memo_working_copy"):
        body["memo_working_copy"]["by_name"] = name(body["memo_working_copy"].get("by"))


async def memo_document(runtime: Runtime, req: Req, *, body: str, version: int,
                        delivered_at: datetime | None) -> MemoDocument:
    """Everything the printed memo shows; the official's name comes from the accounts read model."""
    name, title = await repo.official_name(runtime.db, req.official_id)
    return MemoDocument(title=req.title, city_name=req.city_name, state=req.us_state, body_markdown=body,
                        version=version, delivered_at=delivered_at, recipient_name=name, recipient_title=title,
                        expert_name=req.expert_name or "", timezone=runtime.settings.document_timezone)


async def _print_check(runtime: Runtime, req: Req) -> dict[str, Any] | None:
    """Staff see, with every answer about a request that has a memo, which characters of the memo
    that would be printed (the delivered one, else the latest) no installed font can draw."""
    memo = req.delivered_memo or req.current_memo
    if memo is None:
        return None
    doc = await memo_document(runtime, req, body=memo.body, version=memo.number, delivered_at=memo.delivered_at)
    return {"memo_version": memo.number, "unprintable_characters": unprintable(doc)}


# ---------------------------------------------------------------------------- bodies


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = Field(None, description="the version you act on (or If-Match)")


class SubmitBody(QuestionDraft):
    model_config = ConfigDict(extra="forbid")


class TriageBody(Body):
    topic: Topic
    urgency: Urgency | None = None
    note: MultiLine = Field("", max_length=10_000)


class InformationRequestBody(Body):
    question: MultiLine = Field(min_length=1, max_length=10_000)


class InformationBody(Body):
    answer: MultiLine = Field(min_length=1, max_length=10_000)


class DeclineBody(Body):
    reason: DeclineReason
    explanation: MultiLine = Field("", max_length=10_000)
    duplicate_of: SingleLine | None = Field(None, min_length=1, max_length=128)


class AssignBody(Body):
    expert_id: SingleLine = Field(min_length=1, max_length=128)
    reason: MultiLine = Field("", max_length=5_000, description="why; required when another expert is replaced")


class UnassignBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=5_000)


class SubmitMemoBody(Body):
    accept_incomplete: bool = Field(False, description="send it although a section is missing or empty "
                                                       "(the expert confirmed it)")


class WorkingCopyBody(Body):
    body: MultiLine = Field(max_length=memo_rules.MAX_MEMO_CHARS)
    base_revision: int = Field(0, ge=0, le=1_000_000, description="the working copy's revision the editor "
                                                                  "started from (0: none)")


class MemoBody(Body):
    body: MultiLine = Field(min_length=1, max_length=memo_rules.MAX_MEMO_CHARS)


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: MultiLine = Field(min_length=1, max_length=memo_rules.MAX_MEMO_CHARS)


class ReturnBody(Body):
    comments: list[Annotated[MultiLine, Field(max_length=10_000)]] = Field(min_length=1, max_length=50)


class Slot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: datetime = Field(description="with its UTC offset, or a local date and time with time_zone")
    time_zone: Annotated[SingleLine, Field(min_length=1, max_length=64), AfterValidator(check_zone_name)] | None = Field(
        None, description="IANA time zone of a local starts_at, e.g. America/New_York")
    fold: Literal[0, 1] | None = Field(None, description="for a local time that happens twice (clocks going "
                                                         "back): 0 the first, 1 the second")
    duration_minutes: int = Field(30, ge=15, le=120)

    @model_validator(mode="after")
    def _local_needs_zone(self) -> Slot:
        check_local_has_zone(self.starts_at, self.time_zone)
        return self


class SlotsBody(Body):
    slots: list[Slot] = Field(min_length=1, max_length=10)
    meeting: SingleLine = Field("", max_length=500, description="how to join: a dial-in number or a video link")
    outside_business_hours_confirmed: bool = Field(
        False, description="offer slots outside the city's business hours (otherwise 422 slot_outside_business_hours)")


class PickBody(Body):
    slot_id: SingleLine = Field(min_length=1, max_length=32)


class CompleteBody(Body):
    summary: MultiLine = Field(min_length=1, max_length=10_000)
    next_steps: list[Annotated[MultiLine, Field(max_length=2_000)]] = Field(default_factory=list, max_length=50)
    close: bool = True


class MissedBody(Body):
    missed_by: Literal["official", "expert", "both", "unknown"] = "unknown"


class RescheduleBody(Body):
    reason: MultiLine = Field("", max_length=2_000)
    preferred_call_times: list[Annotated[SingleLine, Field(max_length=200)]] = Field(default_factory=list, max_length=10)


class CancelCallBody(Body):
    reason: MultiLine = Field("", max_length=2_000)


class CloseBody(Body):
    note: MultiLine = Field("", max_length=5_000)


class FeedbackBody(Body):
    rating: int = Field(ge=1, le=5)
    comment: MultiLine = Field("", max_length=2_000)


class FollowUpBody(Body):
    outcome: FollowUpOutcome
    description: MultiLine = Field("", max_length=5_000)


class ReopenBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=5_000)


class ConsentBody(Body):
    consent: Consent


class NoteBody(Body):
    text: MultiLine = Field(min_length=1, max_length=10_000)


class ExpertPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: int | None = Field(None, ge=0, le=1_000)
    available: bool | None = None


# ---------------------------------------------------------------------------- reference data


@router.get("/topics", tags=["reference"])
async def topics(p: PrincipalDep) -> list[dict[str, str]]:
    return [{"id": t.value, "label": TOPIC_LABELS[t]} for t in Topic]


@router.get("/service-levels", tags=["reference"])
async def service_levels(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    return deps(runtime).levels.model_dump()


# ---------------------------------------------------------------------------- asking


@router.get("/requests/similar", tags=["requests"])
async def similar(request: Request, p: PrincipalDep, runtime: RuntimeDep,
                  q: Annotated[MultiLine, Query(min_length=1, max_length=2_000)],
                  topic: Topic | None = None, limit: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    actor_of(p)
    settings = runtime.settings
    client: httpx.AsyncClient = runtime.state["http"]
    params: dict[str, Any] = {"q": q, "limit": limit}
    if topic:
        params["topic"] = topic.value
    try:
        response = await client.get(
            settings.library_url.rstrip("/") + settings.library_similar_path, params=params,
            headers={"Authorization": request.headers.get("authorization", "")},
            timeout=settings.similar_timeout_seconds)
        response.raise_for_status()
        data = response.json()
        items = data.get("items", data) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ValueError("unexpected shape")
        search_id = data.get("search_id") if isinstance(data, dict) else None
        return {"items": items[:limit], "search_id": search_id, "skipped": False}
    except (httpx.HTTPError, ValueError) as exc:
        # the library is optional for asking: say it was skipped, never fail the official's flow
        return {"items": [], "skipped": True, "reason": f"library unavailable: {type(exc).__name__}"}


@router.post("/requests", status_code=201, tags=["requests"])
async def submit(body: SubmitBody, p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    actor = actor_of(p)
    if actor.kind != "official":
        raise NotPermitted("only_officials_submit", "only a city official can submit a question")
    authorize(p, "request.submit", city_id=p.city_id)
    d = deps(runtime)
    req = await h.submit_question(d, actor=actor, draft=QuestionDraft.model_validate(body.model_dump()))
    return await view_response(runtime, req, actor, d.now(), status=201, headers={"Location": f"/requests/{req.id}"})


# ---------------------------------------------------------------------------- reading


@router.get("/requests", tags=["requests"])
async def list_requests(
    p: PrincipalDep, runtime: RuntimeDep,
    queue: Literal["new", "awaiting_information", "in_review", "by_expert", "due_soon", "overdue",
                   "follow_up_due"] | None = None,
    expert_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    topic: Topic | None = None,
    city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,  # the pattern refuses control characters
    status: Annotated[list[SingleLine] | None, Query()] = None,
    reference: Annotated[SingleLine | None, Query(max_length=32, pattern=r"^[Nn][Rr][Nn]-[0-9]{4}-[0-9]{1,10}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[SingleLine | None, Query(max_length=500)] = None,
    official_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
    q: Annotated[SingleLine | None, Query(max_length=200)] = None,
    sort: Literal["newest", "oldest", "due", "urgency"] | None = None,
) -> dict[str, Any]:
    actor = actor_of(p)
    statuses = tuple(status or ())
    for s in statuses:
        if s not in Status.__members__:
            raise InvalidInput("unknown_status", f"unknown status {s!r}", field="status")
    if actor.kind == "official":
        if city_id and city_id != actor.city_id:
            raise NotPermitted("officials_act_only_on_their_city", "an official sees only their city's requests")
        authorize(p, "request.read", city_id=actor.city_id)
        city_id = actor.city_id
        if queue:
            raise NotPermitted("staff_only", "queues are for staff", field="queue")
    else:
        authorize(p, "request.read")
    if expert_id == "me":
        expert_id = actor.id
    d = deps(runtime)
    now = d.now()
    docs, next_cursor = await repo.list_requests(
        d.store.db,
        repo.ListQuery(queue=queue, expert_id=expert_id, topic=topic.value if topic else None, city_id=city_id,
                       state=state, statuses=statuses, limit=limit, cursor=cursor,
                       reference=_normal_reference(reference), official_id=official_id, q=q, sort=sort),
        now)
    return {"items": [_summary_from_doc(doc, now) for doc in docs], "next_cursor": next_cursor}


def _normal_reference(reference: str | None) -> str | None:
    """'nrn-2026-123' → 'NRN-2026-00123': people type references without the zeros."""
    if not reference:
        return None
    _, year, number = reference.upper().split("-")
    return f"NRN-{year}-{int(number):05d}"


def _summary_from_doc(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    due, risk = doc.get("next_due_at"), doc.get("next_at_risk_at")
    if due is None:
        sla = None
    elif due <= now:
        sla = "overdue"
    elif risk is not None and risk <= now:
        sla = "at_risk"
    else:
        sla = "on_time"
    return {
        "id": doc["_id"], "reference": doc.get("reference"), "version": doc["version"], "status": doc["status"], "title": doc["title"],
        "topic": doc["topic"], "urgency": doc["urgency"], "city_id": doc["city_id"],
        "city_name": doc.get("city_name"), "state": doc.get("us_state"), "expert_id": doc.get("expert_id"),
        "submitted_at": doc["submitted_at"].isoformat(), "next_due_at": due.isoformat() if due else None,
        "sla_status": sla, "paused": bool(doc.get("paused")),
        # for timelines of what NRN did with a city: the memo's delivery and the closing
        "memo_delivered_at": _iso(max((m["delivered_at"] for m in doc.get("memo_versions") or []
                                       if m.get("delivered_at")), default=None)),
        "closed_at": _iso(doc.get("closed_at")),
        "expert_name": doc.get("expert_name"), "next_due_step": doc.get("next_due_step") if due else None,
        "official_id": doc.get("official_id"),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@router.get("/requests/{request_id}", tags=["requests"])
async def get_one(request_id: str, p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    actor = actor_of(p)
    d = deps(runtime)
    req = await h.get_request(d, request_id, actor=actor)
    authorize(p, "request.read", city_id=req.city_id)
    return await view_response(runtime, req, actor, d.now())


@router.get("/requests/{request_id}/timeline", tags=["requests"])
async def timeline(request_id: str, p: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    actor = actor_of(p)
    d = deps(runtime)
    req = await h.get_request(d, request_id, actor=actor)
    return [e.model_dump(mode="json") for e in req.timeline if actor.is_staff or e.public]


# ---------------------------------------------------------------------------- commands


async def _run(runtime: Runtime, p: Principal, fn, request_id: str, if_match: str | None, payload: Body,  # noqa: ANN001
               **kwargs: Any) -> JSONResponse:
    actor = actor_of(p)
    d = deps(runtime)
    req = await fn(d, request_id, actor=actor, version=expected_version(if_match, payload.version), **kwargs)
    return await view_response(runtime, req, actor, d.now())


@router.post("/requests/{request_id}/triage", tags=["triage"])
async def triage(request_id: str, body: TriageBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.triage, request_id, if_match, body, topic=body.topic, urgency=body.urgency,
                      note=body.note)


@router.post("/requests/{request_id}/information-requests", tags=["triage"])
async def request_information(request_id: str, body: InformationRequestBody, p: PrincipalDep,
                              runtime: RuntimeDep, if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.request_information, request_id, if_match, body, question=body.question)


@router.post("/requests/{request_id}/information", tags=["triage"])
async def provide_information(request_id: str, body: InformationBody, p: PrincipalDep, runtime: RuntimeDep,
                              if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.provide_information, request_id, if_match, body, answer=body.answer)


@router.post("/requests/{request_id}/decline", tags=["triage"])
async def decline(request_id: str, body: DeclineBody, p: PrincipalDep, runtime: RuntimeDep,
                  if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.decline, request_id, if_match, body, reason=body.reason,
                      explanation=body.explanation, duplicate_of=body.duplicate_of)


@router.get("/requests/{request_id}/expert-suggestions", tags=["triage"])
async def expert_suggestions(request_id: str, p: PrincipalDep, runtime: RuntimeDep,
                             limit: Annotated[int, Query(ge=1, le=200)] = 5) -> list[dict[str, Any]]:
    actor = actor_of(p)
    staff_only(actor)
    d = deps(runtime)
    req = await h.get_request(d, request_id, actor=actor)
    experts = await repo.list_experts(d.store.db)
    return [s.model_dump() for s in suggest_experts(req.topic.value, experts, limit=limit)]


@router.post("/requests/{request_id}/assign", tags=["triage"])
async def assign(request_id: str, body: AssignBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.assign, request_id, if_match, body, expert_id=body.expert_id,
                      reason=body.reason)


@router.post("/requests/{request_id}/unassign", tags=["triage"])
async def unassign(request_id: str, body: UnassignBody, p: PrincipalDep, runtime: RuntimeDep,
                   if_match: IfMatch = None) -> JSONResponse:
    """Take the expert off (with the reason); the request waits for another assignment."""
    return await _run(runtime, p, h.unassign, request_id, if_match, body, reason=body.reason)


@router.post("/requests/{request_id}/memo/preview", tags=["memo"])
async def memo_preview(request_id: str, body: PreviewBody, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    actor = actor_of(p)
    staff_only(actor)
    req = await h.get_request(deps(runtime), request_id, actor=actor)
    checked = memo_rules.check(body.body)
    doc = await memo_document(runtime, req, body=body.body, version=len(req.memo_versions) + 1, delivered_at=None)
    return {"word_count": checked.word_count, "flags": checked.flags,
            "missing_sections": [s.value for s in checked.missing_sections],
            "empty_sections": [s.value for s in checked.empty_sections],
            "html": render_markdown(body.body), "unprintable_characters": unprintable(doc)}


@router.get("/requests/{request_id}/memo/template", tags=["memo"])
async def memo_template(request_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, str]:
    actor = actor_of(p)
    staff_only(actor)
    req = await h.get_request(deps(runtime), request_id, actor=actor)
    return {"body": memo_rules.template(req.title, req.question)}


@router.post("/requests/{request_id}/memo/drafts", status_code=201, tags=["memo"])
async def draft_memo(request_id: str, body: MemoBody, p: PrincipalDep, runtime: RuntimeDep,
                     if_match: IfMatch = None) -> JSONResponse:
    response = await _run(runtime, p, h.draft_memo, request_id, if_match, body, body=body.body)
    response.status_code = 201
    return response


@router.put("/requests/{request_id}/memo/working-copy", tags=["memo"])
async def autosave_memo(request_id: str, body: WorkingCopyBody, p: PrincipalDep, runtime: RuntimeDep,
                        if_match: IfMatch = None) -> dict[str, Any]:
    """The editor's autosave: the memo as typed, kept without making a version or moving the request's
    version. 409 `working_copy_changed` when it was saved elsewhere since `base_revision`."""
    actor = actor_of(p)
    d = deps(runtime)
    req, copy = await h.autosave_memo(d, request_id, actor=actor, version=expected_version(if_match, body.version),
                                      body=body.body, base_revision=body.base_revision)
    return {"version": req.version, "revision": copy.revision, "saved_at": copy.saved_at.isoformat()}


@router.post("/requests/{request_id}/memo/submit", tags=["memo"])
async def submit_memo(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                      body: SubmitMemoBody | None = None) -> JSONResponse:
    body = body or SubmitMemoBody()
    return await _run(runtime, p, h.submit_memo, request_id, if_match, body, accept_incomplete=body.accept_incomplete)


@router.post("/requests/{request_id}/memo/approve", tags=["memo"])
async def approve_memo(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                       body: Body | None = None) -> JSONResponse:
    return await _run(runtime, p, h.approve_memo, request_id, if_match, body or Body())


@router.post("/requests/{request_id}/memo/return", tags=["memo"])
async def return_memo(request_id: str, body: ReturnBody, p: PrincipalDep, runtime: RuntimeDep,
                      if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.return_memo, request_id, if_match, body, comments=body.comments)


@router.post("/requests/{request_id}/memo/deliver", tags=["memo"])
async def deliver_memo(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                       body: Body | None = None) -> JSONResponse:
    return await _run(runtime, p, h.deliver_memo, request_id, if_match, body or Body())


async def _memo_for(runtime: Runtime, p: Principal, request_id: str, memo_version: int | None):  # noqa: ANN202
    actor = actor_of(p)
    req = await h.get_request(deps(runtime), request_id, actor=actor)
    if memo_version is not None:
        if not actor.is_staff:
            raise NotPermitted("drafts_are_staff_only", "officials see the delivered memo only",
                               field="memo_version")
        memo = next((m for m in req.memo_versions if m.number == memo_version), None)
    else:
        memo = req.delivered_memo if not actor.is_staff else (req.delivered_memo or req.current_memo)
    if memo is None:
        raise NotFound("memo_not_found", "no memo here yet", field="memo_version")
    return req, memo


@router.get("/requests/{request_id}/memo", tags=["memo"])
async def get_memo(request_id: str, p: PrincipalDep, runtime: RuntimeDep,
                   memo_version: Annotated[int | None, Query(ge=1, le=MAX_MEMO_VERSION)] = None) -> dict[str, Any]:
    _, memo = await _memo_for(runtime, p, request_id, memo_version)
    return {"version": memo.number, "body": memo.body, "word_count": memo.word_count,
            "delivered_at": memo.delivered_at.isoformat() if memo.delivered_at else None, "state": memo.state}


@router.get("/requests/{request_id}/memo.html", response_class=HTMLResponse, tags=["memo"])
async def memo_html(request_id: str, p: PrincipalDep, runtime: RuntimeDep,
                    memo_version: Annotated[int | None, Query(ge=1, le=MAX_MEMO_VERSION)] = None) -> HTMLResponse:
    req, memo = await _memo_for(runtime, p, request_id, memo_version)
    doc = await memo_document(runtime, req, body=memo.body, version=memo.number, delivered_at=memo.delivered_at)
    return HTMLResponse(memo_html_document(doc), headers={"Content-Security-Policy": MEMO_CSP})


@router.get("/requests/{request_id}/memo.pdf", tags=["memo"])
async def memo_pdf_download(request_id: str, p: PrincipalDep, runtime: RuntimeDep,
                            memo_version: Annotated[int | None, Query(ge=1, le=MAX_MEMO_VERSION)] = None) -> Response:
    req, memo = await _memo_for(runtime, p, request_id, memo_version)
    doc = await memo_document(runtime, req, body=memo.body, version=memo.number, delivered_at=memo.delivered_at)
    pdf = await memo_pdf(doc)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="nrn-memo-{req.id}-v{memo.number}.pdf"'})


@router.post("/requests/{request_id}/call-slots", tags=["call"])
async def offer_slots(request_id: str, body: SlotsBody, p: PrincipalDep, runtime: RuntimeDep,
                      if_match: IfMatch = None) -> JSONResponse:
    # a local time becomes an instant here, once (nrn_kit.localtime): a time in a spring-forward gap is
    # refused, one that happens twice is answered with both choices to send back with fold or an offset
    starts = [resolve(s.starts_at, s.time_zone, fold=s.fold, field=f"slots.{i}.starts_at",
                      zone_field=f"slots.{i}.time_zone")
              for i, s in enumerate(body.slots)]
    return await _run(runtime, p, h.offer_slots, request_id, if_match, body,
                      slots=[(at, s.duration_minutes) for at, s in zip(starts, body.slots, strict=True)],
                      meeting=body.meeting, outside_hours_confirmed=body.outside_business_hours_confirmed)


@router.post("/requests/{request_id}/call/schedule", tags=["call"])
async def schedule_call(request_id: str, body: PickBody, p: PrincipalDep, runtime: RuntimeDep,
                        if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.pick_slot, request_id, if_match, body, slot_id=body.slot_id)


@router.post("/requests/{request_id}/call/complete", tags=["call"])
async def complete_call(request_id: str, body: CompleteBody, p: PrincipalDep, runtime: RuntimeDep,
                        if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.complete_call, request_id, if_match, body, summary=body.summary,
                      next_steps=body.next_steps, close=body.close)


@router.post("/requests/{request_id}/call/missed", tags=["call"])
async def call_missed(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                      body: MissedBody | None = None) -> JSONResponse:
    body = body or MissedBody()
    return await _run(runtime, p, h.miss_call, request_id, if_match, body, missed_by=body.missed_by)


@router.post("/requests/{request_id}/call/reschedule", tags=["call"])
async def call_reschedule(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                          body: RescheduleBody | None = None) -> JSONResponse:
    """The official asks for another time: the booked call is released and the expert offers new slots."""
    body = body or RescheduleBody()
    return await _run(runtime, p, h.reschedule_call, request_id, if_match, body, reason=body.reason,
                      preferred_call_times=body.preferred_call_times)


@router.post("/requests/{request_id}/call/cancel", tags=["call"])
async def call_cancel(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                      body: CancelCallBody | None = None) -> JSONResponse:
    """The official no longer wants the call; staff may then close the request."""
    body = body or CancelCallBody()
    return await _run(runtime, p, h.cancel_call, request_id, if_match, body, reason=body.reason)


@router.post("/requests/{request_id}/close", tags=["close"])
async def close(request_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                body: CloseBody | None = None) -> JSONResponse:
    body = body or CloseBody()
    return await _run(runtime, p, h.close, request_id, if_match, body, note=body.note)


@router.post("/requests/{request_id}/feedback", tags=["close"])
async def feedback(request_id: str, body: FeedbackBody, p: PrincipalDep, runtime: RuntimeDep,
                   if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.give_feedback, request_id, if_match, body, rating=body.rating,
                      comment=body.comment)


@router.post("/requests/{request_id}/follow-up", tags=["close"])
async def follow_up(request_id: str, body: FollowUpBody, p: PrincipalDep, runtime: RuntimeDep,
                    if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.record_follow_up, request_id, if_match, body, outcome=body.outcome,
                      description=body.description)


@router.post("/requests/{request_id}/reopen", tags=["close"])
async def reopen(request_id: str, body: ReopenBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.reopen, request_id, if_match, body, reason=body.reason)


@router.put("/requests/{request_id}/consent", tags=["requests"])
async def consent(request_id: str, body: ConsentBody, p: PrincipalDep, runtime: RuntimeDep,
                  if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.change_consent, request_id, if_match, body, consent=body.consent)


@router.post("/requests/{request_id}/notes", tags=["requests"])
async def add_note(request_id: str, body: NoteBody, p: PrincipalDep, runtime: RuntimeDep,
                   if_match: IfMatch = None) -> JSONResponse:
    return await _run(runtime, p, h.add_note, request_id, if_match, body, text=body.text)


# ---------------------------------------------------------------------------- staff views


@router.get("/queues", tags=["staff"])
async def queues(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    actor = actor_of(p)
    staff_only(actor)
    d = deps(runtime)
    expert = actor.id if Role.subject_matter_expert in actor.roles else None
    return await repo.queue_counts(d.store.db, d.now(), expert)


@router.get("/experts", tags=["staff"])
async def experts(p: PrincipalDep, runtime: RuntimeDep, topic: Topic | None = None) -> list[dict[str, Any]]:
    actor = actor_of(p)
    staff_only(actor)
    found = await repo.list_experts(deps(runtime).store.db, topic.value if topic else None)
    return [e.model_dump(mode="json") for e in found]


@router.patch("/experts/{expert_id}", tags=["staff"])
async def patch_expert(expert_id: str, body: ExpertPatch, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    actor = actor_of(p)
    if not actor.has(Role.program_manager):
        raise NotPermitted("role_required", "changing an expert's capacity needs program_manager")
    db = deps(runtime).store.db
    changes = body.model_dump(exclude_unset=True)
    result = await db[repo.EXPERTS].update_one({"_id": expert_id, "is_expert": True}, {"$set": changes})
    if result.matched_count == 0:
        raise NotFound("expert_not_found", f"no expert {expert_id}", field="expert_id")
    expert = await repo.get_expert(db, expert_id)
    assert expert is not None
    return expert.model_dump(mode="json")


@router.get("/metrics", tags=["staff"])
async def metrics(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The program's figures, read from the running totals the commands keep (one document)."""
    authorize(p, "metrics.read")
    db = deps(runtime).store.db
    value = from_totals(flatten(await repo.read_totals(db) or {})).model_dump()
    value["answers_found_before_asking"] = await repo.counter(db, "answers_found_before_asking")
    return value


@router.post("/admin/metrics/rebuild", tags=["staff"])
async def rebuild_metrics(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    actor = actor_of(p)
    if not actor.has(Role.administrator):
        raise Forbidden("rebuilding the metrics is for administrators", code="forbidden")
    return await h.rebuild_metrics(deps(runtime))


@router.post("/admin/sweep", tags=["staff"])
async def sweep(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, int]:
    actor = actor_of(p)
    if not actor.has(Role.administrator):
        raise Forbidden("the breach sweep is run by administrators", code="forbidden")
    return await h.sweep_service_levels(deps(runtime), batch=runtime.settings.sla_sweep_batch)


__all__ = ["router", "actor_of", "expected_version"]
