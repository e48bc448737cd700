"""requests311's settings: the kit's, plus the service-level clock and the library's address."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from nrn_kit.settings import ServiceSettings

from .domain.clock import ServiceLevels
from .domain.model import CallHours


class Settings(ServiceSettings):
    service_name: str = "requests311"
    database_name: str = "nrn_requests311"
    http_port: int = 8002

    # The clock is configuration: SERVICE_LEVELS='{"memo_business_days": 8}' (JSON) changes it for new requests.
    service_levels: ServiceLevels = Field(default_factory=ServiceLevels)
    # How often the in-process sweep looks for steps that just became overdue; 0 turns it off.
    sla_sweep_interval_seconds: float = Field(60.0, ge=0)
    sla_sweep_batch: int = Field(500, ge=1, le=10_000)

    # Similar answered questions before submitting come from the library; skipped when it does not answer.
    library_url: str = "http://127.0.0.1:8003"
    library_similar_path: str = "/questions/similar"
    similar_timeout_seconds: float = Field(1.5, gt=0)

    # Call slots outside these hours of the city's weekdays (or on a federal holiday) are offered only when
    # the offerer confirms it: CALL_HOURS='{"start": "08:30", "end": "17:30"}'.
    call_hours: CallHours = Field(default_factory=CallHours)

    # The zone of the dates printed on memos (HTML and PDF): the one the gateway's pages use.
    document_timezone: str = "America/New_York"

    @field_validator("document_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value
