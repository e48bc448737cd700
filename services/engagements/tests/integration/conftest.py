"""engagements on the session's real broker and database, served over real HTTP, with a hand-cranked
clock and tokens signed like accounts' own. Cities, people and roles reach it as accounts' events."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from nrn_contracts import Event, decode, encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from engagements.app import create_app
from engagements.config import Settings
from engagements.testing import complete_form, tiny_pdf
from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually

T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
FLINT, SAGINAW, GARY, NAPERVILLE = "city-flint", "city-saginaw", "city-gary", "city-naperville"
STAFF = {  # id: (name, roles)
    "pm-1": ("Pat Manager", ("program_manager",)), "pm-2": ("Paz Manager", ("program_manager",)),
    "lead-1": ("Tara Lead", ("triage_lead",)), "rev-1": ("Rita Reviewer", ("reviewer",)),
    "rev-2": ("Rob Reviewer", ("reviewer",)), "rev-3": ("Ria Reviewer", ("reviewer",)),
    "exp-1": ("Eve Expert", ("subject_matter_expert",)), "cur-1": ("Cy Curator", ("curator",)),
}
OFFICIALS = {"off-1": ("Olive Official", FLINT), "off-2": ("Oscar Official", FLINT),
             "off-3": ("Paula Partner", SAGINAW), "off-4": ("Gail Gary", GARY), "off-5": ("Nate Naper", NAPERVILLE)}


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def city_events() -> list[Event]:
    passed = (acc.EligibilityReason(test="unemployment_rate", passed=True, value=10.2, threshold=9.0),)
    failed = (acc.EligibilityReason(test="unemployment_rate", passed=False, value=5.1, threshold=9.0),)
    out: list[Event] = []
    for city_id, name, state, pop, ok in ((FLINT, "Flint", "MI", 102_434, True), (SAGINAW, "Saginaw", "MI", 48_000, True),
                                          (GARY, "Gary", "IN", 80_000, True),
                                          (NAPERVILLE, "Naperville", "IL", 141_853, False)):
        out.append(acc.CityRegistered(city_id=city_id, name=name, state=state, population=pop))
        out.append(acc.CityEligibilityDetermined(city_id=city_id, eligible=ok, reasons=passed if ok else failed,
                                                 exception=False))
    return out


def people_events(at: datetime) -> list[Event]:
    out: list[Event] = []
    for sid, (name, roles) in STAFF.items():
        out.append(acc.AccountRegistered(account_id=sid, kind="staff", email=f"{sid}@nrn.example", name=name,
                                         status="verified"))
        out += [acc.RoleGranted(account_id=sid, role=r, by="adm-1", at=at) for r in roles]
    for oid, (name, city) in OFFICIALS.items():
        out.append(acc.AccountRegistered(account_id=oid, kind="official", email=f"{oid}@city.example", name=name,
                                         city_id=city, status="verified"))
    return out


class Service:
    def __init__(self, app, base_url: str, settings: Settings, clock: FakeClock, issuer: TokenIssuer, producer) -> None:  # noqa: ANN001
        self.app, self.base_url, self.settings, self.clock, self.issuer = app, base_url, settings, clock, issuer
        self.producer = producer
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.eventually = eventually

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def official(self, sub: str = "off-1") -> dict[str, str]:
        city = OFFICIALS[sub][1] if sub in OFFICIALS else FLINT
        return {"Authorization": "Bearer " + self.issuer.token(sub, "official", roles=("official",), city_id=city,
                                                               status="verified")}

    def staff(self, sub: str, *roles: str) -> dict[str, str]:
        roles = roles or STAFF[sub][1]
        return {"Authorization": "Bearer " + self.issuer.token(sub, "staff", roles=roles)}

    async def publish(self, *events: Event, source: str = "/nrn/accounts") -> None:
        for event in events:
            ce = envelope(event, source=source)
            await self.producer.send_and_wait(self.settings.topic(type(event).topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))

    async def seed(self) -> None:
        await self.publish(*city_events(), *people_events(self.clock.now))

        async def ready() -> bool:
            cities = await self.db.cities.count_documents({"name": {"$exists": True}, "eligible": {"$exists": True}})
            reviewers = await self.db.people.count_documents({"roles": "reviewer", "name": {"$exists": True}})
            officials = await self.db.people.count_documents({"kind": "official"})
            return cities == 4 and reviewers == 3 and officials == len(OFFICIALS)

        await eventually(ready)

    # --- the application journey, step by step -------------------------------------------------------

    async def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        return response.json() if response.content else {}

    async def draft(self, sub: str = "off-1", **overrides: Any) -> dict[str, Any]:
        app = await self.ok(await self.http.post("/applications", headers=self.official(sub)), 201)
        body = {**complete_form(self.clock.now.date(), **overrides), "version": app["version"]}
        app = await self.ok(await self.http.patch(f"/applications/{app['id']}", json=body, headers=self.official(sub)))
        app = await self.ok(await self.http.post(
            f"/applications/{app['id']}/attachments", headers=self.official(sub),
            data={"kind": "sponsor_letter", "version": str(app["version"])},
            files={"file": ("letter.pdf", tiny_pdf(), "application/pdf")}), 201)
        return app

    async def submitted(self, sub: str = "off-1", **overrides: Any) -> dict[str, Any]:
        app = await self.draft(sub, **overrides)
        return await self.ok(await self.http.post(f"/applications/{app['id']}/submit", json={"version": app["version"]},
                                                  headers=self.official(sub)))

    async def scored(self, sub: str = "off-1", scores: tuple[dict, dict] | None = None, **overrides: Any
                     ) -> dict[str, Any]:
        from engagements.testing import FAIR_SCORES, GOOD_SCORES

        app = await self.submitted(sub, **overrides)
        aid = app["id"]
        app = await self.ok(await self.http.post(f"/applications/{aid}/screen", headers=self.staff("lead-1"),
                                                 json={"outcome": "eligible", "version": app["version"]}))
        for rev in ("rev-1", "rev-2"):
            app = await self.ok(await self.http.post(f"/applications/{aid}/reviewers", headers=self.staff("pm-1"),
                                                     json={"reviewer_id": rev, "version": app["version"]}))
        for rev, s in zip(("rev-1", "rev-2"), scores or (GOOD_SCORES, FAIR_SCORES), strict=True):
            app = await self.ok(await self.http.post(f"/applications/{aid}/scores", headers=self.staff(rev),
                                                     json={"scores": s, "version": app["version"]}))
        return await self.ok(await self.http.get(f"/applications/{aid}", headers=self.staff("pm-1")))

    async def round(self, capacity: int = 10, name: str = "Spring 2025") -> dict[str, Any]:
        return await self.ok(await self.http.post("/rounds", headers=self.staff("pm-1"), json={
            "name": name, "opens_on": "2025-01-01", "closes_on": "2025-12-31", "capacity": capacity}), 201)

    def terms(self, **overrides: Any) -> dict[str, Any]:
        return {"title": "Flint: vacant housing and workforce", "scope": "A land bank strategy and a workforce plan.",
                "budget_cents": 25_000_000, "duration_months": 9,
                "starts_on": (self.clock.now.date() + timedelta(days=30)).isoformat(), **overrides}

    async def decide(self, app: dict[str, Any], decision: str = "accept", sub: str = "pm-1", **extra: Any
                     ) -> httpx.Response:
        body = {"decision": decision, "reason": "Strong sponsor commitment and clear need.", "version": app["version"],
                **({"terms": self.terms()} if decision != "decline" else {}), **extra}
        return await self.http.post(f"/applications/{app['id']}/decision", headers=self.staff(sub), json=body)

    async def read_topic(self, key: str, n: int, timeout: float = 30) -> list[str]:
        """The event types on the engagements topic for `key`, in order (read from the start)."""
        consumer = AIOKafkaConsumer(self.settings.topic("nrn.engagements.v1"),
                                    bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                    auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
        await consumer.start()
        types: list[str] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while len(types) < n and asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        if record.key == key.encode():
                            ce, _ = decode(record.value)
                            types.append(ce.type.split(".")[-2])
        finally:
            await consumer.stop()
        return types


@contextlib.asynccontextmanager
async def running_service(make_settings, *, clock: FakeClock | None = None, issuer: TokenIssuer | None = None,  # noqa: ANN001
                          seed: bool = True, drop: bool = True, **overrides: Any):  # noqa: ANN201
    settings = make_settings(Settings, **{"orphan_sweep_interval_seconds": 0, **overrides})
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
                if seed:
                    await service.seed()
                yield service
            finally:
                await service.http.aclose()
                if drop:
                    await app.state.runtime.client.drop_database(settings.database_name)
    finally:
        await producer.stop()


@pytest.fixture
async def svc(make_settings):
    async with running_service(make_settings) as service:
        yield service
