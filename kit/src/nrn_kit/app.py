"""The one wiring point of a service: settings → clients → indexes → topics → relay → consumers → routes.

A service's ``app.py`` describes itself with a :class:`ServiceSpec` and calls :func:`create_app`.
Everything is built in the lifespan, from settings, never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from .consumer import ConsumerRunner, EventConsumer
from . import idempotency
from .edge import EdgeGuard, EdgeLimits
from .http import health_router, install_problem_handlers
from .kafka import ensure_topics, make_producer
from .metrics import ServiceMetrics
from .mongo import Store, ensure_indexes, make_client, ping
from .relay import Relay
from .settings import ServiceSettings
from .telemetry import instrument_app, setup_telemetry

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass
class ServiceSpec:
    settings: ServiceSettings
    title: str
    description: str = ""
    routers: list[APIRouter] = field(default_factory=list)
    consumers: list[EventConsumer] = field(default_factory=list)
    indexes: dict[str, list[IndexModel]] = field(default_factory=dict)
    publishes: list[str] = field(default_factory=list)  # registry topics this service owns
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    version: str = "1.0.0"
    upload_routes: dict[str, int] = field(default_factory=dict)  # path → body limit above HTTP_MAX_BODY_BYTES


async def _retry(what: str, fn: Callable[[], Awaitable[Any]], attempts: int = 30, delay: float = 0.5) -> Any:
    """Infrastructure may come up a moment after us (compose, the launcher): wait a bounded time."""
    for attempt in range(1, attempts + 1):
        try:
            return await fn()
        except Exception as exc:  # noqa: BLE001
            if attempt == attempts:
                raise
            log.info("%s not ready (%s); retry %d/%d", what, exc, attempt, attempts)
            await asyncio.sleep(delay)
    return None


class Runtime:
    """Everything a running service holds: clients, the store, the relay and the consumers."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.settings = spec.settings
        self.client: AsyncMongoClient | None = None
        self.db: AsyncDatabase | None = None
        self.store: Store | None = None
        self.producer: AIOKafkaProducer | None = None
        self.relay: Relay | None = None
        self.runners: list[ConsumerRunner] = []
        self.state: dict[str, Any] = {}  # service-specific objects (search index, key ring, …)
        # Built with the app (the HTTP instrumentation needs its meter provider); served from start().
        self.metrics = ServiceMetrics(spec.settings)
        self._tasks: list[asyncio.Task] = []
        self._stop = asyncio.Event()
        self._verifier = None

    @property
    def verifier(self):  # noqa: ANN201 — nrn_kit.auth.TokenVerifier, imported lazily
        if self._verifier is None:
            from .auth import TokenVerifier

            self._verifier = TokenVerifier(jwks_url=self.settings.accounts_jwks_url)
        return self._verifier

    @verifier.setter
    def verifier(self, value) -> None:  # noqa: ANN001
        self._verifier = value

    async def start(self) -> None:
        s = self.settings
        setup_telemetry(s)
        self.client = make_client(s)
        self.db = self.client[s.database_name]
        self.store = Store(self.client, self.db, source=s.source, group_commit=s.store_group_commit,
                           group_max=s.store_group_max, group_parallel=s.store_group_parallel)
        await _retry("mongodb", lambda: ping(self.client))
        await ensure_indexes(self.db, self.spec.indexes)
        self.producer = make_producer(s)
        await _retry("kafka", self.producer.start)
        consumed = sorted({t for c in self.spec.consumers for t in c.topics})
        await _retry("kafka topics", lambda: ensure_topics(s, sorted(set(self.spec.publishes) | set(consumed))))
        self.metrics.serve()
        self.relay = Relay(self.db, self.producer, s, watch_changes=s.relay_watch_changes, metrics=self.metrics)
        self.store.on_commit(self.relay.wake)
        if s.relay_embedded:
            self._spawn("relay", lambda: self.relay.run(self._stop))
        if s.consumers_enabled:
            for consumer in self.spec.consumers:
                runner = ConsumerRunner(consumer, self.store, self.producer, s, metrics=self.metrics)
                self.runners.append(runner)
                self._spawn(f"consumer:{consumer.name}", lambda r=runner: r.run(self._stop))
        for hook in self.spec.on_start:
            await hook(self)

    def _spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        async def supervised() -> None:
            while not self._stop.is_set():
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s stopped with an error; restarting in 1s", name)
                    self.metrics.worker_restarts.add(1, self.metrics.attrs(worker=name))
                    await asyncio.sleep(1)

        self._tasks.append(asyncio.create_task(supervised(), name=name))

    async def stop(self) -> None:
        self._stop.set()
        for hook in reversed(self.spec.on_stop):
            with contextlib.suppress(Exception):
                await hook(self)
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.producer:
            with contextlib.suppress(Exception):
                await self.producer.stop()
        if self.client:
            await self.client.close()
        self.metrics.close()

    async def check_database(self) -> None:
        await ping(self.client)

    async def check_workers(self) -> None:
        dead = [t.get_name() for t in self._tasks if t.done() and not self._stop.is_set()]
        if dead:
            raise RuntimeError("stopped: " + ", ".join(dead))
        if self.relay and not self.relay.healthy:
            raise RuntimeError("relay failing to publish")


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain-def dependency in a worker thread, per request
    return request.app.state.runtime


def create_app(spec: ServiceSpec) -> FastAPI:
    runtime = Runtime(spec)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=spec.title, description=spec.description, version=spec.version, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = spec.settings
    install_problem_handlers(app)
    idempotency.install(app)
    app.include_router(health_router({"database": runtime.check_database, "workers": runtime.check_workers}))
    for router in spec.routers:
        app.include_router(router)
    instrument_app(app, runtime.metrics)
    # Outermost: no byte of an oversized, too deep or too slow request reaches anything else.
    app.add_middleware(EdgeGuard, limits=EdgeLimits.from_settings(spec.settings, spec.upload_routes))
    return app

