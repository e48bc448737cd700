"""Value types shared by the event models.

Constraints live here once so that every event spells an id, a timestamp or a topic the
same way, and the generated JSON Schemas say so too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Naive datetimes are rejected rather than guessed at: a timestamp without an offset is a bug
# in the producer, and consumers compare times across services.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

Id = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Reason = Annotated[str, Field(min_length=1, max_length=5_000)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
# An IANA time zone name ("America/Detroit"); a service checks it against its zoneinfo database.
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")]
# A memo or a resource body: large, but well under the 1 MiB encoded limit even in 4-byte UTF-8.
LongText = Annotated[str, Field(min_length=1, max_length=200_000)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Url = Annotated[str, Field(min_length=1, max_length=2_000, pattern=r"^https?://\S+$")]
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
