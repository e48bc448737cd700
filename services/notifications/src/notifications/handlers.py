"""Use cases: from an event to notices and messages; reading and marking notices; preferences;
unsubscribing; digests and follow-up reminders; staff retrying a message.

The consumer side (:func:`notify`) runs inside the consumer's transaction, together with the
inbox record of the event: it writes the in-page notice and, for an e-mail, the message to
the ``mail`` outbox. It never talks to the SMTP server (``sender.py`` does), so a slow or dead
mail server cannot hold back consumption.

Idempotency: a notice's ``_id`` is ``<event id>:<recipient>:<kind>``, inserted only if absent
(``$setOnInsert``) in the same transaction as its message, so an event delivered twice, redriven
from the dead-letter topic, or replayed after the inbox forgot it tells nobody twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from nrn_contracts import EVENT_TYPES
from nrn_contracts.events import accounts as acc
from nrn_contracts.events import partners as ptn
from nrn_contracts.events import requests311 as r311
from pymongo import DESCENDING, UpdateMany, UpdateOne
from pymongo.errors import ConnectionFailure

from nrn_kit.http import DomainError, NotFound
from nrn_kit.mongo import Store, Tx

from . import handlers_engagements as he
from . import handlers_peer as hp
from .adapters import mongo as repo
from .config import Settings
from .domain import wording
from nrn_kit.calendar import Attendee, Invitation, build_ics
from .domain.kinds import KINDS, Mode, kinds_for, mode_for
from .domain.messages import Rendered, compose as compose_message, message_id
from .domain.people import Person, may_receive
from .domain.rules import OPEN_CALL_STATES, Calendar, FollowUpDue, Rule, Who, rules_for
from .domain.unsubscribe import BadToken, make_token, read_token
from .domain.zones import NRN_ZONE, US_ZONES, next_local_time, valid_zone, zone_for_state
from .render import TemplateFailed, headline, render

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


DEFAULT_DIGEST_TIME = time(8, 0)
DIGEST_MAX_ITEMS = 200
FOLLOW_UP_AFTER = timedelta(days=90)  # as requests311 counts it: from the close


@dataclass
class Deps:
    store: Store
    settings: Settings
    clock: Clock = system_clock

    @property
    def db(self):  # noqa: ANN201
        return self.store.db

    def url(self, path: str) -> str:
        base = (self.settings.public_url or "http://127.0.0.1:8000").rstrip("/")
        return base + path


class Invalid(DomainError):
    """Bad input (422), naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field, status=422, code="invalid-input", title="Invalid input")


# ------------------------------------------------------------------ subjects and recipients


@dataclass
class RequestRef:
    id: str
    title: str
    city_id: str | None
    city_name: str
    zone: str
    official_id: str | None
    expert_id: str | None


# Look-ups shared by the events of one transaction (a consumer applies a fetched batch in one):
# the triage leads, the asking official, the city are the same for a run of QuestionSubmitted, and
# a look-up costs the database a round trip each. Every write to the read models they come from
# (people, cities, requests) in the transaction forgets them all (:func:`_changed`), so a later
# event of the batch reads what the earlier ones wrote.
_READS = "notifications.reads"


def _reads(tx: Tx) -> dict[tuple[str, Any], Any]:
    return tx.memo.setdefault(_READS, {})


def _changed(tx: Tx, *keys: tuple[str, Any]) -> None:
    """A read model (people, cities, requests) changed in this transaction: look up again those
    ``keys`` (``("request", id)``), or everything when none are named."""
    if not keys:
        tx.memo.pop(_READS, None)
    for key in keys:
        _reads(tx).pop(key, None)


async def _request(tx: Tx, event: Any) -> RequestRef | None:
    request_id = getattr(event, "request_id", None)
    if request_id is None:
        return None
    reads = _reads(tx)
    known = reads.get(("request", request_id))
    if ("request", request_id) not in reads or (
            known is not None and known.get(_SET_BY, None) not in (None, tx.envelope.id if tx.envelope else None)):
        await _write_requests(tx)
        reads["request", request_id] = await tx.db[repo.REQUESTS].find_one({"_id": request_id}, session=tx.session)
    doc = dict(reads["request", request_id] or {})
    city_id = doc.get("city_id") or getattr(event, "city_id", None)
    if "city_name" not in doc and city_id:  # the request's city is copied in when it is first heard of
        doc.update(await _city_fields(tx, city_id))
    return RequestRef(
        id=request_id, title=doc.get("title") or getattr(event, "title", None) or "your question",
        city_id=city_id, city_name=doc.get("city_name") or "the city", zone=doc.get("city_zone") or NRN_ZONE,
        official_id=doc.get("official_id") or getattr(event, "official_id", None),
        expert_id=getattr(event, "expert_id", None) or doc.get("expert_id"),
    )


async def _city_fields(tx: Tx, city_id: str) -> dict[str, str]:
    reads = _reads(tx)
    if ("city", city_id) not in reads:
        reads["city", city_id] = await tx.db[repo.CITIES].find_one({"_id": city_id}, session=tx.session)
    city = reads["city", city_id] or {}
    return {"city_name": city.get("name") or "the city",
            "city_zone": city.get("time_zone") or zone_for_state(city.get("state"))}


def _named(who: Who, event: Any, request: RequestRef | None, peer_ref: hp.PeerRef | None = None) -> list[str]:
    """The account ids a row names (its roles aside)."""
    if peer_ref is not None and who in peer_ref.named:
        return peer_ref.named[who]
    if who is Who.account_holder:
        return [event.account_id]
    if request is None:
        return []
    if who is Who.asking_official:
        return [request.official_id]
    if who is Who.assigned_expert:
        return [request.expert_id]
    if who is Who.official_and_expert:
        return [request.official_id, request.expert_id]
    return []


ROLE_OF = {Who.triage_leads: "triage_lead", Who.program_managers: "program_manager",
           Who.partner_administrators: "partner_administrator"}


async def _audience(tx: Tx, rules: list[Rule], event: Any, request: RequestRef | None,
                    peer_ref: hp.PeerRef | None) -> tuple[dict, dict]:
    """Everyone the rows may name, in two reads: {id: person} of the named (only those this service
    knows: a document without "kind" holds only what came before AccountRegistered), and
    {role: [people]} of the roles."""
    reads = _reads(tx)
    ids = list(dict.fromkeys(i for rule in rules for i in _named(rule.who, event, request, peer_ref) if i))
    unknown = [i for i in ids if ("person", i) not in reads]
    if unknown:
        found = {d["_id"]: d async for d in tx.db[repo.PEOPLE].find({"_id": {"$in": unknown}}, session=tx.session)}
        reads.update({("person", i): found.get(i) for i in unknown})
    people = {i: reads["person", i] for i in ids if (reads["person", i] or {}).get("kind")}
    roles = tuple(sorted({ROLE_OF[rule.who] for rule in rules if rule.who in ROLE_OF}))
    if roles and ("roles", roles) not in reads:
        by_role: dict[str, list[dict]] = {role: [] for role in roles}
        cursor = tx.db[repo.PEOPLE].find({"roles": {"$in": list(roles)}, "status": "verified"},
                                         session=tx.session)
        async for doc in cursor:
            for role in roles:
                if role in doc.get("roles", ()):
                    by_role[role].append(doc)
        reads["roles", roles] = by_role
    return people, (reads["roles", roles] if roles else {})


def _recipients(rule: Rule, event: Any, request: RequestRef | None, people: dict, by_role: dict,
                peer_ref: hp.PeerRef | None) -> tuple[list[dict], list[str]]:
    """Who a row names, and the named people not known yet (accounts' events come on another topic)."""
    if rule.who is Who.partner_administrators:  # of the partner the event is about, no other
        return [d for d in by_role[ROLE_OF[rule.who]] if d.get("partner_id") == event.partner_id], []
    if rule.who in ROLE_OF:
        return by_role[ROLE_OF[rule.who]], []
    ids = list(dict.fromkeys(i for i in _named(rule.who, event, request, peer_ref) if i))
    if isinstance(event, acc.MailboxConfirmationRequested | acc.PasswordResetRequested):
        # the link goes to the address the event names (the one being confirmed), whatever we knew
        base = people.get(event.account_id) or {"_id": event.account_id, "kind": "", "status": "pending"}
        return [{**base, "email": event.email, "name": event.name}], []
    return [people[i] for i in ids if i in people], [i for i in ids if i not in people]


# ------------------------------------------------------------------ the consumer side


async def notify(tx: Tx, deps: Deps, event: Any, event_id: str, *, only: str | None = None) -> int:
    """Apply the table's rows for ``event``: notices and messages for everyone the rows and the
    matrix allow (``only``: for that person alone). Returns how many notices it made ready (written
    before the transaction commits; those told already are skipped then). Unknown event types do
    nothing. A named person this service has not heard of yet is told later: the event waits in
    ``deferred`` until their account's events arrive (:func:`replay_deferred`).

    Reads: the request (one), the people and roles named (two), each once per transaction unless
    a read model changed meanwhile (:func:`_reads`); writes: at the end of the transaction, for
    all its events together, the notices (one bulk upsert, the idempotency check), then the
    messages of the new ones (one bulk upsert) (:func:`_record`)."""
    rules = rules_for(type(event).type, event)
    if not rules:
        return 0
    now = deps.clock()
    request = await _request(tx, event)
    # peer's and direct assistance's subjects: whom their rows name and the cities the matrix is asked about
    peer_ref = await hp.peer_ref(tx, rules, event) or await he.assistance_ref(tx, rules, event)
    people, by_role = await _audience(tx, rules, event, request, peer_ref)
    told: list[Telling] = []
    for rule in rules:
        docs, missing = _recipients(rule, event, request, people, by_role, peer_ref)
        if only is not None:
            docs, missing = [d for d in docs if d["_id"] == only], []
        for person_id in missing:
            await _defer(tx, event, event_id, person_id, now)
        allowed = [d for d in docs if may_receive(Person.from_document(d), action=rule.action,
                                                  city_id=request.city_id if request else hp.city_for_matrix(peer_ref, d),
                                                  about_account=getattr(event, "account_id", None),
                                                  partner_id=getattr(event, "partner_id", None))]
        if not allowed:
            continue
        if isinstance(event, hp.CONVENING_EVENTS):
            # a convening's invitation is each registrant's own (nobody else's address on it); a
            # registrant with nothing on their calendar to change is still told
            for doc in allowed:
                invitation = await hp.convening_invitation(
                    tx, method=rule.calendar, event=event, ref=peer_ref, person=doc,
                    organizer=Attendee(*_mail_from(deps.settings.mail_from)), uid_domain=deps.settings.id_domain,
                    url=deps.url(hp.link_path(event)), now=now) if rule.calendar is not None else None
                told.append(_telling(deps, rule, event, event_id, doc, request, invitation, now, peer_ref))
            continue
        invitation = None
        if rule.calendar is not None:
            invitation = await _invitation(tx, deps, rule.calendar, event, request, allowed, now)
            if invitation is None:
                continue  # nothing on anyone's calendar to change
        told += [_telling(deps, rule, event, event_id, doc, request, invitation, now, peer_ref) for doc in allowed]
    _record(tx, deps, told)
    return len(told)


async def _invitation(tx: Tx, deps: Deps, method: Calendar, event: Any, request: RequestRef,
                      people: list[dict], now: datetime) -> tuple[Invitation, bool] | None:
    """The call's calendar event after ``event`` (UID kept across moves, SEQUENCE one higher each
    version), or None when a cancellation finds no open invitation. ``bool``: an update."""
    calls = tx.db[repo.CALLS]
    doc = await calls.find_one({"_id": request.id}, session=tx.session)
    open_ = doc is not None and doc.get("state") in OPEN_CALL_STATES
    if method is Calendar.request:
        if open_:
            uid, sequence, rounds = doc["uid"], doc["sequence"] + 1, doc["round"]
        else:
            rounds = (doc or {}).get("round", 0) + 1
            uid, sequence = f"call-{request.id}-{rounds}@{deps.settings.id_domain}", 0
        starts_at, duration = event.scheduled_for, event.duration_minutes
        state = "scheduled"
    else:
        if not open_:
            return None
        uid, sequence, rounds = doc["uid"], doc["sequence"] + 1, doc["round"]
        starts_at, duration, state = doc["starts_at"], doc["duration_minutes"], "cancelled"
    await calls.update_one({"_id": request.id}, {"$set": {
        "uid": uid, "sequence": sequence, "round": rounds, "state": state, "starts_at": starts_at,
        "duration_minutes": duration, "updated_at": now}}, upsert=True, session=tx.session)
    sender_name, sender_email = _mail_from(deps.settings.mail_from)
    invitation = Invitation(
        uid=uid, sequence=sequence, method=method.value, starts_at=starts_at, duration_minutes=duration,
        zone=request.zone, summary=f"NRN call: {request.title}",
        description=f"Call with the SC2 National Resource Network about “{request.title}”.\n"
                    f"The request: {deps.url('/requests/' + request.id)}",
        url=deps.url("/requests/" + request.id), organizer=Attendee(sender_name, sender_email),
        attendees=tuple(Attendee(p.get("name") or "", p["email"]) for p in people if p.get("email")),
        stamp=now,
    )
    return invitation, method is Calendar.request and open_


def _mail_from(value: str) -> tuple[str, str]:
    match = re.match(r"^\s*(.*?)\s*<([^>]+)>\s*$", value)
    return (match.group(1).strip('"'), match.group(2)) if match else ("", value.strip())


def _zone_of(person: dict, request: RequestRef | None) -> str:
    chosen = (person.get("prefs") or {}).get("time_zone")
    if chosen:
        return chosen
    if person.get("kind") == "official" and request is not None:
        return request.zone
    return person.get("city_zone") or NRN_ZONE


def _link_path(rule: Rule, event: Any, person: dict, request: RequestRef | None) -> str:
    if isinstance(event, ptn.WebhookEndpointDisabled):
        return f"/partner/webhooks/{event.endpoint_id}"
    program_path = hp.link_path(event, person) or he.link_path(event, person)
    if program_path is not None:
        return program_path
    if request is None:
        return "/"
    staff = person.get("kind") == "staff"
    path = f"/staff/requests/{request.id}" if staff else f"/requests/{request.id}"
    return path + ("#follow-up" if isinstance(event, FollowUpDue) else "")


def _context(deps: Deps, rule: Rule, event: Any, person: dict, request: RequestRef | None,
             invitation: tuple[Invitation, bool] | None, link_path: str,
             peer_ref: hp.PeerRef | None = None) -> dict[str, Any]:
    kind = KINDS[rule.kind]
    zone = _zone_of(person, request)
    ctx: dict[str, Any] = {
        "person": {"name": person.get("name") or "there"},
        "link": deps.url(link_path),
        "preferences_url": deps.url("/notifications/settings"),
        "kind_label": kind.label,
        "unsubscribe_url": deps.url("/unsubscribe?token=" + make_token(
            deps.settings.unsubscribe_secret.get_secret_value(), person["_id"], kind.key)) if kind.unsubscribable else None,
    }
    if request is not None:
        ctx["request"] = {"title": request.title, "city_name": request.city_name}
    if isinstance(event, acc.MailboxConfirmationRequested):
        ctx.update(link=deps.url("/confirm-email?token=" + event.token), expires=wording.when(event.expires_at, zone))
    elif isinstance(event, acc.PasswordResetRequested):
        ctx.update(link=deps.url("/reset-password?token=" + event.token), expires=wording.when(event.expires_at, zone))
    elif isinstance(event, acc.PasswordChanged):
        ctx.update(when=wording.when(event.at, zone), via_reset=event.via == "reset_link",
                   reset_url=deps.url("/forgot-password"))
    elif isinstance(event, acc.AccountVerified):
        ctx.update(city_name=person.get("city_name"))
    elif isinstance(event, acc.AccountInformationRequested):
        ctx.update(message=event.message, city_name=person.get("city_name"))
    elif isinstance(event, acc.AccountRejected):
        ctx.update(reason=event.reason, city_name=person.get("city_name"))
    elif isinstance(event, r311.QuestionSubmitted):
        ctx.update(topic_label=wording.label(wording.TOPIC_LABELS, event.topic),
                   urgency_label=wording.label(wording.URGENCY_LABELS, event.urgency))
    elif isinstance(event, r311.InformationRequested):
        ctx.update(message=event.message)
    elif isinstance(event, r311.ExpertAssigned):
        ctx.update(due=wording.when(event.due_at, zone) if event.due_at else None)
    elif isinstance(event, r311.MemoReturned):
        ctx.update(version=event.version, reason=event.reason)
    elif isinstance(event, r311.CallRescheduleRequested):
        ctx.update(reason=event.reason, preferred=list(event.preferred_call_times))
    elif isinstance(event, r311.MemoDelivered):
        ctx.update(short_answer=event.short_answer)
    elif isinstance(event, r311.CallSlotsOffered):
        city_zone = request.zone if request else zone
        ctx.update(slots=[f"{wording.when(s.starts_at, city_zone)} ({s.duration_minutes} minutes)" for s in event.slots],
                   zone_label=f"{request.city_name if request else 'the city'}'s time")
    elif isinstance(peer_ref, he.AssistanceRef):
        ctx.update(he.context(event, peer_ref, person, zone))
    elif peer_ref is not None:
        ctx.update(hp.context(event, peer_ref, person, zone), calendar=invitation is not None)
    elif isinstance(event, ptn.WebhookEndpointDisabled):
        ctx.update(url=event.url, endpoint_description=event.description, gone=event.reason == "gone",
                   attempts=event.attempts, last_error=event.last_error, when=wording.when(event.at, zone))
    elif isinstance(event, r311.ServiceLevelBreached):
        ctx.update(step_label=wording.label(wording.STEP_LABELS, event.step), due=wording.when(event.due_at, zone))
    if isinstance(event, r311.CallCancelled | r311.RequestClosed):
        ctx.update(because="the city cancelled it" if isinstance(event, r311.CallCancelled) else "the request was closed",
                   reason=getattr(event, "reason", None) if isinstance(event, r311.CallCancelled) else None)
    if invitation is not None and peer_ref is None:
        inv, updated = invitation
        others = [a.name for a in inv.attendees if a.email != person.get("email")]
        city_when = wording.when(inv.starts_at, inv.zone)
        own_when = wording.when(inv.starts_at, zone)
        ctx.update(updated=updated, call={
            "when": city_when, "duration": inv.duration_minutes,
            "when_other": f"{own_when} in your time zone" if own_when != city_when else None,
            "with_whom": ", ".join(n for n in others if n) or "NRN"})
    return ctx


@dataclass
class Telling:
    """One notice for one person, and its message when it is e-mailed now."""

    key: str
    person: dict
    mode: Mode
    notice: dict | None  # None: e-mail only (a single-use link)
    mail: dict
    at: datetime


def _telling(deps: Deps, rule: Rule, event: Any, event_id: str, person: dict, request: RequestRef | None,
             invitation: tuple[Invitation, bool] | None, now: datetime, peer_ref: hp.PeerRef | None = None) -> Telling:
    key = f"{event_id}:{person['_id']}:{rule.kind}"
    kind = KINDS[rule.kind]
    mode = Mode.email_now if kind.security else mode_for(kind, (person.get("prefs") or {}).get("modes", {}).get(kind.key))
    link_path = _link_path(rule, event, person, request)
    context = _context(deps, rule, event, person, request, invitation, link_path, peer_ref)
    ics = build_ics(invitation[0]) if invitation is not None else None
    mail = _mail_document(deps, key=key, kind=kind.key, template=rule.template, context=context, person=person,
                          ics=ics, ics_method=invitation[0].method if invitation else None, now=now)
    title = mail.pop("_summary")
    mail["notice_id"] = key if rule.in_page else None
    notice = {
        "_id": key, "recipient": person["_id"], "kind": kind.key, "event_type": type(event).type,
        "event_id": event_id, "title": title, "link": link_path,
        "city_id": request.city_id if request else None, "created_at": now, "read": False, "read_at": None,
        "mode": mode.value, "digest": "pending" if mode is Mode.daily_digest else None,
    } if rule.in_page else None
    return Telling(key, person, mode, notice, mail, now)


_TOLD = "notifications.told"


def _record(tx: Tx, deps: Deps, told: list[Telling]) -> None:
    """Gather ``told`` with the transaction's other events' notices; :func:`_write_told` writes
    them all just before the commit (four statements for a fetched batch, not two per event)."""
    if not told:
        return
    pending = tx.memo.get(_TOLD)
    if pending is None:
        pending = tx.memo[_TOLD] = []
        tx.before_commit.append(lambda: _write_told(tx, deps, pending))
    pending += told


async def _write_told(tx: Tx, deps: Deps, told: list[Telling]) -> int:
    """Write what is new: a notice whose key exists was told already (a redelivered or replayed
    event) and gets no second message. Returns how many notices and messages were new.

    Four statements whatever the batch: which notices exist (one read by ``_id``), the new ones
    (one ``insert_many``), which of their messages exist, the new messages (one ``insert_many``) —
    not an upsert per notice and per message: the embedded database pays per statement. The
    reads are the transaction's snapshot; another consumer writing the same key meanwhile makes
    the insert a write conflict, and the kit applies the batch again."""
    if not told:
        return 0
    unique: dict[str, Telling] = {}
    for t in told:
        unique.setdefault(t.key, t)  # one key twice in a batch (an event redelivered into it): once
    told = list(unique.values())
    with_notice = [t for t in told if t.notice is not None]
    new = [t for t in told if t.notice is None]
    if with_notice:
        known = await _existing(tx, repo.NOTICES, [t.key for t in with_notice])
        fresh = [t for t in with_notice if t.key not in known]
        if fresh:
            await tx.db[repo.NOTICES].insert_many([t.notice for t in fresh], ordered=False, session=tx.session)
        new = fresh + new
    made = sum(1 for t in new if t.mode is not Mode.email_now)
    mails = [t for t in new if t.mode is Mode.email_now]
    if mails:
        known = await _existing(tx, repo.MAIL, [t.key for t in mails])
        mails = [t for t in mails if t.key not in known]
        if mails:
            await tx.db[repo.MAIL].insert_many([t.mail for t in mails], ordered=False, session=tx.session)
        made += len(mails)
    for t in new:
        if t.mode is Mode.daily_digest:
            await _digest_due(tx, deps, t.person, t.at)
    return made


async def _existing(tx: Tx, collection: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` are ``_id``s in ``collection`` (one read: a filter on ``_id`` alone is a
    point look-up per key on the embedded database)."""
    cursor = tx.db[collection].find({"_id": {"$in": keys}}, {"_id": 1}, session=tx.session)
    return {doc["_id"] async for doc in cursor}


def _mail_document(deps: Deps, *, key: str, kind: str, template: str, context: dict, person: dict,
                   ics: bytes | None, ics_method: str | None, now: datetime) -> dict:
    """A message of the outbox. Only its subject and summary are written now (the notice shows
    them); the sender composes the whole message (:func:`compose`), outside this transaction. A
    template that fails parks the message with the reason, its context kept to compose it again."""
    doc: dict[str, Any] = {
        "_id": key, "recipient": person["_id"], "to": person.get("email"), "to_name": person.get("name") or "",
        "kind": kind, "template": template, "context": context, "ics": ics, "ics_method": ics_method,
        "message_id": message_id(key, deps.settings.id_domain), "date": now, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "sent_at": None, "last_error": None,
        "state": repo.PENDING if person.get("email") else repo.FAILED,
    }
    if not person.get("email"):
        doc["last_error"] = "no email address is known for this person"
    try:
        doc["subject"], doc["_summary"] = headline(template, context)
    except TemplateFailed as exc:
        doc.update(state=repo.PARKED, last_error=str(exc), subject=None,
                   _summary=f"{KINDS[kind].label if kind in KINDS else 'Notice'}: "
                            f"{context.get('request', {}).get('title') or 'a new notice'}")
    return doc


def compose(settings: Settings, doc: dict) -> tuple[bytes, Rendered]:
    """The message's bytes from its template and context (TemplateFailed when the template fails).
    The same document always gives the same bytes."""
    rendered = render(doc["template"], doc["context"])
    raw = compose_message(rendered=rendered, sender=settings.mail_from, to_name=doc.get("to_name") or "",
                          to_email=doc.get("to") or "undisclosed-recipients@invalid", msg_id=doc["message_id"],
                          date=doc["date"], unsubscribe_url=doc["context"].get("unsubscribe_url"),
                          ics=doc.get("ics"), ics_method=doc.get("ics_method"))
    return raw, rendered


def _digest_time(person: dict) -> time:
    raw = (person.get("prefs") or {}).get("digest_time") or "08:00"
    hours, minutes = raw.split(":")
    return time(int(hours), int(minutes))


def _person_zone(person: dict) -> str:
    return (person.get("prefs") or {}).get("time_zone") or person.get("city_zone") or NRN_ZONE


async def _digest_due(tx: Tx, deps: Deps, person: dict, now: datetime) -> None:
    due = next_local_time(now, _digest_time(person), _person_zone(person))
    _changed(tx)
    await tx.db[repo.PEOPLE].update_one({"_id": person["_id"]}, {"$min": {"digest_due_at": due}},
                                        session=tx.session)


async def _defer(tx: Tx, event: Any, event_id: str, person_id: str, now: datetime) -> None:
    await tx.db[repo.DEFERRED].update_one({"_id": f"{event_id}:{person_id}"}, {"$setOnInsert": {
        "person": person_id, "event_id": event_id, "type": type(event).type, "data": event.model_dump(mode="json"),
        "created_at": now}}, upsert=True, session=tx.session)


async def replay_deferred(tx: Tx, deps: Deps, person_id: str) -> int:
    """Tell a person what happened before this service heard of them. Kept while their account is
    pending (a verification may still let them read it); dropped once it was told or refused."""
    person = await tx.db[repo.PEOPLE].find_one({"_id": person_id}, session=tx.session)
    if person is None or not person.get("kind"):
        return 0  # AccountRegistered not seen yet: it replays them
    made = 0
    cursor = tx.db[repo.DEFERRED].find({"person": person_id}, session=tx.session)
    for doc in [d async for d in cursor]:
        cls = FollowUpDue if doc["type"] == FollowUpDue.type else EVENT_TYPES[doc["type"]]
        made += await notify(tx, deps, cls.model_validate(doc["data"]), doc["event_id"], only=person_id)
        if person.get("status") != "pending":
            await tx.db[repo.DEFERRED].delete_one({"_id": doc["_id"]}, session=tx.session)
    return made


# ------------------------------------------------------------------ read models


async def remember_city(tx: Tx, event: acc.CityRegistered) -> None:
    # the zone accounts found from the city's coordinates; the state's main zone for a city without them
    zone = event.time_zone if event.time_zone and valid_zone(event.time_zone) else zone_for_state(event.state)
    _changed(tx)
    await tx.db[repo.CITIES].update_one({"_id": event.city_id}, {"$set": {
        "name": event.name, "state": event.state, "time_zone": zone}}, upsert=True, session=tx.session)
    # officials of the city read times in its zone unless they chose another; its requests likewise
    await _write_requests(tx)
    for collection in (repo.PEOPLE, repo.REQUESTS):
        await tx.db[collection].update_many({"city_id": event.city_id}, {"$set": {
            "city_zone": zone, "city_name": event.name}}, session=tx.session)


async def remember_account(tx: Tx, event: acc.AccountRegistered) -> None:
    _changed(tx)
    city = await tx.db[repo.CITIES].find_one({"_id": event.city_id}, session=tx.session) if event.city_id else None
    fields: dict[str, Any] = {"kind": event.kind, "email": event.email, "name": event.name, "city_id": event.city_id,
                              "partner_id": event.partner_id, "status": event.status}
    if city:
        fields.update(city_zone=city.get("time_zone"), city_name=city.get("name"))
    await tx.db[repo.PEOPLE].update_one({"_id": event.account_id}, {"$set": fields}, upsert=True, session=tx.session)


async def set_status(tx: Tx, account_id: str, status: str) -> None:
    _changed(tx)
    await tx.db[repo.PEOPLE].update_one({"_id": account_id}, {"$set": {"status": status}}, upsert=True,
                                        session=tx.session)


async def grant_role(tx: Tx, event: acc.RoleGranted) -> None:
    _changed(tx)
    update: dict[str, Any] = {"$addToSet": {"roles": event.role}}
    if event.expertise:
        update["$set"] = {"expertise": list(event.expertise)}
    await tx.db[repo.PEOPLE].update_one({"_id": event.account_id}, update, upsert=True, session=tx.session)


async def revoke_role(tx: Tx, event: acc.RoleRevoked) -> None:
    _changed(tx)
    await tx.db[repo.PEOPLE].update_one({"_id": event.account_id}, {"$pull": {"roles": event.role}},
                                        session=tx.session)


async def mailbox_confirmed(tx: Tx, event: acc.MailboxConfirmed) -> None:
    _changed(tx)
    await tx.db[repo.PEOPLE].update_one({"_id": event.account_id}, {"$set": {
        "email": event.email, "mailbox_confirmed_at": event.at}}, upsert=True, session=tx.session)


# Requests heard of in this transaction, written together (one bulk write) just before the commit
# or before anything else in it reads or writes the requests (:func:`_write_requests`): a
# QuestionSubmitted costs no round trip of its own. _id → the fields it sets.
_REQUEST_WRITES = "notifications.request_writes"
# Marks a request look-up that holds only what one event set, not the stored document: good for
# that event's own notices (a new request has nothing else), read again for any other event.
_SET_BY = "_set_by_event"


async def remember_request(tx: Tx, event: r311.QuestionSubmitted) -> None:
    fields = await _city_fields(tx, event.city_id)
    values = {"city_id": event.city_id, "official_id": event.official_id, "title": event.title, **fields}
    writes = tx.memo.get(_REQUEST_WRITES)
    if writes is None:
        writes = tx.memo[_REQUEST_WRITES] = {}
        tx.before_commit.insert(0, lambda: _write_requests(tx))
    writes.setdefault(event.request_id, {}).update(values)
    # what this event's notices read: the request as this event describes it
    assert tx.envelope is not None  # a consumer's transaction
    _reads(tx)["request", event.request_id] = {"_id": event.request_id, **values, _SET_BY: tx.envelope.id}


async def _write_requests(tx: Tx) -> None:
    """Write the requests this transaction heard of and has not written yet (one bulk write)."""
    writes = tx.memo.pop(_REQUEST_WRITES, None)
    if writes:
        await tx.db[repo.REQUESTS].bulk_write(
            [UpdateOne({"_id": request_id}, {"$set": values}, upsert=True) for request_id, values in writes.items()],
            ordered=False, session=tx.session)


async def remember_expert(tx: Tx, event: r311.ExpertAssigned) -> None:
    _changed(tx, ("request", event.request_id))
    await _write_requests(tx)
    await tx.db[repo.REQUESTS].update_one({"_id": event.request_id}, {"$set": {"expert_id": event.expert_id}},
                                          upsert=True, session=tx.session)


async def call_outcome(tx: Tx, request_id: str, state: str) -> None:
    await tx.db[repo.CALLS].update_one({"_id": request_id, "state": "scheduled"}, {"$set": {"state": state}},
                                       session=tx.session)


async def request_closed(tx: Tx, event: r311.RequestClosed) -> None:
    if event.reason != "answered":
        return  # "did you act on it?" means something only for an answered question
    await tx.db[repo.FOLLOW_UPS].update_one({"_id": event.request_id}, {"$set": {
        "state": "scheduled", "closed_at": event.closed_at, "due_at": event.closed_at + FOLLOW_UP_AFTER}},
        upsert=True, session=tx.session)


async def follow_up_not_needed(tx: Tx, request_id: str, state: str) -> None:
    await tx.db[repo.FOLLOW_UPS].update_one({"_id": request_id, "state": "scheduled"}, {"$set": {"state": state}},
                                            session=tx.session)


# ------------------------------------------------------------------ scheduled work


DIGEST_CHUNK = 100  # people built in one transaction


async def send_digests(deps: Deps, *, limit: int = 500) -> int:
    """Build the daily digest of everyone whose digest time has come; returns how many were built.

    People are taken ``DIGEST_CHUNK`` at a time, each chunk in one transaction: their documents in
    one read, their waiting notices in one indexed read each, then the messages, the notices marked
    and the people's next time in three bulk writes (five statements a person before)."""
    now = deps.clock()
    cursor = deps.db[repo.PEOPLE].find(repo.digests_due(now), {"_id": 1}).limit(limit)
    ids = [doc["_id"] async for doc in cursor]
    built = 0
    for start in range(0, len(ids), DIGEST_CHUNK):
        chunk = ids[start:start + DIGEST_CHUNK]
        built += await deps.store.transaction(lambda tx, chunk=chunk: _digest_chunk(tx, deps, chunk, now),
                                              group=False)
    return built


async def _digest_chunk(tx: Tx, deps: Deps, person_ids: list[str], now: datetime) -> int:
    people = {p["_id"]: p async for p in tx.db[repo.PEOPLE].find(
        {"_id": {"$in": person_ids}, **repo.digests_due(now)}, session=tx.session)}  # not built meanwhile
    if not people:
        return 0
    mails, marks, after = [], [], []
    for pid, person in people.items():
        # one query per person: on the embedded database {recipient: {$in: ids}, digest: "pending"}
        # is a collection scan, and {recipient: {$in: ids}} alone reads every notice they ever had
        waiting = await tx.db[repo.NOTICES].find(repo.digest_notices(pid), session=tx.session).sort(
            "created_at", 1).limit(DIGEST_MAX_ITEMS + 1).to_list()
        notices = waiting[:DIGEST_MAX_ITEMS]
        more = len(waiting) > DIGEST_MAX_ITEMS  # the rest goes in a digest of its own at once
        if not notices:
            after.append(UpdateOne({"_id": pid}, {"$unset": {"digest_due_at": ""}}))
            continue
        key = f"digest:{pid}:{person['digest_due_at'].isoformat()}"
        mails.append(UpdateOne({"_id": key}, {"$setOnInsert": _digest_mail(deps, person, notices, key, now)},
                               upsert=True))
        marks.append(UpdateMany({"_id": {"$in": [n["_id"] for n in notices]}},
                                {"$set": {"digest": "sent", "digest_mail": key}}))
        after.append(UpdateOne({"_id": pid}, {"$set": {"digest_due_at": now}} if more
                               else {"$unset": {"digest_due_at": ""}}))
    if mails:
        await tx.db[repo.MAIL].bulk_write(mails, ordered=False, session=tx.session)
        await tx.db[repo.NOTICES].bulk_write(marks, ordered=False, session=tx.session)
    await tx.db[repo.PEOPLE].bulk_write(after, ordered=False, session=tx.session)
    return len(mails)


def _digest_mail(deps: Deps, person: dict, notices: list[dict], key: str, now: datetime) -> dict:
    zone = _person_zone(person)
    context = {
        "person": {"name": person.get("name") or "there"},
        "items": [{"when": wording.when(n["created_at"], zone), "summary": n["title"], "link": deps.url(n["link"])}
                  for n in notices],
        "notices_url": deps.url("/notifications"), "preferences_url": deps.url("/notifications/settings"),
        "kind_label": "daily summary",
        "unsubscribe_url": deps.url("/unsubscribe?token=" + make_token(
            deps.settings.unsubscribe_secret.get_secret_value(), person["_id"], "digest")),
    }
    mail = _mail_document(deps, key=key, kind="digest", template="digest", context=context, person=person,
                          ics=None, ics_method=None, now=now)
    mail.pop("_summary")
    mail["notice_id"] = None
    return mail


async def follow_ups_due(deps: Deps, *, limit: int = 500) -> int:
    """Tell officials whose answered question closed 90 days ago; returns how many were due."""
    now = deps.clock()
    cursor = deps.db[repo.FOLLOW_UPS].find({"state": "scheduled", "due_at": {"$lte": now}}).limit(limit)
    due = [doc async for doc in cursor]
    for doc in due:
        async def apply(tx: Tx, doc: dict = doc) -> None:
            fresh = await tx.db[repo.FOLLOW_UPS].find_one({"_id": doc["_id"], "state": "scheduled"}, session=tx.session)
            if fresh is None:
                return
            event = FollowUpDue(request_id=doc["_id"], closed_at=doc["closed_at"])
            await notify(tx, deps, event, f"follow-up:{doc['_id']}:{doc['closed_at'].isoformat()}")
            await tx.db[repo.FOLLOW_UPS].update_one({"_id": doc["_id"]}, {"$set": {"state": "sent", "sent_at": now}},
                                                    session=tx.session)
        await deps.store.transaction(apply)
    return len(due)


# ------------------------------------------------------------------ in-page notices


def notice_view(doc: dict) -> dict[str, Any]:
    return {"id": doc["_id"], "kind": doc["kind"], "kind_label": KINDS[doc["kind"]].label if doc["kind"] in KINDS
            else "Notice", "title": doc["title"], "link": doc["link"], "created_at": doc["created_at"],
            "read": bool(doc.get("read"))}


async def list_notices(deps: Deps, person_id: str, *, limit: int = 20, before: tuple[datetime, str] | None = None,
                       unread_only: bool = False) -> tuple[list[dict], tuple[datetime, str] | None]:
    query: dict[str, Any] = {"recipient": person_id}
    if unread_only:
        query["read"] = False
    if before is not None:
        at, nid = before
        query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": nid}}]
    cursor = deps.db[repo.NOTICES].find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
    docs = [doc async for doc in cursor]
    nxt = (docs[limit - 1]["created_at"], docs[limit - 1]["_id"]) if len(docs) > limit else None
    return [notice_view(d) for d in docs[:limit]], nxt


async def unread_count(deps: Deps, person_id: str) -> int:
    return await deps.db[repo.NOTICES].count_documents({"recipient": person_id, "read": False})


async def mark_read(deps: Deps, person_id: str, notice_id: str) -> dict:
    doc = await deps.db[repo.NOTICES].find_one_and_update(
        {"_id": notice_id, "recipient": person_id}, {"$set": {"read": True, "read_at": deps.clock()}},
        return_document=True)
    if doc is None:
        raise NotFound("no such notice")
    return notice_view(doc)


async def mark_all_read(deps: Deps, person_id: str) -> int:
    # A multi-document update is not a retryable write for the driver; this one is idempotent, so a
    # connection lost on the way is worth one more try rather than an error page.
    for attempt in (1, 2):
        try:
            result = await deps.db[repo.NOTICES].update_many({"recipient": person_id, "read": False},
                                                             {"$set": {"read": True, "read_at": deps.clock()}})
            return result.modified_count
        except ConnectionFailure:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ preferences and unsubscribing


def preferences_view(person: dict, *, kind: str, roles: frozenset[str]) -> dict[str, Any]:
    prefs = person.get("prefs") or {}
    modes = prefs.get("modes") or {}
    return {
        "kinds": [{"key": k.key, "label": k.label, "description": k.description, "fixed": k.security,
                   "mode": mode_for(k, modes.get(k.key)).value,
                   "modes": [{"value": m.value, "label": m.label} for m in k.modes]}
                  for k in kinds_for(kind, roles)],
        "digest_time": prefs.get("digest_time") or DEFAULT_DIGEST_TIME.strftime("%H:%M"),
        "time_zone": _person_zone(person),
        "zones": [{"value": z, "label": label} for z, label in US_ZONES.items()],
    }


async def get_preferences(deps: Deps, person_id: str, *, kind: str, roles: frozenset[str]) -> dict[str, Any]:
    person = await deps.db[repo.PEOPLE].find_one({"_id": person_id}) or {"_id": person_id}
    return preferences_view(person, kind=kind, roles=roles)


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


async def set_preferences(deps: Deps, person_id: str, *, kind: str, roles: frozenset[str],
                          modes: dict[str, str] | None, digest_time: str | None, time_zone: str | None) -> dict:
    offered = {k.key: k for k in kinds_for(kind, roles)}
    update: dict[str, Any] = {}
    for key, value in (modes or {}).items():
        if key not in offered:
            raise Invalid(f"modes.{key}", "no such kind of notice for you")
        k = offered[key]
        if value not in [m.value for m in k.modes]:
            allowed = ", ".join(m.value for m in k.modes)
            raise Invalid(f"modes.{key}", f"'{k.label}' can be received as: {allowed}")
        if not k.security:
            update[f"prefs.modes.{key}"] = value
    if digest_time is not None:
        if not _TIME.match(digest_time):
            raise Invalid("digest_time", "a time of day as HH:MM, 24-hour clock (for example 08:00)")
        update["prefs.digest_time"] = digest_time
    if time_zone is not None:
        if not valid_zone(time_zone):
            raise Invalid("time_zone", "an IANA time zone such as America/Chicago")
        update["prefs.time_zone"] = time_zone
    people = deps.db[repo.PEOPLE]
    if update:
        await people.update_one({"_id": person_id}, {"$set": update}, upsert=True)
    person = await people.find_one({"_id": person_id}) or {"_id": person_id}
    if person.get("digest_due_at") and (digest_time is not None or time_zone is not None):
        # a digest already waiting moves to the new time
        due = next_local_time(deps.clock(), _digest_time(person), _person_zone(person))
        await people.update_one({"_id": person_id}, {"$set": {"digest_due_at": due}})
    return preferences_view(person, kind=kind, roles=roles)


UNSUBSCRIBE_KINDS = {k for k, v in KINDS.items() if v.unsubscribable} | {"digest"}


def _unsubscribe_target(deps: Deps, token: str) -> tuple[str, str]:
    try:
        person_id, kind = read_token(deps.settings.unsubscribe_secret.get_secret_value(), token)
    except BadToken as exc:
        raise NotFound(str(exc)) from exc
    if kind not in UNSUBSCRIBE_KINDS:
        raise NotFound("the unsubscribe link is not valid")
    return person_id, kind


def _unsubscribe_view(person: dict, kind: str) -> dict[str, Any]:
    modes = (person.get("prefs") or {}).get("modes") or {}
    if kind == "digest":
        digest_kinds = [k for k in KINDS.values() if modes.get(k.key) == Mode.daily_digest.value]
        return {"kind": "digest", "label": "the daily summary", "subscribed": bool(digest_kinds)}
    k = KINDS[kind]
    return {"kind": kind, "label": k.label, "subscribed": mode_for(k, modes.get(kind)) is not Mode.in_page}


async def describe_unsubscribe(deps: Deps, token: str) -> dict[str, Any]:
    person_id, kind = _unsubscribe_target(deps, token)
    person = await deps.db[repo.PEOPLE].find_one({"_id": person_id})
    if person is None:
        raise NotFound("the unsubscribe link is not valid")
    return _unsubscribe_view(person, kind)


async def unsubscribe(deps: Deps, token: str) -> dict[str, Any]:
    """No more e-mail of the token's kind (the notices stay on the site). Idempotent."""
    person_id, kind = _unsubscribe_target(deps, token)
    people = deps.db[repo.PEOPLE]
    person = await people.find_one({"_id": person_id})
    if person is None:
        raise NotFound("the unsubscribe link is not valid")
    if kind == "digest":
        modes = (person.get("prefs") or {}).get("modes") or {}
        update = {f"prefs.modes.{k}": Mode.in_page.value for k, v in modes.items() if v == Mode.daily_digest.value}
    else:
        update = {f"prefs.modes.{kind}": Mode.in_page.value}
    if update:
        await people.update_one({"_id": person_id}, {"$set": update})
    person = await people.find_one({"_id": person_id})
    return _unsubscribe_view(person, kind)


# ------------------------------------------------------------------ staff: the outbox of messages


def mail_view(doc: dict) -> dict[str, Any]:
    kind = doc.get("kind")
    return {
        "id": doc["_id"], "to": doc.get("to"), "to_name": doc.get("to_name"), "subject": doc.get("subject"),
        "kind_label": KINDS[kind].label if kind in KINDS else "Daily summary",
        "state": doc["state"], "attempts": doc.get("attempts", 0), "last_error": doc.get("last_error"),
        "created_at": doc.get("created_at"), "sent_at": doc.get("sent_at"), "next_attempt_at": doc.get("next_attempt_at"),
        "message_id": doc.get("message_id"),
    }


async def list_mail(deps: Deps, *, state: str | None, limit: int = 50,
                    before: tuple[datetime, str] | None = None) -> tuple[list[dict], dict[str, int], tuple | None]:
    mail = deps.db[repo.MAIL]
    counts = {s: await mail.count_documents({"state": s}) for s in repo.MAIL_STATES}
    states = [state] if state else list(repo.MAIL_STATES)
    query: dict[str, Any] = {"state": {"$in": states}}
    if before is not None:
        at, mid = before
        query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": mid}}]
    cursor = mail.find(query, {"context": 0, "ics": 0}).sort(
        [("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
    docs = [doc async for doc in cursor]
    nxt = (docs[limit - 1]["created_at"], docs[limit - 1]["_id"]) if len(docs) > limit else None
    return [mail_view(d) for d in docs[:limit]], counts, nxt


async def retry_mail(deps: Deps, mail_id: str) -> dict:
    """Staff send a failed or parked message again (a parked one is composed again first)."""
    mail = deps.db[repo.MAIL]
    doc = await mail.find_one({"_id": mail_id})
    if doc is None:
        raise NotFound("no such message")
    if doc["state"] not in (repo.FAILED, repo.PARKED):
        raise Invalid("state", "only a failed or parked message can be sent again")
    now = deps.clock()
    update: dict[str, Any] = {"state": repo.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": None}
    if doc["state"] == repo.PARKED:
        try:
            _, rendered = compose(deps.settings, doc)
        except TemplateFailed as exc:
            await mail.update_one({"_id": mail_id}, {"$set": {"last_error": str(exc)}})
            raise Invalid("template", f"the message still cannot be written: {exc}") from exc
        update.update(subject=rendered.subject)
    if not doc.get("to"):
        raise Invalid("to", "no email address is known for this person")
    doc = await mail.find_one_and_update({"_id": mail_id, "state": doc["state"]}, {"$set": update},
                                         return_document=True)
    if doc is None:
        raise Invalid("state", "the message changed meanwhile; reload")
    return mail_view(doc)
