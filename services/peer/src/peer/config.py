"""peer's settings: the kit's, plus the waitlist hold, the sweep and the committee term notice."""

from __future__ import annotations

from pydantic import Field

from nrn_kit.settings import ServiceSettings


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
