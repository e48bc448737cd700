"""Peer context for an engagement: cities facing similar barriers, their engagements, and the
questions NRN answered for them (from this service's own read models, never a call to another
service).

Similarity is the number of barriers shared, then the Jaccard index (shared ÷ all named), then
the most recent engagement. An official sees only cities that asked for peer connections on their
application; staff see every similar city, marked by whether it asked. Answered questions appear
only with the city's consent to publish, and under the city's name only when it consented to that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from .model import BARRIER_LABELS, Barrier


@dataclass
class SimilarCity:
    city_id: str
    name: str
    shared: list[Barrier]
    similarity: Fraction
    peer_connections: bool
    latest: datetime
    engagements: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"city_id": self.city_id, "name": self.name, "shared_barriers": [b.value for b in self.shared],
                "shared_labels": [BARRIER_LABELS[b] for b in self.shared], "peer_connections": self.peer_connections,
                "engagements": self.engagements}


def similar_cities(barriers: list[Barrier], city_id: str, engagements: list[dict[str, Any]], *,
                   staff: bool, limit: int = 5) -> list[SimilarCity]:
    """`engagements`: documents of other engagements with `city_id`, `city_name`, `barriers`, `title`,
    `status`, `opened_at`, `peer_connections`."""
    mine = set(barriers)
    by_city: dict[str, SimilarCity] = {}
    for doc in engagements:
        if doc["city_id"] == city_id:
            continue
        theirs = {Barrier(b) for b in doc.get("barriers") or ()}
        shared = mine & theirs
        if not shared:
            continue
        opted = bool(doc.get("peer_connections"))
        if not staff and not opted:
            continue
        entry = by_city.get(doc["city_id"])
        similarity = Fraction(len(shared), len(mine | theirs))
        if entry is None:
            entry = by_city[doc["city_id"]] = SimilarCity(
                city_id=doc["city_id"], name=doc.get("city_name") or "", shared=[b for b in Barrier if b in shared],
                similarity=similarity, peer_connections=opted, latest=doc["opened_at"])
        elif (len(shared), similarity) > (len(entry.shared), entry.similarity):
            entry.shared, entry.similarity = [b for b in Barrier if b in shared], similarity
        entry.peer_connections = entry.peer_connections or opted
        entry.latest = max(entry.latest, doc["opened_at"])
        entry.engagements.append({"id": doc["_id"], "title": doc.get("title"), "status": doc.get("status"),
                                  "opened_at": doc["opened_at"].isoformat()})
    ranked = sorted(by_city.values(), key=lambda c: (-len(c.shared), -c.similarity, -c.latest.timestamp(), c.city_id))
    return ranked[:limit]


def answered_questions(questions: list[dict[str, Any]], similar: list[SimilarCity], city_id: str, *,
                       limit: int = 8) -> list[dict[str, Any]]:
    """`questions`: answered-question documents (`city_id`, `title`, `topic`, `short_answer`,
    `consent`, `delivered_at`, `city_name` when named). Similar cities' first, then newest."""
    rank = {c.city_id: i for i, c in enumerate(similar)}
    shown = [q for q in questions if q.get("consent") in ("anonymous", "named") and q["city_id"] != city_id]
    shown.sort(key=lambda q: (rank.get(q["city_id"], len(rank)), -q["delivered_at"].timestamp()))
    return [{"request_id": q["_id"], "title": q["title"], "topic": q["topic"], "short_answer": q.get("short_answer"),
             "city_name": q.get("city_name") if q.get("consent") == "named" else None,
             "delivered_at": q["delivered_at"].isoformat()} for q in shown[:limit]]
