"""The library on the session's real broker and database, served over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from library.app import create_app
from library.config import Settings
from nrn_contracts import Event, decode, encode, envelope, kafka_headers
from nrn_kit.auth import TokenVerifier
from nrn_kit.kafka import make_producer
from nrn_kit.serving import serve_app


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0) -> None:
    """Poll a condition; the bound only stops a broken test from hanging, it measures nothing."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Issuer:
    """Signs access tokens the way accounts does (Ed25519, kid, the kit's claims)."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.kid = uuid.uuid4().hex[:8]
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        self.jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def token(self, sub: str, kind: str, *, roles: tuple[str, ...] = (), city_id: str | None = None,
              status: str = "verified") -> str:
        now = int(time.time())
        claims = {"sub": sub, "kind": kind, "roles": list(roles), "expertise": [], "city_id": city_id,
                  "status": status, "iss": "nrn-accounts", "aud": "nrn", "iat": now, "exp": now + 900,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})


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
