"""Use cases: each command is one transaction that loads its aggregate, lets the domain decide,
saves under a revision check and emits its events to the outbox.

A command whose save meets a newer revision (``Contended``: another command changed the same
convening, group or introduction between our read and our write) runs again from the start, a
bounded number of times. Time comes from the injected clock, read once per command.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from nrn_contracts.events import peer as ev

from nrn_kit.mongo import Store, Tx

from .adapters import mongo as repo
from .domain.actors import Actor
from .domain.convening import AgendaSession, Convening, Material
from .domain.errors import Contended, InvalidInput, NotAllowedNow, NotFound, NotPermitted
from .domain.groups import STEERING_COMMITTEE_ID, Decision, Deliverable, Group, Meeting, Member
from .domain.introductions import BARRIER_LABELS, TOPIC_LABELS, Introduction, suggest
from .domain.registration import Answers, Registration, Status

T = TypeVar("T")
Clock = Callable[[], datetime]
CONTENDED_ATTEMPTS = 1_000


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    store: Store
    clock: Clock = system_clock
    hold: timedelta = timedelta(hours=48)
    term_notice: timedelta = timedelta(days=90)
    contended_retries: list[int] = field(default_factory=lambda: [0])  # for figures

    def now(self) -> datetime:
        # BSON keeps milliseconds: truncate once so what we compare is what we store
        t = self.clock().astimezone(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


async def run(deps: Deps, fn: Callable[[Tx], Awaitable[T]]) -> T:
    """``fn`` in a transaction, run again from the start while another writer beats it to the save.

    After a lost race it waits a random moment (growing with the losses, at most 50 ms) so that
    writers in other processes that keep colliding spread out instead of colliding again."""
    for attempt in range(CONTENDED_ATTEMPTS):
        try:
            return await deps.store.transaction(fn)
        except Contended:
            deps.contended_retries[0] += 1
            await asyncio.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.05)))
    raise NotAllowedNow("busy", "too many people are registering at this moment; try again")


# ============================================================================ convenings


@dataclass
class ConveningDraft:
    """A convening as staff describe it; times already in UTC (the API turns venue-local times into UTC)."""

    kind: str
    title: str
    description: str
    topics: list[str]
    host_city_id: str | None
    venue: str
    address: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    per_city_limit: int | None
    opens_at: datetime
    closes_at: datetime
    sessions: list[AgendaSession]


def _about(c: Convening) -> dict[str, Any]:
    """What a registration event carries of its convening, so that whoever tells the registrant can name it."""
    return {"convening_title": c.title, "convening_starts_at": c.starts_at, "timezone": c.timezone}


def _agenda(c: Convening) -> tuple[ev.AgendaSession, ...]:
    return tuple(ev.AgendaSession(session_id=s.id, title=s.title, starts_at=s.starts_at, ends_at=s.ends_at,
                                  track=s.track or None, room=s.room or None, speakers=tuple(s.speakers))
                 for s in c.sessions)


_LOCATION_MAX = 200  # nrn_contracts.values.Name, the type of the events' location


async def _location(tx: Tx, c: Convening) -> str | None:
    host = await repo.city(tx.db, c.host_city_id, tx.session)
    where = [c.venue] if c.venue else []
    if host and host.get("name"):
        where.append(f"{host['name']}, {host.get('state', '')}".rstrip(", "))
    joined = ", ".join(where)
    # The event's location is a Name (at most 200 characters) and a venue may take all of them: the venue
    # alone then (the host city still travels as host_city_id), never an event that fails validation.
    return (joined if len(joined) <= _LOCATION_MAX else c.venue) or None


async def schedule_convening(deps: Deps, *, actor: Actor, draft: ConveningDraft) -> Convening:
    now = deps.now()
    c = Convening(id=new_id("cnv"), created_by=actor.id, created_at=now, opens_at=draft.opens_at,
                  closes_at=draft.closes_at, **{k: v for k, v in draft.__dict__.items()
                                                if k not in ("opens_at", "closes_at")})
    c.validate()

    async def fn(tx: Tx) -> Convening:
        await repo.insert_convening(tx.db, c, tx.session)
        tx.emit(ev.ConveningScheduled(
            convening_id=c.id, kind=c.kind, title=c.title, description=c.description or None,
            topics=tuple(c.topics), starts_at=c.starts_at, ends_at=c.ends_at, location=await _location(tx, c),
            capacity=c.capacity, timezone=c.timezone, host_city_id=c.host_city_id, per_city_limit=c.per_city_limit,
            registration_opens_at=c.opens_at, registration_closes_at=c.closes_at, sessions=_agenda(c)))
        return c

    return await run(deps, fn)


async def _load_convening(tx: Tx, convening_id: str) -> Convening:
    c = await repo.get_convening(tx.db, convening_id, tx.session)
    if c is None:
        raise NotFound("convening_not_found", "no such convening", field="convening_id")
    return c


async def _offer_free_seats(deps: Deps, tx: Tx, c: Convening, now: datetime) -> list[Registration]:
    """Offer every free seat to the waitlist, first in line first, each with a hold to confirm."""
    free = c.free_seats()
    if free <= 0 or c.status == "cancelled" or now >= c.starts_at:
        return []
    offered = []
    for reg in await repo.waitlist_head(tx.db, c.id, tx.session, n=free):
        reg.promote(hold_until=c.hold_until(now, deps.hold))
        c.take_seat_for_offer()
        await repo.put_registration(tx.db, reg, tx.session)
        tx.emit(ev.WaitlistPromoted(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=reg.account_id,
                                    city_id=reg.city_id, hold_until=reg.hold_until, at=now))
        offered.append(reg)
    return offered


async def update_convening(deps: Deps, convening_id: str, *, actor: Actor, draft: ConveningDraft) -> Convening:
    now = deps.now()

    async def fn(tx: Tx) -> Convening:
        c = await _load_convening(tx, convening_id)
        if c.status == "cancelled":
            raise NotAllowedNow("convening_cancelled", "a cancelled convening cannot be changed")
        if draft.capacity < c.seats_taken:
            raise NotAllowedNow("capacity_below_registrations",
                                f"{c.seats_taken} places are already confirmed or on offer; the capacity cannot "
                                "be lower", field="capacity")
        for k, v in draft.__dict__.items():
            setattr(c, k, v)
        c.validate()
        c.sequence += 1
        await _offer_free_seats(deps, tx, c, now)
        await repo.save_convening(tx.db, c, tx.session)
        tx.emit(ev.ConveningUpdated(
            convening_id=c.id, kind=c.kind, title=c.title, description=c.description or None,
            topics=tuple(c.topics), starts_at=c.starts_at, ends_at=c.ends_at, location=await _location(tx, c),
            timezone=c.timezone, capacity=c.capacity, per_city_limit=c.per_city_limit,
            registration_opens_at=c.opens_at, registration_closes_at=c.closes_at, sessions=_agenda(c),
            sequence=c.sequence, by=actor.id, at=now))
        return c

    return await run(deps, fn)


async def cancel_convening(deps: Deps, convening_id: str, *, actor: Actor, reason: str) -> Convening:
    """Call the convening off and cancel every active registration, one event per registrant."""
    if not reason.strip():
        raise InvalidInput("reason_required", "say why the convening is cancelled; registrants read it",
                           field="reason")
    now = deps.now()

    async def fn(tx: Tx) -> Convening:
        c = await _load_convening(tx, convening_id)
        if c.status == "cancelled":
            raise NotAllowedNow("convening_cancelled", "this convening is already cancelled")
        active = await repo.registrations_of(tx.db, c.id, statuses=[s.value for s in (
            Status.confirmed, Status.waitlisted, Status.offered)], session=tx.session)
        for reg in active:
            before = reg.cancel(now, reason="convening_cancelled")
            c.release(reg, before)
            await repo.put_registration(tx.db, reg, tx.session)
            tx.emit(ev.RegistrationCancelled(**_about(c),
                registration_id=reg.id, convening_id=c.id, account_id=reg.account_id, city_id=reg.city_id,
                previous_status=before.value, reason="convening_cancelled", by=actor.id, at=now))
        c.status, c.cancelled_reason, c.cancelled_at = "cancelled", reason, now
        c.sequence += 1
        await repo.save_convening(tx.db, c, tx.session)
        tx.emit(ev.ConveningCancelled(convening_id=c.id, title=c.title, reason=reason, starts_at=c.starts_at,
                                      registrations_cancelled=len(active), by=actor.id, at=now))
        return c

    return await run(deps, fn)


async def register(deps: Deps, convening_id: str, *, actor: Actor, answers: Answers) -> Registration:
    """Register the caller: a seat when one is free, else the waitlist. 409 when already registered,
    outside the window or over the city's limit (the rule names which)."""
    now = deps.now()
    reg_id = repo.registration_id(convening_id, actor.id)

    async def fn(tx: Tx) -> Registration:
        c = await _load_convening(tx, convening_id)
        unknown = [s for s in answers.session_ids if s not in {x.id for x in c.sessions}]
        if unknown:
            raise InvalidInput("unknown_session", "one of the sessions chosen is not on the agenda",
                               field="session_ids")
        existing = await repo.get_registration(tx.db, reg_id, tx.session)
        if existing is not None and existing.active:
            raise NotAllowedNow("already_registered", "you are already registered for this convening"
                                + (" (on the waitlist)" if existing.status is Status.waitlisted else ""))
        status = c.admit(actor.city_id, now)
        who = await repo.person(tx.db, actor.id, tx.session) or {}
        reg = Registration(id=reg_id, convening_id=c.id, account_id=actor.id, city_id=actor.city_id,
                           name=who.get("name", ""), status=status, answers=answers, registered_at=now,
                           waitlist_seq=c.waitlist_seq if status is Status.waitlisted else None,
                           confirmed_at=now if status is Status.confirmed else None)
        await repo.save_convening(tx.db, c, tx.session)
        await repo.put_registration(tx.db, reg, tx.session)
        if status is Status.confirmed:
            tx.emit(ev.RegistrationConfirmed(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=actor.id,
                                             city_id=actor.city_id, at=now))
        else:
            position = await repo.waitlist_position(tx.db, reg, tx.session) or 1
            tx.emit(ev.RegistrationWaitlisted(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=actor.id,
                                              city_id=actor.city_id, position=position, at=now))
        return reg

    return await run(deps, fn)


async def _load_registration(tx: Tx, reg_id: str, actor: Actor, *, staff_may: bool) -> Registration:
    reg = await repo.get_registration(tx.db, reg_id, tx.session)
    # Another person's registration does not exist for the caller (404, not 403).
    if reg is None or not (reg.account_id == actor.id or (staff_may and actor.is_staff)):
        raise NotFound("registration_not_found", "no such registration", field="registration_id")
    return reg


async def cancel_registration(deps: Deps, reg_id: str, *, actor: Actor) -> Registration:
    """The registrant (or staff) cancels; a freed seat is offered to the first in line."""
    now = deps.now()

    async def fn(tx: Tx) -> Registration:
        reg = await _load_registration(tx, reg_id, actor, staff_may=True)
        c = await _load_convening(tx, reg.convening_id)
        reason = "by_registrant" if reg.account_id == actor.id else "by_staff"
        before = reg.cancel(now, reason=reason)
        c.release(reg, before)
        await repo.put_registration(tx.db, reg, tx.session)
        tx.emit(ev.RegistrationCancelled(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=reg.account_id,
                                         city_id=reg.city_id, previous_status=before.value, reason=reason,
                                         by=actor.id, at=now))
        await _offer_free_seats(deps, tx, c, now)
        await repo.save_convening(tx.db, c, tx.session)
        return reg

    return await run(deps, fn)


async def confirm_offer(deps: Deps, reg_id: str, *, actor: Actor) -> Registration:
    now = deps.now()

    async def fn(tx: Tx) -> Registration:
        reg = await _load_registration(tx, reg_id, actor, staff_may=False)
        c = await _load_convening(tx, reg.convening_id)
        reg.confirm(now)
        await repo.put_registration(tx.db, reg, tx.session)
        # the seat was counted when offered; the revision still moves so a concurrent expiry loses
        await repo.save_convening(tx.db, c, tx.session)
        tx.emit(ev.RegistrationConfirmed(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=reg.account_id,
                                         city_id=reg.city_id, at=now, from_waitlist=True))
        return reg

    return await run(deps, fn)


async def expire_holds(deps: Deps, *, batch: int = 500) -> dict[str, int]:
    """Offers whose hold lapsed pass to the next in line. Safe to run in several processes at once."""
    now = deps.now()
    expired = 0
    for convening_id, reg_id in await repo.lapsed_holds(deps.store.db, now, batch):
        async def fn(tx: Tx, convening_id: str = convening_id, reg_id: str = reg_id) -> bool:
            reg = await repo.get_registration(tx.db, reg_id, tx.session)
            if reg is None or reg.status is not Status.offered or reg.hold_until is None or reg.hold_until > now:
                return False  # confirmed, cancelled or already expired by another sweep
            c = await _load_convening(tx, convening_id)
            reg.expire(now)
            c.release(reg, Status.offered)
            await repo.put_registration(tx.db, reg, tx.session)
            tx.emit(ev.RegistrationCancelled(**_about(c), registration_id=reg.id, convening_id=c.id, account_id=reg.account_id,
                                             city_id=reg.city_id, previous_status="offered", reason="hold_expired",
                                             by=None, at=now))
            await _offer_free_seats(deps, tx, c, now)
            await repo.save_convening(tx.db, c, tx.session)
            return True

        expired += bool(await run(deps, fn))
    return {"expired": expired}


async def check_in(deps: Deps, reg_id: str, *, actor: Actor, attended: bool) -> Registration:
    now = deps.now()

    async def fn(tx: Tx) -> Registration:
        reg = await _load_registration(tx, reg_id, actor, staff_may=True)
        reg.check_in(now, attended=attended)
        await repo.put_registration(tx.db, reg, tx.session)
        tx.emit(ev.AttendanceRecorded(registration_id=reg.id, convening_id=reg.convening_id,
                                      account_id=reg.account_id, city_id=reg.city_id, attended=attended,
                                      by=actor.id, at=now))
        return reg

    return await run(deps, fn)


async def give_feedback(deps: Deps, reg_id: str, *, actor: Actor, rating: int, comment: str) -> Registration:
    now = deps.now()

    async def fn(tx: Tx) -> Registration:
        reg = await _load_registration(tx, reg_id, actor, staff_may=False)
        c = await _load_convening(tx, reg.convening_id)
        if reg.feedback is not None:
            raise NotAllowedNow("feedback_already_given", "you have already given feedback on this convening")
        reg.give_feedback(rating=rating, comment=comment, now=now, convening_ended_at=c.ends_at)
        await repo.put_registration(tx.db, reg, tx.session)
        tx.emit(ev.ConveningFeedbackReceived(convening_id=c.id, registration_id=reg.id, rating=rating,
                                             comment=comment or None, at=now))
        return reg

    return await run(deps, fn)


async def publish_material(deps: Deps, convening_id: str, *, actor: Actor, kind: str, title: str, summary: str,
                           body: str, link: str) -> Material:
    if not (body.strip() or link):
        raise InvalidInput("body_or_link", "give the material's text or a link to it", field="body")
    now = deps.now()

    async def fn(tx: Tx) -> Material:
        c = await _load_convening(tx, convening_id)
        m = Material(id=new_id("mat"), kind=kind, title=title, summary=summary, body=body, link=link,
                     published_at=now, by=actor.id)
        c.materials.append(m)
        await repo.save_convening(tx.db, c, tx.session)
        speakers = sorted({s for x in c.sessions for s in x.speakers})[:50]
        tx.emit(ev.ConveningMaterialPublished(
            convening_id=c.id, material_id=m.id, convening_title=c.title, material_kind=kind, title=title,
            summary=summary or None, body=body or None, link=link or None, topics=tuple(c.topics),
            speakers=tuple(speakers), held_on=c.starts_at.astimezone(_tz(c)).date(), by=actor.id, at=now))
        return m

    return await run(deps, fn)


def _tz(c: Convening):  # noqa: ANN202
    from .domain.venue_time import zone
    return zone(c.timezone)


async def registration_view(deps: Deps, reg: Registration) -> dict[str, Any]:
    position = await repo.waitlist_position(deps.store.db, reg)
    return {"id": reg.id, "convening_id": reg.convening_id, "status": reg.status.value, "position": position,
            "hold_until": reg.hold_until, "registered_at": reg.registered_at, "confirmed_at": reg.confirmed_at,
            "cancelled_at": reg.cancelled_at, "cancel_reason": reg.cancel_reason, "attended": reg.attended,
            "promoted": reg.promoted, "name": reg.name, "city_id": reg.city_id,
            "answers": reg.answers.__dict__, "feedback": reg.feedback.__dict__ if reg.feedback else None}


# ============================================================================ groups


async def form_group(deps: Deps, *, actor: Actor, kind: str, name: str, purpose: str, topics: list[str]) -> Group:
    now = deps.now()
    gid = STEERING_COMMITTEE_ID if kind == "steering_committee" else new_id("wg")

    async def fn(tx: Tx) -> Group:
        if await repo.get_group(tx.db, gid, tx.session) is not None:
            raise NotAllowedNow("committee_exists", "the Peer Steering Committee already exists")
        g = Group(id=gid, kind=kind, name=name, purpose=purpose, topics=topics, created_by=actor.id, created_at=now)
        await repo.save_group(tx.db, g, tx.session)
        tx.emit(ev.WorkingGroupFormed(working_group_id=g.id, kind=kind, name=name, purpose=purpose or None,
                                      topics=tuple(topics), by=actor.id, at=now))
        return g

    return await run(deps, fn)


async def _load_group(tx: Tx, gid: str) -> Group:
    g = await repo.get_group(tx.db, gid, tx.session)
    if g is None:
        raise NotFound("group_not_found", "no such working group", field="working_group_id")
    return g


async def add_member(deps: Deps, gid: str, *, actor: Actor, member_kind: str, member_id: str, organization: str = "",
                     term_starts_on: date | None = None, term_ends_on: date | None = None) -> Group:
    now = deps.now()

    async def fn(tx: Tx) -> Group:
        g = await _load_group(tx, gid)
        if member_kind == "city":
            city = await repo.city(tx.db, member_id, tx.session)
            if city is None:
                raise InvalidInput("unknown_city", "no such city", field="member_id")
            name, city_id = f"{city['name']}, {city.get('state', '')}".rstrip(", "), member_id
        else:
            who = await repo.person(tx.db, member_id, tx.session)
            wanted = "official" if member_kind == "official" else "partner_member"
            if who is None or who.get("kind") != wanted:
                raise InvalidInput("unknown_person", f"no such {'official' if wanted == 'official' else 'partner'} "
                                   "account", field="member_id")
            name, city_id = who["name"], who.get("city_id")
        m = Member(kind=member_kind, id=member_id, name=name, city_id=city_id, organization=organization,
                   joined_at=now, term_starts_on=term_starts_on, term_ends_on=term_ends_on)
        g.add_member(m)
        await repo.save_group(tx.db, g, tx.session)
        tx.emit(ev.MemberJoined(working_group_id=g.id, member_kind=member_kind, member_id=member_id, city_id=city_id,
                                name=name, organization=organization or None, term_starts_on=term_starts_on,
                                term_ends_on=term_ends_on, by=actor.id, at=now))
        return g

    return await run(deps, fn)


async def remove_member(deps: Deps, gid: str, *, actor: Actor, member_kind: str, member_id: str,
                        reason: str = "") -> Group:
    now = deps.now()

    async def fn(tx: Tx) -> Group:
        g = await _load_group(tx, gid)
        m = g.remove_member(member_kind, member_id, now)
        await repo.save_group(tx.db, g, tx.session)
        tx.emit(ev.MemberLeft(working_group_id=g.id, member_kind=member_kind, member_id=member_id,
                              city_id=m.city_id, reason=reason or None, by=actor.id, at=now))
        return g

    return await run(deps, fn)


async def schedule_meeting(deps: Deps, gid: str, *, actor: Actor, title: str, starts_at: datetime, timezone: str,
                           agenda: str) -> Group:
    async def fn(tx: Tx) -> Group:
        g = await _load_group(tx, gid)
        g.meetings.append(Meeting(id=new_id("mtg"), title=title, starts_at=starts_at, timezone=timezone,
                                  agenda=agenda))
        g.meetings.sort(key=lambda m: m.starts_at)
        await repo.save_group(tx.db, g, tx.session)
        return g

    return await run(deps, fn)


async def record_meeting_notes(deps: Deps, gid: str, meeting_id: str, *, actor: Actor, notes: str | None,
                               agenda: str | None) -> Group:
    async def fn(tx: Tx) -> Group:
        g = await _load_group(tx, gid)
        mt = g.meeting(meeting_id)
        if notes is not None:
            mt.notes = notes
        if agenda is not None:
            mt.agenda = agenda
        await repo.save_group(tx.db, g, tx.session)
        return g

    return await run(deps, fn)


async def record_decision(deps: Deps, gid: str, meeting_id: str, *, actor: Actor, summary: str,
                          decided_on: date) -> Group:
    if not summary.strip():
        raise InvalidInput("blank_decision", "say what was decided", field="summary")
    now = deps.now()

    async def fn(tx: Tx) -> Group:
        g = await _load_group(tx, gid)
        mt = g.meeting(meeting_id)
        d = Decision(id=new_id("dec"), summary=summary, decided_on=decided_on, recorded_by=actor.id, recorded_at=now)
        mt.decisions.append(d)
        await repo.save_group(tx.db, g, tx.session)
        tx.emit(ev.GroupDecisionRecorded(working_group_id=g.id, decision_id=d.id, meeting_id=mt.id, summary=summary,
                                         decided_on=decided_on, by=actor.id, at=now))
        return g

    return await run(deps, fn)


async def _name_of(tx: Tx, actor: Actor) -> str:
    who = await repo.person(tx.db, actor.id, tx.session) or {}
    return who.get("name") or ("NRN staff" if actor.is_staff else "A member")


async def create_deliverable(deps: Deps, gid: str, *, actor: Actor, title: str, summary: str, topics: list[str],
                             body: str) -> Deliverable:
    now = deps.now()

    async def fn(tx: Tx) -> Deliverable:
        g = await _load_group(tx, gid)
        if not g.may_take_part(actor):
            raise NotPermitted("members_only", "only the group's members and NRN staff work on its deliverables")
        d = Deliverable(id=new_id("dlv"), group_id=g.id, title=title, summary=summary, topics=topics or g.topics,
                        created_by=actor.id, created_at=now)
        if body.strip():
            d.add_draft(body, actor, await _name_of(tx, actor), now)
        await repo.save_deliverable(tx.db, d, tx.session)
        return d

    return await run(deps, fn)


async def act_on_deliverable(deps: Deps, deliverable_id: str, *, actor: Actor, action: str, body: str = "",
                             approve: bool = False) -> Deliverable:
    """draft | comment | submit | review (approve or request changes, with ``body`` as the note)."""
    now = deps.now()

    async def fn(tx: Tx) -> Deliverable:
        d = await repo.get_deliverable(tx.db, deliverable_id, tx.session)
        g = await repo.get_group(tx.db, d.group_id, tx.session) if d else None
        if d is None or g is None or not g.may_take_part(actor):
            raise NotFound("deliverable_not_found", "no such deliverable", field="deliverable_id")
        name = await _name_of(tx, actor)
        if action == "draft":
            d.add_draft(body, actor, name, now)
        elif action == "comment":
            d.comment(body, actor, name, now)
        elif action == "submit":
            d.submit()
        elif action == "review":
            d.review(actor, approve=approve, note=body, name=name, now=now)
        else:  # pragma: no cover - the API names the actions
            raise InvalidInput("unknown_action", "unknown action", field="action")
        await repo.save_deliverable(tx.db, d, tx.session)
        if d.status == "published" and action == "review":
            names = await repo.city_names(tx.db, g.city_ids())
            tx.emit(ev.DeliverablePublished(
                working_group_id=g.id, deliverable_id=d.id, working_group_name=g.name, title=d.title,
                summary=d.summary or None, body=d.latest.body, topics=tuple(d.topics),
                member_cities=tuple(sorted(names.values())),
                contributors=tuple(sorted({x.author_name for x in d.drafts if x.author_name})),
                version=d.latest.number, approved_by=actor.id, at=now))
        return d

    return await run(deps, fn)


# ============================================================================ introductions


async def suggestions(deps: Deps, *, limit: int = 50) -> list[dict[str, Any]]:
    signals = await repo.all_signals(deps.store.db)
    taken = await repo.open_pairs(deps.store.db)
    by_id = {s.city_id: s for s in signals}
    return [{"city_id": s.city_id, "city": by_id[s.city_id].label, "other_city_id": s.other_city_id,
             "other_city": by_id[s.other_city_id].label, "reason_kind": s.reason_kind, "reason": s.reason}
            for s in suggest(signals, exclude=taken, limit=limit)]


async def offer_introduction(deps: Deps, *, actor: Actor, city_id: str, other_city_id: str, reason_kind: str,
                             reason: str) -> Introduction:
    if city_id == other_city_id:
        raise InvalidInput("same_city", "introduce two different cities", field="other_city_id")
    if not reason.strip():
        raise InvalidInput("reason_required", "say why the cities should meet; both read it", field="reason")
    now = deps.now()

    async def fn(tx: Tx) -> Introduction:
        for field_name, cid in (("city_id", city_id), ("other_city_id", other_city_id)):
            if await repo.city(tx.db, cid, tx.session) is None:
                raise InvalidInput("unknown_city", "no such city", field=field_name)
        if frozenset((city_id, other_city_id)) in await repo.open_pairs(tx.db, tx.session):
            raise NotAllowedNow("already_introduced", "these two cities have already been offered an introduction")
        i = Introduction(id=new_id("intro"), city_ids=[city_id, other_city_id], reason_kind=reason_kind,
                         reason=reason, offered_by=actor.id, offered_at=now)
        await repo.save_introduction(tx.db, i, tx.session)
        tx.emit(ev.IntroductionOffered(introduction_id=i.id, city_id=city_id, other_city_id=other_city_id,
                                       reason_kind=reason_kind, reason=reason, by=actor.id, at=now))
        return i

    return await run(deps, fn)


async def _load_intro(tx: Tx, intro_id: str, actor: Actor) -> Introduction:
    i = await repo.get_introduction(tx.db, intro_id, tx.session)
    if i is None or (not actor.is_staff and actor.city_id not in i.city_ids):
        raise NotFound("introduction_not_found", "no such introduction", field="introduction_id")
    return i


async def answer_introduction(deps: Deps, intro_id: str, *, actor: Actor, accepted: bool, shares: list[str],
                              note: str) -> Introduction:
    """An official answers for their own city; what they share is fixed as it stands now."""
    now = deps.now()

    async def fn(tx: Tx) -> Introduction:
        i = await _load_intro(tx, intro_id, actor)
        if not actor.is_official or actor.city_id is None:
            raise NotPermitted("officials_answer", "an official of the city answers an introduction")
        shared: dict[str, Any] = {}
        if accepted:
            who = await repo.person(tx.db, actor.id, tx.session) or {}
            signals = await repo.signals_of(tx.db, actor.city_id, tx.session)
            shared = {
                "contact": {"name": who.get("name", ""), "title": who.get("title", ""), "email": who.get("email", "")},
                "barriers": [BARRIER_LABELS.get(b, b) for b in signals.barriers],
                "questions": [{"subject": TOPIC_LABELS.get(q.topic, q.topic), "title": q.title, "year": q.year}
                              for q in sorted(signals.questions, key=lambda q: -q.year)[:20]],
                "note": note.strip(),
            }
            if "note" in shares and not note.strip():
                raise InvalidInput("blank_note", "write the note you want to share, or untick it", field="note")
        i.answer(actor.city_id, accepted=accepted, shares=shares, shared=shared, by=actor.id, now=now)
        await repo.save_introduction(tx.db, i, tx.session)
        tx.emit(ev.IntroductionAnswered(introduction_id=i.id, city_id=actor.city_id, accepted=accepted,
                                        shares=tuple(i.answers[actor.city_id].shares), status=i.status,
                                        by=actor.id, at=now))
        return i

    return await run(deps, fn)


async def progress_introduction(deps: Deps, intro_id: str, *, actor: Actor, met_on: date | None = None,
                                outcome: str | None = None) -> Introduction:
    now = deps.now()

    async def fn(tx: Tx) -> Introduction:
        i = await _load_intro(tx, intro_id, actor)
        if met_on is not None:
            i.record_meeting(met_on)
            step = "meeting_held"
        elif outcome is not None:
            i.record_outcome(outcome, now)
            step = "outcome_recorded"
        else:
            raise InvalidInput("nothing_to_record", "give the meeting date or the outcome", field="met_on")
        await repo.save_introduction(tx.db, i, tx.session)
        tx.emit(ev.IntroductionProgressed(introduction_id=i.id, step=step, met_on=met_on, outcome=outcome or None,
                                          by=actor.id, at=now))
        return i

    return await run(deps, fn)
