"""engagements' input limits, in one place, for the gateway's validation at the door and its pages.

The gateway does not depend on the engagements package (each service installs on its own), so the
limits are mirrored here; `tests/unit/test_engagements_limits.py` compares every body and query
parameter of the gateway's direct-assistance routes with engagements' own, field by field, so a
limit changed on either side fails that test until the other follows.

Sources: ``engagements.domain.form`` (the application form), ``engagements.api`` (the other
bodies), ``engagements.domain.application`` (terms, reasons), ``engagements.domain.engagement``
(the report), ``engagements.domain.rounds`` (capacity), ``engagements.config`` (attachment size).
"""

from __future__ import annotations

# --- the application form ------------------------------------------------------------------------
SHORT_MAX = 200  # names and titles
TEXT2K_MAX = 2_000  # how the local match is paid
TEXT5K_MAX = 5_000  # the sponsor's commitment, the hardship reason, the exception request
NARRATIVE_MAX = 5_000  # each barrier's narrative
STAKEHOLDER_MAX, STAKEHOLDERS_MAX = 300, 20
POPULATION_MIN, POPULATION_MAX = 1, 10_000_000
TIMELINE_MONTHS = (4, 12)
PARTNERS_MAX = 10
CITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
EMAIL_MAX = 254
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
BARRIERS: tuple[str, ...] = ("government_operations_budgets", "economic_development", "land_use", "transportation",
                             "workforce", "community_development", "housing", "public_safety")
ATTACHMENT_KINDS: tuple[str, ...] = ("sponsor_letter", "budget", "other")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # engagements' default ATTACHMENT_MAX_BYTES (the page says it)

# --- review and decision -------------------------------------------------------------------------------
REASON_MAX = 5_000  # reasons, notes, comments, texts
CRITERION_ID_MAX = 40
CRITERIA_MAX = 20
SCORE_MIN, SCORE_MAX = 1, 5
CRITERION_COMMENT_MAX = 2_000
TITLE_MAX = 300
SCOPE_MAX = 5_000
BUDGET_CENTS = (5_000_000, 50_000_000)  # $50,000 to $500,000
DURATION_MONTHS = (4, 12)
ID_MAX = 128

# --- rounds -------------------------------------------------------------------------------------------
ROUND_NAME_MAX = 200
CAPACITY_MAX = 1_000

# --- engagements --------------------------------------------------------------------------------------
TEAM_MAX = 20
FINDINGS_MAX = 5_000
STRENGTHS_MAX, STRENGTH_MAX = 20, 2_000
ASSESSMENT_SUMMARY_MAX = 10_000
MILESTONES_MAX = 30
MILESTONE_TITLE_MAX, MILESTONE_DESCRIPTION_MAX, OWNER_MAX = 300, 5_000, 200
OUTCOMES_MAX, OUTCOME_NOTE_MAX = 30, 2_000
REPORT_MAX = 20_000

# --- queries ---------------------------------------------------------------------------------------------
LIST_LIMIT_MAX = 100


def page_limits() -> dict[str, int]:
    """The maxlength attributes of the application form's fields on the pages."""
    return {"short": SHORT_MAX, "text2k": TEXT2K_MAX, "text5k": TEXT5K_MAX, "narrative": NARRATIVE_MAX,
            "stakeholder": STAKEHOLDER_MAX, "stakeholders": STAKEHOLDERS_MAX, "email": EMAIL_MAX,
            "reason": REASON_MAX, "title": TITLE_MAX, "scope": SCOPE_MAX, "report": REPORT_MAX,
            "findings": FINDINGS_MAX, "summary": ASSESSMENT_SUMMARY_MAX, "milestone_title": MILESTONE_TITLE_MAX,
            "milestone_description": MILESTONE_DESCRIPTION_MAX, "owner": OWNER_MAX, "round_name": ROUND_NAME_MAX,
            "criterion_comment": CRITERION_COMMENT_MAX, "attachment_mb": ATTACHMENT_MAX_BYTES // (1024 * 1024)}
