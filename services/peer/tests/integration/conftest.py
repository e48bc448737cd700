"""peer on the session's real broker and database, served over real HTTP, with a hand-cranked clock."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nrn_contracts import Event, decode, encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually
from peer.app import create_app
from peer.config import Settings

T0 = datetime.now(UTC).replace(microsecond=0)
CITIES = {"city-flint": ("Flint", "MI"), "city-gary": ("Gary", "IN"), "city-youngstown": ("Youngstown", "OH"),
          "city-chattanooga": ("Chattanooga", "TN")}


class FakeClock:
    """The service's time source in tests: moved by hand, never by sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


class Service:
    def __init__(self, app, base_url: str, settings: Settings, clock: FakeClock, issuer: TokenIssuer,  # noqa: ANN001
                 producer) -> None:  # noqa: ANN001
        self.app, self.base_url, self.settings, self.clock, self.issuer = app, base_url, settings, clock, issuer
        self.producer = producer
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def official(self, sub: str = "off-1", city_id: str = "city-flint", status: str = "verified") -> dict[str, str]:
        return self.as_(self.issuer.token(sub, "official", roles=("official",), city_id=city_id, status=status))

    def staff(self, sub: str = "pm-1", *roles: str) -> dict[str, str]:
        return self.as_(self.issuer.token(sub, "staff", roles=roles or ("program_manager",)))

    def partner(self, sub: str = "par-1") -> dict[str, str]:
        return self.as_(self.issuer.token(sub, "partner_member"))

    async def publish(self, *events: Event, source: str = "/nrn/accounts") -> None:
        for event in events:
            ce = envelope(event, source=source)
            await self.producer.send_and_wait(self.settings.topic(type(event).topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))

    async def seed_people(self, officials: dict[str, str] | None = None) -> None:
        """The cities and people, told to the service the way accounts tells it: as events."""
        officials = officials or {"off-1": "city-flint", "off-2": "city-gary", "off-3": "city-youngstown"}
        events: list[Event] = [acc.CityRegistered(city_id=cid, name=n, state=s, population=50_000)
                               for cid, (n, s) in CITIES.items()]
        for i, (oid, cid) in enumerate(sorted(officials.items())):
            events.append(acc.AccountRegistered(account_id=oid, kind="official", email=f"{oid}@city.example",
                                                name=f"Official {i + 1}", title="City Manager", city_id=cid,
                                                status="verified"))
        events.append(acc.AccountRegistered(account_id="par-1", kind="partner_member", email="nia@ntia.example",
                                            name="Nia Partner", partner_id="ntia", status="verified"))
        await self.publish(*events)

        async def ready() -> bool:
            return (await self.db.cities.count_documents({}) == len(CITIES)
                    and await self.db.people.count_documents({}) == len(officials) + 1)

        await eventually(ready)

    async def outbox(self, type_suffix: str) -> list[dict]:
        docs = await self.db.outbox.find({"type": {"$regex": f"\\.{type_suffix}\\.v1$"}}).sort("seq", 1).to_list()
        return [decode(d["value"])[0].data for d in docs]

    async def schedule(self, body: dict) -> dict:
        r = await self.http.post("/convenings", json=body, headers=self.staff())
        assert r.status_code == 201, r.text
        return r.json()


@contextlib.asynccontextmanager
async def running_service(make_settings, *, database_name: str | None = None, clock: FakeClock | None = None,
                          issuer: TokenIssuer | None = None, **overrides):  # noqa: ANN001, ANN201
    values = dict(hold_sweep_interval_seconds=0, waitlist_hold_hours=48)
    values.update(overrides)
    if database_name:
        values["database_name"] = database_name
    settings = make_settings(Settings, **values)
    clock = clock or FakeClock()
    issuer = issuer or TokenIssuer()
    app = create_app(settings, clock=clock)
    producer = make_producer(settings)
    await producer.start()
    try:
        async with serve_app(app) as base_url:
            app.state.runtime.verifier = TokenVerifier(jwks=issuer.jwks)
            service = Service(app, base_url, settings, clock, issuer, producer)
            try:
                yield service
            finally:
                await service.http.aclose()
    finally:
        await producer.stop()


@pytest.fixture
async def svc(make_settings):
    async with running_service(make_settings) as service:
        yield service
        await service.app.state.runtime.client.drop_database(service.settings.database_name)
