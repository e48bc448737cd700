"""Use cases: load the aggregate in a transaction, let it decide, save it, emit its events.

Every command runs in one transaction that (1) finds the application or engagement and checks
that the caller may see it (404 otherwise: its existence is not disclosed), (2) checks the
caller's expected version, (3) applies the domain action, (4) writes the next version — 409 if
another writer got there first — together with any other aggregate the action touched (the
engagement an acceptance opens, the funding round's places, waitlisted applications promoted),
and (5) appends the events to the outbox. Time comes from the injected clock, read once per
command so a retried transaction sees the same instant; "today" is the date in US Eastern time.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from nrn_kit.localtime import program_today
from nrn_kit.mongo import Store, Tx

from .adapters import mongo as repo
from .adapters.files import AttachmentStore, check_upload, safe_filename
from .domain.application import Application, Attachment, AttachmentKind, Edit, Terms
from .domain.engagement import Engagement
from .domain.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted, RuleViolation
from .domain.model import SYSTEM, Actor, Role
from .domain.rounds import FundingRound
from .domain.rubric import DEFAULT_RUBRIC, Rubric
from .domain.states import AppAction

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class VersionRequired(RuleViolation):
    status = 428
    title = "Version required"

    def __init__(self) -> None:
        super().__init__("version_required",
                         "say which version you act on: If-Match header or a 'version' field", field="version")


@dataclass
class Deps:
    store: Store
    files: AttachmentStore
    clock: Clock = system_clock
    rubric: Rubric = field(default_factory=lambda: DEFAULT_RUBRIC)
    attachment_max_bytes: int = 10 * 1024 * 1024

    def now(self) -> datetime:
        # BSON keeps milliseconds: truncate once so what we compare is what we store
        t = self.clock().astimezone(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)

    def today(self, now: datetime | None = None) -> date:
        return program_today(now or self.now())


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# ---------------------------------------------------------------------------- who sees what


def sees_application(app: Application, actor: Actor) -> bool:
    """Officials: their city's applications and those naming their city as a partner. Staff: never
    one they declared a conflict on; a reviewer (without a managing role) only those assigned to them."""
    if actor.kind == "official":
        return actor.city_id == app.city_id or actor.city_id in app.partner_city_ids
    if actor.kind == "system":
        return True
    if app.conflicted(actor.id):
        return False
    if actor.has(Role.program_manager, Role.triage_lead):
        return True
    return Role.reviewer in actor.roles and app.review_of(actor.id) is not None


def sees_engagement(e: Engagement, actor: Actor) -> bool:
    return actor.kind != "official" or actor.city_id == e.city_id


async def get_application(deps: Deps, app_id: str, *, actor: Actor) -> Application:
    app = await repo.applications(deps.store.db).get(app_id)
    if app is None or not sees_application(app, actor):
        raise NotFound("application_not_found", f"no application {app_id}", field="application_id")
    return app


async def get_engagement(deps: Deps, engagement_id: str, *, actor: Actor) -> Engagement:
    e = await repo.engagements(deps.store.db).get(engagement_id)
    if e is None or not sees_engagement(e, actor):
        raise NotFound("engagement_not_found", f"no engagement {engagement_id}", field="engagement_id")
    return e


# ---------------------------------------------------------------------------- running a command

AppStep = Callable[[Application, datetime, date, Tx], Any]
EngStep = Callable[[Engagement, datetime, date, Tx], Any]


async def act_on_application(deps: Deps, app_id: str, *, actor: Actor, expected_version: int | None,
                             action: AppStep, check_version: bool = True) -> tuple[Application, Any]:
    """Run one domain action on an application under optimistic concurrency; returns (app, action's result)."""
    now = deps.now()
    today = deps.today(now)

    async def fn(tx: Tx) -> tuple[Application, Any]:
        applications = repo.applications(tx.db, tx.session)
        app = await applications.get(app_id)
        if app is None or not sees_application(app, actor):
            raise NotFound("application_not_found", f"no application {app_id}", field="application_id")
        if expected_version is None:
            raise VersionRequired()
        if check_version:
            app.ensure_version(expected_version)
        loaded = app.version
        before = app.model_dump()
        result = action(app, now, today, tx)
        if inspect.isawaitable(result):
            result = await result
        events = app.pull_events()
        if not events and app.model_dump() == before:
            return app, result  # nothing changed (an autosave of what is already saved): no new version
        await applications.save(app, expected_version=loaded)
        for event in events:
            tx.emit(event)
        return app, result

    return await deps.store.transaction(fn)


async def act_on_engagement(deps: Deps, engagement_id: str, *, actor: Actor, expected_version: int | None,
                            action: EngStep) -> Engagement:
    now = deps.now()
    today = deps.today(now)

    async def fn(tx: Tx) -> Engagement:
        engagements = repo.engagements(tx.db, tx.session)
        e = await engagements.get(engagement_id)
        if e is None or not sees_engagement(e, actor):
            raise NotFound("engagement_not_found", f"no engagement {engagement_id}", field="engagement_id")
        if expected_version is None:
            raise VersionRequired()
        e.ensure_version(expected_version)
        result = action(e, now, today, tx)
        if inspect.isawaitable(result):
            await result
        events = e.pull_events()
        await engagements.save(e, expected_version=expected_version)
        for event in events:
            tx.emit(event)
        return e

    return await deps.store.transaction(fn)


# ---------------------------------------------------------------------------- applying


async def start_application(deps: Deps, *, actor: Actor, application_id: str | None = None) -> Application:
    """An official starts the city's application: one in play per city at a time; a city whose last
    one was declined or withdrawn reapplies, linked to it."""
    now = deps.now()
    today = deps.today(now)
    app_id = application_id or new_id("app")

    async def fn(tx: Tx) -> Application:
        if actor.city_id is None:
            raise InvalidInput("official_without_city", "the official's account names no city", field="city_id")
        city = await repo.get_city(tx.db, actor.city_id, tx.session)
        if city is None:
            raise InvalidInput("city_unknown", "this service has not heard of the official's city yet",
                               field="city_id")
        open_app = await repo.open_application_of(tx.db, city.id, tx.session)
        if open_app is not None:
            raise InvalidTransition("one_open_application_per_city",
                                    "your city already has an application in progress: continue that one")
        previous = await repo.latest_closed_application(tx.db, city.id, tx.session)
        round_id = await repo.round_open_on(tx.db, today, tx.session)
        app = Application.start(application_id=app_id, actor=actor, city=city, now=now,
                                previous_application_id=previous, round_id=round_id)
        events = app.pull_events()
        await repo.applications(tx.db, tx.session).add(app)
        for event in events:
            tx.emit(event)
        return app

    return await deps.store.transaction(fn)


async def save_draft(deps: Deps, app_id: str, *, actor: Actor, version: int | None,
                     changes: dict[str, Any]) -> tuple[Application, list[Edit]]:
    """Autosave: merges with others' saves since `version` (see Application.save)."""
    def action(app: Application, now: datetime, today: date, tx: Tx) -> list[Edit]:
        return app.save(actor=actor, now=now, base_version=version or 0, changes=changes)

    return await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action,
                                    check_version=False)


async def attach(deps: Deps, app_id: str, *, actor: Actor, version: int | None, kind: AttachmentKind,
                 filename: str | None, data: bytes) -> Application:
    """Store the file (GridFS, outside the transaction: GridFS cannot join one), then reference it
    from the application; the file is deleted again if that fails."""
    app = await get_application(deps, app_id, actor=actor)
    app.check(AppAction.attach, actor)  # refused before anything is stored
    content_type = check_upload(data, max_bytes=deps.attachment_max_bytes)
    name = safe_filename(filename, content_type)
    stored = await deps.files.put(data, filename=name, content_type=content_type, application_id=app.id,
                                  uploaded_by=actor.id)
    attachment = Attachment(id=stored.id, kind=kind, filename=name, content_type=content_type, size=stored.size,
                            uploaded_by=actor.id, uploaded_by_name=actor.name, uploaded_at=deps.now())
    try:
        app, _ = await act_on_application(
            deps, app_id, actor=actor, expected_version=version,
            action=lambda a, now, today, tx: a.attach(actor=actor, now=now, attachment=attachment))
    except BaseException:
        await deps.files.delete(stored.id)
        raise
    return app


async def remove_attachment(deps: Deps, app_id: str, *, actor: Actor, version: int | None,
                            attachment_id: str) -> Application:
    removed: list[Attachment] = []

    def action(app: Application, now: datetime, today: date, tx: Tx) -> None:
        removed[:] = [app.remove_attachment(actor=actor, now=now, attachment_id=attachment_id)]

    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action)
    for attachment in removed:  # after the commit: the application no longer names it
        await deps.files.delete(attachment.id)
    return app


async def download_attachment(deps: Deps, app_id: str, attachment_id: str, *, actor: Actor
                              ) -> tuple[Attachment, bytes]:
    app = await get_application(deps, app_id, actor=actor)
    attachment = app.attachment(attachment_id)
    if attachment is None:
        raise NotFound("attachment_not_found", "no such attachment on this application", field="attachment_id")
    data, _ = await deps.files.get(attachment.id)
    return attachment, data


async def confirm_partnership(deps: Deps, app_id: str, *, actor: Actor, version: int | None) -> Application:
    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version,
                                      action=lambda a, now, today, tx: a.confirm_partnership(actor=actor, now=now))
    return app


async def submission_problems(deps: Deps, app: Application, tx_db: Any = None, session: Any = None
                              ) -> list[dict[str, str]]:
    db = tx_db or deps.store.db
    city = await repo.get_city(db, app.city_id, session)
    partners = await repo.get_cities(db, app.partner_city_ids, session)
    return app.problems(city=city, partners=partners, today=deps.today())


async def submit(deps: Deps, app_id: str, *, actor: Actor, version: int | None) -> Application:
    async def action(app: Application, now: datetime, today: date, tx: Tx) -> None:
        city = await repo.get_city(tx.db, app.city_id, tx.session)
        if city is None:
            raise InvalidInput("city_unknown", "this service has not heard of the city yet", field="city_id")
        partners = await repo.get_cities(tx.db, app.partner_city_ids, tx.session)
        round_id = await repo.round_open_on(tx.db, today, tx.session)
        app.submit(actor=actor, now=now, city=city, partners=partners, today=today, round_id=round_id)

    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action)
    return app


async def withdraw(deps: Deps, app_id: str, *, actor: Actor, version: int | None, reason: str = "") -> Application:
    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version,
                                      action=lambda a, now, today, tx: a.withdraw(actor=actor, now=now, reason=reason))
    return app


# ---------------------------------------------------------------------------- review


async def screen(deps: Deps, app_id: str, *, actor: Actor, version: int | None,
                 outcome: Literal["eligible", "not_eligible"], note: str = "") -> Application:
    def action(app: Application, now: datetime, today: date, tx: Tx) -> None:
        if outcome == "eligible":
            app.screen_in(actor=actor, now=now, rubric=deps.rubric, note=note)
        else:
            app.screen_out(actor=actor, now=now, note=note)

    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action)
    return app


async def assign_reviewer(deps: Deps, app_id: str, *, actor: Actor, version: int | None,
                          reviewer_id: str) -> Application:
    async def action(app: Application, now: datetime, today: date, tx: Tx) -> None:
        person = await repo.get_person(tx.db, reviewer_id, tx.session)
        if person is None or "reviewer" not in (person.get("roles") or []) or person.get("deactivated"):
            raise InvalidInput("reviewer_unknown", "not an active reviewer", field="reviewer_id")
        app.assign_reviewer(actor=actor, now=now, reviewer=repo.person_ref(person))

    app, _ = await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action)
    return app


async def declare_conflict(deps: Deps, app_id: str, *, actor: Actor, version: int | None, reason: str) -> None:
    """The reviewer steps aside; the application is then hidden from them (nothing is returned)."""
    await act_on_application(deps, app_id, actor=actor, expected_version=version,
                             action=lambda a, now, today, tx: a.declare_conflict(actor=actor, now=now, reason=reason))


async def score(deps: Deps, app_id: str, *, actor: Actor, version: int | None, scores: dict[str, int],
                comments: dict[str, str] | None = None, overall: str = "") -> Application:
    app, _ = await act_on_application(
        deps, app_id, actor=actor, expected_version=version,
        action=lambda a, now, today, tx: a.submit_score(actor=actor, now=now, scores=scores, comments=comments,
                                                 overall=overall))
    return app


Outcome = Literal["accepted", "waitlisted", "declined", "round_full"]


async def _open_engagement(tx: Tx, app: Application, terms: Terms, engagement_id: str, now: datetime) -> None:
    engagement = Engagement.open(engagement_id=engagement_id, application=app, terms=terms, now=now)
    events = engagement.pull_events()
    await repo.engagements(tx.db, tx.session).add(engagement)
    for event in events:
        tx.emit(event)


def _full_reason(round_doc: dict[str, Any], position: int) -> str:
    return (f"All {round_doc['capacity']} places of the funding round “{round_doc['name']}” are taken. Your "
            f"application is on its waitlist (number {position} in score order) and will be offered the next "
            "place that frees.")


async def decide(deps: Deps, app_id: str, *, actor: Actor, version: int | None,
                 decision: Literal["accept", "waitlist", "decline"], reason: str, terms: Terms | None = None,
                 round_id: str | None = None) -> tuple[Application, Outcome]:
    """A program manager's decision. Accepting takes a place in the funding round; when none is left
    the acceptance is refused and the application goes on the round's waitlist (outcome
    ``round_full``), kept in score order for the next place that frees."""
    async def action(app: Application, now: datetime, today: date, tx: Tx) -> Outcome:
        if decision == "decline":
            app.decline(actor=actor, now=now, reason=reason)
            return "declined"
        app.check(AppAction.accept if decision == "accept" else AppAction.waitlist, actor)
        rid = round_id or app.round_id
        if not rid:
            raise InvalidInput("round_required", "name the funding round this decision is for", field="round_id")
        round_doc = await repo.get_round(tx.db, rid, tx.session)
        if round_doc is None:
            raise InvalidInput("round_unknown", "no such funding round", field="round_id")
        if terms is None:
            raise InvalidInput("terms_required", "set the engagement's scope, budget, duration and start",
                               field="terms")
        if terms.starts_on < today:
            raise InvalidInput("start_in_the_past", "the engagement cannot start in the past", field="terms.starts_on")
        if decision == "accept":
            if await repo.reserve_place(tx.db, rid, tx.session):
                engagement_id = new_id("eng")
                app.accept(actor=actor, now=now, terms=terms, reason=reason, round_id=rid, engagement_id=engagement_id)
                await _open_engagement(tx, app, terms, engagement_id, now)
                return "accepted"
            reason_text = reason.strip()
            if not reason_text:
                raise InvalidInput("reason_required", "reason must not be empty", field="reason")
            position = await repo.waitlist_position(tx.db, rid, app.score, app.submitted_at, app.id, tx.session)
            app.waitlist(actor=actor, now=now, terms=terms, reason=_full_reason(round_doc, position), round_id=rid,
                         position=position, intended_reason=reason_text)
            return "round_full"
        position = await repo.waitlist_position(tx.db, rid, app.score, app.submitted_at, app.id, tx.session)
        app.waitlist(actor=actor, now=now, terms=terms, reason=reason, round_id=rid, position=position)
        return "waitlisted"

    return await act_on_application(deps, app_id, actor=actor, expected_version=version, action=action)


async def fill_places(tx: Tx, round_id: str, now: datetime) -> list[str]:
    """Give every free place of the round to the waitlist, first in score order first. Returns the
    applications promoted. Runs in the transaction that freed the place(s)."""
    promoted: list[str] = []
    applications = repo.applications(tx.db, tx.session)
    while True:
        first = await repo.waitlist(tx.db, round_id, limit=1, session=tx.session)
        if not first:
            return promoted
        if not await repo.reserve_place(tx.db, round_id, tx.session):
            return promoted
        app = await applications.require(first[0]["_id"])
        loaded = app.version
        engagement_id = new_id("eng")
        app.promote(actor=SYSTEM, now=now, engagement_id=engagement_id)
        assert app.terms is not None
        events = app.pull_events()
        await applications.save(app, expected_version=loaded)
        for event in events:
            tx.emit(event)
        await _open_engagement(tx, app, app.terms, engagement_id, now)
        promoted.append(app.id)


# ---------------------------------------------------------------------------- funding rounds


async def create_round(deps: Deps, *, actor: Actor, name: str, opens_on: date, closes_on: date | None,
                       capacity: int) -> dict[str, Any]:
    if not actor.has(Role.program_manager):
        raise NotPermitted("role_required", "opening a funding round needs a program manager")
    if closes_on is not None and closes_on < opens_on:
        raise InvalidInput("closes_before_it_opens", "the round closes before it opens", field="closes_on")
    now = deps.now()
    doc = {"_id": new_id("round"), "name": name.strip(), "opens_on": opens_on.isoformat(),
           "closes_on": closes_on.isoformat() if closes_on else None, "capacity": capacity, "accepted": 0,
           "version": 1, "created_by": actor.id, "created_at": now}

    async def fn(tx: Tx) -> dict[str, Any]:
        await tx.db[repo.ROUNDS].insert_one(doc, session=tx.session)
        return doc

    return await deps.store.transaction(fn)


async def set_capacity(deps: Deps, round_id: str, *, actor: Actor, capacity: int) -> tuple[dict[str, Any], list[str]]:
    """Change a round's capacity (never below the places taken); new places go to the waitlist at once."""
    if not actor.has(Role.program_manager):
        raise NotPermitted("role_required", "changing a round's capacity needs a program manager")
    now = deps.now()

    async def fn(tx: Tx) -> tuple[dict[str, Any], list[str]]:
        doc = await repo.get_round(tx.db, round_id, tx.session)
        if doc is None:
            raise NotFound("round_not_found", f"no funding round {round_id}", field="round_id")
        FundingRound.from_document(doc).with_capacity(capacity)
        await tx.db[repo.ROUNDS].update_one({"_id": round_id}, {"$set": {"capacity": capacity}, "$inc": {"version": 1}},
                                            session=tx.session)
        promoted = await fill_places(tx, round_id, now)
        return await repo.get_round(tx.db, round_id, tx.session), promoted

    return await deps.store.transaction(fn)


# ---------------------------------------------------------------------------- engagements


async def cancel_engagement(deps: Deps, engagement_id: str, *, actor: Actor, version: int | None,
                            reason: str) -> Engagement:
    """Before the assessment the city cannot go ahead: the engagement ends, its application's place in
    the round frees, and the waitlist's first application takes it — all in one transaction."""
    async def action(e: Engagement, now: datetime, today: date, tx: Tx) -> None:
        e.cancel(actor=actor, now=now, reason=reason)
        if e.round_id:
            await repo.release_place(tx.db, e.round_id, tx.session)
            await fill_places(tx, e.round_id, now)

    return await act_on_engagement(deps, engagement_id, actor=actor, expected_version=version, action=action)


async def set_team(deps: Deps, engagement_id: str, *, actor: Actor, version: int | None,
                   team: list[dict[str, Any]]) -> Engagement:
    from .domain.engagement import TeamMember

    async def action(e: Engagement, now: datetime, today: date, tx: Tx) -> None:
        members = []
        for i, raw in enumerate(team):
            member = dict(raw)
            if member.get("member_id"):
                person = await repo.get_person(tx.db, member["member_id"], tx.session)
                if person is None or person.get("kind") != "staff" or person.get("deactivated"):
                    raise InvalidInput("team_member_unknown", "not an active NRN staff member",
                                       field=f"team.{i}.member_id")
                member.setdefault("name", person.get("name") or "")
                member["name"] = member.get("name") or person.get("name") or ""
                member["kind"] = "staff"
            members.append(TeamMember.model_validate(member))
        e.set_team(actor=actor, now=now, team=members)

    return await act_on_engagement(deps, engagement_id, actor=actor, expected_version=version, action=action)


async def peer_context(deps: Deps, e: Engagement, *, actor: Actor) -> dict[str, Any]:
    """Cities with similar barriers, their engagements and their answered questions (own read models)."""
    from .domain import peer
    from .domain.model import topics_of

    barriers = [b.value for b in e.barriers]
    if not barriers:
        return {"cities": [], "questions": []}
    docs = await repo.engagements_with_barriers(deps.store.db, barriers)
    similar = peer.similar_cities(e.barriers, e.city_id, docs, staff=actor.is_staff)
    questions = await repo.answered_on_topics(deps.store.db, topics_of(e.barriers))
    return {"cities": [c.as_dict() for c in similar],
            "questions": peer.answered_questions(questions, similar, e.city_id)}

