"""MongoDB repositories of the library and the indexes they need."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

RESOURCES = "resources"
PROGRAMS = "programs"
ANSWERED = "answered_questions"
CITIES = "cities"
PEOPLE = "people"
ASKED = "asked_questions"
SIMILAR = "similar_searches"
REVIEWS = "reviews"
SYNONYMS = "synonyms"
META = "meta"

INDEXES: dict[str, list[IndexModel]] = {
    RESOURCES: [
        IndexModel([("status", ASCENDING), ("updated_at", DESCENDING)], name="queue"),
        IndexModel([("content.type", ASCENDING), ("updated_at", DESCENDING)], name="by_type"),
        IndexModel([("origin.request_id", ASCENDING)], name="by_request", sparse=True),
    ],
    PROGRAMS: [IndexModel([("active", ASCENDING), ("content.agency", ASCENDING)], name="by_agency")],
    SIMILAR: [IndexModel([("created_at", ASCENDING)], name="similar_ttl", expireAfterSeconds=90 * 24 * 3600)],
    REVIEWS: [
        IndexModel([("status", ASCENDING), ("updated_at", DESCENDING)], name="queue"),
        IndexModel([("resource_id", ASCENDING), ("status", ASCENDING)], name="by_resource"),
    ],
}
