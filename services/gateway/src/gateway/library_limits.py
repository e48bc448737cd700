"""The library's input limits, in one place, for the gateway's validation at the door.

The gateway must neither accept what the library will refuse (a 422 from upstream after the
gateway said the body was fine) nor refuse what the library accepts. The gateway does not
depend on the library package (each service installs on its own), so the limits are mirrored
here and `tests/unit/test_library_limits.py` compares the gateway's request models with the
library's own pydantic models, field by field: when the library changes a limit, that test
fails until this module follows.

Sources: ``library.domain.resources.ResourceContent``, ``library.domain.clearinghouse``
(``ProgramContent``, ``Eligibility``, ``Deadline``), ``library.domain.review``,
``library.domain.synonyms``, ``library.api`` (``NoteIn``, ``SimilarIn``, ``HelpfulIn``, ``DecisionIn``,
``SynonymsIn``, the search query) and ``library.search.index.SearchRequest``.
"""

from __future__ import annotations

# --- resources (ResourceContent) -------------------------------------------------------------------
RESOURCE_TITLE_MIN, RESOURCE_TITLE_MAX = 3, 300
RESOURCE_SUMMARY_MAX = 4_000
RESOURCE_BODY_MAX = 200_000
RESOURCE_TOPICS_MIN, RESOURCE_TOPICS_MAX = 1, 11  # each one of the contracts' TOPIC_TAXONOMY
RESOURCE_SOURCE_MIN, RESOURCE_SOURCE_MAX = 1, 200
RESOURCE_AUTHORS_MAX = 50
RESOURCE_RELATED_CITIES_MAX = 100
RESOURCE_TAGS_MAX = 30
RESOURCE_LIST_ENTRY_MAX = 200  # each author, tag, related city (after trimming; blank entries are dropped)
RESOURCE_AGENCY_MAX = 40  # free text for resources (a facet); programmes use the closed list
RESOURCE_QUESTION_MAX = 40_000
NOTE_MAX = 2_000  # the note of a curation transition

# --- links (resources and programmes) -------------------------------------------------------------
URL_MAX = 2_000
URL_PATTERN = r"^https?://\S+$"

# --- clearinghouse programmes (ProgramContent, Eligibility, Deadline) ------------------------------
PROGRAM_SUB_AGENCY_MAX = 200
PROGRAM_NAME_MIN, PROGRAM_NAME_MAX = 3, 300
PROGRAM_SUMMARY_MIN, PROGRAM_SUMMARY_MAX = 1, 4_000
PROGRAM_HELP_GIVEN_MIN = 1
PROGRAM_HELP_DETAILS_MAX = 20_000
PROGRAM_TOPICS_MIN = 1
PROGRAM_HOW_TO_APPLY_MIN, PROGRAM_HOW_TO_APPLY_MAX = 1, 10_000
PROGRAM_CONTACT_MAX = 300
PROGRAM_TAGS_MAX = 30
PROGRAM_NOTES_MAX = 2_000  # eligibility notes
PROGRAM_POPULATION_MAX = 1_000_000_000  # eligibility min/max population (a number the database can hold)
DEADLINE_LABEL_MIN, DEADLINE_LABEL_MAX = 1, 200

# --- review queue (library.domain.review) and synonyms (library.domain.synonyms) --------------------
REVIEW_REASON_MAX = 2_000
SYNONYM_PHRASES_MIN, SYNONYM_PHRASES_MAX = 2, 20
SYNONYM_PHRASE_MAX = 100

# --- search and look-ups -------------------------------------------------------------------------
SEARCH_Q_MAX = 10_000
YEAR_MIN, YEAR_MAX = 1000, 9999  # a publication year filter (four digits)
SEARCH_FILTER_VALUES_MAX = 20  # type, topic, source, agency (and programme filters agency, topic, help)
SEARCH_YEARS_MAX = 50
PAGE_MAX = 100
PAGE_SIZE_MAX = 50
RELATED_LIMIT_MAX = 50
SIMILAR_TEXT_MAX = 20_000
SIMILAR_LIMIT_MAX = 20
HELPFUL_RESOURCE_ID_MIN, HELPFUL_RESOURCE_ID_MAX = 1, 128
CITY_ID_MAX = 128  # eligible_for, city_id
