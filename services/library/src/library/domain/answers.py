"""The public record of answered 311 questions, built from requests311's events alone.

A request's events are folded into `AnsweredQuestion` (the library's own read model). From
it, `public_record` decides what may be published: nothing without consent and a delivered
memo; the city's name only with "named" consent (under "anonymous" consent the name is
also struck from the text); names, emails and phone numbers of individuals always redacted.
`plan` compares that with what is published now and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .redaction import CITY, Redactor
from .resources import Resource, ResourceContent

Consent = Literal["none", "anonymous", "named"]
PUBLISHER = "SC2 National Resource Network — 311 for Cities"
SYSTEM_ACTOR = "system:requests311"


class AnsweredQuestion(BaseModel):
    request_id: str
    city_id: str | None = None
    city_name: str | None = None
    state: str | None = None
    topic: str | None = None
    title: str | None = None
    question: str | None = None
    short_answer: str | None = None
    memo_markdown: str | None = None
    consent: Consent = "none"
    submitted_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    # ordering guard: consent events can arrive out of order relative to a later ConsentChanged
    consent_at: datetime | None = None


def qa_resource_id(request_id: str) -> str:
    return f"qa-{request_id}"


def on_question_submitted(state: AnsweredQuestion | None, *, request_id: str, city_id: str, title: str,
                          question: str, topic: str, consent: Consent, at: datetime) -> AnsweredQuestion:
    s = state or AnsweredQuestion(request_id=request_id)
    upd: dict = {"city_id": city_id, "topic": s.topic or topic, "submitted_at": at}
    # the memo's copy of the question wins over the submitted one (it may have been clarified)
    if not s.question:
        upd |= {"title": title, "question": question}
    if s.consent_at is None or at >= s.consent_at:
        upd |= {"consent": consent, "consent_at": at}
    return s.model_copy(update=upd)


def on_memo_delivered(state: AnsweredQuestion | None, *, request_id: str, city_id: str, topic: str, title: str,
                      question: str, short_answer: str, memo_markdown: str, consent: Consent,
                      city_name: str | None, at: datetime) -> AnsweredQuestion:
    s = state or AnsweredQuestion(request_id=request_id)
    upd: dict = {"city_id": city_id, "topic": topic, "title": title, "question": question,
                 "short_answer": short_answer, "memo_markdown": memo_markdown, "delivered_at": at,
                 "city_name": city_name or s.city_name}
    if s.consent_at is None or at >= s.consent_at:
        upd |= {"consent": consent, "consent_at": at}
    return s.model_copy(update=upd)


def on_consent_changed(state: AnsweredQuestion | None, *, request_id: str, consent: Consent,
                       at: datetime, city_name: str | None = None) -> AnsweredQuestion:
    s = state or AnsweredQuestion(request_id=request_id)
    if s.consent_at is not None and at < s.consent_at:
        return s  # an older decision arriving late never overrides a newer one
    upd: dict = {"consent": consent, "consent_at": at}
    if consent == "named" and city_name:
        upd["city_name"] = city_name
    return s.model_copy(update=upd)


def on_request_closed(state: AnsweredQuestion | None, *, request_id: str, at: datetime) -> AnsweredQuestion:
    s = state or AnsweredQuestion(request_id=request_id)
    return s.model_copy(update={"closed_at": at})


def public_record(s: AnsweredQuestion, redactor: Redactor, *, city_name: str | None = None,
                  state_name: str | None = None) -> ResourceContent | None:
    """What may be published for this request, or None when nothing may be."""
    if s.consent not in ("anonymous", "named") or s.delivered_at is None or not s.short_answer:
        return None
    name = s.city_name or city_name
    named = s.consent == "named" and bool(name)
    hide = [] if named else [n for n in (name,) if n]

    def clean(text: str | None) -> str:
        return redactor.redact(text or "", hide=hide, hide_as=CITY).text

    title = clean(s.title) or "Answered question"
    if len(title) < 3:
        title = "Answered question"
    related = [f"{name}, {state_name}" if state_name else name] if named and name else []
    return ResourceContent(
        type="answered_question",
        title=title[:300],
        summary=clean(s.short_answer)[:4_000],
        body=clean(s.memo_markdown) or clean(s.short_answer),
        question=clean(s.question),
        topics=[s.topic if s.topic else "other"],
        source_organisation=PUBLISHER,
        publication_date=s.delivered_at.date(),
        related_cities=related,
        tags=["311"],
        audience="public",
    )


Action = Literal["publish", "update", "withdraw", "none"]


@dataclass(frozen=True)
class Plan:
    action: Action
    content: ResourceContent | None = None


def plan(record: ResourceContent | None, current: Resource | None) -> Plan:
    """Compare what may be published with what is published now."""
    live = current is not None and current.status == "published"
    if record is None:
        return Plan("withdraw") if live else Plan("none")
    if current is None or not live:
        return Plan("publish", record)
    if current.content == record:
        return Plan("none")
    return Plan("update", record)


def apply_plan(p: Plan, current: Resource | None, *, request_id: str, at: datetime) -> Resource | None:
    """Carry out a plan on the resource; returns the changed resource (None when nothing changed)."""
    if p.action == "none":
        return None
    if p.action == "withdraw":
        assert current is not None
        current.withdraw(by=SYSTEM_ACTOR, at=at, note="consent withdrawn")
        return current
    assert p.content is not None
    if current is None:
        r = Resource.create(qa_resource_id(request_id), p.content, by=SYSTEM_ACTOR, at=at,
                            origin={"kind": "requests311", "request_id": request_id})
        r.publish_directly(by=SYSTEM_ACTOR, at=at, note="consented answer delivered")
        return r
    if p.action == "publish":  # was withdrawn before and consent is given again
        current.content = p.content
        current.publish_directly(by=SYSTEM_ACTOR, at=at, note="consent given")
        return current
    current.edit(p.content.model_dump(), by=SYSTEM_ACTOR, at=at)
    return current
