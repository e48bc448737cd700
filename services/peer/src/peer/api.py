"""HTTP routes: parse → command → handler → response. One router per program (convenings, groups,
introductions), gathered in ``router``; the contract is in README.md ("HTTP API")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from nrn_contracts.values import TOPIC_TAXONOMY, MultiLine, SingleLine, TimeZoneName, Url
from nrn_kit.app import Runtime, get_runtime
from nrn_kit.auth import Principal, authorize, permitted, principal_dependency
from nrn_kit.idempotency import IDEMPOTENT

from . import handlers as h
from .adapters import mongo as repo
from .domain import limits as L
from .domain.actors import Actor
from .domain.calendar import agenda_ics
from .domain.convening import KIND_LABELS, AgendaSession, Convening
from .domain.errors import InvalidInput, NotFound, NotPermitted
from .domain.groups import STEERING_COMMITTEE_ID, Deliverable, Group
from .domain.introductions import SHARE_LABELS, Introduction
from .domain.registration import Answers, Registration, Status
from .domain.venue_time import to_utc, zone

# Every command honours Idempotency-Key (safe methods pass through the dependency): the gateway
# retries a keyed command, and a retried registration must answer as the first did, not 409.
router = APIRouter(dependencies=[IDEMPOTENT])
convenings = APIRouter(tags=["convenings"], dependencies=[IDEMPOTENT])
groups = APIRouter(tags=["working groups and the steering committee"], dependencies=[IDEMPOTENT])
introductions = APIRouter(tags=["peer introductions"], dependencies=[IDEMPOTENT])

principal = principal_dependency(lambda request: request.app.state.runtime.verifier)
PrincipalDep = Annotated[Principal, Depends(principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

Topic = Literal[TOPIC_TAXONOMY]  # type: ignore[valid-type]


def actor_of(p: Principal) -> Actor:
    return Actor(id=p.account_id, kind=p.kind, roles=p.roles, city_id=p.city_id, partner_id=p.partner_id)  # type: ignore[arg-type]


def may(p: Principal, action: str, *, city_id: str | None = None) -> Actor:
    """The kit's matrix decides (403 with its reason); officials are checked against their own city."""
    authorize(p, action, city_id=city_id if city_id is not None else p.city_id)
    return actor_of(p)


def deps(runtime: Runtime) -> h.Deps:
    return runtime.state["deps"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ============================================================================ convenings


class SessionBody(Body):
    id: SingleLine = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    title: SingleLine = Field(min_length=1, max_length=L.TITLE_MAX)
    starts_at: datetime = Field(description="the venue's wall-clock time (no offset), or an instant with one")
    ends_at: datetime
    track: SingleLine = Field("", max_length=L.NAME_MAX)
    room: SingleLine = Field("", max_length=L.NAME_MAX)
    speakers: list[Annotated[SingleLine, Field(min_length=1, max_length=L.NAME_MAX)]] = Field(
        default_factory=list, max_length=L.SPEAKERS_MAX)
    description: MultiLine = Field("", max_length=L.SUMMARY_MAX)


class ConveningBody(Body):
    kind: Literal["annual_convening", "working_group", "steering_committee", "webinar"] = "annual_convening"
    title: SingleLine = Field(min_length=3, max_length=L.TITLE_MAX)
    description: MultiLine = Field("", max_length=L.DESCRIPTION_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]
    host_city_id: SingleLine | None = Field(None, max_length=L.ID_MAX)
    venue: SingleLine = Field("", max_length=L.VENUE_MAX)
    address: SingleLine = Field("", max_length=L.ADDRESS_MAX)
    timezone: TimeZoneName = Field(description="the venue's IANA zone, e.g. America/Chicago")
    starts_at: datetime = Field(description="the venue's wall-clock time (no offset), or an instant with one")
    ends_at: datetime
    capacity: int = Field(ge=1, le=L.CAPACITY_MAX)
    per_city_limit: int | None = Field(None, ge=1, le=L.CAPACITY_MAX)
    registration_opens_at: datetime
    registration_closes_at: datetime
    sessions: list[SessionBody] = Field(default_factory=list, max_length=L.SESSIONS_MAX)

    def draft(self) -> h.ConveningDraft:
        tz = zone(self.timezone)
        return h.ConveningDraft(
            kind=self.kind, title=self.title, description=self.description, topics=list(self.topics),
            host_city_id=self.host_city_id or None, venue=self.venue, address=self.address, timezone=self.timezone,
            starts_at=to_utc(self.starts_at, tz, field="starts_at"), ends_at=to_utc(self.ends_at, tz, field="ends_at"),
            capacity=self.capacity, per_city_limit=self.per_city_limit,
            opens_at=to_utc(self.registration_opens_at, tz, field="registration_opens_at"),
            closes_at=to_utc(self.registration_closes_at, tz, field="registration_closes_at"),
            sessions=[AgendaSession(id=s.id, title=s.title, starts_at=to_utc(s.starts_at, tz, field=f"sessions.{i}.starts_at"),
                                    ends_at=to_utc(s.ends_at, tz, field=f"sessions.{i}.ends_at"), track=s.track,
                                    room=s.room, speakers=list(s.speakers), description=s.description)
                      for i, s in enumerate(self.sessions)])


class CancelBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=L.REASON_MAX)


class RegisterBody(Body):
    role: SingleLine = Field("", max_length=L.ROLE_MAX)
    dietary_needs: SingleLine = Field("", max_length=L.DIETARY_MAX)
    accessibility_needs: MultiLine = Field("", max_length=L.ACCESSIBILITY_MAX)
    session_ids: list[Annotated[SingleLine, Field(max_length=64)]] = Field(default_factory=list,
                                                                        max_length=L.SESSIONS_MAX)


class AttendanceBody(Body):
    attended: bool = True


class FeedbackBody(Body):
    rating: int = Field(ge=1, le=5)
    comment: MultiLine = Field("", max_length=L.FEEDBACK_COMMENT_MAX)


class MaterialBody(Body):
    kind: Literal["slides", "recording", "notes", "other"]
    title: SingleLine = Field(min_length=3, max_length=L.TITLE_MAX)
    summary: MultiLine = Field("", max_length=L.SUMMARY_MAX)
    body: MultiLine = Field("", max_length=L.MATERIAL_BODY_MAX)
    link: Url | None = None  # at most LINK_MAX characters, LINK_PATTERN


def _local(at: datetime | None, c: Convening) -> str | None:
    return at.astimezone(zone(c.timezone)).isoformat() if at else None


async def convening_view(runtime: Runtime, c: Convening, p: Principal) -> dict[str, Any]:
    """The convening as anyone signed in may read it, in UTC and in the venue's time (``*_local``),
    plus the caller's own registration."""
    names = await repo.city_names(runtime.db, {c.host_city_id} if c.host_city_id else set())
    mine = await repo.get_registration(runtime.db, repo.registration_id(c.id, p.account_id))
    body = {
        "id": c.id, "kind": c.kind, "kind_label": KIND_LABELS.get(c.kind, c.kind), "title": c.title,
        "description": c.description, "topics": c.topics, "host_city_id": c.host_city_id,
        "host_city": names.get(c.host_city_id or "", ""), "venue": c.venue, "address": c.address,
        "timezone": c.timezone, "starts_at": c.starts_at, "ends_at": c.ends_at,
        "starts_at_local": _local(c.starts_at, c), "ends_at_local": _local(c.ends_at, c),
        "capacity": c.capacity, "per_city_limit": c.per_city_limit, "seats_taken": c.seats_taken,
        "seats_left": c.free_seats(), "waitlist_length": await _waitlist_length(runtime, c),
        "registration_opens_at": c.opens_at, "registration_closes_at": c.closes_at,
        "registration_opens_at_local": _local(c.opens_at, c), "registration_closes_at_local": _local(c.closes_at, c),
        "status": c.status, "cancelled_reason": c.cancelled_reason, "sequence": c.sequence,
        "sessions": [{"id": s.id, "title": s.title, "starts_at": s.starts_at, "ends_at": s.ends_at,
                      "starts_at_local": _local(s.starts_at, c), "ends_at_local": _local(s.ends_at, c),
                      "track": s.track, "room": s.room, "speakers": s.speakers, "description": s.description}
                     for s in c.sessions],
        "materials": [{"id": m.id, "kind": m.kind, "title": m.title, "summary": m.summary, "link": m.link,
                       "published_at": m.published_at} for m in c.materials],
        "my_registration": await h.registration_view(deps(runtime), mine) if mine else None,
    }
    if p.kind == "official" and p.city_id:
        body["my_city_registrations"] = c.city_counts.get(p.city_id, 0)
    return body


async def _waitlist_length(runtime: Runtime, c: Convening) -> int:
    return await runtime.db[repo.REGISTRATIONS].count_documents({"convening_id": c.id, "status": "waitlisted"})


async def _convening(runtime: Runtime, cid: str) -> Convening:
    c = await repo.get_convening(runtime.db, cid)
    if c is None:
        raise NotFound("convening_not_found", "no such convening", field="convening_id")
    return c


@convenings.get("/convenings")
async def list_convenings(runtime: RuntimeDep, p: PrincipalDep,
                          include_past: bool = Query(False)) -> list[dict[str, Any]]:
    authorize(p, "convening.read")
    now = deps(runtime).now()
    return [await convening_view(runtime, c, p) for c in
            await repo.list_convenings(runtime.db, include_past=include_past, now=now)]


@convenings.post("/convenings", status_code=201)
async def schedule(body: ConveningBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.manage")
    c = await h.schedule_convening(deps(runtime), actor=actor, draft=body.draft())
    return await convening_view(runtime, c, p)


@convenings.get("/convenings/{cid}")
async def read_convening(cid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    authorize(p, "convening.read")
    return await convening_view(runtime, await _convening(runtime, cid), p)


@convenings.put("/convenings/{cid}")
async def update(cid: str, body: ConveningBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.manage")
    c = await h.update_convening(deps(runtime), cid, actor=actor, draft=body.draft())
    return await convening_view(runtime, c, p)


@convenings.post("/convenings/{cid}/cancel")
async def cancel(cid: str, body: CancelBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.manage")
    c = await h.cancel_convening(deps(runtime), cid, actor=actor, reason=body.reason)
    return await convening_view(runtime, c, p)


@convenings.get("/convenings/{cid}/agenda.ics")
async def agenda(cid: str, runtime: RuntimeDep, p: PrincipalDep) -> Response:
    authorize(p, "convening.read")
    c = await _convening(runtime, cid)
    return Response(agenda_ics(c, now=deps(runtime).now()), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="agenda.ics"'})


@convenings.post("/convenings/{cid}/registrations", status_code=201)
async def register(cid: str, body: RegisterBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.register")
    reg = await h.register(deps(runtime), cid, actor=actor, answers=Answers(**body.model_dump()))
    return await h.registration_view(deps(runtime), reg)


@convenings.get("/convenings/{cid}/registrations")
async def registrations(cid: str, runtime: RuntimeDep, p: PrincipalDep,
                        status: Literal["confirmed", "waitlisted", "offered", "cancelled"] | None = None
                        ) -> list[dict[str, Any]]:
    """The check-in list for staff: every registration, with the person's name and city, the
    waitlist in order."""
    may(p, "convening.attendance")
    c = await _convening(runtime, cid)
    regs = await repo.registrations_of(runtime.db, c.id, statuses=[status] if status else None)
    names = await repo.city_names(runtime.db, {r.city_id for r in regs if r.city_id})
    people = await repo.people_names(runtime.db, {r.account_id for r in regs})
    order = {Status.confirmed: 0, Status.offered: 1, Status.waitlisted: 2, Status.cancelled: 3}
    regs.sort(key=lambda r: (order[r.status], r.waitlist_seq or 0, (r.name or "").lower()))
    out = []
    position = 0
    for r in regs:
        view = await h.registration_view(deps(runtime), r) if r.status is Status.offered else {
            "id": r.id, "status": r.status.value, "hold_until": None, "attended": r.attended,
            "answers": r.answers.__dict__, "promoted": r.promoted, "cancel_reason": r.cancel_reason}
        if r.status is Status.waitlisted:
            position += 1
        who = people.get(r.account_id, {})
        view.update({"name": r.name or who.get("name", ""), "title": who.get("title", ""),
                     "organization": names.get(r.city_id or "", "") or ("Partner organization" if who.get(
                         "kind") == "partner_member" else ""),
                     "position": position if r.status is Status.waitlisted else None})
        out.append(view)
    return out


@convenings.get("/registrations/mine")
async def my_registrations(runtime: RuntimeDep, p: PrincipalDep) -> list[dict[str, Any]]:
    authorize(p, "convening.read")
    regs = await repo.registrations_of_account(runtime.db, p.account_id)
    out = []
    for r in regs:
        view = await h.registration_view(deps(runtime), r)
        c = await repo.get_convening(runtime.db, r.convening_id)
        view["convening"] = {"id": c.id, "title": c.title, "starts_at": c.starts_at,
                             "starts_at_local": _local(c.starts_at, c), "status": c.status} if c else None
        out.append(view)
    return out


def _reg_actor(p: Principal) -> Actor:
    authorize(p, "convening.read")
    return actor_of(p)


@convenings.post("/registrations/{rid}/cancel")
async def cancel_registration(rid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = _reg_actor(p)
    if actor.is_staff and not permitted(p, "convening.attendance"):
        raise NotPermitted("role_required", "cancelling someone's registration needs a program role")
    reg = await h.cancel_registration(deps(runtime), rid, actor=actor)
    return await h.registration_view(deps(runtime), reg)


@convenings.post("/registrations/{rid}/confirm")
async def confirm(rid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    reg = await h.confirm_offer(deps(runtime), rid, actor=_reg_actor(p))
    return await h.registration_view(deps(runtime), reg)


@convenings.post("/registrations/{rid}/attendance")
async def attendance(rid: str, body: AttendanceBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.attendance")
    reg = await h.check_in(deps(runtime), rid, actor=actor, attended=body.attended)
    return await h.registration_view(deps(runtime), reg)


@convenings.post("/registrations/{rid}/feedback")
async def feedback(rid: str, body: FeedbackBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    reg = await h.give_feedback(deps(runtime), rid, actor=_reg_actor(p), rating=body.rating, comment=body.comment)
    return await h.registration_view(deps(runtime), reg)


@convenings.get("/convenings/{cid}/feedback")
async def feedback_summary(cid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    may(p, "convening.attendance")
    regs = [r for r in await repo.registrations_of(runtime.db, cid) if r.feedback]
    ratings = [r.feedback.rating for r in regs]
    return {"responses": len(regs), "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "comments": [{"rating": r.feedback.rating, "comment": r.feedback.comment, "at": r.feedback.at}
                         for r in regs if r.feedback.comment]}


@convenings.post("/convenings/{cid}/materials", status_code=201)
async def material(cid: str, body: MaterialBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "convening.materials")
    m = await h.publish_material(deps(runtime), cid, actor=actor, kind=body.kind, title=body.title,
                                 summary=body.summary, body=body.body, link=body.link or "")
    return {"id": m.id, "kind": m.kind, "title": m.title, "summary": m.summary, "link": m.link,
            "published_at": m.published_at}


@convenings.post("/admin/sweep")
async def sweep(runtime: RuntimeDep, p: PrincipalDep) -> dict[str, int]:
    may(p, "convening.manage")
    return await h.expire_holds(deps(runtime), batch=runtime.settings.hold_sweep_batch)


# ============================================================================ groups


class GroupBody(Body):
    kind: Literal["working_group", "steering_committee"] = "working_group"
    name: SingleLine = Field(min_length=3, max_length=L.NAME_MAX)
    purpose: MultiLine = Field("", max_length=L.DESCRIPTION_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]


class MemberBody(Body):
    member_kind: Literal["city", "official", "partner_expert"]
    member_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    organization: SingleLine = Field("", max_length=L.NAME_MAX)
    term_starts_on: date | None = None
    term_ends_on: date | None = None


class LeaveBody(Body):
    member_kind: Literal["city", "official", "partner_expert"]
    member_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    reason: MultiLine = Field("", max_length=L.REASON_MAX)


class MeetingBody(Body):
    title: SingleLine = Field(min_length=3, max_length=L.TITLE_MAX)
    starts_at: datetime = Field(description="wall-clock time in `timezone` (no offset), or an instant with one")
    timezone: TimeZoneName = "America/New_York"
    agenda: MultiLine = Field("", max_length=L.AGENDA_MAX)


class NotesBody(Body):
    notes: MultiLine | None = Field(None, max_length=L.NOTES_MAX)
    agenda: MultiLine | None = Field(None, max_length=L.AGENDA_MAX)


class DecisionBody(Body):
    summary: MultiLine = Field(min_length=1, max_length=L.COMMENT_MAX)
    decided_on: date


class DeliverableBody(Body):
    title: SingleLine = Field(min_length=3, max_length=L.TITLE_MAX)
    summary: MultiLine = Field("", max_length=L.SUMMARY_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=11)  # type: ignore[valid-type]
    body: MultiLine = Field("", max_length=L.DELIVERABLE_BODY_MAX)


class DraftBody(Body):
    body: MultiLine = Field(min_length=1, max_length=L.DELIVERABLE_BODY_MAX)


class CommentBody(Body):
    body: MultiLine = Field(min_length=1, max_length=L.COMMENT_MAX)


class ReviewBody(Body):
    approve: bool
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)


def group_view(g: Group, d: h.Deps, *, deliverables: list[Deliverable] | None = None) -> dict[str, Any]:
    today = d.now().date()
    return {
        "id": g.id, "kind": g.kind, "name": g.name, "purpose": g.purpose, "topics": g.topics,
        "members": [{"kind": m.kind, "id": m.id, "name": m.name, "city_id": m.city_id, "organization": m.organization,
                     "joined_at": m.joined_at, "term_starts_on": m.term_starts_on, "term_ends_on": m.term_ends_on,
                     "term_status": m.term_status(today, d.term_notice)} for m in g.active_members()],
        "meetings": [{"id": mt.id, "title": mt.title, "starts_at": mt.starts_at, "timezone": mt.timezone,
                      "starts_at_local": mt.starts_at.astimezone(zone(mt.timezone)).isoformat(),
                      "agenda": mt.agenda, "notes": mt.notes,
                      "decisions": [{"id": x.id, "summary": x.summary, "decided_on": x.decided_on}
                                    for x in mt.decisions]} for mt in g.meetings],
        "deliverables": [deliverable_summary(x) for x in deliverables or []],
        "version": g.version,
    }


def deliverable_summary(x: Deliverable) -> dict[str, Any]:
    return {"id": x.id, "title": x.title, "status": x.status, "drafts": len(x.drafts), "published_at": x.published_at}


def deliverable_view(x: Deliverable) -> dict[str, Any]:
    return {"id": x.id, "group_id": x.group_id, "title": x.title, "summary": x.summary, "topics": x.topics,
            "status": x.status, "published_at": x.published_at, "version": x.version,
            "drafts": [{"number": d.number, "body": d.body, "author": d.author_name, "at": d.at} for d in x.drafts],
            "comments": [{"name": c.name, "at": c.at, "body": c.body, "draft": c.draft} for c in x.comments],
            "review_notes": [{"name": c.name, "at": c.at, "body": c.body, "draft": c.draft} for c in x.review_notes]}


async def _group(runtime: Runtime, gid: str) -> Group:
    g = await repo.get_group(runtime.db, gid)
    if g is None:
        raise NotFound("group_not_found", "no such working group", field="working_group_id")
    return g


@groups.get("/groups")
async def list_groups(runtime: RuntimeDep, p: PrincipalDep) -> list[dict[str, Any]]:
    authorize(p, "group.read")
    return [group_view(g, deps(runtime)) for g in await repo.list_groups(runtime.db)]


@groups.post("/groups", status_code=201)
async def form_group(body: GroupBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    g = await h.form_group(deps(runtime), actor=actor, kind=body.kind, name=body.name, purpose=body.purpose,
                           topics=list(body.topics))
    return group_view(g, deps(runtime))


@groups.get("/groups/{gid}")
async def read_group(gid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    authorize(p, "group.read")
    g = await _group(runtime, gid)
    actor = actor_of(p)
    ds = await repo.deliverables_of(runtime.db, gid)
    if not g.may_take_part(actor):
        ds = [x for x in ds if x.status == "published"]
    return group_view(g, deps(runtime), deliverables=ds)


@groups.get("/groups/{gid}/candidates")
async def member_candidates(gid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, list[dict[str, Any]]]:
    """Whom staff may add, by name (the add-a-member form's choices): cities not yet members,
    officials of the member cities and partner experts not yet members, each ``{"id", "name", ...}``;
    officials carry ``city`` ("Flint, MI")."""
    may(p, "group.manage")
    g = await _group(runtime, gid)
    current = {(m.kind, m.id) for m in g.members if m.active}
    member_cities = {m_id for kind, m_id in current if kind == "city"}
    found = await repo.member_candidates(runtime.db, member_city_ids=member_cities)
    names = {c["id"]: c["name"] for c in found["cities"]}  # every named city is already read: no second read
    return {
        "cities": [c for c in found["cities"] if ("city", c["id"]) not in current],
        "officials": [o | {"city": names.get(o["city_id"], "")} for o in found["officials"]
                      if ("official", o["id"]) not in current],
        "partner_experts": [x for x in found["partner_experts"] if ("partner_expert", x["id"]) not in current],
    }


@groups.post("/groups/{gid}/members")
async def add_member(gid: str, body: MemberBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    g = await h.add_member(deps(runtime), gid, actor=actor, member_kind=body.member_kind, member_id=body.member_id,
                           organization=body.organization, term_starts_on=body.term_starts_on,
                           term_ends_on=body.term_ends_on)
    return group_view(g, deps(runtime))


@groups.post("/groups/{gid}/members/leave")
async def remove_member(gid: str, body: LeaveBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    g = await h.remove_member(deps(runtime), gid, actor=actor, member_kind=body.member_kind, member_id=body.member_id,
                              reason=body.reason)
    return group_view(g, deps(runtime))


@groups.post("/groups/{gid}/meetings", status_code=201)
async def schedule_meeting(gid: str, body: MeetingBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    starts = to_utc(body.starts_at, zone(body.timezone), field="starts_at")
    g = await h.schedule_meeting(deps(runtime), gid, actor=actor, title=body.title, starts_at=starts,
                                 timezone=body.timezone, agenda=body.agenda)
    return group_view(g, deps(runtime))


@groups.patch("/groups/{gid}/meetings/{mid}")
async def meeting_notes(gid: str, mid: str, body: NotesBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    g = await h.record_meeting_notes(deps(runtime), gid, mid, actor=actor, notes=body.notes, agenda=body.agenda)
    return group_view(g, deps(runtime))


@groups.post("/groups/{gid}/meetings/{mid}/decisions", status_code=201)
async def decision(gid: str, mid: str, body: DecisionBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "group.manage")
    g = await h.record_decision(deps(runtime), gid, mid, actor=actor, summary=body.summary,
                                decided_on=body.decided_on)
    return group_view(g, deps(runtime))


@groups.post("/groups/{gid}/deliverables", status_code=201)
async def create_deliverable(gid: str, body: DeliverableBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "deliverable.contribute")
    x = await h.create_deliverable(deps(runtime), gid, actor=actor, title=body.title, summary=body.summary,
                                   topics=list(body.topics), body=body.body)
    return deliverable_view(x)


@groups.get("/deliverables/{did}")
async def read_deliverable(did: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    authorize(p, "group.read")
    x = await repo.get_deliverable(runtime.db, did)
    g = await repo.get_group(runtime.db, x.group_id) if x else None
    if x is None or g is None or not (x.status == "published" or g.may_take_part(actor_of(p))):
        raise NotFound("deliverable_not_found", "no such deliverable", field="deliverable_id")
    return deliverable_view(x)


@groups.post("/deliverables/{did}/drafts")
async def add_draft(did: str, body: DraftBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "deliverable.contribute")
    return deliverable_view(await h.act_on_deliverable(deps(runtime), did, actor=actor, action="draft", body=body.body))


@groups.post("/deliverables/{did}/comments")
async def comment(did: str, body: CommentBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "deliverable.contribute")
    return deliverable_view(await h.act_on_deliverable(deps(runtime), did, actor=actor, action="comment",
                                                       body=body.body))


@groups.post("/deliverables/{did}/submit")
async def submit(did: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "deliverable.contribute")
    return deliverable_view(await h.act_on_deliverable(deps(runtime), did, actor=actor, action="submit"))


@groups.post("/deliverables/{did}/review")
async def review(did: str, body: ReviewBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "deliverable.review")
    return deliverable_view(await h.act_on_deliverable(deps(runtime), did, actor=actor, action="review",
                                                       body=body.note, approve=body.approve))


# ============================================================================ introductions


class OfferBody(Body):
    city_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    other_city_id: SingleLine = Field(min_length=1, max_length=L.ID_MAX)
    reason_kind: Literal["similar_questions", "shared_barriers", "peer_connections", "staff"] = "staff"
    reason: MultiLine = Field(min_length=1, max_length=L.REASON_MAX)


class AnswerBody(Body):
    accepted: bool
    shares: list[Literal["contact", "barriers", "questions", "note"]] = Field(default_factory=list, max_length=4)
    note: MultiLine = Field("", max_length=L.COMMENT_MAX)

    @field_validator("shares")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class ProgressBody(Body):
    met_on: date | None = None
    outcome: SingleLine | None = Field(None, max_length=L.COMMENT_MAX)


async def intro_view(runtime: Runtime, i: Introduction, p: Principal) -> dict[str, Any]:
    names = await repo.city_names(runtime.db, set(i.city_ids))
    if p.kind == "staff":
        return {"id": i.id, "status": i.status, "reason_kind": i.reason_kind, "reason": i.reason,
                "offered_at": i.offered_at, "met_on": i.met_on, "outcome": i.outcome, "version": i.version,
                "cities": [{"id": c, "name": names.get(c, "a city"),
                            "answer": ("accepted" if i.answers[c].accepted else "declined") if c in i.answers
                            else "waiting", "shares": [SHARE_LABELS[s] for s in (
                                i.answers[c].shares if c in i.answers else [])]} for c in i.city_ids]}
    mine, other = p.city_id or "", i.other(p.city_id or "")
    theirs = i.answers.get(other)
    return {"id": i.id, "status": i.status, "reason": i.reason, "offered_at": i.offered_at, "met_on": i.met_on,
            "outcome": i.outcome, "version": i.version, "other_city": names.get(other, "a peer city"),
            "my_answer": ("accepted" if i.answers[mine].accepted else "declined") if mine in i.answers else None,
            "my_shares": i.answers[mine].shares if mine in i.answers else [],
            # whether they answered is shown; what they share only once both accepted
            "their_answer": None if theirs is None else ("accepted" if theirs.accepted else "declined"),
            "shared_with_us": i.shared_with(mine),
            "share_choices": SHARE_LABELS}


@introductions.get("/introductions/suggestions")
async def suggestions(runtime: RuntimeDep, p: PrincipalDep, limit: int = Query(50, ge=1, le=200)) -> list[dict]:
    may(p, "introduction.manage")
    return await h.suggestions(deps(runtime), limit=limit)


@introductions.get("/introductions")
async def list_introductions(runtime: RuntimeDep, p: PrincipalDep) -> list[dict[str, Any]]:
    if p.kind == "staff":
        may(p, "introduction.manage")
        found = await repo.introductions(runtime.db)
    else:
        may(p, "introduction.respond")
        found = await repo.introductions(runtime.db, city_id=p.city_id)
    return [await intro_view(runtime, i, p) for i in found]


@introductions.post("/introductions", status_code=201)
async def offer(body: OfferBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "introduction.manage")
    i = await h.offer_introduction(deps(runtime), actor=actor, city_id=body.city_id, other_city_id=body.other_city_id,
                                   reason_kind=body.reason_kind, reason=body.reason)
    return await intro_view(runtime, i, p)


@introductions.get("/introductions/{iid}")
async def read_introduction(iid: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    if p.kind == "staff":
        may(p, "introduction.manage")
    else:
        may(p, "introduction.respond")
    i = await repo.get_introduction(runtime.db, iid)
    if i is None or (p.kind != "staff" and p.city_id not in i.city_ids):
        raise NotFound("introduction_not_found", "no such introduction", field="introduction_id")
    return await intro_view(runtime, i, p)


@introductions.post("/introductions/{iid}/answer")
async def answer(iid: str, body: AnswerBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "introduction.respond")
    i = await h.answer_introduction(deps(runtime), iid, actor=actor, accepted=body.accepted, shares=list(body.shares),
                                    note=body.note)
    return await intro_view(runtime, i, p)


@introductions.post("/introductions/{iid}/progress")
async def progress(iid: str, body: ProgressBody, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    actor = may(p, "introduction.manage")
    if body.met_on is None and body.outcome is None:
        raise InvalidInput("nothing_to_record", "give the meeting date or the outcome", field="met_on")
    i = await h.progress_introduction(deps(runtime), iid, actor=actor, met_on=body.met_on, outcome=body.outcome)
    return await intro_view(runtime, i, p)


# ============================================================================ the city's overview


@router.get("/cities/{city_id}/overview", tags=["dashboard"])
async def city_overview(city_id: str, runtime: RuntimeDep, p: PrincipalDep) -> dict[str, Any]:
    """What the city dashboard shows of peer networking: upcoming convenings with the city's
    registrations, the groups the city belongs to (with committee terms), introductions waiting
    for the city's answer."""
    if p.kind == "official" and p.city_id != city_id:
        raise NotPermitted("own_city_only", "an official may see only their own city's overview")
    authorize(p, "convening.read")
    d = deps(runtime)
    now = d.now()
    regs = {r.convening_id: r for r in await repo.registrations_of_city(runtime.db, city_id) if r.active}
    upcoming = []
    for c in await repo.list_convenings(runtime.db, include_past=False, now=now, limit=10):
        if c.status == "cancelled":
            continue
        city_regs = [r for r in await repo.registrations_of(runtime.db, c.id, statuses=[
            "confirmed", "offered", "waitlisted"]) if r.city_id == city_id] if c.id in regs else []
        upcoming.append({"id": c.id, "title": c.title, "starts_at": c.starts_at, "timezone": c.timezone,
                         "starts_at_local": _local(c.starts_at, c),
                         "venue": c.venue, "seats_left": c.free_seats(),
                         "registration_open": c.opens_at <= now < c.closes_at,
                         "city_registrations": [{"name": r.name, "status": r.status.value,
                                                 "hold_until": r.hold_until} for r in city_regs]})
    member_of = []
    for g in await repo.list_groups(runtime.db):
        m = g.member("city", city_id)
        if m:
            member_of.append({"id": g.id, "kind": g.kind, "name": g.name,
                              "term_ends_on": m.term_ends_on, "term_status": m.term_status(now.date(), d.term_notice)})
    waiting = [i for i in await repo.introductions(runtime.db, city_id=city_id)
               if i.status == "offered" and city_id not in i.answers]
    return {"upcoming": upcoming, "groups": member_of, "introductions_waiting": len(waiting)}


router.include_router(convenings)
router.include_router(groups)
router.include_router(introductions)

from . import api_health  # noqa: E402  (its routes use this module's dependencies)

router.include_router(api_health.router)
