"""requests311's input limits, in one place, for the gateway's validation at the door and its pages.

The gateway must neither accept what requests311 will refuse (a 422 from upstream after the
gateway said the body was fine) nor refuse what requests311 accepts. The gateway does not
depend on the requests311 package (each service installs on its own), so the limits are
mirrored here and `tests/unit/test_requests311_limits.py` compares the gateway's request models
and query parameters with requests311's own, field by field, and probes the rules requests311
keeps in its domain (text that is blank once trimmed, review comments, preferred call times)
with the same inputs on both sides: when requests311 changes a limit, that test fails until this
module follows.

Sources: ``requests311.api`` (the body models and query parameters),
``requests311.domain.model.QuestionDraft`` and ``requests311.domain.request`` (``_text``:
required text must not be blank once trimmed; ``MAX_TEXT``; ``MAX_SLOTS_PER_OFFER``),
``requests311.domain.memo.MAX_MEMO_CHARS``, and for the preferred call times the contract of the
``QuestionSubmitted`` event (``CallTime``), which requests311 builds from them.
"""

from __future__ import annotations

from nrn_contracts import TOPIC_TAXONOMY, TaxonomyTopic

# --- asking (QuestionDraft) ------------------------------------------------------------------------
TITLE_MAX = 200
QUESTION_MAX = 10_000
CONTEXT_MAX = 10_000
DESIRED_OUTCOME_MAX = 2_000
CALL_TIMES_MAX = 10  # preferred call times, blank ones included (requests311 drops them)
# each preferred call time once trimmed: requests311's API sets none, but its QuestionSubmitted
# event (CallTime) refuses a longer one, so requests311 fails on it (a 5xx) instead of saving it
CALL_TIME_MAX = 200
Topic = TaxonomyTopic  # requests311.domain.model.Topic: the contracts' taxonomy
TOPICS: tuple[str, ...] = TOPIC_TAXONOMY

# --- triage ------------------------------------------------------------------------------------------
TRIAGE_NOTE_MAX = 10_000
INFORMATION_QUESTION_MAX = 10_000  # a request for information
INFORMATION_ANSWER_MAX = 10_000  # the city's answer to it
DECLINE_EXPLANATION_MAX = 10_000
ID_MAX = 128  # expert_id, duplicate_of (requests311 sets a length only)
ASSIGN_REASON_MAX = 5_000  # why an expert is replaced or taken off (required for those)

# --- memo --------------------------------------------------------------------------------------------
MEMO_MAX = 100_000  # requests311.domain.memo.MAX_MEMO_CHARS (drafts and previews)
RETURN_COMMENTS_MAX = 50  # comments returning a memo (at least one not blank)
RETURN_COMMENT_MAX = 10_000  # each
WORKING_COPY_REVISION_MAX = 1_000_000  # the autosave's base_revision

# --- call --------------------------------------------------------------------------------------------
SLOTS_MAX = 10  # per offer
SLOT_MINUTES_MIN, SLOT_MINUTES_MAX = 15, 120
SLOT_ID_MAX = 32
MEETING_MAX = 500  # how to join the call: a dial-in number or a video link
TIME_ZONE_MAX = 64  # an IANA name (America/Argentina/ComodRivadavia is 32)
CALL_SUMMARY_MAX = 10_000
NEXT_STEPS_MAX = 50
NEXT_STEP_MAX = 2_000  # each

CALL_CHANGE_REASON_MAX = 2_000
REFERENCE_MAX = 32  # a question's human reference, as people type it (nrn-2026-123)
REFERENCE_PATTERN = r"^[Nn][Rr][Nn]-[0-9]{4}-[0-9]{1,10}$"  # asking to reschedule or cancel a booked call

# --- close and after -----------------------------------------------------------------------------------
CLOSE_NOTE_MAX = 5_000
RATING_MIN, RATING_MAX = 1, 5
FEEDBACK_COMMENT_MAX = 2_000
FOLLOW_UP_DESCRIPTION_MAX = 5_000
REOPEN_REASON_MAX = 5_000
NOTE_MAX = 10_000  # an internal note
EXPERT_CAPACITY_MAX = 1_000

# --- queries ---------------------------------------------------------------------------------------------
LIST_LIMIT_MAX = 100
CURSOR_MAX = 500
SUGGESTIONS_LIMIT_MAX = 200
MEMO_VERSION_MAX = 10_000  # requests311.api.MAX_MEMO_VERSION
SEARCH_MAX = 200  # the queue's keyword search
SORTS = ("newest", "oldest", "due", "urgency")
STATE_PATTERN = r"^[A-Z]{2}$"  # USPS code, upper case


def page_limits() -> dict[str, int]:
    """The maxlength attributes of the pages' form fields that go to requests311."""
    return {
        "title": TITLE_MAX, "question": QUESTION_MAX, "context": CONTEXT_MAX,
        "desired_outcome": DESIRED_OUTCOME_MAX,
    }
