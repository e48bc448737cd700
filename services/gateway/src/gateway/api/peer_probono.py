"""The pro bono talent network — /api/v1/probono routes with peer's own paths, checked against the kit's
matrix (``probono.*``) and peer's limits (``gateway.peer_limits``) before the call;
``tests/unit/test_peer_limits.py`` compares them with peer's (``peer.api_probono``), route by route.
Who acts for whom beyond the matrix (an official's own city, a coordinator's own organization, a
volunteer's own matches) peer decides; another city's or organization's item is a 404 there.

No ``from __future__ import annotations``: FastAPI reads the body models from real annotations.
"""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from nrn_contracts.values import MultiLine, SingleLine, StateCode
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import peer_limits as P
from ..deps import ApiUser, Svc, allow, require_city
from .forward import forward

router = APIRouter()
PROBONO = "peer: pro bono talent network"
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {401: {"description": "not signed in", **PROBLEM}, 403: {"description": "not allowed", **PROBLEM},
          404: {"description": "no such item (or not yours)", **PROBLEM},
          409: {"description": "a rule refused it now; `rule` names it (e.g. organization_not_enrolled, "
                               "project_not_open, beyond_agreed_hours, hours_waiting)", **PROBLEM},
          422: {"description": "invalid input; `field` names it", **PROBLEM},
          503: {"description": "the peer service is unavailable", **PROBLEM}}
Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
Skill = Annotated[str, Field(pattern=P.SKILL_PATTERN)]
Mode = Literal["remote", "on_site", "either"]
ProjectStatus = Literal["submitted", "returned", "open", "active", "completed", "declined"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _once(v: list[str]) -> list[str]:
    return list(dict.fromkeys(v))


class ProfileBody(Body):
    name: SingleLine = Field("", max_length=P.NAME_MAX, description="used until peer knows the account's name")
    title: SingleLine = Field("", max_length=P.NAME_MAX)
    skills: list[Skill] = Field(min_length=1, max_length=P.SKILLS_MAX)
    hours_per_month: int = Field(ge=1, le=P.HOURS_PER_MONTH_MAX)
    available_from: date
    available_until: date
    work_mode: Mode
    base_city: SingleLine = Field("", max_length=P.NAME_MAX)
    base_state: StateCode | None = None
    experience: MultiLine = Field("", max_length=P.EXPERIENCE_MAX)
    phone: SingleLine = Field("", max_length=P.PHONE_MAX)
    _skills = field_validator("skills")(_once)


class ProjectBody(Body):
    department: SingleLine = Field(min_length=2, max_length=P.NAME_MAX)
    title: SingleLine = Field(min_length=3, max_length=P.TITLE_MAX)
    problem: MultiLine = Field(min_length=10, max_length=P.PROBLEM_MAX)
    skills: list[Skill] = Field(min_length=1, max_length=P.SKILLS_MAX)
    hours_needed: int = Field(ge=1, le=P.PROJECT_HOURS_MAX)
    starts_on: date
    ends_on: date
    work_mode: Mode
    on_site_needs: MultiLine = Field("", max_length=P.SUMMARY_MAX)
    _skills = field_validator("skills")(_once)


class SkillBody(Body):
    label: SingleLine = Field(min_length=2, max_length=P.NAME_MAX)
    retired: bool = False


class OrganizationBody(Body):
    partner_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    sector: Literal["company", "university", "foundation", "nonprofit", "other"]
    description: MultiLine = Field("", max_length=P.SUMMARY_MAX)


class ReviewBody(Body):
    decision: Literal["opened", "returned", "declined"]
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)


class ProposeBody(Body):
    volunteer_id: SingleLine = Field(min_length=1, max_length=P.ID_MAX)
    hours_agreed: float | None = Field(None, ge=0.25, le=P.PROJECT_HOURS_MAX, allow_inf_nan=False)


class AnswerBody(Body):
    accepted: bool
    reason: MultiLine = Field("", max_length=P.COMMENT_MAX)


class HoursBody(Body):
    worked_on: date
    hours: float = Field(ge=0.25, le=24, multiple_of=0.25, allow_inf_nan=False)
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)


class HoursReviewBody(Body):
    approved: bool
    note: MultiLine = Field("", max_length=P.COMMENT_MAX)


class AgreementBody(Body):
    hours_agreed: float = Field(ge=0.25, le=P.PROJECT_HOURS_MAX, allow_inf_nan=False)


class OutcomeBody(Body):
    outcome: MultiLine = Field(min_length=3, max_length=P.COMMENT_MAX)


async def _go(request: Request, svc: Svc, user: ApiUser, method: str, path: str, **kw) -> Response:  # noqa: ANN003
    return await forward(request, svc.peer, method, path, principal=user, **kw)


def _json(body: BaseModel) -> dict:
    return body.model_dump(mode="json", exclude_unset=True)


def _city_or_staff(user: ApiUser, staff_action: str = "probono.manage") -> None:
    """Staff with the managers' action, or an official (for their own city: peer checks the item's city)."""
    if user.is_staff:
        allow(user, staff_action)
    else:
        allow(user, "probono.post", city_id=user.city_id)


# ---------------------------------------------------------------------------- organizations and skills


@router.get("/probono/organizations", tags=[PROBONO], summary="The organizations in the talent network",
            responses=ERRORS)
async def organizations(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.read")
    return await _go(request, svc, user, "GET", "/probono/organizations")


@router.post("/probono/organizations", status_code=201, tags=[PROBONO],
             summary="Staff enroll a partner organization", responses=ERRORS)
async def enroll(request: Request, body: OrganizationBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.manage")
    return await _go(request, svc, user, "POST", "/probono/organizations", json=_json(body))


@router.get("/probono/skills", tags=[PROBONO], summary="The managed list of skills", responses=ERRORS)
async def skills(request: Request, user: ApiUser, svc: Svc, include_retired: bool = False) -> Response:
    allow(user, "probono.read")
    return await _go(request, svc, user, "GET", "/probono/skills",
                     params={"include_retired": str(include_retired).lower()})


@router.post("/probono/skills", status_code=201, tags=[PROBONO], summary="Staff add a skill", responses=ERRORS)
async def add_skill(request: Request, body: SkillBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.manage")
    return await _go(request, svc, user, "POST", "/probono/skills", json=_json(body))


@router.put("/probono/skills/{skill}", tags=[PROBONO], summary="Staff rename or retire a skill", responses=ERRORS)
async def change_skill(request: Request, skill: Annotated[str, Path(pattern=P.SKILL_PATTERN)], body: SkillBody,
                       user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.manage")
    return await _go(request, svc, user, "PUT", f"/probono/skills/{skill}", json=_json(body))


# ---------------------------------------------------------------------------- volunteers


@router.post("/probono/volunteers", status_code=201, tags=[PROBONO],
             summary="A partner member registers as a volunteer", responses=ERRORS)
async def register(request: Request, body: ProfileBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.volunteer")
    return await _go(request, svc, user, "POST", "/probono/volunteers", json=_json(body))


@router.get("/probono/volunteers/me", tags=[PROBONO], summary="The caller's volunteer profile and matches",
            responses=ERRORS)
async def me(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.volunteer")
    return await _go(request, svc, user, "GET", "/probono/volunteers/me")


@router.put("/probono/volunteers/me", tags=[PROBONO], summary="Change one's volunteer profile", responses=ERRORS)
async def update_me(request: Request, body: ProfileBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.volunteer")
    return await _go(request, svc, user, "PUT", "/probono/volunteers/me", json=_json(body))


@router.get("/probono/volunteers", tags=[PROBONO], summary="Volunteers (a coordinator: their organization's)",
            responses=ERRORS)
async def volunteers(request: Request, user: ApiUser, svc: Svc,
                     status: Literal["awaiting_confirmation", "confirmed", "withdrawn"] | None = None) -> Response:
    allow(user, "probono.coordinate", partner_id=user.partner_id)
    return await _go(request, svc, user, "GET", "/probono/volunteers", params={"status": status} if status else None)


@router.post("/probono/volunteers/{vid}/confirm", tags=[PROBONO], summary="A coordinator confirms a volunteer",
             responses=ERRORS)
async def confirm(request: Request, vid: Id, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.coordinate", partner_id=user.partner_id)
    return await _go(request, svc, user, "POST", f"/probono/volunteers/{vid}/confirm")


# ---------------------------------------------------------------------------- projects


@router.post("/probono/projects", status_code=201, tags=[PROBONO], summary="An official posts a city project",
             responses=ERRORS)
async def post_project(request: Request, body: ProjectBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    return await _go(request, svc, user, "POST", "/probono/projects", json=_json(body),
                     location_prefix="/api/v1/probono/projects/")


@router.get("/probono/projects", tags=[PROBONO], summary="Projects (officials: their city's)", responses=ERRORS)
async def projects(request: Request, user: ApiUser, svc: Svc,
                   city_id: Annotated[SingleLine | None, Query(max_length=128)] = None,
                   status: ProjectStatus | None = None) -> Response:
    _city_or_staff(user)
    params = {k: v for k, v in (("city_id", city_id), ("status", status)) if v}
    return await _go(request, svc, user, "GET", "/probono/projects", params=params or None)


@router.get("/probono/projects/{pid}", tags=[PROBONO], summary="A project with its matches", responses=ERRORS)
async def read_project(request: Request, pid: Id, user: ApiUser, svc: Svc) -> Response:
    _city_or_staff(user)
    return await _go(request, svc, user, "GET", f"/probono/projects/{pid}")


@router.put("/probono/projects/{pid}", tags=[PROBONO], summary="The city changes a returned project and resubmits it",
            responses=ERRORS)
async def resubmit(request: Request, pid: Id, body: ProjectBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    return await _go(request, svc, user, "PUT", f"/probono/projects/{pid}", json=_json(body))


@router.post("/probono/projects/{pid}/review", tags=[PROBONO], summary="Staff open, return or decline a project",
             responses=ERRORS)
async def review(request: Request, pid: Id, body: ReviewBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.manage")
    return await _go(request, svc, user, "POST", f"/probono/projects/{pid}/review", json=_json(body))


@router.get("/probono/projects/{pid}/suggestions", tags=[PROBONO],
            summary="Volunteers to offer, best first, with the score and its reasons", responses=ERRORS)
async def suggestions(request: Request, pid: Id, user: ApiUser, svc: Svc,
                      limit: int = Query(20, ge=1, le=100)) -> Response:
    _city_or_staff(user)
    return await _go(request, svc, user, "GET", f"/probono/projects/{pid}/suggestions", params={"limit": limit})


@router.post("/probono/projects/{pid}/matches", status_code=201, tags=[PROBONO],
             summary="Offer a volunteer to a project", responses=ERRORS)
async def propose(request: Request, pid: Id, body: ProposeBody, user: ApiUser, svc: Svc) -> Response:
    _city_or_staff(user)
    return await _go(request, svc, user, "POST", f"/probono/projects/{pid}/matches", json=_json(body),
                     location_prefix="/api/v1/probono/matches/")


@router.post("/probono/projects/{pid}/complete", tags=[PROBONO], summary="The city records the project's outcome",
             responses=ERRORS)
async def complete(request: Request, pid: Id, body: OutcomeBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/probono/projects/{pid}/complete", json=_json(body))


# ---------------------------------------------------------------------------- matches and hours


def _party(user: ApiUser) -> None:
    if user.is_official:
        allow(user, "probono.post", city_id=user.city_id)
    else:
        allow(user, "probono.volunteer")


@router.get("/probono/matches/{mid}", tags=[PROBONO], summary="A match (contact details once both accepted)",
            responses=ERRORS)
async def read_match(request: Request, mid: Id, user: ApiUser, svc: Svc) -> Response:
    if user.is_staff:
        allow(user, "probono.manage")
    else:
        _party(user)
    return await _go(request, svc, user, "GET", f"/probono/matches/{mid}")


@router.post("/probono/matches/{mid}/answer", tags=[PROBONO], summary="The volunteer or the city accepts or declines",
             responses=ERRORS)
async def answer(request: Request, mid: Id, body: AnswerBody, user: ApiUser, svc: Svc) -> Response:
    _party(user)
    return await _go(request, svc, user, "POST", f"/probono/matches/{mid}/answer", json=_json(body))


@router.post("/probono/matches/{mid}/hours", status_code=201, tags=[PROBONO], summary="The volunteer logs hours",
             responses=ERRORS)
async def log_hours(request: Request, mid: Id, body: HoursBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.volunteer")
    return await _go(request, svc, user, "POST", f"/probono/matches/{mid}/hours", json=_json(body))


@router.post("/probono/matches/{mid}/hours/{eid}/review", tags=[PROBONO],
             summary="The city approves or returns logged hours", responses=ERRORS)
async def review_hours(request: Request, mid: Id, eid: Id, body: HoursReviewBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/probono/matches/{mid}/hours/{eid}/review", json=_json(body))


@router.post("/probono/matches/{mid}/agreement", tags=[PROBONO], summary="The city agrees to more (or fewer) hours",
             responses=ERRORS)
async def agreement(request: Request, mid: Id, body: AgreementBody, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.post", city_id=user.city_id)
    return await _go(request, svc, user, "POST", f"/probono/matches/{mid}/agreement", json=_json(body))


# ---------------------------------------------------------------------------- the council and the city


@router.get("/probono/council", tags=[PROBONO], summary="Totals per organization and per city", responses=ERRORS)
async def council(request: Request, user: ApiUser, svc: Svc) -> Response:
    allow(user, "probono.council", partner_id=user.partner_id)
    return await _go(request, svc, user, "GET", "/probono/council")


@router.get("/probono/cities/{city_id}/summary", tags=[PROBONO], summary="The Pro bono section of the city dashboard",
            responses=ERRORS)
async def city_summary(request: Request, city_id: Id, user: ApiUser, svc: Svc) -> Response:
    require_city(user, city_id)  # another city's: 404, its existence not even confirmed
    _city_or_staff(user)
    return await _go(request, svc, user, "GET", f"/probono/cities/{city_id}/summary")
