"""Use cases of the library: each runs in one transaction that also writes the events it causes to the outbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from nrn_contracts.events import (
    AccountRegistered, AnswerFoundBeforeAsking, CityEligibilityDetermined, CityRegistered, ConsentChanged,
    ConveningScheduled, EngagementClosed, MemoDelivered, QuestionSubmitted, RequestClosed,
)
from nrn_kit.mongo import Store, Tx

from .adapters import ASKED, CITIES, PEOPLE, SIMILAR
from .adapters import repository as repo
from .domain import answers as qa
from .domain import publication as pub
from .domain.clearinghouse import Program, ProgramContent
from .domain.errors import Forbidden, InvalidInput, NotFound
from .domain.redaction import CITY, Redactor
from .domain.resources import Resource, ResourceContent, _first_error_field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _event_time(tx: Tx) -> datetime:
    """When the event being handled happened: its CloudEvents ``time`` (optional in the spec), else now."""
    return (tx.envelope.time if tx.envelope else None) or utcnow()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# ---------------------------------------------------------------------------------------------- resources


def _announce(tx: Tx, before: Resource | None, after: Resource, at: datetime, *, by: str | None,
              reason: str | None = None) -> None:
    """Emit what changed in the public view of a resource: appeared, changed, or gone."""
    was = before is not None and before.status == "published" and pub.announced(before)
    now = after.status == "published" and pub.announced(after)
    if now and not was:
        tx.emit(pub.published_event(after, at))
    elif now and was:
        tx.emit(pub.updated_event(after, at))
    elif was and not now:
        tx.emit(pub.archived_event(after.resource_id, reason=reason, by=by, at=at))


async def create_resource(store: Store, content: ResourceContent, *, by: str) -> Resource:
    r = Resource.create(new_id("r"), content, by=by, at=utcnow())

    async def fn(tx: Tx) -> Resource:
        await repo.insert_resource(tx.db, r, session=tx.session)
        return r

    return await store.transaction(fn)


async def edit_resource(store: Store, resource_id: str, changes: dict[str, Any], *, by: str,
                        expected_version: int | None) -> Resource:
    async def fn(tx: Tx) -> Resource:
        r = await repo.require_resource(tx.db, resource_id, session=tx.session)
        r.check_version(expected_version)
        before = r.model_copy(deep=True)
        at = utcnow()
        if not r.edit(changes, by=by, at=at):
            return r
        await repo.save_resource(tx.db, r, expected_version=before.version, session=tx.session)
        _announce(tx, before, r, at, by=by, reason="no longer public")
        return r

    return await store.transaction(fn)


async def transition_resource(store: Store, resource_id: str, action: str, *, by: str,
                              expected_version: int | None, note: str | None = None) -> Resource:
    async def fn(tx: Tx) -> Resource:
        r = await repo.require_resource(tx.db, resource_id, session=tx.session)
        r.check_version(expected_version)
        before = r.model_copy(deep=True)
        at = utcnow()
        r.transition(action, by=by, at=at, note=note)
        await repo.save_resource(tx.db, r, expected_version=before.version, session=tx.session)
        _announce(tx, before, r, at, by=by, reason=note or action)
        return r

    return await store.transaction(fn)


# ---------------------------------------------------------------------------------------------- clearinghouse


async def create_program(store: Store, content: ProgramContent, *, by: str) -> Program:
    at = utcnow()
    p = Program(program_id=new_id("p"), content=content, created_at=at, updated_at=at, updated_by=by,
                history=[{"at": at, "by": by, "action": "created"}])

    async def fn(tx: Tx) -> Program:
        await repo.save_program(tx.db, p, expected_version=None, session=tx.session)
        tx.emit(pub.program_published_event(p, at))
        return p

    return await store.transaction(fn)


async def edit_program(store: Store, program_id: str, changes: dict[str, Any], *, by: str,
                       expected_version: int | None) -> Program:
    async def fn(tx: Tx) -> Program:
        p = await repo.require_program(tx.db, program_id, session=tx.session)
        if expected_version is not None and expected_version != p.version:
            from .domain.errors import VersionConflict

            raise VersionConflict(f"programme is at version {p.version}, not {expected_version}", field="version")
        unknown = set(changes) - set(ProgramContent.model_fields)
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        try:
            new = ProgramContent.model_validate(p.content.model_dump() | changes)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=_first_error_field(exc)) from exc
        old_d, new_d = p.content.model_dump(mode="json"), new.model_dump(mode="json")
        diff = {k: {"old": old_d[k], "new": new_d[k]} for k in new_d if old_d[k] != new_d[k]}
        if not diff:
            return p
        at = utcnow()
        prev = p.version
        p.content, p.updated_at, p.updated_by, p.version = new, at, by, p.version + 1
        p.history.append({"at": at, "by": by, "action": "edited", "changes": diff})
        await repo.save_program(tx.db, p, expected_version=prev, session=tx.session)
        if p.active:
            tx.emit(pub.program_updated_event(p, at))
        return p

    return await store.transaction(fn)


async def retire_program(store: Store, program_id: str, *, by: str) -> Program:
    async def fn(tx: Tx) -> Program:
        p = await repo.require_program(tx.db, program_id, session=tx.session)
        if not p.active:
            return p
        at = utcnow()
        prev = p.version
        p.active, p.updated_at, p.updated_by, p.version = False, at, by, p.version + 1
        p.history.append({"at": at, "by": by, "action": "retired"})
        await repo.save_program(tx.db, p, expected_version=prev, session=tx.session)
        tx.emit(pub.archived_event(p.program_id, reason="retired from the clearinghouse", by=by, at=at))
        return p

    return await store.transaction(fn)


# ---------------------------------------------------------------------------------------------- similar questions


async def record_similar_search(store: Store, *, official_id: str, city_id: str, text: str,
                                result_ids: list[str]) -> str:
    search_id = new_id("s")

    async def fn(tx: Tx) -> str:
        await tx.db[SIMILAR].insert_one({
            "_id": search_id, "official_id": official_id, "city_id": city_id,
            "query": " ".join(text.split())[:500] or "(empty)", "result_ids": result_ids, "helpful": [],
            "created_at": utcnow(),
        }, session=tx.session)
        return search_id

    return await store.transaction(fn)


async def record_answer_helpful(store: Store, search_id: str, resource_id: str, *, official_id: str) -> bool:
    """The official says a suggested answer made their question unnecessary. True when newly recorded."""
    async def fn(tx: Tx) -> bool:
        s = await tx.db[SIMILAR].find_one({"_id": search_id}, session=tx.session)
        if s is None:
            raise NotFound(f"no similar-question search {search_id!r}", field="search_id")
        if s["official_id"] != official_id:
            raise Forbidden("only the official who searched can say an answer helped", field="search_id")
        if resource_id not in s["result_ids"]:
            raise InvalidInput("the resource was not among this search's suggestions", field="resource_id")
        if resource_id in s["helpful"]:
            return False
        await tx.db[SIMILAR].update_one({"_id": search_id}, {"$push": {"helpful": resource_id}}, session=tx.session)
        tx.emit(AnswerFoundBeforeAsking(search_id=search_id, official_id=official_id, city_id=s["city_id"],
                                        resource_id=resource_id, query=s["query"], at=utcnow()))
        return True

    return await store.transaction(fn)


# ---------------------------------------------------------------------------------------------- events from others


async def _redactor(tx: Tx) -> Redactor:
    return Redactor(known_people=await repo.people_names(tx.db, session=tx.session))


async def _city_name(tx: Tx, city_id: str | None) -> tuple[str | None, str | None]:
    if not city_id:
        return None, None
    c = await repo.get_city(tx.db, city_id, session=tx.session)
    return (c.name, c.state) if c else (None, None)


async def apply_requests311_event(tx: Tx, event: Any) -> None:
    """Fold one requests311 event into the request's record and publish, update or withdraw its Q&A."""
    request_id = event.request_id
    state = await repo.get_answered(tx.db, request_id, session=tx.session)
    if isinstance(event, QuestionSubmitted):
        state = qa.on_question_submitted(state, request_id=request_id, city_id=event.city_id, title=event.title,
                                         question=event.question, topic=event.topic,
                                         consent=event.consent_to_publish, at=event.submitted_at)
        trace = tx.envelope.traceparent if tx.envelope else None
        await tx.db[ASKED].replace_one({"_id": request_id}, {
            "_id": request_id, "request_id": request_id, "city_id": event.city_id, "topic": event.topic,
            "title": event.title, "submitted_at": event.submitted_at,
            "traceparent": trace, "trace_id": trace.split("-")[1] if trace and trace.count("-") >= 3 else None,
        }, upsert=True, session=tx.session)
    elif isinstance(event, MemoDelivered):
        state = qa.on_memo_delivered(state, request_id=request_id, city_id=event.city_id, topic=event.topic,
                                     title=event.title, question=event.question, short_answer=event.short_answer,
                                     memo_markdown=event.memo_markdown, consent=event.consent_to_publish,
                                     city_name=event.city_name if event.consent_to_publish == "named" else None,
                                     at=event.delivered_at)
    elif isinstance(event, RequestClosed):
        state = qa.on_request_closed(state, request_id=request_id, at=event.closed_at)
    elif isinstance(event, ConsentChanged):
        at = event.at or _event_time(tx)
        state = qa.on_consent_changed(state, request_id=request_id, consent=event.consent_to_publish, at=at,
                                      city_name=getattr(event, "city_name", None))
    else:  # pragma: no cover - the consumer routes only the types above here
        return
    await repo.save_answered(tx.db, state, session=tx.session)
    await _sync_qa(tx, state)


async def _sync_qa(tx: Tx, state: qa.AnsweredQuestion) -> None:
    name, st = await _city_name(tx, state.city_id)
    record = qa.public_record(state, await _redactor(tx), city_name=name, state_name=st)
    current = await repo.get_resource(tx.db, qa.qa_resource_id(state.request_id), session=tx.session)
    plan = qa.plan(record, current)
    if plan.action == "none":
        return
    before = current.model_copy(deep=True) if current else None
    at = _event_time(tx)
    r = qa.apply_plan(plan, current, request_id=state.request_id, at=at)
    if r is None:
        return
    if plan.action != "withdraw" and state.consent == "named" and state.city_id:
        r.origin = (r.origin or {}) | {"city_id": state.city_id}
    elif r.origin:
        r.origin.pop("city_id", None)
    await repo.save_resource(tx.db, r, expected_version=None, session=tx.session)
    _announce(tx, before, r, at, by=qa.SYSTEM_ACTOR,
              reason="consent to publish withdrawn" if plan.action == "withdraw" else None)


async def apply_city_event(tx: Tx, event: Any) -> None:
    if isinstance(event, CityRegistered):
        await tx.db[CITIES].update_one({"_id": event.city_id}, {"$set": {
            "name": event.name, "state": event.state, "population": event.population}}, upsert=True,
            session=tx.session)
    elif isinstance(event, CityEligibilityDetermined):
        await tx.db[CITIES].update_one({"_id": event.city_id}, {"$set": {"eligible": event.eligible}}, upsert=True,
                                       session=tx.session)


async def apply_account_event(tx: Tx, event: AccountRegistered) -> None:
    # names only: what the library needs to keep them out of published text
    await tx.db[PEOPLE].update_one({"_id": event.account_id}, {"$set": {"name": event.name}}, upsert=True,
                                   session=tx.session)


async def _publish_event_born(tx: Tx, resource_id: str, content: ResourceContent | None, *, at: datetime,
                              origin: dict[str, str], actor: str) -> None:
    """Create, update or withdraw an item that another service's event describes."""
    current = await repo.get_resource(tx.db, resource_id, session=tx.session)
    before = current.model_copy(deep=True) if current else None
    live = current is not None and current.status == "published"
    if content is None:
        if not live:
            return
        current.withdraw(by=actor, at=at, note="consent to publish withdrawn")
        r = current
    elif current is None:
        r = Resource.create(resource_id, content, by=actor, at=at, origin=origin)
        r.publish_directly(by=actor, at=at)
    elif not live:
        current.content = content
        current.origin = origin
        current.publish_directly(by=actor, at=at)
        r = current
    else:
        if not current.edit(content.model_dump(), by=actor, at=at):
            return
        current.origin = origin
        r = current
    await repo.save_resource(tx.db, r, expected_version=None, session=tx.session)
    _announce(tx, before, r, at, by=actor, reason="consent to publish withdrawn" if content is None else None)


async def apply_engagement_closed(tx: Tx, event: EngagementClosed) -> None:
    resource_id = f"closeout-{event.engagement_id}"
    content = None
    origin = {"kind": "engagements", "engagement_id": event.engagement_id}
    if event.consent_to_publish != "none" and event.close_out_summary:
        name, st = await _city_name(tx, event.city_id)
        named = event.consent_to_publish == "named" and bool(name)
        redactor = await _redactor(tx)
        hide = [] if named or not name else [name]
        summary = redactor.redact(event.close_out_summary, hide=hide, hide_as=CITY).text
        title = f"Engagement close-out: {name}" if named else "Engagement close-out report"
        content = ResourceContent(
            type="close_out_report", title=title, summary=summary[:4_000], body=summary,
            topics=["economic_development"], source_organisation="SC2 National Resource Network",
            publication_date=event.closed_at.date(), related_cities=[f"{name}, {st}" if st else name] if named else [],
            tags=["engagement", event.outcome.replace("_", " ")], audience="public",
        )
        if named:
            origin["city_id"] = event.city_id
    await _publish_event_born(tx, resource_id, content, at=event.closed_at, origin=origin,
                              actor="system:engagements")


async def apply_convening_scheduled(tx: Tx, event: ConveningScheduled) -> None:
    redactor = await _redactor(tx)
    when = event.starts_at.strftime("%-d %B %Y")
    place = event.location or "online"
    description = redactor.redact(event.description or "").text
    body = "\n\n".join(x for x in (description, f"**When:** {when}", f"**Where:** {place}",
                                   f"**Working group:** {event.working_group}" if event.working_group else "") if x)
    content = ResourceContent(
        type="working_group_deliverable" if event.kind == "working_group" else "convening_material",
        title=event.title[:300] if len(event.title) >= 3 else f"Convening: {event.title}",
        summary=(description or f"{event.kind.replace('_', ' ').capitalize()} on {when}, {place}.")[:4_000],
        body=body, topics=list(event.topics) or ["other"], source_organisation="SC2 National Resource Network",
        publication_date=event.starts_at.date(), tags=[event.kind.replace("_", " ")] +
        ([event.working_group] if event.working_group else []), audience="public",
    )
    await _publish_event_born(tx, f"convening-{event.convening_id}", content, at=_event_time(tx),
                              origin={"kind": "peer", "convening_id": event.convening_id},
                              actor="system:peer")


def today() -> date:
    return utcnow().date()
