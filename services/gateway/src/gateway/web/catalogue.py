"""The event catalogue, generated from the contracts (``nrn_contracts``): every topic (owner, key,
retention, who reads it) and every event type on it — what it means, when it is emitted, its fields
with types and an example, its version history. The same data as the AsyncAPI document, for people."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from nrn_contracts import TOPICS, Event
from nrn_contracts.schemas import contract_events
from nrn_contracts.testing import example

from ..deps import MaybePageUser
from .render import render

router = APIRouter()

_SERVICES = {"accounts": "Cities and accounts", "requests311": "311 for Cities", "library": "Resource library",
             "engagements": "Direct technical assistance", "peer": "Peer networking",
             "partners": "Partner webhooks", "notifications": "Notifications"}


def _type_name(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        names = [_type_name(s, defs) for s in schema["anyOf"]]
        return " or ".join(dict.fromkeys(n for n in names if n != "null")) + (" (optional)" if "null" in names else "")
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return f"always {schema['const']}"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_name(schema.get('items', {}), defs)}"
    fmt = schema.get("format")
    if fmt == "date-time":
        return "date-time (UTC)"
    return {"string": "text", "integer": "whole number", "number": "number", "boolean": "yes/no",
            "object": "object", "null": "null"}.get(kind, str(kind)) + (f" ({fmt})" if fmt else "")


def _when(cls: type[Event]) -> str:
    doc = " ".join((cls.__doc__ or "").split())
    # docstrings mark names ``like this`` for developers; people read them as plain words
    return re.sub(r"``([^`]+)``", r"“\1”", doc) or cls.__name__


def _event(cls: type[Event], all_types: dict[str, type[Event]]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    sample = json.loads(example(cls).model_dump_json())
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        fields.append({"name": name, "type": _type_name(prop, defs), "required": name in required,
                       "description": prop.get("description") or "", "example": json.dumps(sample.get(name),
                                                                                          ensure_ascii=False)[:120]})
    base = re.sub(r"\.v[0-9]+$", "", cls.type)
    versions = sorted((t for t in all_types if re.sub(r"\.v[0-9]+$", "", t) == base),
                      key=lambda t: int(t.rsplit(".v", 1)[1]))
    topic = TOPICS[cls.topic]
    return {"type": cls.type, "name": re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).capitalize(),
            "class": cls.__name__, "meaning": _when(cls).split(". ")[0].rstrip(".") + ".", "when": _when(cls),
            "topic": cls.topic, "key": cls.key, "owner": topic.owner, "fields": fields,
            "versions": [{"type": t, "current": t == cls.type} for t in versions],
            "example": json.dumps(sample, indent=2, ensure_ascii=False)}


@cache
def catalogue() -> dict[str, Any]:
    events = contract_events()
    topics = []
    for name, topic in sorted(TOPICS.items()):
        configs = topic.configs()
        retention = ("compacted: the newest record of each key is kept for ever" if topic.compacted else
                     "kept for ever" if configs["retention.ms"] == "-1" else
                     f"kept {int(configs['retention.ms']) // 86_400_000} days")
        topics.append({
            "name": name, "owner": topic.owner, "owner_label": _SERVICES.get(topic.owner, topic.owner),
            "description": topic.description, "key": topic.key, "partitions": topic.partitions,
            "retention": retention, "readers": [_SERVICES.get(c, c) if c not in ("analytics", "partners") else
                                                {"analytics": "Analytics", "partners": "Partner webhooks"}[c]
                                                for c in topic.consumers],
            "external": "partners" in topic.consumers or "analytics" in topic.consumers,
            "events": [_event(cls, events) for t, cls in events.items() if cls.topic == name],
        })
    return {"topics": topics, "event_count": len(events)}


@router.get("/events", response_class=HTMLResponse)
async def events_page(request: Request, user: MaybePageUser) -> HTMLResponse:
    return render(request, "events/catalogue.html", {"catalogue": catalogue(), "nav": "events"})
