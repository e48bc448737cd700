"""engagements' settings: the kit's, plus the review rubric, attachment limits and housekeeping."""

from __future__ import annotations

from pydantic import Field

from nrn_kit.settings import ServiceSettings

from .domain.rubric import DEFAULT_RUBRIC, Rubric


class Settings(ServiceSettings):
    service_name: str = "engagements"
    database_name: str = "nrn_engagements"
    http_port: int = 8004

    # The rubric is configuration: RUBRIC='{"criteria": [...], "min_reviewers": 2, "disagreement_threshold": "1.0"}'
    # (JSON). An application keeps the rubric it was screened in under.
    rubric: Rubric = Field(default_factory=lambda: DEFAULT_RUBRIC)
    # Attachments: the largest file accepted (bytes); types are fixed (adapters/files.py).
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=15 * 1024 * 1024)
    # How often files no application references are deleted (a crash between upload and save); 0: never.
    orphan_sweep_interval_seconds: float = Field(3600.0, ge=0)
