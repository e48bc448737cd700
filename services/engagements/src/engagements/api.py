"""HTTP routes: parse → command → handler → response. The contract is in README.md ("HTTP API")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from nrn_contracts.values import MultiLine, SingleLine, Version
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import STAFF_ROLES, Principal, authorize, principal_dependency
from nrn_kit.http import problem
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers as h
from .adapters import mongo as repo
from .adapters.files import ALLOWED_TYPES
from .domain import form as f
from .domain.application import BUDGET_CENTS, DURATION_MONTHS, REASON_MAX, Application, Terms
from .domain.engagement import REPORT_MAX, Assessment, Engagement, Outcome
from .domain.errors import InvalidInput, NotPermitted
from .domain.model import BARRIER_LABELS, Actor, Barrier, Role
from .domain.rounds import MAX_CAPACITY
from .domain.views import application_view, engagement_summary, engagement_view, form_labels, staff_summary, summary

# Commands with an Idempotency-Key (the gateway sends one per command) are carried out once: a retry
# gets the first answer back (nrn_kit.idempotency).
router = APIRouter(dependencies=[IDEMPOTENT])

principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
PrincipalDep = Annotated[Principal, Depends(principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
Id = Annotated[SingleLine, Field(min_length=1, max_length=128)]

APPLICATION_QUEUES = Literal["screening", "in_review", "awaiting_decision", "waitlisted", "decided", "mine"]
ENGAGEMENT_VIEWS = Literal["active", "overdue", "check_in_due", "closing", "closed"]


# ---------------------------------------------------------------------------- who is calling


def actor_of(p: Principal, name: str = "") -> Actor:
    if p.kind == "official":
        return Actor(id=p.account_id, kind="official", roles=frozenset({Role.official}), city_id=p.city_id,
                     verified=p.verified, name=name)
    if p.kind == "staff":
        if not p.verified:
            raise NotPermitted("staff_not_verified", "the staff account is not verified")
        roles = frozenset(Role(r) for r in p.roles if r in STAFF_ROLES and r in Role.__members__)
        return Actor(id=p.account_id, kind="staff", roles=roles, verified=True, name=name)
    raise NotPermitted("officials_and_staff_only", "direct assistance serves city officials and NRN staff")


async def caller(p: Principal, runtime: Runtime) -> Actor:
    """The actor with the name people read (from the accounts read model), for "changed by" notes."""
    person = await repo.get_person(runtime.db, p.account_id)
    return actor_of(p, (person or {}).get("name") or "")


def deps(runtime: Runtime) -> h.Deps:
    return runtime.state["deps"]


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    if if_match:
        raw = if_match.strip().removeprefix("W/").strip('"')
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput("if_match_invalid", "If-Match must be the version, e.g. \"3\"", field="If-Match") from None
    return body_version


async def _city_names(runtime: Runtime, app: Application) -> dict[str, str]:
    cities = await repo.get_cities(runtime.db, app.partner_city_ids)
    return {cid: c.label for cid, c in cities.items() if c is not None}


async def app_response(runtime: Runtime, app: Application, actor: Actor, *, status: int = 200,
                       extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    d = deps(runtime)
    problems = await h.submission_problems(d, app) if app.status.value == "draft" else []
    view = application_view(app, actor, cities=await _city_names(runtime, app), today=d.today(), problems=problems)
    view.update(extra or {})
    return JSONResponse(view, status_code=status, headers={"ETag": f'"{app.version}"', **(headers or {})})


def eng_response(runtime: Runtime, e: Engagement, actor: Actor) -> JSONResponse:
    return JSONResponse(engagement_view(e, actor, deps(runtime).today()), headers={"ETag": f'"{e.version}"'})


# ---------------------------------------------------------------------------- bodies


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = Field(None, description="the version you act on (or If-Match)")


class DraftBody(f.ApplicationForm):
    """A save: any part of the form (a field set to null is emptied; a barrier set to null is untaken)."""

    version: Version | None = Field(None, description="the version the form was loaded at (or If-Match)")


class WithdrawBody(Body):
    reason: MultiLine = Field("", max_length=REASON_MAX)


class ScreenBody(Body):
    outcome: Literal["eligible", "not_eligible"]
    note: MultiLine = Field("", max_length=REASON_MAX)


class ReviewerBody(Body):
    reviewer_id: Id


class ConflictBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=REASON_MAX)


class ScoreBody(Body):
    scores: dict[Annotated[SingleLine, Field(max_length=40)], Annotated[int, Field(ge=1, le=5)]] = Field(max_length=20)
    comments: dict[Annotated[SingleLine, Field(max_length=40)], Annotated[MultiLine, Field(max_length=2_000)]] = Field(
        default_factory=dict, max_length=20)
    overall: MultiLine = Field("", max_length=REASON_MAX)


class TermsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: SingleLine = Field(min_length=1, max_length=300)
    scope: MultiLine = Field(min_length=1, max_length=5_000)
    budget_cents: int = Field(ge=BUDGET_CENTS[0], le=BUDGET_CENTS[1], description="US dollars in integer cents")
    duration_months: int = Field(ge=DURATION_MONTHS[0], le=DURATION_MONTHS[1])
    starts_on: date
    hardship_accepted: bool = False


class DecisionBody(Body):
    decision: Literal["accept", "waitlist", "decline"]
    reason: MultiLine = Field(min_length=1, max_length=REASON_MAX, description="the city reads it")
    terms: TermsBody | None = None
    round_id: Id | None = None


class RoundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SingleLine = Field(min_length=1, max_length=200)
    opens_on: date
    closes_on: date | None = None
    capacity: int = Field(ge=1, le=MAX_CAPACITY)


class CapacityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(ge=0, le=MAX_CAPACITY)


class TeamMemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Id | None = None
    name: SingleLine = Field("", max_length=200)
    role: SingleLine = Field(min_length=1, max_length=200)
    kind: Literal["staff", "partner_expert"] = "staff"
    organization: SingleLine = Field("", max_length=200)


class TeamBody(Body):
    team: list[TeamMemberBody] = Field(max_length=20)


class FindingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    barrier: Barrier
    findings: MultiLine = Field(min_length=1, max_length=5_000)


class AssessmentBody(Body):
    visited_on: date
    barriers: list[FindingBody] = Field(min_length=1, max_length=len(Barrier))
    strengths: list[Annotated[MultiLine, Field(max_length=2_000)]] = Field(default_factory=list, max_length=20)
    summary: MultiLine = Field("", max_length=10_000)


class MilestoneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = None
    title: SingleLine = Field(min_length=1, max_length=300)
    description: MultiLine = Field("", max_length=5_000)
    owner: SingleLine = Field(min_length=1, max_length=200)
    due_on: date


class PlanBody(Body):
    milestones: list[MilestoneBody] = Field(min_length=1, max_length=30)


class CommentBody(Body):
    text: MultiLine = Field(min_length=1, max_length=REASON_MAX)
    milestone_id: Id | None = None


class AgreeBody(Body):
    plan_version: int = Field(ge=1, le=2**31 - 1)


class MilestoneDoneBody(Body):
    note: MultiLine = Field("", max_length=REASON_MAX)


class UpdateBody(Body):
    health: Literal["on_track", "at_risk", "off_track"]
    text: MultiLine = Field(min_length=1, max_length=REASON_MAX)


class RiskBody(Body):
    risk_id: Id | None = None
    description: MultiLine = Field(min_length=1, max_length=REASON_MAX)
    likelihood: Literal["low", "medium", "high"]
    impact: Literal["low", "medium", "high"]
    mitigation: MultiLine = Field("", max_length=REASON_MAX)
    status: Literal["open", "closed"] = "open"


class PartnerBody(Body):
    name: SingleLine = Field(min_length=1, max_length=200)
    organization: SingleLine = Field("", max_length=200)
    role: SingleLine = Field("", max_length=200)


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    milestone_id: Id
    result: Literal["met", "partly_met", "not_met"]
    note: MultiLine = Field("", max_length=2_000)


class CloseOutBody(Body):
    outcome: Literal["completed", "ended_early"] = "completed"
    outcomes: list[OutcomeBody] = Field(default_factory=list, max_length=30)
    final_report: MultiLine = Field(min_length=1, max_length=REPORT_MAX)


class CancelBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=REASON_MAX)


class ConfirmBody(Body):
    consent: Literal["none", "anonymous", "named"]


class CheckInBody(Body):
    notes: MultiLine = Field(min_length=1, max_length=REASON_MAX)


# ---------------------------------------------------------------------------- reference


@router.get("/barriers", tags=["reference"])
async def barriers(p: PrincipalDep) -> list[dict[str, str]]:
    return [{"id": b.value, "label": BARRIER_LABELS[b]} for b in Barrier]


@router.get("/rubric", tags=["reference"])
async def rubric(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    return deps(runtime).rubric.model_dump(mode="json")


@router.get("/form", tags=["reference"])
async def form_fields(p: PrincipalDep) -> dict[str, Any]:
    """The form's fields in order (path, label, anchor, section), the accepted attachment types and limits."""
    return {"fields": form_labels(), "attachment_types": [
        {"content_type": k, "label": v[0], "extension": v[1]} for k, v in ALLOWED_TYPES.items()]}


@router.get("/cities", tags=["reference"])
async def cities(p: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Cities known to the service (partner cities of a regional application are chosen from these)."""
    actor_of(p)
    return await repo.list_cities(runtime.db)


@router.get("/staff", tags=["reference"])
async def staff(p: PrincipalDep, runtime: RuntimeDep, role: Literal["reviewer", "program_manager",
                "subject_matter_expert", "triage_lead"] | None = None) -> list[dict[str, Any]]:
    actor = actor_of(p)
    if not actor.is_staff:
        raise NotPermitted("staff_only", "only NRN staff may do this")
    docs = await repo.staff_with_role(runtime.db, role) if role else await repo.staff_with_role(runtime.db, "staff")
    return [{"id": d["_id"], "name": d.get("name") or "", "roles": d.get("roles") or []} for d in docs]


# ---------------------------------------------------------------------------- applications


@router.post("/applications", status_code=201, tags=["applications"])
async def start(p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    actor = await caller(p, runtime)
    if actor.kind != "official":
        raise NotPermitted("only_officials_apply", "only a city official can apply for the city")
    authorize(p, "application.submit", city_id=p.city_id)
    app = await h.start_application(deps(runtime), actor=actor)
    return await app_response(runtime, app, actor, status=201, headers={"Location": f"/applications/{app.id}"})


@router.get("/applications", tags=["applications"])
async def list_applications(p: PrincipalDep, runtime: RuntimeDep, queue: APPLICATION_QUEUES | None = None,
                            city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
                            limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict[str, Any]:
    """An official: the city's applications (and those naming it as a partner), newest first — its
    reapply history. Staff: a queue (oldest submission first), or one city's history."""
    actor = actor_of(p)
    if actor.kind == "official":
        if city_id and city_id != actor.city_id:
            raise NotPermitted("officials_act_only_on_their_city", "an official sees only their city's applications")
        authorize(p, "application.read", city_id=actor.city_id)
        assert actor.city_id is not None
        apps = await repo.city_applications(runtime.db, actor.city_id, limit=limit)
        return {"items": [summary(a) for a in apps]}
    authorize(p, "application.read")
    d = deps(runtime)
    if city_id:
        apps = [a for a in await repo.city_applications(runtime.db, city_id, limit=limit)
                if h.sees_application(a, actor)]
    else:
        if queue is None:
            queue = "mine" if not actor.has(Role.program_manager, Role.triage_lead) else "screening"
        if queue != "mine" and not actor.has(Role.program_manager, Role.triage_lead):
            raise NotPermitted("assigned_only", "reviewers see the applications assigned to them", field="queue")
        apps = await repo.staff_applications(d.store.db, queue=queue, staff_id=actor.id, limit=limit)
    return {"items": [staff_summary(a) for a in apps], "counts": await repo.queue_counts(d.store.db, actor.id)}


@router.get("/applications/{application_id}", tags=["applications"])
async def get_application(application_id: str, p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    actor = actor_of(p)
    app = await h.get_application(deps(runtime), application_id, actor=actor)
    authorize(p, "application.read", city_id=actor.city_id if actor.kind == "official" else None)
    return await app_response(runtime, app, actor)


@router.patch("/applications/{application_id}", tags=["applications"])
async def save_draft(application_id: str, body: DraftBody, p: PrincipalDep, runtime: RuntimeDep,
                     if_match: IfMatch = None) -> JSONResponse:
    """Autosave. On an older version, fields only you changed merge with others' saves (`merged`
    says whose); a field both changed differently is 409 `someone_else_changed_this` with `conflicts`."""
    actor = await caller(p, runtime)
    change = f.ApplicationForm.model_validate(body.model_dump(exclude={"version"}, exclude_unset=True))
    app, merged = await h.save_draft(deps(runtime), application_id, actor=actor,
                                     version=expected_version(if_match, body.version), changes=f.changes_of(change))
    return await app_response(runtime, app, actor, extra={"merged": [
        {"by_name": e.by_name, "at": e.at.isoformat(), "fields": [c.path for c in e.changes],
         "labels": [f.label(c.path) for c in e.changes]} for e in merged]})


@router.post("/applications/{application_id}/attachments", status_code=201, tags=["applications"])
async def upload(application_id: str, p: PrincipalDep, runtime: RuntimeDep,
                 file: Annotated[UploadFile, File(description="PDF, Word, Excel, PNG or JPEG; the type is read "
                                                              "from the content")],
                 kind: Annotated[Literal["sponsor_letter", "budget", "other"], Form()],
                 version: Annotated[Version | None, Form()] = None, if_match: IfMatch = None) -> JSONResponse:
    actor = await caller(p, runtime)
    d = deps(runtime)
    data = await file.read(d.attachment_max_bytes + 1)
    app = await h.attach(d, application_id, actor=actor, version=expected_version(if_match, version), kind=kind,
                         filename=file.filename, data=data)
    return await app_response(runtime, app, actor, status=201)


@router.get("/applications/{application_id}/attachments/{attachment_id}", tags=["applications"])
async def download(application_id: str, attachment_id: str, p: PrincipalDep, runtime: RuntimeDep) -> Response:
    attachment, data = await h.download_attachment(deps(runtime), application_id, attachment_id, actor=actor_of(p))
    return Response(data, media_type=attachment.content_type, headers={
        "Content-Disposition": f'attachment; filename="{attachment.filename}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


@router.delete("/applications/{application_id}/attachments/{attachment_id}", tags=["applications"])
async def remove(application_id: str, attachment_id: str, p: PrincipalDep, runtime: RuntimeDep,
                 version: Annotated[Version | None, Query()] = None, if_match: IfMatch = None) -> JSONResponse:
    actor = await caller(p, runtime)
    app = await h.remove_attachment(deps(runtime), application_id, actor=actor,
                                    version=expected_version(if_match, version), attachment_id=attachment_id)
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/partner-confirmation", tags=["applications"])
async def confirm_partner(application_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                          body: Body | None = None) -> JSONResponse:
    actor = await caller(p, runtime)
    app = await h.confirm_partnership(deps(runtime), application_id, actor=actor,
                                      version=expected_version(if_match, (body or Body()).version))
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/submit", tags=["applications"])
async def submit(application_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                 body: Body | None = None) -> JSONResponse:
    """422 `application_incomplete` lists every missing or invalid field at once in `errors`
    (`field`, `label`, `message`, `anchor`, `section`)."""
    actor = await caller(p, runtime)
    app = await h.submit(deps(runtime), application_id, actor=actor,
                         version=expected_version(if_match, (body or Body()).version))
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/withdraw", tags=["applications"])
async def withdraw(application_id: str, p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                   body: WithdrawBody | None = None) -> JSONResponse:
    actor = await caller(p, runtime)
    body = body or WithdrawBody()
    app = await h.withdraw(deps(runtime), application_id, actor=actor,
                           version=expected_version(if_match, body.version), reason=body.reason)
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/screen", tags=["review"])
async def screen(application_id: str, body: ScreenBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    authorize(p, "application.screen")
    actor = await caller(p, runtime)
    app = await h.screen(deps(runtime), application_id, actor=actor, version=expected_version(if_match, body.version),
                         outcome=body.outcome, note=body.note)
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/reviewers", tags=["review"])
async def assign(application_id: str, body: ReviewerBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    authorize(p, "application.decide")
    actor = await caller(p, runtime)
    app = await h.assign_reviewer(deps(runtime), application_id, actor=actor,
                                  version=expected_version(if_match, body.version), reviewer_id=body.reviewer_id)
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/conflict", status_code=204, tags=["review"])
async def conflict(application_id: str, body: ConflictBody, p: PrincipalDep, runtime: RuntimeDep,
                   if_match: IfMatch = None) -> Response:
    """The reviewer steps aside; the application is hidden from them from now on (204, no body)."""
    authorize(p, "application.review")
    actor = await caller(p, runtime)
    await h.declare_conflict(deps(runtime), application_id, actor=actor,
                             version=expected_version(if_match, body.version), reason=body.reason)
    return Response(status_code=204)


@router.post("/applications/{application_id}/scores", tags=["review"])
async def scores(application_id: str, body: ScoreBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    authorize(p, "application.review")
    actor = await caller(p, runtime)
    app = await h.score(deps(runtime), application_id, actor=actor, version=expected_version(if_match, body.version),
                        scores=body.scores, comments=body.comments, overall=body.overall)
    return await app_response(runtime, app, actor)


@router.post("/applications/{application_id}/decision", tags=["review"])
async def decision(application_id: str, body: DecisionBody, request: Request, p: PrincipalDep,
                   runtime: RuntimeDep, if_match: IfMatch = None) -> JSONResponse:
    """Accept (takes a place in the round), waitlist or decline, with the reason the city reads.
    Accepting when the round is full is refused — 409 `round_at_capacity` — and the application
    goes on the round's waitlist (`waitlist_position`, `current_version`)."""
    authorize(p, "application.decide")
    actor = await caller(p, runtime)
    terms = Terms.model_validate(body.terms.model_dump()) if body.terms else None
    app, outcome = await h.decide(deps(runtime), application_id, actor=actor,
                                  version=expected_version(if_match, body.version), decision=body.decision,
                                  reason=body.reason, terms=terms, round_id=body.round_id)
    if outcome == "round_full":
        assert app.decision is not None
        return problem(409, "The funding round is full", app.decision.reason, code="round-at-capacity",
                       instance=request.url.path, field="decision", rule="round_at_capacity", waitlisted=True,
                       waitlist_position=app.decision.waitlist_position, current_version=app.version,
                       errors=[{"field": "decision", "message": app.decision.reason}])
    return await app_response(runtime, app, actor)


# ---------------------------------------------------------------------------- funding rounds


def _managers_only(actor: Actor) -> None:
    if not actor.has(Role.program_manager, Role.triage_lead):
        raise NotPermitted("role_required", "funding rounds are for program managers and triage leads")


@router.get("/rounds", tags=["rounds"])
async def rounds(p: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    actor = actor_of(p)
    _managers_only(actor)
    out = []
    for doc in await repo.list_rounds(runtime.db):
        view = repo.round_view(doc)
        view["waitlisted"] = await runtime.db[repo.APPLICATIONS].count_documents(
            repo.waitlist_filter(doc["_id"]), hint=repo.IX_WAITLIST)
        out.append(view)
    return out


@router.post("/rounds", status_code=201, tags=["rounds"])
async def create_round(body: RoundBody, p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    authorize(p, "round.manage")
    doc = await h.create_round(deps(runtime), actor=actor_of(p), name=body.name, opens_on=body.opens_on,
                               closes_on=body.closes_on, capacity=body.capacity)
    return JSONResponse(repo.round_view(doc), status_code=201, headers={"Location": f"/rounds/{doc['_id']}"})


@router.patch("/rounds/{round_id}", tags=["rounds"])
async def change_capacity(round_id: str, body: CapacityBody, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """New places go to the waitlist at once, in score order (`promoted`)."""
    authorize(p, "round.manage")
    doc, promoted = await h.set_capacity(deps(runtime), round_id, actor=actor_of(p), capacity=body.capacity)
    return {**repo.round_view(doc), "promoted": promoted}


@router.get("/rounds/{round_id}/waitlist", tags=["rounds"])
async def round_waitlist(round_id: str, p: PrincipalDep, runtime: RuntimeDep,
                         limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[dict[str, Any]]:
    actor = actor_of(p)
    _managers_only(actor)
    docs = await repo.waitlist(runtime.db, round_id, limit=limit)
    from .domain.rubric import as_points

    return [{"position": i + 1, "application_id": d["_id"], "city_id": d["city_id"], "city_name": d.get("city_name"),
             "state": d.get("us_state"), "score": {"hundredths": d.get("score"), "points": as_points(d.get("score"))},
             "submitted_at": d["submitted_at"].isoformat() if d.get("submitted_at") else None}
            for i, d in enumerate(docs)]


# ---------------------------------------------------------------------------- engagements


@router.get("/engagements", tags=["engagements"])
async def list_engagements(p: PrincipalDep, runtime: RuntimeDep, view: ENGAGEMENT_VIEWS | None = None,
                           city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
                           limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict[str, Any]:
    """An official: the city's engagements. Staff: `view` = active (default), overdue (a milestone past
    due), check_in_due (6-month check-in due), closing, closed; or one city's."""
    actor = actor_of(p)
    d = deps(runtime)
    today = d.today()
    if actor.kind == "official":
        if city_id and city_id != actor.city_id:
            raise NotPermitted("officials_act_only_on_their_city", "an official sees only their city's engagements")
        authorize(p, "engagement.read", city_id=actor.city_id)
        found = await repo.engagement_list(runtime.db, city_id=actor.city_id, limit=limit)
    else:
        authorize(p, "engagement.read")
        if city_id:
            found = await repo.engagement_list(runtime.db, city_id=city_id, limit=limit)
        elif view == "overdue":
            found = await repo.engagement_list(runtime.db, overdue_before=today, limit=limit)
        elif view == "check_in_due":
            found = await repo.engagement_list(runtime.db, check_in_by=today, limit=limit)
        elif view in ("closing", "closed"):
            found = await repo.engagement_list(runtime.db, status=view, limit=limit)
        else:
            found = []
            for status in ("opened", "assessed", "planning", "in_progress"):
                found += await repo.engagement_list(runtime.db, status=status, limit=limit)
    return {"items": [engagement_summary(e, today) for e in found[:limit]],
            "counts": None if actor.kind == "official" else {
                "overdue": len(await repo.engagement_list(runtime.db, overdue_before=today, limit=100)),
                "check_in_due": len(await repo.engagement_list(runtime.db, check_in_by=today, limit=100))}}


@router.get("/engagements/{engagement_id}", tags=["engagements"])
async def get_engagement(engagement_id: str, p: PrincipalDep, runtime: RuntimeDep) -> JSONResponse:
    actor = actor_of(p)
    e = await h.get_engagement(deps(runtime), engagement_id, actor=actor)
    authorize(p, "engagement.read", city_id=e.city_id if actor.kind == "official" else None)
    return eng_response(runtime, e, actor)


@router.get("/engagements/{engagement_id}/peer-context", tags=["engagements"])
async def peer_context(engagement_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Cities with similar barriers (officials: those that asked for peer connections), their
    engagements, and the questions NRN answered for them (with their consent to publish)."""
    actor = actor_of(p)
    e = await h.get_engagement(deps(runtime), engagement_id, actor=actor)
    authorize(p, "engagement.read", city_id=e.city_id if actor.kind == "official" else None)
    return await h.peer_context(deps(runtime), e, actor=actor)


async def _eng(runtime: Runtime, p: Principal, engagement_id: str, if_match: str | None, body: Body, gate: str,
               step: Any) -> JSONResponse:
    """One engagement command: `step(actor)` gives the domain call to run on the loaded engagement."""
    authorize(p, gate, city_id=p.city_id if p.kind == "official" else None)
    actor = await caller(p, runtime)
    e = await h.act_on_engagement(deps(runtime), engagement_id, actor=actor,
                                  expected_version=expected_version(if_match, body.version), action=step(actor))
    return eng_response(runtime, e, actor)


@router.put("/engagements/{engagement_id}/team", tags=["engagements"])
async def team(engagement_id: str, body: TeamBody, p: PrincipalDep, runtime: RuntimeDep,
               if_match: IfMatch = None) -> JSONResponse:
    authorize(p, "engagement.close")
    actor = await caller(p, runtime)
    e = await h.set_team(deps(runtime), engagement_id, actor=actor, version=expected_version(if_match, body.version),
                         team=[m.model_dump() for m in body.team])
    return eng_response(runtime, e, actor)


@router.post("/engagements/{engagement_id}/assessment", tags=["engagements"])
async def assessment(engagement_id: str, body: AssessmentBody, p: PrincipalDep, runtime: RuntimeDep,
                     if_match: IfMatch = None) -> JSONResponse:
    found = Assessment.model_validate(body.model_dump(exclude={"version"}))
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.complete_assessment(actor=actor, now=now, today=today, assessment=found)))


@router.post("/engagements/{engagement_id}/work-plan", tags=["engagements"])
async def work_plan(engagement_id: str, body: PlanBody, p: PrincipalDep, runtime: RuntimeDep,
                    if_match: IfMatch = None) -> JSONResponse:
    """Propose or revise the work plan (milestones keep their id when revised: send it)."""
    milestones = [m.model_dump() for m in body.milestones]
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.propose_plan(actor=actor, now=now, milestones=milestones)))


@router.post("/engagements/{engagement_id}/work-plan/comments", tags=["engagements"])
async def plan_comment(engagement_id: str, body: CommentBody, p: PrincipalDep, runtime: RuntimeDep,
                       if_match: IfMatch = None) -> JSONResponse:
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.respond", lambda actor: (
        lambda e, now, today, tx: e.comment_plan(actor=actor, now=now, text=body.text, milestone_id=body.milestone_id)))


@router.post("/engagements/{engagement_id}/work-plan/agreement", tags=["engagements"])
async def plan_agree(engagement_id: str, body: AgreeBody, p: PrincipalDep, runtime: RuntimeDep,
                     if_match: IfMatch = None) -> JSONResponse:
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.respond", lambda actor: (
        lambda e, now, today, tx: e.agree_plan(actor=actor, now=now, plan_version=body.plan_version)))


@router.post("/engagements/{engagement_id}/milestones/{milestone_id}/complete", tags=["engagements"])
async def milestone_done(engagement_id: str, milestone_id: Annotated[str, Path(max_length=128)],
                         p: PrincipalDep, runtime: RuntimeDep, if_match: IfMatch = None,
                         body: MilestoneDoneBody | None = None) -> JSONResponse:
    body = body or MilestoneDoneBody()
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.complete_milestone(actor=actor, now=now, today=today, milestone_id=milestone_id,
                                                       note=body.note)))


@router.post("/engagements/{engagement_id}/updates", tags=["engagements"])
async def status_update(engagement_id: str, body: UpdateBody, p: PrincipalDep, runtime: RuntimeDep,
                        if_match: IfMatch = None) -> JSONResponse:
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.post_update(actor=actor, now=now, health=body.health, text=body.text)))


@router.post("/engagements/{engagement_id}/risks", tags=["engagements"])
async def risk(engagement_id: str, body: RiskBody, p: PrincipalDep, runtime: RuntimeDep,
               if_match: IfMatch = None) -> JSONResponse:
    """Record a risk, or update one (`risk_id`), e.g. to close it."""
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.record_risk(actor=actor, now=now, risk_id=body.risk_id, description=body.description,
                                                likelihood=body.likelihood, impact=body.impact,
                                                mitigation=body.mitigation, status=body.status)))


@router.post("/engagements/{engagement_id}/partners", tags=["engagements"])
async def partner(engagement_id: str, body: PartnerBody, p: PrincipalDep, runtime: RuntimeDep,
                  if_match: IfMatch = None) -> JSONResponse:
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.manage", lambda actor: (
        lambda e, now, today, tx: e.add_partner(actor=actor, now=now, name=body.name, organization=body.organization,
                                                role=body.role)))


@router.post("/engagements/{engagement_id}/close-out", tags=["engagements"])
async def close_out(engagement_id: str, body: CloseOutBody, p: PrincipalDep, runtime: RuntimeDep,
                    if_match: IfMatch = None) -> JSONResponse:
    """The close-out report: outcomes against the plan and the final report (Markdown). `ended_early`
    may leave milestones without an outcome. The city then confirms it."""
    outcomes = [Outcome.model_validate(o.model_dump()) for o in body.outcomes]

    def step(actor: Actor) -> Any:
        def run(e: Engagement, now: Any, today: Any, tx: Any) -> None:
            if body.outcome == "completed":
                e.submit_close_out(actor=actor, now=now, outcomes=outcomes, final_report=body.final_report)
            else:
                e.end_early(actor=actor, now=now, outcomes=outcomes, final_report=body.final_report)
        return run

    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.close", step)


@router.post("/engagements/{engagement_id}/cancel", tags=["engagements"])
async def cancel(engagement_id: str, body: CancelBody, p: PrincipalDep, runtime: RuntimeDep,
                 if_match: IfMatch = None) -> JSONResponse:
    """Before the assessment only: the place in the round frees and goes to the waitlist at once."""
    authorize(p, "engagement.close")
    actor = await caller(p, runtime)
    e = await h.cancel_engagement(deps(runtime), engagement_id, actor=actor,
                                  version=expected_version(if_match, body.version), reason=body.reason)
    return eng_response(runtime, e, actor)


@router.post("/engagements/{engagement_id}/close-out/confirmation", tags=["engagements"])
async def confirm_close_out(engagement_id: str, body: ConfirmBody, p: PrincipalDep, runtime: RuntimeDep,
                            if_match: IfMatch = None) -> JSONResponse:
    """The city confirms the close-out and says whether the final report may be published (and named)."""
    return await _eng(runtime, p, engagement_id, if_match, body, "engagement.respond", lambda actor: (
        lambda e, now, today, tx: e.confirm_close_out(actor=actor, now=now, consent=body.consent)))


@router.post("/engagements/{engagement_id}/check-in", tags=["engagements"])
async def check_in(engagement_id: str, body: CheckInBody, p: PrincipalDep, runtime: RuntimeDep,
                   if_match: IfMatch = None) -> JSONResponse:
    gate = "engagement.respond" if p.kind == "official" else "engagement.manage"
    return await _eng(runtime, p, engagement_id, if_match, body, gate, lambda actor: (
        lambda e, now, today, tx: e.record_check_in(actor=actor, now=now, today=today, notes=body.notes)))


# ---------------------------------------------------------------------------- the city dashboard


@router.get("/cities/{city_id}/summary", tags=["engagements"])
async def city_summary(city_id: str, p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The city's applications and engagements in one call (the dashboard's section)."""
    actor = actor_of(p)
    if actor.kind == "official" and actor.city_id != city_id:
        raise NotPermitted("officials_act_only_on_their_city", "an official sees only their city's")
    authorize(p, "engagement.read", city_id=city_id if actor.kind == "official" else None)
    today = deps(runtime).today()
    apps = [a for a in await repo.city_applications(runtime.db, city_id, limit=10) if h.sees_application(a, actor)]
    engagements = await repo.engagement_list(runtime.db, city_id=city_id, limit=10)
    return {"applications": [summary(a) for a in apps], "engagements": [engagement_summary(e, today) for e in engagements],
            "can_apply": actor.kind == "official" and not any(
                a.city_id == city_id and a.status.value not in ("accepted", "declined", "withdrawn") for a in apps)}


__all__ = ["router", "actor_of", "expected_version"]
