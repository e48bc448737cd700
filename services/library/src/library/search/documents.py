"""What the search index holds: one flat document per library item, built from the service's own documents."""

from __future__ import annotations

from datetime import date as Date

from pydantic import BaseModel, Field

from ..domain.clearinghouse import Program
from ..domain.resources import Resource
from ..domain.taxonomy import TOPICS
from .plaintext import markdown_to_text
from .visibility import visibility_tokens

_EPOCH = Date(1970, 1, 1)
MAX_INDEXED_BODY = 100_000  # characters of a body that are indexed; the rest adds little to ranking


class SearchDoc(BaseModel):
    id: str
    kind: str  # "resource" | "program"
    type: str
    status: str
    audience: str = "public"
    title: str
    summary: str = ""
    body: str = ""
    keywords: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    source: str = ""
    agency: str = ""
    cities: list[str] = Field(default_factory=list)
    published: Date | None = None

    @property
    def year(self) -> int | None:
        return self.published.year if self.published else None


def topic_label(t: str) -> str:
    return t.replace("_", " ")


def from_resource(r: Resource) -> SearchDoc:
    c = r.content
    # the index holds text as readers see it: snippets never show Markdown or entities
    body = markdown_to_text(c.body)
    if c.question:
        body = f"{c.question}\n\n{body}"
    when = c.publication_date or (r.published_at.date() if r.published_at else r.created_at.date())
    return SearchDoc(
        id=r.resource_id,
        kind="resource",
        type=c.type,
        status=r.status,
        audience=c.audience,
        title=c.title,
        summary=markdown_to_text(c.summary),
        body=body[:MAX_INDEXED_BODY],
        keywords=[*c.tags, *(topic_label(t) for t in c.topics), *c.related_cities, c.source_organisation,
                  *c.authors, *([c.agency] if c.agency else []), *([c.link] if c.link else [])],
        topics=list(c.topics),
        source=c.source_organisation,
        agency=c.agency or "",
        cities=list(c.related_cities),
        published=when,
    )


def from_program(p: Program) -> SearchDoc:
    c = p.content
    help_text = ", ".join(h.replace("_", " ") for h in c.help_given)
    body = "\n\n".join(x for x in (markdown_to_text(c.help_details), f"Help given: {help_text}",
                                   f"How to apply: {markdown_to_text(c.how_to_apply)}",
                                   f"Eligibility: {c.eligibility.notes}" if c.eligibility.notes else "") if x)
    return SearchDoc(
        id=p.program_id,
        kind="program",
        type="federal_program",
        status="published" if p.active else "archived",
        audience="public",
        title=c.name,
        summary=markdown_to_text(c.summary),
        body=body[:MAX_INDEXED_BODY],
        keywords=[*c.tags, *(topic_label(t) for t in c.topics), c.agency, *([c.sub_agency] if c.sub_agency else []),
                  help_text],
        topics=list(c.topics),
        source=c.sub_agency or c.agency,
        agency=c.agency,
        published=p.updated_at.date(),
    )


def to_tantivy_dict(d: SearchDoc) -> dict:
    out: dict = {
        "id": d.id, "kind": d.kind, "type": d.type, "status": d.status, "audience": d.audience,
        "vis": visibility_tokens(d.status, d.audience),
        "title": d.title, "summary": d.summary, "body": d.body,
        "keywords": " \n ".join(d.keywords),
        "plain": " \n ".join([d.title, d.summary, *d.keywords, d.body]),
        "topics": [t for t in d.topics if t in TOPICS] or ["other"],
        "source": d.source or "unknown",
        "agency": d.agency or "none",
        "cities": d.cities,
    }
    if d.published:
        out["year"] = d.published.year
        out["date"] = (d.published - _EPOCH).days
    return out
