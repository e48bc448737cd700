"""peer's input limits, mirrored for the gateway's validation at the door and its pages' maxlengths.

The gateway does not depend on the peer package (each service installs on its own), so the limits
are copied from ``peer.domain.limits`` and ``tests/unit/test_peer_limits.py`` compares the gateway's
bodies and query parameters with peer's own, route by route: when peer changes a limit, that test
fails until this module follows."""

from __future__ import annotations

TITLE_MAX = 300
DESCRIPTION_MAX = 20_000
NAME_MAX = 200
VENUE_MAX = 200
ADDRESS_MAX = 500
SESSIONS_MAX = 200
SPEAKERS_MAX = 20
CAPACITY_MAX = 100_000
ROLE_MAX = 200
DIETARY_MAX = 500
ACCESSIBILITY_MAX = 1_000
REASON_MAX = 5_000
COMMENT_MAX = 5_000
FEEDBACK_COMMENT_MAX = 5_000
MATERIAL_BODY_MAX = 200_000
DELIVERABLE_BODY_MAX = 200_000
SUMMARY_MAX = 4_000
AGENDA_MAX = 20_000
NOTES_MAX = 20_000
LINK_MAX = 2_000
LINK_PATTERN = r"^https?://\S+$"
ID_MAX = 128


def page_limits() -> dict[str, int]:
    """The maxlengths the peer pages' fields carry."""
    return {"title": TITLE_MAX, "description": DESCRIPTION_MAX, "venue": VENUE_MAX, "address": ADDRESS_MAX,
            "role": ROLE_MAX, "dietary": DIETARY_MAX, "accessibility": ACCESSIBILITY_MAX, "reason": REASON_MAX,
            "comment": COMMENT_MAX, "summary": SUMMARY_MAX, "body": DELIVERABLE_BODY_MAX, "name": NAME_MAX,
            "link": LINK_MAX, "agenda": AGENDA_MAX, "notes": NOTES_MAX}

# municipal health data
HEALTH_IMPORT_MAX_BYTES = 10 * 1024 * 1024  # the largest CSV of health values, as peer's setting defaults to
MEASURE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MEASURE_IDS_MAX = 100
UNIT_MAX = 200
SOURCE_MAX = 300
HEALTH_NOTE_MAX = 1_000

# the pro bono talent network
SKILLS_MAX = 30
HOURS_PER_MONTH_MAX = 200
PROJECT_HOURS_MAX = 10_000
EXPERIENCE_MAX = 4_000
PROBLEM_MAX = 20_000
PHONE_MAX = 40
SKILL_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
