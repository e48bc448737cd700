"""The public record of answered 311 questions, built from requests311's events alone.

A request's events are folded into `AnsweredQuestion` (the library's own read model). From
it, `proposal` decides what may be proposed for publication: nothing without consent and a
delivered memo; the city's name only with "named" consent (under "anonymous" consent the
name, the city's web addresses, streets and ZIP codes are also struck from the text); names,
e-mail addresses, phone numbers and street addresses of individuals always redacted. The
proposal then waits for a curator's review (`review`) before anything is published.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .redaction import CITY, Redactor
from .resources import ResourceContent

Consent = Literal["none", "anonymous", "named"]
PUBLISHER = "SC2 National Resource Network — 311 for Cities"
SYSTEM_ACTOR = "system:requests311"


class AnsweredQuestion(BaseModel):
    request_id: str
    reference: str | None = None  # the question's human reference (NRN-2026-00123): searchable in the library
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
                          question: str, topic: str, consent: Consent, at: datetime,
                          reference: str | None = None) -> AnsweredQuestion:
    s = state or AnsweredQuestion(request_id=request_id)
    upd: dict = {"city_id": city_id, "topic": s.topic or topic, "submitted_at": at,
                 "reference": reference or s.reference}
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


@dataclass(frozen=True)
class Proposal:
    """What the redactor proposes to publish, with the original texts and what it replaced (for the review)."""

    content: ResourceContent
    original: dict[str, str]
    redactions: dict[str, int]


def proposal(s: AnsweredQuestion, redactor: Redactor, *, city_name: str | None = None,
             state_name: str | None = None, city_domains: tuple[str, ...] = ()) -> Proposal | None:
    """What may be published for this request, or None when nothing may be (no consent, no memo)."""
    if s.consent not in ("anonymous", "named") or s.delivered_at is None or not s.short_answer:
        return None
    name = s.city_name or city_name
    named = s.consent == "named" and bool(name)
    hide = [] if named else [n for n in (name,) if n]
    found: Counter[str] = Counter()

    def clean(text: str | None) -> str:
        out = redactor.redact(text or "", hide=hide, hide_as=CITY, hide_domains=() if named else city_domains)
        found.update(out.found)
        return out.text

    title = clean(s.title) or "Answered question"
    if len(title) < 3:
        title = "Answered question"
    related = [f"{name}, {state_name}" if state_name else name] if named and name else []
    content = ResourceContent(
        type="answered_question",
        title=title[:300],
        summary=clean(s.short_answer)[:4_000],
        body=clean(s.memo_markdown) or clean(s.short_answer),
        question=clean(s.question),
        topics=[s.topic if s.topic else "other"],
        source_organisation=PUBLISHER,
        publication_date=s.delivered_at.date(),
        related_cities=related,
        tags=["311", *([s.reference] if s.reference else [])],
        audience="public",
    )
    original = {k: v for k, v in (("title", s.title), ("question", s.question), ("summary", s.short_answer),
                                  ("body", s.memo_markdown)) if v and v.strip()}
    return Proposal(content, original, dict(found))


def public_record(s: AnsweredQuestion, redactor: Redactor, *, city_name: str | None = None,
                  state_name: str | None = None, city_domains: tuple[str, ...] = ()) -> ResourceContent | None:
    """The redacted content that would be proposed for review, or None when nothing may be published."""
    p = proposal(s, redactor, city_name=city_name, state_name=state_name, city_domains=city_domains)
    return p.content if p else None
