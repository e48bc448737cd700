"""A partner's agreement with NRN: which event types it may receive, which fields of each, whether
officials' personal data is included, and which filters its endpoints may use.

NRN administrators set it. Until they do, a partner has the standard agreement: every event type of
the external topics, every non-personal field, no personal data, filters by state and topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import catalogue, privacy
from .errors import InvalidInput

FILTERS = ("state", "topic")


@dataclass(frozen=True)
class Agreement:
    partner_id: str
    event_types: tuple[str, ...] = ("*",)
    # event type -> the fields allowed; a type not named keeps every field (personal ones still need personal_data)
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    personal_data: bool = False
    filters: tuple[str, ...] = FILTERS
    version: int = 0
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def standard(self) -> bool:
        return self.version == 0

    def allows_type(self, event_type: str) -> bool:
        if event_type == catalogue.TEST_EVENT_TYPE:
            return True
        return event_type in catalogue.partner_event_types() and catalogue.matches_any(self.event_types, event_type)

    def allowed_types(self) -> list[str]:
        return catalogue.expand(self.event_types)

    def fields_for(self, event_type: str) -> frozenset[str]:
        cls = catalogue.partner_event_types().get(event_type)
        if cls is None:
            return frozenset()
        listed = self.fields.get(event_type)
        return privacy.allowed_fields(cls, list(listed) if listed is not None else None,
                                      personal_data=self.personal_data)

    def to_doc(self) -> dict[str, Any]:
        return {"_id": self.partner_id, "event_types": list(self.event_types),
                "fields": {k.replace(".", "·"): list(v) for k, v in self.fields.items()},
                "personal_data": self.personal_data, "filters": list(self.filters), "version": self.version,
                "updated_by": self.updated_by, "updated_at": self.updated_at}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None, partner_id: str) -> "Agreement":
        if doc is None:
            return cls(partner_id=partner_id)
        # MongoDB keys may not hold dots: event types are stored with a middle dot instead
        fields = {k.replace("·", "."): tuple(v) for k, v in (doc.get("fields") or {}).items()}
        return cls(partner_id=partner_id, event_types=tuple(doc.get("event_types") or ()), fields=fields,
                   personal_data=bool(doc.get("personal_data")), filters=tuple(doc.get("filters") or ()),
                   version=int(doc.get("version", 0)), updated_by=doc.get("updated_by"),
                   updated_at=doc.get("updated_at"))


def build(partner_id: str, *, event_types: list[str], fields: dict[str, list[str]] | None, personal_data: bool,
          filters: list[str], version: int, by: str, at: datetime) -> Agreement:
    """A new version of the agreement, checked field by field (422 naming it)."""
    types = catalogue.check_patterns(event_types)
    known = catalogue.partner_event_types()
    chosen: dict[str, tuple[str, ...]] = {}
    for event_type, names in (fields or {}).items():
        cls = known.get(event_type)
        if cls is None:
            raise InvalidInput(f"{event_type!r} is not an event type partners can receive", field=f"fields.{event_type}")
        unknown = [n for n in names if n not in cls.model_fields]
        if unknown:
            raise InvalidInput(f"{event_type} has no field {unknown[0]!r}", field=f"fields.{event_type}")
        if not catalogue.matches_any(types, event_type):
            raise InvalidInput(f"{event_type} is not among the agreement's event types", field=f"fields.{event_type}")
        chosen[event_type] = tuple(dict.fromkeys(names))
    bad = [f for f in filters if f not in FILTERS]
    if bad:
        raise InvalidInput(f"{bad[0]!r} is not a filter (state, topic)", field="filters")
    return Agreement(partner_id=partner_id, event_types=tuple(types), fields=chosen, personal_data=personal_data,
                     filters=tuple(f for f in FILTERS if f in filters), version=version, updated_by=by, updated_at=at)


def view(agreement: Agreement) -> dict[str, Any]:
    """The agreement as the API shows it, with what it means per event type."""
    per_type = []
    for event_type in agreement.allowed_types():
        cls = catalogue.partner_event_types()[event_type]
        allowed = agreement.fields_for(event_type)
        per_type.append({
            "type": event_type, "label": catalogue.label(event_type),
            "fields": [f for f in cls.model_fields if f in allowed],
            "withheld": [f for f in cls.model_fields if f not in allowed],
            "personal": sorted(privacy.personal_fields(cls)),
        })
    return {"partner_id": agreement.partner_id, "standard": agreement.standard,
            "event_types": list(agreement.event_types), "personal_data": agreement.personal_data,
            "filters": list(agreement.filters), "fields": {k: list(v) for k, v in agreement.fields.items()},
            "version": agreement.version, "updated_at": agreement.updated_at, "types": per_type}
