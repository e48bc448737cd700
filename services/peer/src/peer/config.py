"""peer's settings: the kit's, plus the waitlist hold, the sweep, the committee term notice and the
largest health import."""

from __future__ import annotations

from pydantic import Field

from nrn_kit.settings import ServiceSettings

from .domain.limits import HEALTH_IMPORT_MAX_BYTES


class Settings(ServiceSettings):
    service_name: str = "peer"
    database_name: str = "nrn_peer"
    http_port: int = 8005

    # A place offered from the waitlist is held this long for the person to confirm, then passes on.
    waitlist_hold_hours: float = Field(48.0, gt=0, le=24 * 30)
    # How often lapsed holds are looked for inside the service (0 turns it off; POST /admin/sweep runs it).
    hold_sweep_interval_seconds: float = Field(60.0, ge=0)
    hold_sweep_batch: int = Field(500, ge=1, le=10_000)
    # A steering committee member's term is flagged this many days before it ends.
    term_notice_days: int = Field(90, ge=1, le=730)
    # The largest CSV of health values an import takes (the route's body limit adds the multipart envelope).
    health_import_max_bytes: int = Field(HEALTH_IMPORT_MAX_BYTES, ge=1024, le=200 * 1024 * 1024)
