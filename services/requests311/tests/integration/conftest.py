"""requests311 on the session's real broker and database, served over real HTTP, with a hand-cranked clock."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nrn_contracts import Event, encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually
from requests311.app import create_app
from requests311.config import Settings

CITY_ID, OTHER_CITY_ID = "city-flint", "city-gary"
T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York


class FakeClock:
    """The service's time source in tests: moved by hand, never by sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


# Tests here call it Issuer; the kit's TokenIssuer signs like accounts does.
Issuer = TokenIssuer


class Service:
    def __init__(self, app, base_url: str, settings: Settings, clock: FakeClock, issuer: Issuer, producer) -> None:  # noqa: ANN001
        self.app, self.base_url, self.settings, self.clock, self.issuer = app, base_url, settings, clock, issuer
        self.producer = producer
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.eventually = eventually

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def official(self, sub: str = "off-1", city_id: str = CITY_ID, status: str = "verified") -> dict[str, str]:
        return self.as_(self.issuer.token(sub, "official", roles=("official",), city_id=city_id, status=status))

    def staff(self, sub: str, *roles: str) -> dict[str, str]:
        return self.as_(self.issuer.token(sub, "staff", roles=roles))

    async def publish(self, *events: Event) -> None:
        for event in events:
            ce = envelope(event, source="/nrn/accounts")
            await self.producer.send_and_wait(self.settings.topic(event.topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))

    async def seed(self) -> None:
        """Two cities, two experts and the asking official, told to the service the way accounts
        tells it: as events."""
        at = datetime.now(UTC)
        reasons = (acc.EligibilityReason(test="unemployment_rate", passed=True, value=10.2, threshold=9.0),)
        await self.publish(
            acc.CityRegistered(city_id=CITY_ID, name="Flint", state="MI", population=102_434),
            acc.CityEligibilityDetermined(city_id=CITY_ID, eligible=True, reasons=reasons, exception=False),
            acc.CityRegistered(city_id=OTHER_CITY_ID, name="Gary", state="IN", population=80_000),
            acc.CityEligibilityDetermined(city_id=OTHER_CITY_ID, eligible=True, reasons=reasons, exception=False),
            acc.AccountRegistered(account_id="exp-1", kind="staff", email="eve@nrn.example", name="Eve Expert",
                                  status="verified"),
            acc.RoleGranted(account_id="exp-1", role="subject_matter_expert",
                            expertise=("housing", "finance_budgets"), by="adm-1", at=at),
            acc.AccountRegistered(account_id="exp-2", kind="staff", email="ed@nrn.example", name="Ed Expert",
                                  status="verified"),
            acc.RoleGranted(account_id="exp-2", role="subject_matter_expert", expertise=("broadband",),
                            by="adm-1", at=at),
            acc.AccountRegistered(account_id="off-1", kind="official", email="pat@flint.example",
                                  name="Pat Official", title="City Manager", city_id=CITY_ID, status="pending"),
        )

        async def ready() -> bool:
            cities = await self.db.cities.count_documents({"eligible": True, "name": {"$exists": True}})
            experts = await self.db.experts.count_documents({"is_expert": True, "name": {"$exists": True}})
            officials = await self.db.officials.count_documents({})
            return cities == 2 and experts == 2 and officials == 1

        await eventually(ready)


@contextlib.asynccontextmanager
async def running_service(make_settings, **overrides):  # noqa: ANN001, ANN201
    values = dict(sla_sweep_interval_seconds=0, library_url="http://127.0.0.1:9",
                  similar_timeout_seconds=0.5)
    values.update(overrides)
    settings = make_settings(Settings, **values)
    clock = FakeClock()
    issuer = Issuer()
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
                await app.state.runtime.client.drop_database(settings.database_name)
    finally:
        await producer.stop()


@pytest.fixture
async def svc(make_settings):
    async with running_service(make_settings) as service:
        yield service


@pytest.fixture
async def sweeping_svc(make_settings):
    """The service with its own breach sweep running every 0.1 s."""
    async with running_service(make_settings, sla_sweep_interval_seconds=0.1) as service:
        yield service
