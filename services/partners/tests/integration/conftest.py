"""partners on the session's real broker and database, served over real HTTP, delivering to real
HTTP receivers on loopback."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nrn_contracts import Event, encode, envelope, kafka_headers
from nrn_contracts.events import accounts as acc

from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually
from partners.adapters import mongo as repo
from partners.app import create_app
from partners.config import Settings
from partners.testing import receiver

PARTNER, OTHER_PARTNER = "ptn_hud", "ptn_epa"


class OffsetClock:
    """Real time plus an offset moved by hand (the retry schedule waits hours)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


class Service:
    def __init__(self, app, base_url: str, settings: Settings, issuer: TokenIssuer, producer, clock, rx) -> None:  # noqa: ANN001
        self.app, self.base_url, self.settings, self.issuer = app, base_url, settings, issuer
        self.producer, self.clock, self.rx = producer, clock, rx
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    @property
    def dispatcher(self):  # noqa: ANN201
        return self.app.state.runtime.state["dispatcher"]

    def admin(self, partner_id: str = PARTNER) -> dict[str, str]:
        token = self.issuer.token("acc_padmin", "partner_member", roles=("partner_administrator",),
                                  partner_id=partner_id)
        return {"Authorization": f"Bearer {token}"}

    def staff(self, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.token('acc_staff', 'staff', roles=roles or ('administrator',))}"}

    async def publish(self, *events: Event, ids: list[str] | None = None) -> list[str]:
        sent = []
        for index, event in enumerate(events):
            ce = envelope(event, source="/nrn/test", id=ids[index] if ids else None)
            await self.producer.send_and_wait(self.settings.topic(type(event).topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))
            sent.append(ce.id)
        return sent

    async def partner(self, partner_id: str = PARTNER, name: str = "U.S. Department of Housing") -> None:
        await self.publish(acc.PartnerRegistered(partner_id=partner_id, name=name, kind="federal_agency"))
        await eventually(lambda: self.db[repo.PARTNERS].find_one({"_id": partner_id}))

    async def endpoint(self, path: str = "/hook", *, partner_id: str = PARTNER, url: str | None = None,
                       **body) -> dict:  # noqa: ANN003
        payload = {"url": url or self.rx.url(path), "description": "test", "event_types": ["*"], **body}
        r = await self.http.post(f"/partners/{partner_id}/endpoints", json=payload, headers=self.admin(partner_id))
        assert r.status_code == 201, r.text
        return r.json()

    async def delivery(self, delivery_id: str, partner_id: str = PARTNER) -> dict:
        r = await self.http.get(f"/partners/{partner_id}/deliveries/{delivery_id}", headers=self.admin(partner_id))
        assert r.status_code == 200, r.text
        return r.json()

    async def deliveries(self, endpoint_id: str, partner_id: str = PARTNER, **params) -> list[dict]:  # noqa: ANN003
        r = await self.http.get(f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries", params=params,
                                headers=self.admin(partner_id))
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def settled(self, endpoint_id: str, count: int, state: str = "succeeded") -> list[dict]:
        async def check():  # noqa: ANN202
            items = [d async for d in self.db[repo.DELIVERIES].find({"endpoint_id": endpoint_id, "state": state})]
            return items if len(items) >= count else None
        return await eventually(check)


@pytest.fixture
async def rx():
    async with receiver() as r:
        yield r


@pytest.fixture
def service_factory(make_settings, rx):  # noqa: ANN001
    import contextlib

    @contextlib.asynccontextmanager
    async def build(*, resolver=None, after_send=None, **overrides):  # noqa: ANN001, ANN003
        values = dict(allow_loopback_endpoints=True, dispatch_poll_seconds=0.1, endpoint_cache_seconds=0.0,
                      connect_timeout_seconds=2.0, read_timeout_seconds=2.0, attempt_timeout_seconds=3.0,
                      delivery_lease_seconds=10.0)
        values.update(overrides)
        settings = make_settings(Settings, **values)
        issuer = TokenIssuer()
        clock = OffsetClock()
        app = create_app(settings, clock=clock, resolver=resolver, after_send=after_send, rng=random.Random(7))
        app.state.runtime.verifier = TokenVerifier(jwks=issuer.jwks)
        producer = make_producer(settings)
        await producer.start()
        try:
            async with serve_app(app) as url:
                service = Service(app, url, settings, issuer, producer, clock, rx)
                await service.partner()
                try:
                    yield service
                finally:
                    await service.http.aclose()
        finally:
            await producer.stop()

    return build


@pytest.fixture
async def svc(service_factory):  # noqa: ANN001
    async with service_factory() as service:
        yield service
