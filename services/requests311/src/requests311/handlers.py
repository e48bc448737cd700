"""Use cases: load the request in a transaction, let the aggregate decide, save it, emit its events.

Every command runs in one transaction that (1) checks the caller's expected version, (2) applies
the domain action, (3) raises any service-level breach now due, (4) writes the request as the next
version — failing with 409 if a person's command got there first (background facts learned from
other services or found by the breach sweep keep the version, so they never fail a person's write;
the command just runs again over them), (5) keeps the expert's workload, the
metrics facts and the program's running totals in step, and (6) appends the events to the outbox.
Time comes from the injected clock, read once per command so a retried transaction sees the same
instant.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nrn_contracts import Event

from nrn_kit.mongo import Store, Tx

from .adapters import mongo as repo
from .domain.clock import ServiceLevels
from .domain.errors import InvalidInput, NotFound, RuleViolation, VersionConflict
from .domain.metrics import aggregate as metrics_aggregate
from .domain.metrics import apply as fold_fact
from .domain.metrics import RequestFacts
from .domain.metrics import delta as metrics_delta
from .domain.model import (
    Actor,
    CallHours,
    Consent,
    DeclineReason,
    ExpertRef,
    FollowUpOutcome,
    QuestionDraft,
    Topic,
    Urgency,
    WorkingCopy,
)
from .domain.request import CallParty, Request

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
    clock: Clock = system_clock
    levels: ServiceLevels = ServiceLevels()
    call_hours: CallHours | None = None  # None: slots at any hour (tests of other things)

    def now(self) -> datetime:
        # BSON keeps milliseconds: truncate once so what we compare is what we store
        t = self.clock().astimezone(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:20]


async def _fold_facts(tx: Tx, req: Request, events: list[Event], *, new: bool = False) -> RequestFacts | None:
    """The request's metrics facts and the program's running totals move with its events, in one transaction.

    ``new``: the request is being submitted, so it has no facts yet (nothing is read) and its facts are
    returned for the caller to add with it (repo.add_new); any other request's are saved here."""
    if not events:
        return None
    before = facts = None if new else await repo.load_facts(tx.db, req.id, tx.session)
    for event in events:
        facts = fold_fact(facts, event)
    if facts is None:
        return None
    if not new:
        await repo.save_facts(tx.db, facts, tx.session)
    await repo.add_to_totals(tx.db, metrics_delta(before, facts, req.service_levels.calendar), tx.session)
    return facts if new else None


async def _emit(tx: Tx, req: Request, events: list[Event]) -> None:
    for event in events:
        tx.emit(event)
    await _fold_facts(tx, req, events)


async def rebuild_metrics(deps: Deps) -> dict[str, int]:
    """Recompute the running totals from every request's facts, in one transaction (a command that
    commits meanwhile conflicts with it and is retried, so nothing is counted twice or lost)."""
    calendar = deps.levels.calendar

    async def fn(tx: Tx) -> dict[str, int]:
        rows = await repo.all_facts(tx.db, tx.session)
        await repo.replace_totals(tx.db, metrics_aggregate(rows, calendar), tx.session)
        return {"requests": len(rows)}

    return await deps.store.transaction(fn, group=False)


async def ensure_metrics(deps: Deps) -> None:
    """At start: build the totals once if this database has facts from before they were kept."""
    if await repo.read_totals(deps.store.db) is None:
        result = await rebuild_metrics(deps)
        if result["requests"]:
            log.info("program metrics rebuilt from %d requests' facts", result["requests"])


async def ensure_queue_fields(deps: Deps) -> int:
    """At start: requests written before the queue kept its sort and search fields get them (each
    rewritten as a background fact, so no person's version moves). Returns how many were rewritten."""
    done = 0
    async for doc in deps.store.db[repo.REQUESTS].find({"search_terms": {"$exists": False}}, {"_id": 1}):
        async def fn(tx: Tx, rid: str = doc["_id"]) -> None:
            repository = repo.RequestRepository(tx.db, tx.session)
            req = await repository.get(rid)
            if req is not None:
                await repository.save(req, expected_version=req.version, now=deps.now(), by_person=False)

        try:
            await deps.store.transaction(fn)
            done += 1
        except (repo.RevisionMoved, VersionConflict):
            continue  # written meanwhile by a command, which stored the fields itself
    return done


def visible_to(req: Request, actor: Actor) -> bool:
    """An official sees only their city's requests; to others they do not exist (404, not 403)."""
    return actor.kind != "official" or req.city_id == actor.city_id


# ---------------------------------------------------------------------------- commands


async def submit_question(deps: Deps, *, actor: Actor, draft: QuestionDraft,
                          request_id: str | None = None) -> Request:
    now = deps.now()
    rid = request_id or new_request_id()

    async def fn(tx: Tx) -> Request:
        if actor.city_id is None:
            raise InvalidInput("official_without_city", "the official's account names no city", field="city_id")
        city = await repo.get_city(tx.db, actor.city_id, tx.session)
        if city is None:
            raise InvalidInput("city_unknown", "this service has not heard of the official's city yet",
                               field="city_id")
        reference = await repo.next_reference(tx.db, now.year, tx.session)
        req = Request.submit(request_id=rid, draft=draft, actor=actor, city=city, now=now,
                             service_levels=deps.levels, reference=reference)
        events = req.pull_events()
        for event in events:
            tx.emit(event)
        repo.add_new(tx, req, await _fold_facts(tx, req, events, new=True), now)
        return req

    return await deps.store.transaction(fn)


Action = Callable[[Request, datetime, Tx], Any]


RACE_RETRIES = 5  # a person's command run again when background facts keep landing under it


async def act(deps: Deps, request_id: str, *, actor: Actor, expected_version: int | None,
              action: Action) -> Request:
    """Run one domain action on a request under optimistic concurrency."""
    now = deps.now()

    async def fn(tx: Tx) -> Request:
        repository = repo.RequestRepository(tx.db, tx.session)
        req = await repository.get(request_id)
        if req is None or not visible_to(req, actor):
            raise NotFound("request_not_found", f"no request {request_id}", field="request_id")
        if expected_version is None:
            raise VersionRequired()
        req.ensure_version(expected_version)
        before = repo.workload_key(req)
        outcome = action(req, now, tx)
        if inspect.isawaitable(outcome):
            await outcome
        req.check_service_levels(now)
        events = req.pull_events()
        await repository.save(req, expected_version=expected_version, now=now)
        await repo.adjust_workload(tx.db, tx.session, before, repo.workload_key(req))
        await _emit(tx, req, events)
        return req

    for _ in range(RACE_RETRIES):
        try:
            return await deps.store.transaction(fn)
        except repo.RevisionMoved:
            continue  # a background fact landed between our read and our write: not the person's problem
    return await deps.store.transaction(fn)


async def get_request(deps: Deps, request_id: str, *, actor: Actor) -> Request:
    doc = await deps.store.db[repo.REQUESTS].find_one({"_id": request_id})
    req = repo.from_document(doc) if doc else None
    if req is None or not visible_to(req, actor):
        raise NotFound("request_not_found", f"no request {request_id}", field="request_id")
    return req


# The use cases, one per domain action; each is `act` around the aggregate's method.

async def triage(deps: Deps, rid: str, *, actor: Actor, version: int | None, topic: Topic,
                 urgency: Urgency | None = None, note: str = "") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.triage(actor=actor, now=now, topic=topic, urgency=urgency, note=note))


async def request_information(deps: Deps, rid: str, *, actor: Actor, version: int | None, question: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.request_information(actor=actor, now=now, question=question))


async def provide_information(deps: Deps, rid: str, *, actor: Actor, version: int | None, answer: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.provide_information(actor=actor, now=now, answer=answer))


async def decline(deps: Deps, rid: str, *, actor: Actor, version: int | None, reason: DeclineReason,
                  explanation: str = "", duplicate_of: str | None = None) -> Request:
    async def action(r: Request, now: datetime, tx: Tx) -> None:
        if duplicate_of:
            linked = await repo.RequestRepository(tx.db, tx.session).get(duplicate_of)
            if linked is None:
                raise InvalidInput("duplicate_of_unknown", f"no request {duplicate_of}", field="duplicate_of")
        r.decline(actor=actor, now=now, reason=reason, explanation=explanation, duplicate_of=duplicate_of)

    return await act(deps, rid, actor=actor, expected_version=version, action=action)


async def assign(deps: Deps, rid: str, *, actor: Actor, version: int | None, expert_id: str,
                 reason: str = "") -> Request:
    async def action(r: Request, now: datetime, tx: Tx) -> None:
        expert = await repo.get_expert(tx.db, expert_id, tx.session)
        if expert is None or not expert.active:
            raise InvalidInput("expert_unknown_or_inactive", "that person is not an active expert",
                               field="expert_id")
        r.assign(actor=actor, now=now, expert=ExpertRef(id=expert.id, name=expert.name), reason=reason)

    return await act(deps, rid, actor=actor, expected_version=version, action=action)


async def unassign(deps: Deps, rid: str, *, actor: Actor, version: int | None, reason: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.unassign(actor=actor, now=now, reason=reason))


async def autosave_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None, body: str,
                        base_revision: int) -> tuple[Request, WorkingCopy]:
    """Keep the memo as typed (the editor's autosave) without moving the request's version: the
    other forms of the page stay valid. Refused when the version moved (someone acted on the request)
    or the working copy was saved elsewhere since `base_revision`."""
    now = deps.now()

    async def fn(tx: Tx) -> tuple[Request, WorkingCopy]:
        repository = repo.RequestRepository(tx.db, tx.session)
        req = await repository.get(rid)
        if req is None or not visible_to(req, actor):
            raise NotFound("request_not_found", f"no request {rid}", field="request_id")
        if version is None:
            raise VersionRequired()
        req.ensure_version(version)
        copy = req.autosave_memo(actor=actor, now=now, body=body, base_revision=base_revision)
        await repository.save(req, expected_version=version, now=now, by_person=False)
        return req, copy

    for _ in range(RACE_RETRIES):
        try:
            return await deps.store.transaction(fn)
        except repo.RevisionMoved:
            continue
    return await deps.store.transaction(fn)


async def draft_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None, body: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.draft_memo(actor=actor, now=now, body=body))


async def submit_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None,
                      accept_incomplete: bool = False) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.submit_memo(actor=actor, now=now,
                                                             accept_incomplete=accept_incomplete))


async def approve_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.approve_memo(actor=actor, now=now))


async def return_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None, comments: list[str]) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.return_memo(actor=actor, now=now, comments=comments))


async def deliver_memo(deps: Deps, rid: str, *, actor: Actor, version: int | None) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.deliver_memo(actor=actor, now=now))


async def offer_slots(deps: Deps, rid: str, *, actor: Actor, version: int | None,
                      slots: list[tuple[datetime, int]], meeting: str = "",
                      outside_hours_confirmed: bool = False) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.offer_slots(actor=actor, now=now, slots=slots, meeting=meeting,
                                                             call_hours=deps.call_hours,
                                                             outside_hours_confirmed=outside_hours_confirmed))


async def pick_slot(deps: Deps, rid: str, *, actor: Actor, version: int | None, slot_id: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.pick_slot(actor=actor, now=now, slot_id=slot_id))


async def complete_call(deps: Deps, rid: str, *, actor: Actor, version: int | None, summary: str,
                        next_steps: list[str], close: bool = True) -> Request:
    def action(r: Request, now: datetime, tx: Tx) -> None:
        r.complete_call(actor=actor, now=now, summary=summary, next_steps=next_steps)
        if close:
            r.close(actor=actor, now=now)

    return await act(deps, rid, actor=actor, expected_version=version, action=action)


async def reschedule_call(deps: Deps, rid: str, *, actor: Actor, version: int | None, reason: str = "",
                          preferred_call_times: list[str] | None = None) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.reschedule_call(actor=actor, now=now, reason=reason,
                                                                 preferred_call_times=preferred_call_times))


async def cancel_call(deps: Deps, rid: str, *, actor: Actor, version: int | None, reason: str = "") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.cancel_call(actor=actor, now=now, reason=reason))


async def miss_call(deps: Deps, rid: str, *, actor: Actor, version: int | None,
                    missed_by: CallParty = "unknown") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.miss_call(actor=actor, now=now, missed_by=missed_by))


async def close(deps: Deps, rid: str, *, actor: Actor, version: int | None, note: str = "") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.close(actor=actor, now=now, note=note))


async def give_feedback(deps: Deps, rid: str, *, actor: Actor, version: int | None, rating: int,
                        comment: str = "") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.give_feedback(actor=actor, now=now, rating=rating, comment=comment))


async def record_follow_up(deps: Deps, rid: str, *, actor: Actor, version: int | None, outcome: FollowUpOutcome,
                           description: str = "") -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.record_follow_up(actor=actor, now=now, outcome=outcome,
                                                                  description=description))


async def reopen(deps: Deps, rid: str, *, actor: Actor, version: int | None, reason: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.reopen(actor=actor, now=now, reason=reason))


async def change_consent(deps: Deps, rid: str, *, actor: Actor, version: int | None, consent: Consent) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.change_consent(actor=actor, now=now, consent=consent))


async def add_note(deps: Deps, rid: str, *, actor: Actor, version: int | None, text: str) -> Request:
    return await act(deps, rid, actor=actor, expected_version=version,
                     action=lambda r, now, tx: r.add_note(actor=actor, now=now, text=text))


# ---------------------------------------------------------------------------- the breach sweep


async def sweep_service_levels(deps: Deps, *, batch: int = 500) -> dict[str, int]:
    """Raise `ServiceLevelBreached` for every step that became overdue; each request in its own transaction."""
    now = deps.now()
    ids = await repo.due_for_breach_check(deps.store.db, now, batch)
    breached = 0
    for rid in ids:
        async def fn(tx: Tx, rid: str = rid) -> int:
            repository = repo.RequestRepository(tx.db, tx.session)
            req = await repository.get(rid)
            if req is None:
                return 0
            steps = req.check_service_levels(now)
            events = req.pull_events()
            if steps:
                await repository.save(req, expected_version=req.version, now=now, by_person=False)
                await _emit(tx, req, events)
            else:  # nothing due after all (e.g. paused meanwhile): refresh the queue fields only
                await tx.db[repo.REQUESTS].update_one(
                    {"_id": rid, "version": req.version}, {"$set": req.sla_index(now)}, session=tx.session)
            return len(steps)

        try:
            breached += await deps.store.transaction(fn)
        except (VersionConflict, repo.RevisionMoved):
            continue  # another writer won the race; the next sweep looks again
    return {"checked": len(ids), "breached": breached}


# ---------------------------------------------------------------------------- system changes from events


async def apply_to_request(tx: Tx, request_id: str, now: datetime, change: Callable[[Request], bool]) -> bool:
    """A change learned from another service's event, saved when it changed anything.

    It keeps the request's version: a background fact must not make a person's next write fail. A
    write that races another raises, and the consumer applies the event again.
    """
    repository = repo.RequestRepository(tx.db, tx.session)
    req = await repository.get(request_id)
    if req is None or not change(req):
        return False
    await repository.save(req, expected_version=req.version, now=now, by_person=False)
    return True
