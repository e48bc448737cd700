"""Peer context: cities with similar barriers ranked by what they share, officials seeing only cities
that asked for peer connections, answered questions only with consent (named only when named)."""

from datetime import UTC, datetime, timedelta

from engagements.domain.model import Barrier
from engagements.domain.peer import answered_questions, similar_cities

T = datetime(2025, 3, 1, tzinfo=UTC)
B = Barrier


def eng(eid: str, city: str, barriers: list[str], *, peers: bool = True, days: int = 0) -> dict:
    return {"_id": eid, "city_id": city, "city_name": city.title(), "barriers": barriers, "title": f"Work in {city}",
            "status": "in_progress", "opened_at": T + timedelta(days=days), "peer_connections": peers}


DOCS = [
    eng("e1", "gary", ["housing", "land_use", "workforce"]),
    eng("e2", "dayton", ["housing"], days=5),
    eng("e3", "camden", ["housing", "land_use"], peers=False),
    eng("e4", "flint", ["housing", "land_use"]),  # the city itself
    eng("e5", "macon", ["transportation"]),
    eng("e6", "gary", ["housing", "land_use"], days=9),  # a second engagement of Gary
]


def test_ranked_by_shared_barriers_then_similarity_then_recency():
    found = similar_cities([B.housing, B.land_use], "flint", DOCS, staff=True)
    assert [c.city_id for c in found] == ["gary", "camden", "dayton"]
    gary = found[0]
    assert [e["id"] for e in gary.engagements] == ["e1", "e6"] and gary.shared == [B.land_use, B.housing]  # in the form's order
    assert found[1].as_dict()["peer_connections"] is False


def test_officials_see_only_cities_that_asked_for_peer_connections():
    found = similar_cities([B.housing, B.land_use], "flint", DOCS, staff=False)
    assert [c.city_id for c in found] == ["gary", "dayton"]
    assert similar_cities([B.public_safety], "flint", DOCS, staff=True) == []


def test_answered_questions_need_consent_and_name_the_city_only_when_named():
    similar = similar_cities([B.housing], "flint", DOCS, staff=False)
    qs = [
        {"_id": "q1", "city_id": "dayton", "title": "Land bank", "topic": "housing", "consent": "named",
         "city_name": "Dayton", "short_answer": "Start small.", "delivered_at": T},
        {"_id": "q2", "city_id": "elsewhere", "title": "Vacancy tax", "topic": "housing", "consent": "anonymous",
         "city_name": None, "short_answer": "Maybe.", "delivered_at": T + timedelta(days=3)},
        {"_id": "q3", "city_id": "gary", "title": "Private", "topic": "housing", "consent": "none",
         "city_name": None, "short_answer": "x", "delivered_at": T},
        {"_id": "q4", "city_id": "flint", "title": "Ours", "topic": "housing", "consent": "named",
         "city_name": "Flint", "short_answer": "x", "delivered_at": T},
    ]
    out = answered_questions(qs, similar, "flint")
    assert [(q["request_id"], q["city_name"]) for q in out] == [("q1", "Dayton"), ("q2", None)]
