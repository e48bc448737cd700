"""HTTP routes of the pro bono talent network: parse → command → handler → response. Wired beside
``api.router`` in ``app.py``; the contract is in README.md ("HTTP API").

What a city sees of a volunteer: name, title, organization, skills, experience and where they work —
their e-mail and phone only once both the volunteer and the city accepted the match."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field, field_validator

from nrn_contracts.values import MultiLine, SingleLine, StateCode
from nrn_kit.auth import Principal, authorize, permitted
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers_probono as hp
from .adapters import mongo as repo
from .adapters import probono as store
from .api import Body, PrincipalDep, RuntimeDep, actor_of, deps, may
from .domain import limits as L
from .domain.errors import NotFound, NotPermitted
from .domain.probono import (
    HOURS_STATUS,
    MATCH_STATUS,
    PROJECT_STATUS,
    SECTORS,
    VOLUNTEER_STATUS,
    WORK_MODES,
    Match,
    Project,
    Volunteer,
)

router = APIRouter(tags=["pro bono talent network"], dependencies=[IDEMPOTENT])

Skill = Annotated[str, Field(pattern=L.SKILL_PATTERN)]
Mode = Literal["remote", "on_site", "either"]
Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]


class ProfileBody(Body):
    name: SingleLine = Field("", max_length=L.NAME_MAX, description="used until peer knows the account's name")
    title: SingleLine = Field("", max_length=L.NAME_MAX)
    skills: list[Skill] = Field(min_length=1, max_length=L.SKILLS_MAX)
    hours_per_month: int = Field(ge=1, le=L.HOURS_PER_MONTH_MAX)
    available_from: date
    available_until: date
    work_mode: Mode
    base_city: SingleLine = Field("", max_length=L.NAME_MAX)
    base_state: StateCode | None = None
    experience: MultiLine = Field("", max_length=L.EXPERIENCE_MAX)
    phone: SingleLine = Field("", max_length=L.PHONE_MAX)

    @field_validator("skills")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    def profile(self) -> hp.Profile:
        return hp.Profile(**self.model_dump())


class ProjectBody(Body):
    department: SingleLine = Field(min_length=2, max_length=L.NAME_MAX)
    title: SingleLine = Field(min_length=3, max_length=L.TITLE_MAX)
    problem: MultiLine = Field(min_length=10, max_length=L.PROBLEM_MAX)
    skills: list[Skill] = Field(min_length=1, max_length=L.SKILLS_MAX)
    hours_needed: int = Field(ge=1, le=L.PROJECT_HOURS_MAX)
    starts_on: date
    ends_on: date
    work_mode: Mode
    on_site_needs: MultiLine = Field("", max_length=L.SUMMARY_MAX)

    @field_validator("skills")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    def draft(self) -> hp.ProjectDraft:
        return hp.ProjectDraft(**self.model_dump())


class SkillBody(Body):
    label: SingleLine = Field(min_length=2, max_length=L.NAME_MAX)
    retired: bool = False


class OrganizationBody(Body):
    partner_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    sector: Literal["company", "university", "foundation", "nonprofit", "other"]
    description: MultiLine = Field("", max_length=L.SUMMARY_MAX)


class ReviewBody(Body):
    decision: Literal["opened", "returned", "declined"]
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)


class ProposeBody(Body):
    volunteer_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    hours_agreed: float | None = Field(None, ge=0.25, le=L.PROJECT_HOURS_MAX, allow_inf_nan=False)


class AnswerBody(Body):
    accepted: bool
    reason: MultiLine = Field("", max_length=L.COMMENT_MAX)


class HoursBody(Body):
    worked_on: date
    hours: float = Field(ge=0.25, le=24, multiple_of=0.25, allow_inf_nan=False)
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)


class HoursReviewBody(Body):
    approved: bool
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)


class AgreementBody(Body):
    hours_agreed: float = Field(ge=0.25, le=L.PROJECT_HOURS_MAX, allow_inf_nan=False)


class OutcomeBody(Body):
    outcome: MultiLine = Field(min_length=3, max_length=L.COMMENT_MAX)


# ---------------------------------------------------------------------------- views


async def _labels(runtime: Any) -> dict[str, str]:
    """Every skill's words, retired ones too (profiles and projects keep naming them)."""
    return {k: v["label"] for k, v in (await store.skills(runtime.db, include_retired=True)).items()}


def _skills(keys: list[str], labels: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "label": labels.get(k, k.replace("_", " "))} for k in keys]


async def volunteer_view(runtime: Any, v: Volunteer, *, contact: bool, labels: dict[str, str] | None = None) -> dict:
    labels = labels if labels is not None else await _labels(runtime)
    org = await store.get_organization(runtime.db, v.organization_id)
    out = {"id": v.id, "name": v.name, "title": v.title, "organization": org.name if org else "",
           "skills": _skills(v.skills, labels), "hours_per_month": v.hours_per_month,
           "available_from": v.available_from, "available_until": v.available_until, "work_mode": v.work_mode,
           "work_mode_label": WORK_MODES[v.work_mode], "base_city": v.base_city, "base_state": v.base_state,
           "experience": v.experience, "status": v.status, "status_label": VOLUNTEER_STATUS[v.status],
           "registered_at": v.registered_at, "confirmed_at": v.confirmed_at}
    if contact:
        who = await repo.person(runtime.db, v.account_id) or {}
        out["contact"] = {"email": who.get("email", ""), "phone": v.phone}
    return out


def project_view(p: Project, labels: dict[str, str], city: str) -> dict[str, Any]:
    return {"id": p.id, "city_id": p.city_id, "city": city, "department": p.department, "title": p.title,
            "problem": p.problem, "skills": _skills(p.skills, labels), "hours_needed": p.hours_needed,
            "starts_on": p.starts_on, "ends_on": p.ends_on, "work_mode": p.work_mode,
            "work_mode_label": WORK_MODES[p.work_mode], "on_site_needs": p.on_site_needs, "status": p.status,
            "status_label": PROJECT_STATUS[p.status], "review_note": p.review_note, "posted_at": p.posted_at,
            "reviewed_at": p.reviewed_at, "outcome": p.outcome, "completed_at": p.completed_at, "version": p.version}


async def match_view(runtime: Any, m: Match, p: Principal, *, labels: dict[str, str] | None = None,
                     project: Project | None = None) -> dict[str, Any]:
    labels = labels if labels is not None else await _labels(runtime)
    v = await store.get_volunteer(runtime.db, m.volunteer_id)
    project = project or await store.get_project(runtime.db, m.project_id)
    names = await repo.city_names(runtime.db, {m.city_id})
    # contact details: the volunteer's own, their coordinator's and staff's always; the city's once both accepted
    contact = m.status in ("accepted", "completed") or p.kind == "staff" or p.account_id == m.account_id or (
        p.kind == "partner_member" and p.partner_id == m.organization_id)
    side = "volunteer" if p.account_id == m.account_id else "city" if (
        p.kind == "official" and p.city_id == m.city_id) else None
    return {"id": m.id, "project_id": m.project_id, "project_title": project.title if project else "",
            "project_status": project.status if project else None, "city_id": m.city_id,
            "city": names.get(m.city_id, "a city"), "score": m.score, "reasons": m.reasons,
            "hours_agreed": m.hours_agreed, "hours_logged": m.hours_logged, "hours_approved": m.hours_approved,
            "proposed_by": m.proposed_by, "proposed_at": m.proposed_at, "status": m.status,
            "status_label": MATCH_STATUS[m.status], "answers": m.answers, "decline_reason": m.decline_reason,
            "my_side": side, "waiting_for_me": side is not None and m.status == "proposed" and side not in m.answers,
            "volunteer": await volunteer_view(runtime, v, contact=contact, labels=labels) if v else None,
            "hours": [{"id": e.id, "worked_on": e.worked_on, "hours": e.hours, "note": e.note, "status": e.status,
                       "status_label": HOURS_STATUS[e.status], "review_note": e.review_note, "logged_at": e.logged_at}
                      for e in sorted(m.hours, key=lambda e: (e.worked_on, e.logged_at))],
            "version": m.version}


def _project_reader(p: Principal, project: Project | None) -> Project:
    """Staff read every project; officials their own city's (another city's does not exist for them)."""
    if project is None or (p.kind == "official" and project.city_id != p.city_id) or p.kind not in ("staff", "official"):
        raise NotFound("project_not_found", "no such project", field="project_id")
    if p.kind == "staff":
        authorize(p, "probono.manage")
    else:
        authorize(p, "probono.post", city_id=p.city_id)
    return project


def _matcher(p: Principal) -> Any:
    """Staff managers propose matches and see suggestions; an official for their own city's projects."""
    return may(p, "probono.manage") if p.kind == "staff" else may(p, "probono.post")


# ---------------------------------------------------------------------------- public: the network's organizations


@router.get("/probono/organizations")
async def organizations(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """The organizations in the talent network (public: the volunteer sign-up lists them)."""
    return [{"id": o.id, "name": o.name, "sector": o.sector, "sector_label": SECTORS.get(o.sector, o.sector),
             "description": o.description} for o in await store.organizations(runtime.db)]


@router.post("/probono/organizations", status_code=201)
async def enroll(body: OrganizationBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.manage")
    o = await hp.enroll_organization(deps(runtime), actor=actor, partner_id=body.partner_id, sector=body.sector,
                                     description=body.description)
    return {"id": o.id, "name": o.name, "sector": o.sector, "description": o.description}


@router.get("/probono/skills")
async def skills(runtime: RuntimeDep, p: PrincipalDep, include_retired: bool = False) -> list[dict[str, Any]]:
    authorize(p, "probono.read")
    return [{"key": k, "label": v["label"], "retired": v["retired"]}
            for k, v in sorted((await store.skills(runtime.db, include_retired=include_retired)).items(),
                               key=lambda kv: kv[1]["label"])]


@router.post("/probono/skills", status_code=201)
async def add_skill(body: SkillBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    may(p, "probono.manage")
    key = await hp.put_skill(deps(runtime), label=body.label, retired=body.retired)
    return {"key": key, "label": body.label, "retired": body.retired}


@router.put("/probono/skills/{skill}")
async def change_skill(skill: Annotated[str, Path(pattern=L.SKILL_PATTERN)], body: SkillBody,
                       runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """Rename a skill, or retire it (profiles and projects that name it keep it; it is no longer offered)."""
    may(p, "probono.manage")
    await hp.put_skill(deps(runtime), key=skill, label=body.label, retired=body.retired)
    return {"key": skill, "label": body.label, "retired": body.retired}


# ---------------------------------------------------------------------------- volunteers


@router.post("/probono/volunteers", status_code=201)
async def register(body: ProfileBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.volunteer")
    v = await hp.register_volunteer(deps(runtime), actor=actor, profile=body.profile())
    return await volunteer_view(runtime, v, contact=True)


@router.get("/probono/volunteers/me")
async def me(runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """The caller's volunteer profile and matches (404 when they have not registered)."""
    may(p, "probono.volunteer")
    v = await store.get_volunteer(runtime.db, store.volunteer_id(p.account_id))
    if v is None:
        raise NotFound("volunteer_not_found", "you are not registered as a volunteer")
    labels = await _labels(runtime)
    ms = await store.matches(runtime.db, volunteer_id=v.id)
    return await volunteer_view(runtime, v, contact=True, labels=labels) | {
        "matches": [await match_view(runtime, m, p, labels=labels) for m in ms]}


@router.put("/probono/volunteers/me")
async def update_me(body: ProfileBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.volunteer")
    v = await hp.update_volunteer(deps(runtime), actor=actor, profile=body.profile())
    return await volunteer_view(runtime, v, contact=True)


@router.get("/probono/volunteers")
async def volunteers(runtime: RuntimeDep, p: PrincipalDep,
                     status: Literal["awaiting_confirmation", "confirmed", "withdrawn"] | None = None
                     ) -> list[dict[str, Any]]:
    """Staff: every volunteer; a coordinator: their own organization's (with e-mail: their colleagues)."""
    authorize(p, "probono.coordinate", partner_id=p.partner_id)
    org = None if p.kind == "staff" else p.partner_id
    labels = await _labels(runtime)
    return [await volunteer_view(runtime, v, contact=True, labels=labels)
            for v in await store.volunteers(runtime.db, organization_id=org, status=status, limit=500)]


@router.post("/probono/volunteers/{vid}/confirm")
async def confirm(vid: Id, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    authorize(p, "probono.coordinate", partner_id=p.partner_id)
    v = await hp.confirm_volunteer(deps(runtime), vid, actor=actor_of(p))
    return await volunteer_view(runtime, v, contact=True)


# ---------------------------------------------------------------------------- projects


async def _city_label(runtime: Any, city_id: str) -> str:
    return (await repo.city_names(runtime.db, {city_id})).get(city_id, "a city")


@router.post("/probono/projects", status_code=201)
async def post_project(body: ProjectBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.post")
    project = await hp.post_project(deps(runtime), body.draft(), actor=actor)
    return project_view(project, await _labels(runtime), await _city_label(runtime, project.city_id))


@router.get("/probono/projects")
async def projects(runtime: RuntimeDep, p: PrincipalDep, city_id: Annotated[SingleLine | None, Query(max_length=128)]
                   = None, status: Literal["submitted", "returned", "open", "active", "completed", "declined"] | None
                   = None) -> list[dict[str, Any]]:
    """Staff: every project (``status``, ``city_id`` filter); officials: their city's."""
    if p.kind == "staff":
        authorize(p, "probono.manage")
    else:
        authorize(p, "probono.post", city_id=p.city_id)
        city_id = p.city_id
    found = await store.projects(runtime.db, city_id=city_id, statuses=[status] if status else None)
    labels = await _labels(runtime)
    names = await repo.city_names(runtime.db, {x.city_id for x in found})
    return [project_view(x, labels, names.get(x.city_id, "a city")) for x in found]


@router.get("/probono/projects/{pid}")
async def read_project(pid: Id, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """The project with its matches (each with hours)."""
    project = _project_reader(p, await store.get_project(runtime.db, pid))
    labels = await _labels(runtime)
    ms = await store.matches(runtime.db, project_id=project.id)
    return project_view(project, labels, await _city_label(runtime, project.city_id)) | {
        "matches": [await match_view(runtime, m, p, labels=labels, project=project) for m in ms]}


@router.put("/probono/projects/{pid}")
async def resubmit(pid: Id, body: ProjectBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.post")
    project = await hp.resubmit_project(deps(runtime), pid, body.draft(), actor=actor)
    return project_view(project, await _labels(runtime), await _city_label(runtime, project.city_id))


@router.post("/probono/projects/{pid}/review")
async def review(pid: Id, body: ReviewBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.manage")
    project = await hp.review_project(deps(runtime), pid, actor=actor, decision=body.decision, note=body.note)
    return project_view(project, await _labels(runtime), await _city_label(runtime, project.city_id))


@router.get("/probono/projects/{pid}/suggestions")
async def suggestions(pid: Id, runtime: RuntimeDep, p: PrincipalDep,
                      limit: int = Query(20, ge=1, le=100)) -> list[dict[str, Any]]:
    """Volunteers to offer, best first: the score (0–1), its parts and the reasons in words."""
    actor = _matcher(p)
    _, found = await hp.suggestions(deps(runtime), pid, actor=actor, limit=limit)
    labels = await _labels(runtime)
    return [{"volunteer": await volunteer_view(runtime, s.volunteer, contact=p.kind == "staff", labels=labels),
             "score": s.score, "parts": s.parts, "reasons": s.reasons} for s in found]


@router.post("/probono/projects/{pid}/matches", status_code=201)
async def propose(pid: Id, body: ProposeBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = _matcher(p)
    m = await hp.propose_match(deps(runtime), pid, body.volunteer_id, actor=actor, hours_agreed=body.hours_agreed)
    return await match_view(runtime, m, p)


@router.post("/probono/projects/{pid}/complete")
async def complete(pid: Id, body: OutcomeBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.post")
    project = await hp.complete_project(deps(runtime), pid, actor=actor, outcome=body.outcome)
    return project_view(project, await _labels(runtime), await _city_label(runtime, project.city_id))


# ---------------------------------------------------------------------------- matches and hours


def _party(p: Principal) -> Any:
    """The volunteer (any partner member, their own matches) or an official (their city's matches)."""
    return may(p, "probono.post") if p.kind == "official" else may(p, "probono.volunteer")


@router.get("/probono/matches/{mid}")
async def read_match(mid: Id, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    if p.kind == "staff":
        authorize(p, "probono.manage")
    elif p.kind == "official":
        authorize(p, "probono.post", city_id=p.city_id)
    else:
        authorize(p, "probono.volunteer")
    m = await store.get_match(runtime.db, mid)
    coordinator = p.kind == "partner_member" and m is not None and m.organization_id == p.partner_id and permitted(
        p, "probono.coordinate", partner_id=p.partner_id)
    if m is None or not (p.kind == "staff" or m.account_id == p.account_id or coordinator
                         or (p.kind == "official" and m.city_id == p.city_id)):
        raise NotFound("match_not_found", "no such match", field="match_id")
    return await match_view(runtime, m, p)


@router.post("/probono/matches/{mid}/answer")
async def answer(mid: Id, body: AnswerBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    m = await hp.answer_match(deps(runtime), mid, actor=_party(p), accepted=body.accepted, reason=body.reason)
    return await match_view(runtime, m, p)


@router.post("/probono/matches/{mid}/hours", status_code=201)
async def log_hours(mid: Id, body: HoursBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.volunteer")
    m = await hp.log_hours(deps(runtime), mid, actor=actor, worked_on=body.worked_on, hours=body.hours, note=body.note)
    return await match_view(runtime, m, p)


@router.post("/probono/matches/{mid}/hours/{eid}/review")
async def review_hours(mid: Id, eid: Id, body: HoursReviewBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.post")
    m = await hp.review_hours(deps(runtime), mid, eid, actor=actor, approved=body.approved, note=body.note)
    return await match_view(runtime, m, p)


@router.post("/probono/matches/{mid}/agreement")
async def agreement(mid: Id, body: AgreementBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "probono.post")
    m = await hp.agree_hours(deps(runtime), mid, actor=actor, total=body.hours_agreed)
    return await match_view(runtime, m, p)


# ---------------------------------------------------------------------------- the council and the city


@router.get("/probono/council")
async def council(runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """Totals per organization and per city (NRN staff and the organizations' coordinators)."""
    authorize(p, "probono.council", partner_id=p.partner_id)
    return await hp.council(deps(runtime))


@router.get("/probono/cities/{city_id}/summary", tags=["dashboard"])
async def city_summary(city_id: Id, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """The city dashboard's Pro bono section: the city's projects (the newest ten) and how many are in each
    status (``by_status``: status, label, count, in the order of a project's life), matches accepted by both
    (``matches_accepted``, completed ones included) and the volunteers on them, matches waiting for the city's
    answer, hours delivered (``hours_logged``: logged and not returned), approved and waiting for approval."""
    if p.kind == "official":
        authorize(p, "probono.post", city_id=city_id)
    elif p.kind == "staff":
        authorize(p, "probono.manage")
    else:
        raise NotPermitted("city_only", "the city's officials and NRN staff see the city's projects")
    found = await store.projects(runtime.db, city_id=city_id)
    ms = await store.matches(runtime.db, city_id=city_id)
    by_project = {x.id: x for x in found}
    counts = {s: sum(1 for x in found if x.status == s) for s in PROJECT_STATUS}
    accepted = [m for m in ms if m.status in ("accepted", "completed")]
    waiting = [m for m in ms if m.status == "proposed" and "city" not in m.answers]
    return {"projects": [{"id": x.id, "title": x.title, "department": x.department, "status": x.status,
                          "status_label": PROJECT_STATUS[x.status]} for x in found[:10]],
            "projects_total": len(found),
            "by_status": [{"status": s, "label": label, "count": counts[s]}
                          for s, label in PROJECT_STATUS.items() if counts[s]],
            "matches_accepted": len(accepted),
            "volunteers_engaged": len({m.volunteer_id for m in accepted}),
            "matches_waiting": len(waiting),
            "hours_logged": sum(m.hours_logged for m in ms),
            "hours_waiting": sum(e.hours for m in ms for e in m.hours if e.status == "pending"),
            "hours_approved": sum(m.hours_approved for m in ms),
            "waiting": [{"match_id": m.id, "project_id": m.project_id,
                         "project_title": by_project[m.project_id].title if m.project_id in by_project else ""}
                        for m in waiting][:5]}
