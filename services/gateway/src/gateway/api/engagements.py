"""Direct technical assistance: /api/v1/applications, /api/v1/rounds, /api/v1/engagements.

Bodies validate at the door with engagements' own limits (gateway.engagements_limits; the drift
test compares them route by route), the kit's matrix is checked before any upstream call, and
the caller's token, If-Match and Idempotency-Key travel on. No ``from __future__ import
annotations``: the routes made by factories take their body model as a real annotation.
"""

import inspect
import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nrn_contracts.values import MultiLine, SingleLine, single_line
from nrn_contracts.values import Version as _Version

from .. import engagements_limits as E
from ..deps import ApiUser, Svc, allow, require_staff
from ..problems import ProblemError
from . import models as m
from .forward import forward

router = APIRouter()
APPS, REVIEW, ROUNDS, ENG = "direct assistance: applications", "staff: review", "staff: funding rounds", \
    "direct assistance: engagements"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "no such application or engagement (or not your city's)", **PROBLEM},
          409: {"description": "not allowed now, a stale version, someone else changed the draft, or the round is full",
                **PROBLEM},
          422: {"description": "invalid input, or the application is incomplete (every field named)", **PROBLEM},
          428: {"description": "version required (If-Match or body `version`)", **PROBLEM},
          503: {"description": "the engagements service is unavailable", **PROBLEM}}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def out(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


Version = Annotated[_Version | None, Field(description="the version you act on (or If-Match)")]
# Text refuses control characters (nrn_contracts.values, as engagements' own models do)
Short = Annotated[SingleLine, Field(max_length=E.SHORT_MAX)]
Reason = Annotated[MultiLine, Field(max_length=E.REASON_MAX)]
Barrier = Literal["government_operations_budgets", "economic_development", "land_use", "transportation", "workforce",
                  "community_development", "housing", "public_safety"]
Level = Literal["low", "medium", "high"]


# --- the application form (engagements.domain.form) ------------------------------------------------------


class Background(_In):
    lead_official_name: Short | None = None
    lead_official_title: Short | None = None
    population: int | None = Field(None, ge=E.POPULATION_MIN, le=E.POPULATION_MAX)
    sponsor_name: Short | None = None
    sponsor_title: Short | None = None
    sponsor_commitment: Annotated[MultiLine, Field(max_length=E.TEXT5K_MAX)] | None = None
    stakeholders: Annotated[list[Annotated[SingleLine, Field(min_length=1, max_length=E.STAKEHOLDER_MAX)]],
                            Field(max_length=E.STAKEHOLDERS_MAX)] | None = None


class EconomicChallenges(_In):
    barriers: dict[Barrier, Annotated[MultiLine, Field(max_length=E.NARRATIVE_MAX)] | None] | None = None


class ProjectManagement(_In):
    manager_name: Short | None = None
    manager_title: Short | None = None
    manager_email: Annotated[str, Field(max_length=E.EMAIL_MAX, pattern=E.EMAIL_PATTERN),
                             AfterValidator(single_line)] | None = None
    timeline_months: int | None = Field(None, ge=E.TIMELINE_MONTHS[0], le=E.TIMELINE_MONTHS[1])
    desired_start: date | None = None
    local_match: Literal["commit", "hardship"] | None = None
    local_match_source: Annotated[MultiLine, Field(max_length=E.TEXT2K_MAX)] | None = None
    hardship_reason: Annotated[MultiLine, Field(max_length=E.TEXT5K_MAX)] | None = None


class Regional(_In):
    partner_city_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=E.ID_MAX,
                                                          pattern=E.CITY_ID_PATTERN)]],
                                Field(max_length=E.PARTNERS_MAX)] | None = None


class DraftIn(_In):
    """Any part of the form; `null` empties a field (a barrier set to `null` is untaken)."""

    background: Background | None = None
    economic_challenges: EconomicChallenges | None = None
    project_management: ProjectManagement | None = None
    regional: Regional | None = None
    peer_connections: bool | None = None
    exception_request: Annotated[MultiLine, Field(max_length=E.TEXT5K_MAX)] | None = None
    version: Version = None


# --- review --------------------------------------------------------------------------------------------------


class VersionIn(_In):
    version: Version = None


class WithdrawIn(VersionIn):
    reason: Reason = ""


class ScreenIn(VersionIn):
    outcome: Literal["eligible", "not_eligible"]
    note: Reason = ""


class ReviewerIn(VersionIn):
    reviewer_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)]


class ConflictIn(VersionIn):
    reason: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]


class ScoresIn(VersionIn):
    scores: dict[Annotated[SingleLine, Field(max_length=E.CRITERION_ID_MAX)],
                 Annotated[int, Field(ge=E.SCORE_MIN, le=E.SCORE_MAX)]] = Field(max_length=E.CRITERIA_MAX)
    comments: dict[Annotated[SingleLine, Field(max_length=E.CRITERION_ID_MAX)],
                   Annotated[MultiLine, Field(max_length=E.CRITERION_COMMENT_MAX)]] = Field(
        default_factory=dict, max_length=E.CRITERIA_MAX)
    overall: Reason = ""


class TermsIn(_In):
    title: Annotated[SingleLine, Field(min_length=1, max_length=E.TITLE_MAX)]
    scope: Annotated[MultiLine, Field(min_length=1, max_length=E.SCOPE_MAX)]
    budget_cents: int = Field(ge=E.BUDGET_CENTS[0], le=E.BUDGET_CENTS[1], description="US dollars in integer cents")
    duration_months: int = Field(ge=E.DURATION_MONTHS[0], le=E.DURATION_MONTHS[1])
    starts_on: date
    hardship_accepted: bool = False


class DecisionIn(VersionIn):
    decision: Literal["accept", "waitlist", "decline"]
    reason: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX, description="the city reads it")]
    terms: TermsIn | None = None
    round_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)] | None = None


class RoundIn(_In):
    name: Annotated[SingleLine, Field(min_length=1, max_length=E.ROUND_NAME_MAX)]
    opens_on: date
    closes_on: date | None = None
    capacity: int = Field(ge=1, le=E.CAPACITY_MAX)


class CapacityIn(_In):
    capacity: int = Field(ge=0, le=E.CAPACITY_MAX)


# --- engagements ---------------------------------------------------------------------------------------------


class TeamMemberIn(_In):
    member_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)] | None = None
    name: Annotated[SingleLine, Field(max_length=E.SHORT_MAX)] = ""
    role: Annotated[SingleLine, Field(min_length=1, max_length=E.SHORT_MAX)]
    kind: Literal["staff", "partner_expert"] = "staff"
    organization: Annotated[SingleLine, Field(max_length=E.SHORT_MAX)] = ""


class TeamIn(VersionIn):
    team: list[TeamMemberIn] = Field(max_length=E.TEAM_MAX)


class FindingIn(_In):
    barrier: Barrier
    findings: Annotated[MultiLine, Field(min_length=1, max_length=E.FINDINGS_MAX)]


class AssessmentIn(VersionIn):
    visited_on: date
    barriers: list[FindingIn] = Field(min_length=1, max_length=len(E.BARRIERS))
    strengths: list[Annotated[MultiLine, Field(max_length=E.STRENGTH_MAX)]] = Field(default_factory=list,
                                                                             max_length=E.STRENGTHS_MAX)
    summary: Annotated[MultiLine, Field(max_length=E.ASSESSMENT_SUMMARY_MAX)] = ""


class MilestoneIn(_In):
    id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)] | None = None
    title: Annotated[SingleLine, Field(min_length=1, max_length=E.MILESTONE_TITLE_MAX)]
    description: Annotated[MultiLine, Field(max_length=E.MILESTONE_DESCRIPTION_MAX)] = ""
    owner: Annotated[SingleLine, Field(min_length=1, max_length=E.OWNER_MAX)]
    due_on: date


class PlanIn(VersionIn):
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=E.MILESTONES_MAX)


class CommentIn(VersionIn):
    text: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]
    milestone_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)] | None = None


class AgreeIn(VersionIn):
    plan_version: int = Field(ge=1, le=2**31 - 1)


class MilestoneDoneIn(VersionIn):
    note: Reason = ""


class UpdateIn(VersionIn):
    health: Literal["on_track", "at_risk", "off_track"]
    text: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]


class RiskIn(VersionIn):
    risk_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)] | None = None
    description: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]
    likelihood: Level
    impact: Level
    mitigation: Reason = ""
    status: Literal["open", "closed"] = "open"


class PartnerIn(VersionIn):
    name: Annotated[SingleLine, Field(min_length=1, max_length=E.SHORT_MAX)]
    organization: Annotated[SingleLine, Field(max_length=E.SHORT_MAX)] = ""
    role: Annotated[SingleLine, Field(max_length=E.SHORT_MAX)] = ""


class OutcomeIn(_In):
    milestone_id: Annotated[SingleLine, Field(min_length=1, max_length=E.ID_MAX)]
    result: Literal["met", "partly_met", "not_met"]
    note: Annotated[MultiLine, Field(max_length=E.OUTCOME_NOTE_MAX)] = ""


class CloseOutIn(VersionIn):
    outcome: Literal["completed", "ended_early"] = "completed"
    outcomes: list[OutcomeIn] = Field(default_factory=list, max_length=E.OUTCOMES_MAX)
    final_report: Annotated[MultiLine, Field(min_length=1, max_length=E.REPORT_MAX)]


class CancelIn(VersionIn):
    reason: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]


class ConfirmIn(VersionIn):
    consent: Literal["none", "anonymous", "named"]


class CheckInIn(VersionIn):
    notes: Annotated[MultiLine, Field(min_length=1, max_length=E.REASON_MAX)]


# --- helpers -----------------------------------------------------------------------------------------------


def _guard_city(user: Any, body: Any) -> None:
    """Defence in depth: an official never receives another city's application or engagement,
    whatever the service sent (a partner city's official sees the regional application it is named in)."""
    if user.is_staff or not isinstance(body, dict) or "city_id" not in body:
        return
    partners = {p.get("city_id") for p in body.get("partner_cities") or [] if isinstance(p, dict)}
    if not (user.may_see_city(body.get("city_id")) or user.city_id in partners):
        raise ProblemError(404, "Not found", "No such item, or it is not your city's.")


async def _read(request: Request, user: Any, svc: Any, path: str, params: Any = None) -> Response:
    response = await forward(request, svc.engagements, "GET", path, principal=user, params=params)
    if not user.is_staff and response.headers.get("content-type", "").startswith("application/json"):
        _guard_city(user, json.loads(response.body))
    return response


def _official_scope(user: Any, action: str) -> None:
    """Officials act only for their own city (the service checks which city the item is)."""
    if user.is_staff:
        return
    allow(user, action, city_id=user.city_id)


# --- reference -----------------------------------------------------------------------------------------------


@router.get("/direct-assistance/barriers", tags=[APPS], summary="The barriers to recovery of the application form",
            responses=ERRORS)
async def barriers(request: Request, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.engagements, "GET", "/barriers", principal=user)


@router.get("/direct-assistance/rubric", tags=[REVIEW], summary="The review rubric in force", responses=ERRORS)
async def rubric(request: Request, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.engagements, "GET", "/rubric", principal=user)


@router.get("/direct-assistance/form", tags=[APPS], summary="The application form's fields in order", responses=ERRORS)
async def form_fields(request: Request, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.engagements, "GET", "/form", principal=user)


@router.get("/direct-assistance/staff", tags=[REVIEW], summary="Staff by role (reviewers to assign, a team)",
            responses=ERRORS)
async def staff(request: Request, user: ApiUser, svc: Svc,
                role: Literal["reviewer", "program_manager", "subject_matter_expert", "triage_lead"] | None = None
                ) -> Response:
    require_staff(user)
    return await forward(request, svc.engagements, "GET", "/staff", principal=user, params={"role": role})


# --- applications ----------------------------------------------------------------------------------------------


@router.post("/applications", status_code=201, tags=[APPS], summary="An official starts the city's application",
             responses=ERRORS)
async def start(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "application.submit", city_id=user.city_id)
    return await forward(request, svc.engagements, "POST", "/applications", principal=user,
                         location_prefix="/api/v1/applications/")


@router.get("/applications", tags=[APPS], summary="The city's applications (officials), a review queue (staff)",
            responses=ERRORS)
async def list_applications(
    request: Request, user: ApiUser, svc: Svc,
    queue: Literal["screening", "in_review", "awaiting_decision", "waitlisted", "decided", "mine"] | None = None,
    city_id: Annotated[SingleLine | None, Query(max_length=E.ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=E.LIST_LIMIT_MAX)] = 50,
) -> Response:
    if user.is_staff:
        allow(user, "application.read")
    else:
        if city_id is not None and city_id != user.city_id:
            raise ProblemError(404, "Not found", "No such city, or it is not yours.")
        allow(user, "application.read", city_id=user.city_id)
        queue = None
    return await forward(request, svc.engagements, "GET", "/applications", principal=user,
                         params={"queue": queue, "city_id": city_id, "limit": limit})


@router.get("/applications/{application_id}", tags=[APPS], summary="One application, as the caller may see it",
            responses=ERRORS)
async def get_application(request: Request, application_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    return await _read(request, user, svc, f"/applications/{application_id}")


@router.patch("/applications/{application_id}", tags=[APPS], summary="Save the draft (merged with others' saves)",
              responses=ERRORS)
async def save_draft(request: Request, application_id: m.Id, body: DraftIn, user: ApiUser, svc: Svc) -> Response:
    _official_scope(user, "application.submit")
    return await forward(request, svc.engagements, "PATCH", f"/applications/{application_id}", principal=user,
                         json=body.out())


@router.post("/applications/{application_id}/attachments", status_code=201, tags=[APPS],
             summary="Attach a file (the sponsor's letter, a budget): PDF, Word, Excel, PNG or JPEG", responses=ERRORS)
async def upload(request: Request, application_id: m.Id, user: ApiUser, svc: Svc,
                 file: Annotated[UploadFile, File(description="PDF, Word, Excel, PNG or JPEG; the type is read "
                                                              "from the content")],
                 kind: Annotated[Literal["sponsor_letter", "budget", "other"], Form()],
                 version: Annotated[_Version | None, Form()] = None) -> Response:
    _official_scope(user, "application.submit")
    data = await file.read(E.ATTACHMENT_MAX_BYTES + 1)
    form = {"kind": kind, **({"version": str(version)} if version is not None else {})}
    return await forward(request, svc.engagements, "POST", f"/applications/{application_id}/attachments",
                         principal=user, data=form,
                         files={"file": (file.filename or "attachment", data, file.content_type or
                                         "application/octet-stream")})


@router.get("/applications/{application_id}/attachments/{attachment_id}", tags=[APPS], summary="Download an attachment",
            responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}})
async def download(request: Request, application_id: m.Id, attachment_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    response = await forward(request, svc.engagements, "GET", f"/applications/{application_id}/attachments/"
                             f"{attachment_id}", principal=user)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.delete("/applications/{application_id}/attachments/{attachment_id}", tags=[APPS],
               summary="Remove an attachment from the draft", responses=ERRORS)
async def remove(request: Request, application_id: m.Id, attachment_id: m.Id, user: ApiUser, svc: Svc,
                 version: Annotated[_Version | None, Query()] = None) -> Response:
    _official_scope(user, "application.submit")
    return await forward(request, svc.engagements, "DELETE", f"/applications/{application_id}/attachments/"
                         f"{attachment_id}", principal=user, params={"version": version})


def _action(path: str, model: type, summary: str, tag: str, *, gate: str | None = None, staff: bool = False,
            method: str = "POST", status_code: int = 200, optional: bool = False) -> None:
    """One command at `path` (e.g. "/applications/{application_id}/submit"), passed through with the
    caller's token, If-Match and Idempotency-Key. `gate`: the kit's action checked first (officials
    for their own city; the service checks which city the item is). `optional`: the body may be left
    out (the version then comes in If-Match)."""

    async def handler(request: Request, user: ApiUser, svc: Svc, **kwargs: Any) -> Response:
        body = kwargs.get("body")
        if staff:
            require_staff(user)
        if gate:
            allow(user, gate, city_id=None if user.is_staff else user.city_id)
        target = request.url.path.removeprefix(request.scope.get("root_path", "")).removeprefix("/api/v1")
        return await forward(request, svc.engagements, method, target, principal=user,
                             json=body.out() if body is not None else {})

    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    for name in re.findall(r"{(\w+)}", path):
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=m.Id))
    body = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=model | None if optional else model,
                             default=None if optional else inspect.Parameter.empty)
    params += [body, inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, annotation=ApiUser),
               inspect.Parameter("svc", inspect.Parameter.KEYWORD_ONLY, annotation=Svc)]

    async def endpoint(**kwargs: Any) -> Response:
        return await handler(kwargs.pop("request"), kwargs.pop("user"), kwargs.pop("svc"), **kwargs)

    endpoint.__signature__ = inspect.Signature(params, return_annotation=Response)  # type: ignore[attr-defined]
    router.add_api_route(path, endpoint, methods=[method], summary=summary, tags=[tag], responses=ERRORS,
                         status_code=status_code, name=f"{method.lower()}{re.sub(r'[^a-z]+', '_', path)}")


_action("/applications/{application_id}/partner-confirmation", VersionIn, "A partner city confirms a regional application", APPS,
        gate="application.submit", optional=True)
_action("/applications/{application_id}/submit", VersionIn, "Submit (422 names every missing or invalid field at once)", APPS,
        gate="application.submit", optional=True)
_action("/applications/{application_id}/withdraw", WithdrawIn, "Withdraw the application before a decision", APPS,
        gate="application.submit", optional=True)
_action("/applications/{application_id}/screen", ScreenIn, "Eligibility screen", REVIEW, gate="application.screen", staff=True)
_action("/applications/{application_id}/reviewers", ReviewerIn, "Assign a reviewer", REVIEW, gate="application.decide", staff=True)
_action("/applications/{application_id}/conflict", ConflictIn, "Declare a conflict of interest (the application is then hidden)",
        REVIEW, gate="application.review", staff=True, status_code=204)
_action("/applications/{application_id}/scores", ScoresIn, "Score against the rubric (once)", REVIEW, gate="application.review",
        staff=True)
_action("/applications/{application_id}/decision", DecisionIn, "Accept, waitlist or decline, with the reason the city reads (409 "
        "`round_at_capacity` when the round is full: waitlisted instead)", REVIEW, gate="application.decide", staff=True)


# --- funding rounds ---------------------------------------------------------------------------------------------


@router.get("/rounds", tags=[ROUNDS], summary="Funding rounds with their places", responses=ERRORS)
async def rounds(request: Request, user: ApiUser, svc: Svc) -> Response:
    require_staff(user)
    return await forward(request, svc.engagements, "GET", "/rounds", principal=user)


@router.post("/rounds", status_code=201, tags=[ROUNDS], summary="Open a funding round", responses=ERRORS)
async def create_round(request: Request, body: RoundIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "round.manage")
    return await forward(request, svc.engagements, "POST", "/rounds", principal=user, json=body.out(),
                         location_prefix="/api/v1/rounds/")


@router.patch("/rounds/{round_id}", tags=[ROUNDS], summary="Change a round's capacity (new places go to the waitlist)",
              responses=ERRORS)
async def change_capacity(request: Request, round_id: m.Id, body: CapacityIn, user: ApiUser, svc: Svc) -> Response:
    allow(user, "round.manage")
    return await forward(request, svc.engagements, "PATCH", f"/rounds/{round_id}", principal=user, json=body.out())


@router.get("/rounds/{round_id}/waitlist", tags=[ROUNDS], summary="The round's waitlist in promotion order",
            responses=ERRORS)
async def waitlist(request: Request, round_id: m.Id, user: ApiUser, svc: Svc,
                   limit: Annotated[int, Query(ge=1, le=E.LIST_LIMIT_MAX)] = 50) -> Response:
    require_staff(user)
    return await forward(request, svc.engagements, "GET", f"/rounds/{round_id}/waitlist", principal=user,
                         params={"limit": limit})


# --- engagements ---------------------------------------------------------------------------------------------------


@router.get("/engagements", tags=[ENG], summary="The city's engagements (officials); active, overdue, check-ins due "
            "(staff)", responses=ERRORS)
async def list_engagements(
    request: Request, user: ApiUser, svc: Svc,
    view: Literal["active", "overdue", "check_in_due", "closing", "closed"] | None = None,
    city_id: Annotated[SingleLine | None, Query(max_length=E.ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=E.LIST_LIMIT_MAX)] = 50,
) -> Response:
    if user.is_staff:
        allow(user, "engagement.read")
    else:
        if city_id is not None and city_id != user.city_id:
            raise ProblemError(404, "Not found", "No such city, or it is not yours.")
        allow(user, "engagement.read", city_id=user.city_id)
        view = None
    return await forward(request, svc.engagements, "GET", "/engagements", principal=user,
                         params={"view": view, "city_id": city_id, "limit": limit})


@router.get("/engagements/{engagement_id}", tags=[ENG], summary="One engagement", responses=ERRORS)
async def get_engagement(request: Request, engagement_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    return await _read(request, user, svc, f"/engagements/{engagement_id}")


@router.get("/engagements/{engagement_id}/peer-context", tags=[ENG],
            summary="Cities with similar barriers, their engagements and answered questions", responses=ERRORS)
async def peer_context(request: Request, engagement_id: m.Id, user: ApiUser, svc: Svc) -> Response:
    return await forward(request, svc.engagements, "GET", f"/engagements/{engagement_id}/peer-context", principal=user)


_action("/engagements/{engagement_id}/team", TeamIn, "Set the team (staff and partner experts)", ENG, gate="engagement.close",
        staff=True, method="PUT")
_action("/engagements/{engagement_id}/assessment", AssessmentIn, "Record the in-person assessment", ENG, gate="engagement.manage",
        staff=True)
_action("/engagements/{engagement_id}/work-plan", PlanIn, "Propose or revise the work plan", ENG, gate="engagement.manage",
        staff=True)
_action("/engagements/{engagement_id}/work-plan/comments", CommentIn, "The city comments on the proposed work plan", ENG,
        gate="engagement.respond")
_action("/engagements/{engagement_id}/work-plan/agreement", AgreeIn, "The city agrees the work plan", ENG, gate="engagement.respond")
_action("/engagements/{engagement_id}/milestones/{milestone_id}/complete", MilestoneDoneIn, "Complete a milestone", ENG, gate="engagement.manage",
        staff=True, optional=True)
_action("/engagements/{engagement_id}/updates", UpdateIn, "Post a status update", ENG, gate="engagement.manage", staff=True)
_action("/engagements/{engagement_id}/risks", RiskIn, "Record or update a risk", ENG, gate="engagement.manage", staff=True)
_action("/engagements/{engagement_id}/partners", PartnerIn, "Record a partner engaged", ENG, gate="engagement.manage", staff=True)
_action("/engagements/{engagement_id}/close-out", CloseOutIn, "Write the close-out: outcomes and the final report", ENG,
        gate="engagement.close", staff=True)
_action("/engagements/{engagement_id}/cancel", CancelIn, "Cancel before the assessment (the place goes to the waitlist)", ENG,
        gate="engagement.close", staff=True)
_action("/engagements/{engagement_id}/close-out/confirmation", ConfirmIn, "The city confirms the close-out and its consent to "
        "publish", ENG, gate="engagement.respond")
_action("/engagements/{engagement_id}/check-in", CheckInIn, "Record the 6-month check-in", ENG)
