"""Builders for tests and benchmarks: a convening and a registration as the domain holds them.

Lives in the package (not under tests/) so unit tests, integration tests and the bench share it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .domain.convening import Convening
from .domain.registration import Answers, Registration, Status

T0 = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def convening(**kw: object) -> Convening:
    data: dict = dict(id="cnv-1", kind="annual_convening", title="NRN Annual Convening", description="",
                      topics=["economic_development"], host_city_id="city-chattanooga", venue="Convention Center",
                      address="", timezone="America/New_York", starts_at=T0 + timedelta(days=30),
                      ends_at=T0 + timedelta(days=32), capacity=2, per_city_limit=None, opens_at=T0 - timedelta(days=1),
                      closes_at=T0 + timedelta(days=29), sessions=[], created_by="pm-1", created_at=T0)
    data.update(kw)
    return Convening(**data)  # type: ignore[arg-type]


def registration(status: Status, **kw: object) -> Registration:
    data: dict = dict(id="reg-1", convening_id="cnv-1", account_id="off-1", city_id="city-flint", name="Pat",
                      status=status, answers=Answers(), registered_at=T0)
    data.update(kw)
    return Registration(**data)  # type: ignore[arg-type]


def convening_body(now: datetime, *, capacity: int = 2, per_city_limit: int | None = None,
                   title: str = "NRN Annual Convening 2027", **kw: object) -> dict:
    """An API body for a convening in Chattanooga (US Central time), registration open from ``now``."""
    start = (now + timedelta(days=60)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = start.strftime("%Y-%m-%d")
    body: dict = {
        "kind": "annual_convening", "title": title,
        "description": "Two days of peer learning for city leaders.", "topics": ["economic_development"],
        "venue": "Chattanooga Convention Center", "address": "1150 Carter St, Chattanooga, TN",
        "timezone": "America/Chicago", "starts_at": f"{day}T08:30:00", "ends_at": f"{day}T17:00:00",
        "capacity": capacity, "per_city_limit": per_city_limit,
        "registration_opens_at": (now - timedelta(hours=1)).isoformat(),
        "registration_closes_at": (now + timedelta(days=50)).isoformat(),
        "sessions": [
            {"id": "opening", "title": "Opening plenary", "starts_at": f"{day}T09:00:00", "ends_at": f"{day}T10:00:00",
             "track": "Plenary", "speakers": ["Mayor of Chattanooga"]},
            {"id": "broadband", "title": "Broadband roundtable", "starts_at": f"{day}T10:30:00",
             "ends_at": f"{day}T12:00:00", "track": "Infrastructure", "room": "Room B"},
        ],
    }
    body.update(kw)
    return body
