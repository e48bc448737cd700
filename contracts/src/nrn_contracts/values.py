"""Value types shared by the event models.

Constraints live here once so that every event spells an id, a timestamp or a topic the
same way, and the generated JSON Schemas say so too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Naive datetimes are rejected rather than guessed at: a timestamp without an offset is a bug
# in the producer, and consumers compare times across services.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

# --- text a person typed: no control characters -------------------------------------------------------
# NUL and the other control characters (C0, DEL, C1) cannot be stored or shown safely (NUL ends C strings
# and PDF text, ESC drives terminals, others vanish or break a line where nothing shows). Every text field
# refuses them through one of the two types below — the events here and the services' request models
# alike; multi-line text keeps tab and line breaks. Lone surrogates (not encodable text) are refused too.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _refuse_control(value: str, pattern: re.Pattern[str], allowed: str) -> str:
    found = pattern.search(value)
    if found:
        raise ValueError(f"contains a control character (U+{ord(found.group()):04X} at position {found.start() + 1})"
                         f"; {allowed}")
    return value


def single_line(value: str) -> str:
    """The value when it holds no control character at all (no tab, no line break); else ValueError."""
    return _refuse_control(value, _CONTROL, "this field is one line of text")


def multi_line(value: str) -> str:
    """The value when its only control characters are tab, line feed and carriage return; else ValueError."""
    return _refuse_control(value, _CONTROL_MULTILINE, "only tabs and line breaks are allowed")


SingleLine = Annotated[str, AfterValidator(single_line)]  # names, titles, ids, addresses, one-line answers
MultiLine = Annotated[str, AfterValidator(multi_line)]  # questions, notes, memos, descriptions

Id = Annotated[SingleLine, Field(min_length=1, max_length=128)]
Name = Annotated[SingleLine, Field(min_length=1, max_length=200)]
Title = Annotated[SingleLine, Field(min_length=1, max_length=300)]
Reason = Annotated[MultiLine, Field(min_length=1, max_length=5_000)]
Text = Annotated[MultiLine, Field(min_length=1, max_length=20_000)]
# An IANA time zone name ("America/Detroit"); a service checks it against its zoneinfo database.
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")]
# A memo or a resource body: large, but well under the 1 MiB encoded limit even in 4-byte UTF-8.
LongText = Annotated[MultiLine, Field(min_length=1, max_length=200_000)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                  AfterValidator(single_line)]
Url = Annotated[str, Field(min_length=1, max_length=2_000, pattern=r"^https?://\S+$"), AfterValidator(single_line)]

# --- numbers the platform can hold --------------------------------------------------------------------
# MongoDB stores integers in at most 64 bits: a number past that fails deep inside a service (a 500)
# instead of at the door (a 422 naming the field). Every integer a client sends is bounded; these are
# the bounds shared by several services and the gateway.
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description="an optimistic-concurrency version")]
Population = Annotated[int, Field(ge=0, le=1_000_000_000)]
# An open vocabulary owned by one service (role names, service-level steps): snake_case words.
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="USPS two-letter state code")]
Fips = Annotated[str, Field(pattern=r"^[0-9]{7}$", description="Census state + place FIPS code, 7 digits")]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

TaxonomyTopic = Literal[
    "finance_budgets",
    "economic_development",
    "housing",
    "workforce",
    "public_safety",
    "land_use",
    "transportation",
    "government_operations",
    "broadband",
    "health",
    "other",
]
TOPIC_TAXONOMY: tuple[str, ...] = get_args(TaxonomyTopic)

# Permission to publish a delivered answer or report. "none" is also how consent is withdrawn.
Consent = Literal["none", "anonymous", "named"]
CONSENT_LEVELS: tuple[str, ...] = get_args(Consent)


class ValueObject(BaseModel):
    """Base of the small immutable objects nested inside events."""

    model_config = ConfigDict(extra="ignore", frozen=True)
