"""The words pages use for the services' codes: one label for one thing everywhere (a code never
reaches a page as it is)."""

from __future__ import annotations

DECLINE_REASONS = {
    "out_of_scope": "it is outside what NRN's 311 for Cities answers",
    "duplicate": "it repeats a question already asked",
    "other": "see the explanation",
}
STEP_NAMES = {
    "acknowledge": "First response from NRN",
    "memo": "The memo",
    "call": "The call",
    "response_after_reopen": "Response to the reopened question",
}
SLA_WORDS = {"on_time": "On time", "at_risk": "Due soon", "overdue": "Overdue"}
CALL_OUTCOMES = {
    "scheduled": "Booked",
    "completed": "Held",
    "missed": "Did not take place",
    "reschedule_requested": "You asked for another time",
    "cancelled": "Cancelled by your city",
}


def request_words() -> dict[str, dict[str, str]]:
    """The maps a request page's template reads."""
    return {"decline_reasons": DECLINE_REASONS, "step_names": STEP_NAMES, "sla_words": SLA_WORDS,
            "call_outcomes": CALL_OUTCOMES}
