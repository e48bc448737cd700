"""What of an event a partner may see: the field-level allow-list and the personal-data rule.

A field is *personal* when it identifies a person (an e-mail, a phone, an account id, a person's
name or job title) or carries what an official wrote in their own words (the question, its context,
a comment, a message, an application's narrative, a search). Personal fields are sent only when the
partner's agreement says ``personal_data: true`` — and then still only the fields it lists.
The rule is by field name and the event's key, so an event added later is covered without a change
here; ``tests/unit/test_privacy.py`` walks every partner event type and fails on a field that looks
personal (an e-mail, a person's id) but is not classified.
"""

from __future__ import annotations

from typing import Any

from nrn_contracts import Event

# Identify a person, whatever the event.
IDENTIFYING = frozenset({
    "email", "contact_email", "phone", "account_id", "official_id", "expert_id", "previous_expert_id", "by", "registrant_id",
    "member_id", "reviewer_id", "volunteer_id", "person_id",
})
# On events about a person (keyed by account_id), their name and job title identify them too;
# elsewhere `name` and `title` are a city's, an organisation's or a document's.
IDENTIFYING_ON_PERSON_EVENTS = frozenset({"name", "title"})
# What an official wrote or said in their own words.
OFFICIALS_WORDS = frozenset({
    "question", "context", "outcome_wanted", "comment", "message", "notes", "query",
    "preferred_call_times", "background", "economic_challenges", "project_management", "peer_connections",
})


def _identifies(name: str) -> bool:
    # who did something: by, agreed_by, approved_by, … are people's account ids
    return name in IDENTIFYING or name.endswith("_by")


def personal_fields(cls: type[Event]) -> frozenset[str]:
    names = set(cls.model_fields)
    out = {n for n in names if _identifies(n)} | (names & OFFICIALS_WORDS)
    if cls.key == "account_id":
        out |= names & IDENTIFYING_ON_PERSON_EVENTS
    return frozenset(out)


def public_fields(cls: type[Event]) -> tuple[str, ...]:
    personal = personal_fields(cls)
    return tuple(f for f in cls.model_fields if f not in personal)


def allowed_fields(cls: type[Event], listed: list[str] | None, *, personal_data: bool) -> frozenset[str]:
    """The fields of ``cls`` a partner receives: those the agreement lists (every field when it lists none),
    less the personal ones unless the agreement allows personal data."""
    fields = set(cls.model_fields) if listed is None else set(listed) & set(cls.model_fields)
    if not personal_data:
        fields -= personal_fields(cls)
    return frozenset(fields)


def redact(cloudevent: dict[str, Any], cls: type[Event] | None, allowed: frozenset[str]) -> dict[str, Any]:
    """The CloudEvent a partner receives: only allowed data fields; the internal trace context dropped;
    the subject (the aggregate's id) dropped when its field is withheld (an account id, say)."""
    out = {k: v for k, v in cloudevent.items() if k not in ("data", "traceparent", "data_base64")}
    data = cloudevent.get("data")
    out["data"] = {k: v for k, v in data.items() if k in allowed} if isinstance(data, dict) else {}
    if cls is not None and cls.key not in allowed:
        out.pop("subject", None)
    return out
