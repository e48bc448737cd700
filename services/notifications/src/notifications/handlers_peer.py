"""Peer networking's notices: the read models they need, who each peer row of the table names, a
convening's calendar invitation for one registrant, and the words of the messages.

Read models (built from ``nrn.peer.v1`` in the consumer's transaction, before the table is applied):

- ``convenings``: title, start, end, place, venue zone, SEQUENCE, status; on ``ConveningUpdated`` the
  previous time, place and title (``before``), so the notice says what changed and a change nobody
  acts on (capacity, description, registration window) tells nobody.
- ``registrations``: per registration, its convening, registrant, city and status (confirmed,
  waitlisted, offered, cancelled with the reason) — who is told of a change or a cancellation.
- ``invitations``: per convening and registrant, the calendar entry mailed to them (UID, SEQUENCE,
  open or withdrawn), as ``calls`` is for 311 calls. One registrant per invitation: nobody's calendar
  ever lists another city's officials.
- ``introductions``: the two cities and the staff member who offered it.
- ``projects``: a pro bono project's city, title and the official who posted it (its contact).
- ``groups``: a working group's or the Peer Steering Committee's name and kind.
- ``group_members``: per group and member (a city, an official, a partner expert), active or left,
  from ``MemberJoined`` and ``MemberLeft`` — who hears a group's decisions and deliverables: its
  member officials and partner experts and the verified officials of its member cities, as they
  stand when the event arrives (one who left hears nothing after).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nrn_contracts.events import peer

from nrn_kit.calendar import Attendee, Invitation
from nrn_kit.localtime import us_date
from nrn_kit.mongo import Tx

from .adapters import mongo as repo
from .domain import wording
from .domain.rules import Calendar, Rule, Who
from .domain.zones import NRN_ZONE

CONVENING_EVENTS = (peer.RegistrationConfirmed, peer.RegistrationWaitlisted, peer.WaitlistPromoted,
                    peer.RegistrationCancelled, peer.ConveningUpdated, peer.ConveningCancelled)
INTRODUCTION_EVENTS = (peer.IntroductionOffered, peer.IntroductionAnswered)
PRO_BONO_EVENTS = (peer.MatchProposed, peer.MatchAccepted, peer.MatchDeclined, peer.HoursLogged,
                   peer.ProjectReviewed)
GROUP_EVENTS = (peer.MemberJoined, peer.MemberLeft, peer.GroupDecisionRecorded, peer.DeliverablePublished)
REVIEW_WORDS = {"opened": "approved and opened for matching", "returned": "returned to you for changes",
                "declined": "declined"}
# what people act on when a convening changes, and how the message names it
NOTICEABLE = {"starts_at": "the time", "ends_at": "the time", "timezone": "the time", "location": "the place",
              "title": "the name"}
CANCEL_REASONS = {"by_registrant": "you cancelled it", "by_staff": "NRN staff cancelled it",
                  "hold_expired": "the place held for you was not confirmed in time and went to the next person "
                                  "on the waitlist",
                  "convening_cancelled": "the convening itself was cancelled"}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ------------------------------------------------------------------ read models


async def remember_convening(tx: Tx, event: peer.ConveningScheduled) -> None:
    await tx.db[repo.CONVENINGS].update_one({"_id": event.convening_id}, {
        "$set": {"title": event.title, "starts_at": event.starts_at, "ends_at": event.ends_at,
                 "location": event.location, "timezone": event.timezone, "status": "scheduled"},
        "$setOnInsert": {"sequence": 0}}, upsert=True, session=tx.session)


async def convening_updated(tx: Tx, event: peer.ConveningUpdated) -> None:
    """Keep the previous time, place and title beside the new ones; an event not newer than what
    is known (a redelivery) changes nothing."""
    doc = await tx.db[repo.CONVENINGS].find_one({"_id": event.convening_id}, session=tx.session)
    if doc is not None and doc.get("sequence", -1) >= event.sequence:
        return
    before = {k: doc.get(k) for k in NOTICEABLE} if doc is not None and "starts_at" in doc else None
    await tx.db[repo.CONVENINGS].update_one({"_id": event.convening_id}, {"$set": {
        "title": event.title, "starts_at": event.starts_at, "ends_at": event.ends_at, "location": event.location,
        "timezone": event.timezone, "sequence": event.sequence, "before": before, "status": "scheduled"}},
        upsert=True, session=tx.session)


async def convening_cancelled(tx: Tx, event: peer.ConveningCancelled) -> None:
    await tx.db[repo.CONVENINGS].update_one({"_id": event.convening_id}, {"$set": {
        "status": "cancelled", "title": event.title, "reason": event.reason}}, upsert=True, session=tx.session)


REGISTRATION_STATUS = {peer.RegistrationConfirmed: "confirmed", peer.RegistrationWaitlisted: "waitlisted",
                       peer.WaitlistPromoted: "offered", peer.RegistrationCancelled: "cancelled"}


async def remember_registration(tx: Tx, event: Any) -> None:
    await tx.db[repo.REGISTRATIONS].update_one({"_id": event.registration_id}, {"$set": {
        "convening_id": event.convening_id, "account_id": event.account_id, "city_id": event.city_id,
        "status": REGISTRATION_STATUS[type(event)], "cancel_reason": getattr(event, "reason", None)}},
        upsert=True, session=tx.session)


async def remember_introduction(tx: Tx, event: peer.IntroductionOffered) -> None:
    await tx.db[repo.INTRODUCTIONS].update_one({"_id": event.introduction_id}, {"$set": {
        "city_ids": [event.city_id, event.other_city_id], "offered_by": event.by}}, upsert=True, session=tx.session)


async def remember_project(tx: Tx, event: peer.ProjectPosted) -> None:
    await tx.db[repo.PROJECTS].update_one({"_id": event.project_id}, {"$set": {
        "city_id": event.city_id, "title": event.title, "posted_by": event.by}}, upsert=True, session=tx.session)


async def remember_group(tx: Tx, event: peer.WorkingGroupFormed) -> None:
    await tx.db[repo.GROUPS].update_one({"_id": event.working_group_id}, {"$set": {
        "name": event.name, "kind": event.kind}}, upsert=True, session=tx.session)


async def membership_changed(tx: Tx, event: peer.MemberJoined | peer.MemberLeft) -> None:
    """A member joined (again) or left. ``_id`` ``<group>:<member kind>:<member id>``; an event older
    than the member's last change (``at``) changes nothing."""
    key = f"{event.working_group_id}:{event.member_kind}:{event.member_id}"
    fields = {"group_id": event.working_group_id, "member_kind": event.member_kind, "member_id": event.member_id,
              "city_id": event.city_id, "active": isinstance(event, peer.MemberJoined), "changed_at": event.at}
    doc = await tx.db[repo.GROUP_MEMBERS].find_one({"_id": key}, {"changed_at": 1}, session=tx.session)
    if doc is not None and _utc(doc.get("changed_at")) > event.at:
        return
    await tx.db[repo.GROUP_MEMBERS].update_one({"_id": key}, {"$set": fields}, upsert=True, session=tx.session)


# ------------------------------------------------------------------ who the peer rows name


@dataclass
class PeerRef:
    """What a peer event is about, read once per event: the convening or the introduction, the
    account ids each peer row names, and the cities a recipient's own city must be one of."""

    convening: dict | None = None
    introduction: dict | None = None
    project: dict | None = None
    group: dict | None = None
    volunteer: dict | None = None  # the volunteer's account (name, e-mail), for the city once both accepted
    named: dict[Who, list[str]] = field(default_factory=dict)
    cities: tuple[str, ...] = ()
    city_names: dict[str, str] = field(default_factory=dict)

    def changes(self) -> list[str]:
        """What changed, in words ('the time', 'the place'); [] when the previous version is unknown."""
        before = (self.convening or {}).get("before")
        if not before:
            return []
        now = self.convening
        words = [w for k, w in NOTICEABLE.items()
                 if (_utc(before.get(k)) if k.endswith("_at") else before.get(k))
                 != (_utc(now.get(k)) if k.endswith("_at") else now.get(k))]
        return list(dict.fromkeys(words))


async def _registrants(tx: Tx, convening_id: str, statuses: list[str], *, reason: str | None = None) -> list[str]:
    query: dict[str, Any] = {"convening_id": convening_id, "status": {"$in": statuses}}
    if reason is not None:
        query["cancel_reason"] = reason
    cursor = tx.db[repo.REGISTRATIONS].find(query, {"account_id": 1}, session=tx.session)
    return list(dict.fromkeys([d["account_id"] async for d in cursor]))


async def officials_of(tx: Tx, city_ids: list[str]) -> list[str]:
    cursor = tx.db[repo.PEOPLE].find({"city_id": {"$in": city_ids}, "kind": "official", "status": "verified"},
                                     {"_id": 1}, session=tx.session)
    return [d["_id"] async for d in cursor]


async def _group_members(tx: Tx, group_id: str) -> list[str]:
    """The accounts a group's notices reach: its member officials and partner experts, and the
    verified officials of its member cities (each once)."""
    members = [d async for d in tx.db[repo.GROUP_MEMBERS].find({"group_id": group_id, "active": True},
                                                               {"member_kind": 1, "member_id": 1}, session=tx.session)]
    people = [d["member_id"] for d in members if d["member_kind"] != "city"]
    cities = [d["member_id"] for d in members if d["member_kind"] == "city"]
    return list(dict.fromkeys(people + (await officials_of(tx, cities) if cities else [])))


async def city_labels(tx: Tx, city_ids: list[str]) -> dict[str, str]:
    cursor = tx.db[repo.CITIES].find({"_id": {"$in": city_ids}}, session=tx.session)
    return {d["_id"]: f"{d.get('name')}, {d.get('state')}" if d.get("state") else d.get("name") or "a peer city"
            async for d in cursor}


async def peer_ref(tx: Tx, rules: list[Rule], event: Any) -> PeerRef | None:
    """The subject of a peer event and whom its rows name; None for an event of another program."""
    if isinstance(event, CONVENING_EVENTS):
        ref = PeerRef(convening=await tx.db[repo.CONVENINGS].find_one({"_id": event.convening_id},
                                                                       session=tx.session))
        for rule in rules:
            if rule.who is Who.confirmed_registrants or rule.who is Who.waiting_registrants:
                conv = ref.convening or {}
                # a stale update (a later one told them already) or one nobody acts on tells nobody
                if conv.get("sequence") != event.sequence or (conv.get("before") and not ref.changes()):
                    ref.named[rule.who] = []
                    continue
                statuses = ["confirmed"] if rule.who is Who.confirmed_registrants else ["waitlisted", "offered"]
                ref.named[rule.who] = await _registrants(tx, event.convening_id, statuses)
            elif rule.who is Who.registrants_it_cancelled:
                ref.named[rule.who] = await _registrants(tx, event.convening_id, ["cancelled"],
                                                         reason="convening_cancelled")
        return ref
    if isinstance(event, PRO_BONO_EVENTS):
        project = await tx.db[repo.PROJECTS].find_one({"_id": event.project_id}, session=tx.session) or {}
        volunteer = await tx.db[repo.PEOPLE].find_one({"_id": getattr(event, "account_id", None)},
                                                      session=tx.session) if hasattr(event, "account_id") else None
        ref = PeerRef(project=project, volunteer=volunteer, cities=(event.city_id,),
                      city_names=await city_labels(tx, [event.city_id]))
        for rule in rules:
            if rule.who is Who.project_contact:
                ref.named[rule.who] = [project["posted_by"]] if project.get("posted_by") else []
            elif rule.who is Who.volunteer:
                ref.named[rule.who] = [event.account_id]
        return ref
    if isinstance(event, GROUP_EVENTS):
        ref = PeerRef(group=await tx.db[repo.GROUPS].find_one({"_id": event.working_group_id}, session=tx.session))
        for rule in rules:
            if rule.who is Who.joining_member:
                ref.named[rule.who] = await officials_of(tx, [event.member_id]) \
                    if event.member_kind == "city" else [event.member_id]
            elif rule.who is Who.group_members:
                ref.named[rule.who] = await _group_members(tx, event.working_group_id)
        return ref
    if isinstance(event, INTRODUCTION_EVENTS):
        intro = await tx.db[repo.INTRODUCTIONS].find_one({"_id": event.introduction_id}, session=tx.session) or {}
        pair = [event.city_id, event.other_city_id] if isinstance(event, peer.IntroductionOffered) \
            else list(intro.get("city_ids") or [event.city_id])
        ref = PeerRef(introduction=intro, cities=tuple(pair), city_names=await city_labels(tx, pair))
        for rule in rules:
            if rule.who is Who.officials_of_both_cities:
                ref.named[rule.who] = await officials_of(tx, pair)
            elif rule.who is Who.officials_of_other_city:
                ref.named[rule.who] = await officials_of(tx, [c for c in pair if c != event.city_id])
            elif rule.who is Who.offering_staff:
                ref.named[rule.who] = [intro["offered_by"]] if intro.get("offered_by") else []
        return ref
    return None


def city_for_matrix(ref: PeerRef | None, person: dict) -> str | None:
    """The city the matrix is asked about for a person: for an introduction, the person's own city
    when it is one of the two (an official of a third city is refused), else none."""
    if ref is None or not ref.cities:
        return None
    own = person.get("city_id")
    return own if own in ref.cities else "-not-one-of-the-two-"


# ------------------------------------------------------------------ a convening's invitation


async def convening_invitation(tx: Tx, *, method: Calendar, event: Any, ref: PeerRef, person: dict,
                               organizer: Attendee, uid_domain: str, url: str,
                               now: datetime) -> tuple[Invitation, bool] | None:
    """The convening's calendar entry for one registrant after ``event``: REQUEST (a new entry, or a
    moved one with the same UID and a higher SEQUENCE — the convening's own SEQUENCE from
    ``ConveningUpdated`` when it is higher) or CANCEL (only when their entry is open); None when
    there is nothing on their calendar to change, or the convening's end is unknown. ``bool``: an update."""
    conv = ref.convening or {}
    if not conv.get("starts_at") or not conv.get("ends_at"):
        return None
    key = f"{event.convening_id}:{person['_id']}"
    doc = await tx.db[repo.INVITATIONS].find_one({"_id": key}, session=tx.session)
    open_ = bool(doc and doc.get("open"))
    if method is Calendar.cancel and not open_:
        return None
    uid = f"convening-{event.convening_id}@{uid_domain}"
    sequence = max(int(conv.get("sequence") or 0), doc["sequence"] + 1 if doc else 0)
    await tx.db[repo.INVITATIONS].update_one({"_id": key}, {"$set": {
        "uid": uid, "sequence": sequence, "open": method is Calendar.request, "updated_at": now}},
        upsert=True, session=tx.session)
    starts, ends = _utc(conv["starts_at"]), _utc(conv["ends_at"])
    title = conv.get("title") or "NRN convening"
    invitation = Invitation(
        uid=uid, sequence=sequence, method=method.value, starts_at=starts,
        duration_minutes=max(1, int((ends - starts).total_seconds() // 60)), zone=conv.get("timezone") or NRN_ZONE,
        summary=title, description=f"{title}, a convening of the SC2 National Resource Network.\nIts page: {url}",
        url=url, organizer=organizer, attendees=(Attendee(person.get("name") or "", person["email"]),)
        if person.get("email") else (), stamp=now, location=conv.get("location") or "Online")
    return invitation, method is Calendar.request and open_


# ------------------------------------------------------------------ words and links


def link_path(event: Any, person: dict | None = None) -> str | None:
    if isinstance(event, CONVENING_EVENTS):
        return f"/convenings/{event.convening_id}"
    if isinstance(event, PRO_BONO_EVENTS):
        # the volunteer's matches are on the talent network's page; the city's on the project's
        return "/probono" if (person or {}).get("kind") == "partner_member" else f"/probono/projects/{event.project_id}"
    if isinstance(event, INTRODUCTION_EVENTS):
        return "/introductions"
    if isinstance(event, peer.DeliverablePublished):
        return f"/library/deliverable-{event.deliverable_id}"  # the library publishes it under this id
    if isinstance(event, GROUP_EVENTS):
        return f"/groups/{event.working_group_id}"
    return None


def context(event: Any, ref: PeerRef, person: dict, zone: str) -> dict[str, Any]:
    """The words of a peer message for ``person`` (times in the venue's zone: the convening happens there)."""
    if isinstance(event, INTRODUCTION_EVENTS):
        return _introduction_context(event, ref, person)
    if isinstance(event, PRO_BONO_EVENTS):
        return _pro_bono_context(event, ref)
    if isinstance(event, GROUP_EVENTS):
        return _group_context(event, ref, person)
    conv = ref.convening or {}
    venue = getattr(event, "timezone", None) or conv.get("timezone") or zone
    starts = getattr(event, "convening_starts_at", None) or getattr(event, "starts_at", None) or conv.get("starts_at")
    ctx: dict[str, Any] = {
        "convening": getattr(event, "convening_title", None) or getattr(event, "title", None) or conv.get("title")
        or "the convening",
        "starts": wording.when(_utc(starts), venue) if starts else None,
        "place": conv.get("location") or "online",
    }
    if isinstance(event, peer.ConveningUpdated):
        ctx.update(changes=" and ".join(ref.changes()) or "the details", place=event.location or "online",
                   ends=wording.when(event.ends_at, venue))
    elif isinstance(event, peer.ConveningCancelled):
        ctx.update(reason=event.reason)
    else:
        ctx.update(position=getattr(event, "position", None),
                   hold_until=wording.when(event.hold_until, venue) if isinstance(event, peer.WaitlistPromoted) else None,
                   cancelled_because=CANCEL_REASONS.get(getattr(event, "reason", ""), ""),
                   from_waitlist=getattr(event, "from_waitlist", False))
    return ctx


def _introduction_context(event: Any, ref: PeerRef, person: dict) -> dict[str, Any]:
    names = ref.city_names
    if isinstance(event, peer.IntroductionOffered):
        own = person.get("city_id")
        other = event.other_city_id if own == event.city_id else event.city_id
        return {"other_city": names.get(other, "a peer city"), "reason": event.reason}
    answering = names.get(event.city_id, "a peer city")
    others = [names.get(c, "a peer city") for c in ref.cities if c != event.city_id]
    return {"answering_city": answering, "other_city": others[0] if others else "the other city",
            "accepted": event.accepted, "both_accepted": event.status == "accepted",
            "declined": event.status == "declined"}


def _hours(value: float) -> str:
    return f"{value:g} hour{'' if value == 1 else 's'}"


def _pro_bono_context(event: Any, ref: PeerRef) -> dict[str, Any]:
    """A pro bono message's words. The volunteer is named to the city only once both sides accepted
    (an accepted match, then its hours); before, the city reads the proposal's reasons alone."""
    project = ref.project or {}
    volunteer = ref.volunteer or {}
    both = isinstance(event, peer.MatchAccepted) and event.status == "accepted" or isinstance(event, peer.HoursLogged)
    ctx: dict[str, Any] = {
        "project": getattr(event, "project_title", None) or project.get("title") or "your project",
        "city": ref.city_names.get(event.city_id, "the city"),
        "volunteer_name": (volunteer.get("name") or "the volunteer") if both else None,
        "volunteer_email": volunteer.get("email") if both else None,
        "both_accepted": bool(isinstance(event, peer.MatchAccepted) and event.status == "accepted"),
    }
    if isinstance(event, peer.MatchProposed):
        ctx.update(hours=_hours(event.hours_agreed), reasons=list(event.reasons),
                   by_city=event.proposed_by == "city")
    elif isinstance(event, peer.MatchDeclined):
        ctx.update(reason=event.reason)
    if isinstance(event, peer.MatchAccepted | peer.MatchDeclined):
        ctx.update(to_volunteer=event.side == "city")  # the other side reads it
    elif isinstance(event, peer.HoursLogged):
        ctx.update(hours=_hours(event.hours), worked_on=us_date(event.worked_on), note=event.note)
    elif isinstance(event, peer.ProjectReviewed):
        ctx.update(decision=REVIEW_WORDS.get(event.decision, "reviewed"), opened=event.decision == "opened",
                   returned=event.decision == "returned", note=event.note)
    return ctx


def _group_context(event: Any, ref: PeerRef, person: dict) -> dict[str, Any]:
    """A working group's message: the group by name, and what happened to whom (the reader or
    their city), a decision's summary and day, or the published deliverable."""
    group = ref.group or {}
    name = group.get("name") or getattr(event, "working_group_name", None) or (
        "the Peer Steering Committee" if group.get("kind") == "steering_committee" else "your working group")
    ctx: dict[str, Any] = {"group": name}
    if isinstance(event, peer.MemberJoined | peer.MemberLeft):
        city = event.member_kind == "city"
        ctx.update(as_city=city, city_name=(getattr(event, "name", None) or person.get("city_name") or "your city")
                   if city else None)
    if isinstance(event, peer.MemberJoined):
        ctx.update(term_starts=us_date(event.term_starts_on) if event.term_starts_on else None,
                   term_ends=us_date(event.term_ends_on) if event.term_ends_on else None)
    elif isinstance(event, peer.MemberLeft):
        ctx.update(reason=event.reason)
    elif isinstance(event, peer.GroupDecisionRecorded):
        ctx.update(summary=event.summary, decided_on=us_date(event.decided_on))
    elif isinstance(event, peer.DeliverablePublished):
        ctx.update(group=event.working_group_name or name, title=event.title, summary=event.summary)
    return ctx
