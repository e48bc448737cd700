"""What the library tells the world: contract events for items as they are published, changed or withdrawn.

Only items for the public audience are announced: partners and analytics read these events,
and an item meant for officials or staff must not leave the service through them.
"""

from __future__ import annotations

from datetime import datetime

from nrn_contracts.events import ResourceArchived, ResourcePublished, ResourceUpdated

from .clearinghouse import Program
from .resources import Resource

# the library's types -> the contract's broader `kind`
KIND = {
    "guide": "guide",
    "toolkit": "toolkit",
    "case_study": "case_study",
    "report": "report",
    "research": "report",
    "policy_analysis": "report",
    "webinar": "other",
    "working_group_deliverable": "other",
    "answered_question": "answered_question",
    "convening_material": "convening_material",
    "close_out_report": "close_out_report",
}


def announced(r: Resource) -> bool:
    return r.content.audience == "public"


def _state(r: Resource) -> dict:
    c = r.content
    summary = c.summary.strip() or c.title
    origin = r.origin or {}
    return dict(
        resource_id=r.resource_id,
        kind=KIND.get(c.type, "other"),
        resource_type=c.type,
        title=c.title,
        summary=summary[:20_000],
        body_markdown=(c.body or None) if (c.body or "").strip() else None,
        url=c.link,
        topics=tuple(c.topics),
        tags=tuple(t[:50] for t in c.tags)[:30],
        publisher=c.source_organisation[:200],
        city_id=origin.get("city_id"),
        source_request_id=origin.get("request_id"),
    )


def published_event(r: Resource, at: datetime) -> ResourcePublished:
    return ResourcePublished(**_state(r), published_at=at)


def updated_event(r: Resource, at: datetime) -> ResourceUpdated:
    return ResourceUpdated(**_state(r), updated_at=at)


def archived_event(resource_id: str, *, reason: str | None, by: str | None, at: datetime) -> ResourceArchived:
    return ResourceArchived(resource_id=resource_id, reason=reason, by=by, at=at)


def program_state(p: Program) -> dict:
    c = p.content
    body = "\n\n".join(x for x in (c.help_details, f"**How to apply:** {c.how_to_apply}") if x.strip())
    return dict(
        resource_id=p.program_id, kind="federal_program", resource_type="federal_program", title=c.name,
        summary=c.summary, body_markdown=body or None, url=c.url, topics=tuple(c.topics),
        tags=tuple(t[:50] for t in c.tags)[:30], publisher=(c.sub_agency or c.agency)[:200],
    )


def program_published_event(p: Program, at: datetime) -> ResourcePublished:
    return ResourcePublished(**program_state(p), published_at=at)


def program_updated_event(p: Program, at: datetime) -> ResourceUpdated:
    return ResourceUpdated(**program_state(p), updated_at=at)
