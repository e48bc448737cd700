"""What people read instead of codes: labels of topics, urgencies and service-level steps, and
times written in a person's own zone with its abbreviation."""

from __future__ import annotations

from datetime import datetime
from nrn_kit.localtime import us_datetime

# The 311 taxonomy's labels (nrn_contracts.values.TaxonomyTopic), as the pages write them.
TOPIC_LABELS = {
    "finance_budgets": "Finance and budgets", "economic_development": "Economic development",
    "housing": "Housing", "workforce": "Workforce", "public_safety": "Public safety", "land_use": "Land use",
    "transportation": "Transportation", "government_operations": "Government operations",
    "broadband": "Broadband", "health": "Health", "other": "Other",
}
URGENCY_LABELS = {"routine": "Routine", "soon": "Soon", "urgent": "Urgent"}
STEP_LABELS = {"acknowledge": "acknowledgment", "memo": "memo", "call": "call",
               "response_after_reopen": "response after reopening"}


def label(table: dict[str, str], code: str | None) -> str:
    """A code's label; an unknown code is written as words, never shown raw with underscores."""
    if not code:
        return ""
    return table.get(code) or code.replace("_", " ").capitalize()


def when(moment: datetime, zone: str) -> str:
    """'Tue, Mar 10, 2026, 11:00 AM EDT' in ``zone`` (the site's wording, nrn_kit.localtime)."""
    return us_datetime(moment, zone)
