"""Routing suggestion: who should answer a question. A pure function over a read model of experts."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel


class ExpertProfile(BaseModel):
    """One expert as requests311 knows them (from accounts' role events, plus its own workload count)."""

    id: str
    name: str = ""
    expertise: frozenset[str] = frozenset()
    active: bool = True
    open_requests: int = 0
    capacity: int | None = None  # None: no cap


class Suggestion(BaseModel):
    expert_id: str
    name: str
    open_requests: int
    matches_topic: bool
    over_capacity: bool
    reason: str
    expertise: list[str] = []
    capacity: int | None = None


def suggest_experts(topic: str, experts: Iterable[ExpertProfile], *, limit: int = 5) -> list[Suggestion]:
    """Every active expert for `topic`: those with the topic's expertise first, each group least loaded
    first, so triage can pick anyone and sees the workload beside each name. Experts at or over capacity
    sink to the end of their group rather than vanish: the lead may know something the numbers do not.
    """
    active = [e for e in experts if e.active]

    def over(e: ExpertProfile) -> bool:
        return e.capacity is not None and e.open_requests >= e.capacity

    ranked = sorted(active, key=lambda e: (topic not in e.expertise, over(e), e.open_requests, e.name.lower(), e.id))
    nobody = not any(topic in e.expertise for e in active)
    out = []
    for e in ranked[:limit]:
        match = topic in e.expertise
        reason = (f"covers {topic}" if match else (f"nobody covers {topic}; general pick" if nobody
                                                   else f"does not cover {topic}")) + (
            f", {e.open_requests} open request(s)"
        ) + (", at capacity" if over(e) else "")
        out.append(Suggestion(expert_id=e.id, name=e.name, open_requests=e.open_requests,
                              matches_topic=match, over_capacity=over(e), reason=reason,
                              expertise=sorted(e.expertise), capacity=e.capacity))
    return out
