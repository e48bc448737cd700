"""notifications on the session's real broker and database, served over real HTTP, sending to a
real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nrn_contracts import Event, encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from notifications.app import create_app
from notifications.config import Settings
from notifications.testing import CITY, OTHER_CITY, smtp_catcher
from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually

NOW = datetime.now(UTC)


class OffsetClock:
    """Real time plus an offset moved by hand (digests and follow-ups wait for days)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


class Service:
    def __init__(self, app, base_url: str, settings: Settings, issuer: TokenIssuer, producer, smtp,  # noqa: ANN001
                 clock: OffsetClock) -> None:
        self.app, self.base_url, self.settings, self.issuer = app, base_url, settings, issuer
        self.producer, self.smtp, self.clock = producer, smtp, clock
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.eventually = eventually

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    @property
    def deps(self):  # noqa: ANN201
        return self.app.state.runtime.state["deps"]

    def as_(self, sub: str, kind: str = "official", *roles: str, city_id: str | None = CITY) -> dict[str, str]:
        token = self.issuer.token(sub, kind, roles=roles, city_id=city_id if kind == "official" else None)
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, *events: Event, ids: list[str] | None = None, source: str = "/nrn/test") -> list[str]:
        """Publish events as their owners do; ``ids`` reuses envelope ids (a redelivery)."""
        sent = []
        for index, event in enumerate(events):
            ce = envelope(event, source=source, id=ids[index] if ids else None)
            await self.producer.send_and_wait(self.settings.topic(type(event).topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))
            sent.append(ce.id)
        return sent

    async def run_schedule(self) -> dict:
        r = await self.http.post("/admin/schedule/run", headers=self.as_("adm-1", "staff", "administrator"))
        assert r.status_code == 200, r.text
        return r.json()

    async def mail(self, state: str | None = None) -> dict:
        r = await self.http.get("/admin/mail", params={"state": state} if state else None,
                                headers=self.as_("lead-1", "staff", "triage_lead"))
        assert r.status_code == 200, r.text
        return r.json()

    async def notices(self, sub: str, kind: str = "official", *roles: str) -> dict:
        r = await self.http.get("/notices", headers=self.as_(sub, kind, *roles))
        assert r.status_code == 200, r.text
        return r.json()

    async def people(self) -> None:
        """Two cities and the people of the tests, told the way accounts tells them: as events."""
        at = NOW
        events: list[Event] = [
            acc.CityRegistered(city_id=CITY, name="Flint", state="MI", population=81_000),
            acc.CityRegistered(city_id=OTHER_CITY, name="Gary", state="IN", population=69_000),
            acc.AccountRegistered(account_id="off-1", kind="official", email="olive@flint.example", name="Olive Official",
                                  city_id=CITY, status="pending"),
            acc.AccountVerified(account_id="off-1", city_id=CITY, by="adm-1", at=at),
            acc.AccountRegistered(account_id="off-2", kind="official", email="gus@gary.example", name="Gus Gary",
                                  city_id=OTHER_CITY, status="verified"),
        ]
        for sub, name, role in [("lead-1", "Tara Lead", "triage_lead"), ("exp-1", "Eve Expert", "subject_matter_expert"),
                                ("pm-1", "Pat Manager", "program_manager"), ("cur-1", "Cy Curator", "curator")]:
            events += [acc.AccountRegistered(account_id=sub, kind="staff", email=f"{sub}@nrn.example", name=name,
                                             status="verified"),
                       acc.RoleGranted(account_id=sub, role=role, by="adm-1", at=at)]
        await self.publish(*events)

        async def known() -> bool:
            return await self.db.people.count_documents({"roles": "curator"}) == 1 and \
                await self.db.people.count_documents({"_id": "off-1", "status": "verified"}) == 1
        await eventually(known)


@contextlib.asynccontextmanager
async def running_service(make_settings, smtp_port: int | None = None, transports=None, *, drop: bool = True,  # noqa: ANN001, ANN201
                          **overrides):
    """The service on the session's broker and database; ``drop=False`` leaves its database to the next
    instance (a restart on the same data)."""
    with smtp_catcher() as smtp:
        values = dict(smtp_host="127.0.0.1", smtp_port=smtp_port or smtp.port, sender_poll_seconds=0.05,
                      schedule_interval_seconds=0, public_url="https://nrn.example", smtp_timeout_seconds=5,
                      send_backoff_seconds=0.05, send_backoff_max_seconds=0.2)
        values.update(overrides)
        settings = make_settings(Settings, **values)
        issuer = TokenIssuer()
        clock = OffsetClock()
        app = create_app(settings, transports=transports, clock=clock)
        producer = make_producer(settings)
        await producer.start()
        try:
            async with serve_app(app) as base_url:
                app.state.runtime.verifier = TokenVerifier(jwks=issuer.jwks)
                service = Service(app, base_url, settings, issuer, producer, smtp, clock)
                try:
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
        await service.people()
        yield service


async def first_to(svc: Service, address: str, subject: str = ""):  # noqa: ANN201
    """The first message received for ``address`` whose subject contains ``subject``."""
    found = [r for r in svc.smtp.to(address) if subject in str(r.message["Subject"])]
    return found[0] if found else None


logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


@pytest.fixture
def first():  # noqa: ANN201
    return first_to
