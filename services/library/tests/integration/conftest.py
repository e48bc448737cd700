"""The library on the session's real broker and database, served over real HTTP."""

from __future__ import annotations


import httpx
import pytest

from library.app import create_app
from library.config import Settings
from nrn_contracts import Event, decode, encode, envelope, kafka_headers
from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app
from nrn_kit.testing import TokenIssuer, eventually


# Tests here call it Issuer; the kit's TokenIssuer signs like accounts does.
Issuer = TokenIssuer


class Library:
    def __init__(self, app, base_url: str, settings: Settings, issuer: Issuer, producer) -> None:  # noqa: ANN001
        self.app, self.settings, self.issuer, self.producer = app, settings, issuer, producer
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.eventually = eventually

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def _h(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def curator(self, sub: str = "cur-1") -> dict[str, str]:
        return self._h(self.issuer.token(sub, "staff", roles=("curator",)))

    def staff(self, sub: str = "pm-1", *roles: str) -> dict[str, str]:
        return self._h(self.issuer.token(sub, "staff", roles=roles or ("program_manager",)))

    def official(self, sub: str = "off-1", city_id: str = "city-flint") -> dict[str, str]:
        return self._h(self.issuer.token(sub, "official", city_id=city_id))

    async def publish(self, *events: Event, source: str = "/nrn/requests311") -> None:
        for event in events:
            ce = envelope(event, source=source)
            await self.producer.send_and_wait(self.settings.topic(type(event).topic), encode(ce),
                                              key=event.aggregate_id().encode(), headers=kafka_headers(ce))

    async def outbox_events(self, type_suffix: str) -> list:
        out = []
        async for d in self.db.outbox.find({"type": {"$regex": f"{type_suffix}$"}}).sort("seq", 1):
            out.append(decode(d["value"])[1])
        return out

    async def pending_review(self, resource_id: str) -> dict:
        """Wait until the item waits for a curator's review, and return the review."""
        async def found() -> dict | None:
            r = await self.http.get("/reviews", params={"status": "pending", "page_size": 50}, headers=self.curator())
            assert r.status_code == 200, r.text
            return next((i for i in r.json()["items"] if i["resource_id"] == resource_id), None)

        return await self.eventually(found)

    async def approve(self, resource_id: str, curator: str = "cur-1") -> dict:
        """A curator approves what waits for review for `resource_id`; returns the decided review."""
        review = await self.pending_review(resource_id)
        r = await self.http.post(f"/reviews/{review['review_id']}/approve", json={"version": review["version"]},
                                 headers=self.curator(curator))
        assert r.status_code == 200, r.text
        return r.json()

    async def search_ids(self, q: str = "", headers: dict | None = None, **params) -> list[str]:
        r = await self.http.get("/search", params={"q": q, "page_size": 50, **params}, headers=headers or {})
        assert r.status_code == 200, r.text
        return [h["id"] for h in r.json()["hits"]]


@pytest.fixture
async def lib(make_settings):
    settings = make_settings(Settings, search_commit_interval_s=0.1, search_writer_heap_bytes=15_000_000)
    issuer = Issuer()
    app = create_app(settings)
    producer = make_producer(settings)
    await producer.start()
    try:
        async with serve_app(app) as base_url:
            app.state.runtime.verifier = TokenVerifier(jwks=issuer.jwks)
            service = Library(app, base_url, settings, issuer, producer)
            try:
                yield service
            finally:
                await service.http.aclose()
                await app.state.runtime.client.drop_database(settings.database_name)
    finally:
        await producer.stop()
