"""Use cases of the library: each runs in one transaction that also writes the events it causes to the outbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from nrn_contracts.events import (
    AccountRegistered, AnswerFoundBeforeAsking, CityEligibilityDetermined, CityRegistered, ConsentChanged,
    ConveningMaterialPublished, ConveningScheduled, DeliverablePublished, EngagementClosed, MemoDelivered,
    QuestionSubmitted, RequestClosed,
)
from nrn_kit.localtime import program_today
from nrn_kit.mongo import Store, Tx

from .adapters import ASKED, CITIES, META, PEOPLE, SIMILAR, SYNONYMS
from .adapters import repository as repo
from .domain import answers as qa
from .domain import publication as pub
from .domain import review as rv
from .domain.clearinghouse import Program, ProgramContent
from .domain.errors import Forbidden, InvalidInput, NotFound
from .domain.redaction import CITY, Redactor
from .domain.resources import Resource, ResourceContent, invalid
from .domain.synonyms import DEFAULT_GROUPS, SynonymGroup, SynonymPhrases


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
            raise invalid(exc) from exc
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


# ---------------------------------------------------------------------------------------------- synonyms


async def ensure_default_synonyms(store: Store) -> int:
    """Fill the synonym list with the defaults on the very first start (never again); returns how many."""
    async def fn(tx: Tx) -> int:
        if await tx.db[META].find_one({"_id": "synonym_defaults"}, session=tx.session):
            return 0
        at = utcnow()
        await tx.db[META].insert_one({"_id": "synonym_defaults", "at": at}, session=tx.session)
        docs = [SynonymGroup(group_id=new_id("syn"), phrases=g, updated_at=at, updated_by="system:library")
                for g in DEFAULT_GROUPS]
        await tx.db[SYNONYMS].insert_many([{"_id": d.group_id, **d.model_dump()} for d in docs], session=tx.session)
        return len(docs)

    return await store.transaction(fn)


async def save_synonyms(store: Store, group_id: str | None, body: SynonymPhrases, *, by: str,
                        expected_version: int | None) -> SynonymGroup:
    """Create a group (group_id None) or replace its phrases (at `expected_version`)."""
    async def fn(tx: Tx) -> SynonymGroup:
        at = utcnow()
        if group_id is None:
            g = SynonymGroup(group_id=new_id("syn"), phrases=body.phrases, updated_at=at, updated_by=by)
            await tx.db[SYNONYMS].insert_one({"_id": g.group_id, **g.model_dump()}, session=tx.session)
            return g
        d = await tx.db[SYNONYMS].find_one({"_id": group_id}, session=tx.session)
        if d is None:
            raise NotFound(f"no synonym group {group_id!r}", field="group_id")
        g = SynonymGroup.model_validate(d)
        if expected_version is not None and expected_version != g.version:
            from .domain.errors import VersionConflict

            raise VersionConflict(f"the group is at version {g.version}, not {expected_version}", field="version")
        new = g.model_copy(update={"phrases": body.phrases, "version": g.version + 1, "updated_at": at,
                                   "updated_by": by})
        await tx.db[SYNONYMS].replace_one({"_id": group_id}, {"_id": group_id, **new.model_dump()},
                                          session=tx.session)
        return new

    return await store.transaction(fn)


async def delete_synonyms(store: Store, group_id: str) -> None:
    async def fn(tx: Tx) -> None:
        res = await tx.db[SYNONYMS].delete_one({"_id": group_id}, session=tx.session)
        if res.deleted_count == 0:
            raise NotFound(f"no synonym group {group_id!r}", field="group_id")

    await store.transaction(fn)


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
                                         consent=event.consent_to_publish, at=event.submitted_at,
                                         reference=event.reference)
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
    domains = await repo.city_domains(tx.db, state.city_id, session=tx.session)
    p = qa.proposal(state, await _redactor(tx), city_name=name, state_name=st, city_domains=domains)
    origin = {"kind": "requests311", "request_id": state.request_id}
    if p is not None and state.consent == "named" and state.city_id:
        origin["city_id"] = state.city_id
    await _propose(tx, qa.qa_resource_id(state.request_id), p, source="requests311", origin=origin,
                   consent=state.consent, city_id=state.city_id, city_name=name or state.city_name,
                   actor=qa.SYSTEM_ACTOR)


async def _propose(tx: Tx, resource_id: str, p: qa.Proposal | None, *, source: str, origin: dict[str, str],
                   consent: str | None, city_id: str | None, city_name: str | None, actor: str) -> None:
    """A new version of an event-born item: queue it for a curator's review, or take it down.

    Nothing is published here: publication (and its event) happens when a curator approves the
    review. Taking down is immediate: withdrawn consent, or a named item whose consent became
    anonymous, leaves the public record at once (`ResourceArchived`)."""
    at = _event_time(tx)
    current = await repo.get_resource(tx.db, resource_id, session=tx.session)
    pending = await repo.open_review(tx.db, resource_id, session=tx.session)
    last = await repo.last_decided_review(tx.db, resource_id, session=tx.session)
    published = current is not None and current.status == "published"
    narrowed = published and bool((current.origin or {}).get("city_id")) and "city_id" not in origin
    step = rv.next_step(p.content if p else None, pending=pending, last_decided=last, published=published,
                        narrowed=narrowed)
    if step.unpublish and current is not None:
        before = current.model_copy(deep=True)
        note = "consent to publish withdrawn" if p is None else "consent changed: held for review"
        current.withdraw(by=actor, at=at, note=note)
        if current.origin:
            current.origin.pop("city_id", None)
        await repo.save_resource(tx.db, current, expected_version=None, session=tx.session)
        _announce(tx, before, current, at, by=actor, reason=note)
    if step.close_pending and pending is not None:
        prev = pending.version
        pending.withdraw(by=actor, at=at, note="consent to publish withdrawn")
        await repo.save_review(tx.db, pending, expected_version=prev, session=tx.session)
    if p is None:
        return
    if step.replace_pending and pending is not None:
        prev = pending.version
        pending.replace_proposal(p.content, p.original, p.redactions, consent=consent, city_name=city_name, at=at,
                                 by=actor)
        pending.origin = origin
        await repo.save_review(tx.db, pending, expected_version=prev, session=tx.session)
    elif step.open_review:
        review = rv.Review(review_id=new_id("rv"), resource_id=resource_id, source=source, origin=origin,
                           consent=consent, city_id=city_id, city_name=city_name, original=p.original,
                           proposed=p.content, content=p.content, redactions=p.redactions, created_at=at,
                           updated_at=at, history=[rv.ReviewEntry(at=at, by=actor, action="proposed")])
        await repo.save_review(tx.db, review, expected_version=None, session=tx.session)


async def edit_review(store: Store, review_id: str, changes: dict[str, Any], *, by: str,
                      expected_version: int | None) -> rv.Review:
    async def fn(tx: Tx) -> rv.Review:
        r = await repo.require_review(tx.db, review_id, session=tx.session)
        _check_review_version(r, expected_version)
        prev = r.version
        if r.edit(changes, by=by, at=utcnow()):
            await repo.save_review(tx.db, r, expected_version=prev, session=tx.session)
        return r

    return await store.transaction(fn)


async def decide_review(store: Store, review_id: str, *, approve: bool, by: str, expected_version: int | None,
                        reason: str | None = None) -> tuple[rv.Review, Resource | None]:
    """Approve (publish the reviewed text, and only now announce it) or reject (publish nothing)."""
    async def fn(tx: Tx) -> tuple[rv.Review, Resource | None]:
        r = await repo.require_review(tx.db, review_id, session=tx.session)
        _check_review_version(r, expected_version)
        prev = r.version
        at = utcnow()
        r.decide(approve, by=by, at=at, reason=reason)
        await repo.save_review(tx.db, r, expected_version=prev, session=tx.session)
        if not approve:
            return r, None
        current = await repo.get_resource(tx.db, r.resource_id, session=tx.session)
        before = current.model_copy(deep=True) if current else None
        note = "reviewed and approved for the public record"
        if current is None:
            res = Resource.create(r.resource_id, r.content, by=by, at=at, origin=dict(r.origin))
            res.publish_directly(by=by, at=at, note=note)
        elif current.status != "published":
            current.content, current.origin = r.content, dict(r.origin)
            current.publish_directly(by=by, at=at, note=note)
            res = current
        else:
            current.edit(r.content.model_dump(), by=by, at=at)
            current.origin = dict(r.origin)
            res = current
        await repo.save_resource(tx.db, res, expected_version=None, session=tx.session)
        _announce(tx, before, res, at, by=by)
        return r, res

    return await store.transaction(fn)


def _check_review_version(r: rv.Review, expected: int | None) -> None:
    from .domain.errors import VersionConflict

    if expected is not None and expected != r.version:
        raise VersionConflict(f"review is at version {r.version}, not {expected}", field="version")


async def apply_city_event(tx: Tx, event: Any) -> None:
    if isinstance(event, CityRegistered):
        await tx.db[CITIES].update_one({"_id": event.city_id}, {"$set": {
            "name": event.name, "state": event.state, "population": event.population}}, upsert=True,
            session=tx.session)
    elif isinstance(event, CityEligibilityDetermined):
        await tx.db[CITIES].update_one({"_id": event.city_id}, {"$set": {"eligible": event.eligible}}, upsert=True,
                                       session=tx.session)


async def apply_account_event(tx: Tx, event: AccountRegistered) -> None:
    # what the library needs to keep people and cities out of published text: names, and the e-mail
    # domain an official uses (a city's own domain names the city); never the address itself
    domain = str(event.email).rsplit("@", 1)[-1].lower() if event.email else None
    await tx.db[PEOPLE].update_one({"_id": event.account_id}, {"$set": {
        "name": event.name, "city_id": event.city_id if event.kind == "official" else None,
        "email_domain": domain if event.kind == "official" else None}}, upsert=True, session=tx.session)


async def apply_engagement_closed(tx: Tx, event: EngagementClosed) -> None:
    resource_id = f"closeout-{event.engagement_id}"
    p = None
    origin = {"kind": "engagements", "engagement_id": event.engagement_id}
    name, st = await _city_name(tx, event.city_id)
    if event.consent_to_publish != "none" and event.close_out_summary:
        named = event.consent_to_publish == "named" and bool(name)
        redactor = await _redactor(tx)
        hide = [] if named or not name else [name]
        domains = () if named else await repo.city_domains(tx.db, event.city_id, session=tx.session)
        out = redactor.redact(event.close_out_summary, hide=hide, hide_as=CITY, hide_domains=domains)
        title = f"Engagement close-out: {name}" if named else "Engagement close-out report"
        content = ResourceContent(
            type="close_out_report", title=title, summary=out.text[:4_000], body=out.text,
            topics=["economic_development"], source_organisation="SC2 National Resource Network",
            publication_date=event.closed_at.date(), related_cities=[f"{name}, {st}" if st else name] if named else [],
            tags=["engagement", event.outcome.replace("_", " ")], audience="public",
        )
        if named:
            origin["city_id"] = event.city_id
        p = qa.Proposal(content, rv.originals(body=event.close_out_summary), dict(out.found))
    await _propose(tx, resource_id, p, source="engagements", origin=origin, consent=event.consent_to_publish,
                   city_id=event.city_id, city_name=name, actor="system:engagements")


async def apply_convening_scheduled(tx: Tx, event: ConveningScheduled) -> None:
    redactor = await _redactor(tx)
    when = event.starts_at.strftime("%B %-d, %Y")
    place = event.location or "online"
    found: dict[str, int] = {}

    def clean(text: str) -> str:
        out = redactor.redact(text)
        for k, v in out.found.items():
            found[k] = found.get(k, 0) + v
        return out.text

    description = clean(event.description or "")
    title = clean(event.title)
    body = "\n\n".join(x for x in (description, f"**When:** {when}", f"**Where:** {place}",
                                   f"**Working group:** {event.working_group}" if event.working_group else "") if x)
    content = ResourceContent(
        type="working_group_deliverable" if event.kind == "working_group" else "convening_material",
        title=title[:300] if len(title) >= 3 else f"Convening: {title}",
        summary=(description or f"{event.kind.replace('_', ' ').capitalize()} on {when}, {place}.")[:4_000],
        body=body, topics=list(event.topics) or ["other"], source_organisation="SC2 National Resource Network",
        publication_date=event.starts_at.date(), tags=[event.kind.replace("_", " ")] +
        ([event.working_group] if event.working_group else []), audience="public",
    )
    p = qa.Proposal(content, rv.originals(title=event.title, summary=event.description), found)
    await _propose(tx, f"convening-{event.convening_id}", p, source="peer",
                   origin={"kind": "peer", "convening_id": event.convening_id}, consent=None, city_id=None,
                   city_name=None, actor="system:peer")


async def _publish_nrn_authored(tx: Tx, resource_id: str, content: ResourceContent, *, origin: dict[str, str],
                                actor: str, note: str) -> None:
    """Publish (or update) an item NRN itself wrote and reviewed in the service that sent it.

    Peer's convening materials (posted by staff who may curate) and working groups' deliverables
    (approved by a program manager or reviewer in peer's own review) are NRN's own documents, not
    a city's words: they skip the curator queue that answered questions and close-out reports go
    through, and are not redacted (a resource guide names its agencies and contacts on purpose)."""
    at = _event_time(tx)
    current = await repo.get_resource(tx.db, resource_id, session=tx.session)
    before = current.model_copy(deep=True) if current else None
    if current is None:
        res = Resource.create(resource_id, content, by=actor, at=at, origin=origin)
        res.publish_directly(by=actor, at=at, note=note)
    elif current.status != "published":
        current.content, current.origin = content, origin
        current.publish_directly(by=actor, at=at, note=note)
        res = current
    else:
        if not current.edit(content.model_dump(), by=actor, at=at):
            return
        res = current
    await repo.save_resource(tx.db, res, expected_version=None, session=tx.session)
    _announce(tx, before, res, at, by=actor)


_MATERIAL_WORDS = {"slides": "Slides", "recording": "Recording", "notes": "Notes", "other": "Material"}


async def apply_convening_material(tx: Tx, event: ConveningMaterialPublished) -> None:
    held = f"{event.held_on:%B} {event.held_on.day}, {event.held_on.year}" if event.held_on else ""
    intro = f"{_MATERIAL_WORDS[event.material_kind]} from {event.convening_title}" + (f", {held}" if held else "") + "."
    body = "\n\n".join(x for x in (intro, event.body or "",
                                    f"**Speakers:** {', '.join(event.speakers)}" if event.speakers else "") if x)
    content = ResourceContent(
        type="convening_material", title=event.title, summary=(event.summary or intro)[:4_000], body=body,
        link=event.link, topics=list(event.topics) or ["other"], source_organisation="SC2 National Resource Network",
        authors=list(event.speakers), publication_date=event.held_on or event.at.date(),
        tags=["convening", event.material_kind, event.convening_title[:200]], audience="public")
    await _publish_nrn_authored(tx, f"material-{event.material_id}", content,
                                origin={"kind": "peer", "convening_id": event.convening_id},
                                actor="system:peer", note="convening material published by NRN staff")


async def apply_deliverable_published(tx: Tx, event: DeliverablePublished) -> None:
    content = ResourceContent(
        type="working_group_deliverable", title=event.title,
        summary=(event.summary or f"A deliverable of the {event.working_group_name}.")[:4_000], body=event.body,
        topics=list(event.topics) or ["other"], source_organisation="SC2 National Resource Network",
        authors=list(event.contributors), publication_date=event.at.date(),
        related_cities=list(event.member_cities), tags=["working group", event.working_group_name],
        audience="public")
    await _publish_nrn_authored(tx, f"deliverable-{event.deliverable_id}", content,
                                origin={"kind": "peer", "working_group_id": event.working_group_id},
                                actor="system:peer", note="working group deliverable approved in review")


def today() -> date:
    """The clearinghouse's calendar day, in US Eastern: federal programs close at 11:59 pm
    Eastern, so a deadline stays open on its date until midnight there."""
    return program_today(utcnow())
