"""The two kit services the pipeline benchmark runs, each in a process of its own (as in production).

`producer_app`: `POST /pings` → one transaction (document + outbox); the relay publishes.
`consumer_app`: applies `PingRecorded` (inbox + effect document in one transaction).
Both read their settings from the environment like any service.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field

from nrn_contracts import Event
from nrn_kit.app import Runtime, ServiceSpec, create_app, get_runtime
from nrn_kit.consumer import EventConsumer
from nrn_kit.settings import ServiceSettings

TOPIC = "nrn.bench.v1"


class PingRecorded(Event, type="org.nationalresourcenetwork.bench.ping_recorded.v1", topic=TOPIC, key="ping_id"):
    ping_id: str
    body: str


class PingIn(BaseModel):
    body: str = Field(min_length=1, max_length=1000)


def producer_app(settings: ServiceSettings | None = None) -> FastAPI:
    router = APIRouter()

    @router.post("/pings", status_code=201)
    async def record(ping: PingIn, runtime: Runtime = Depends(get_runtime)) -> dict:
        ping_id = uuid.uuid4().hex

        async def fn(tx) -> None:  # noqa: ANN001
            # A new document under a fresh id, read by nothing in the transaction: queued, and
            # written with the rest of its group in one insert_many.
            tx.insert("pings", {"_id": ping_id, "body": ping.body})
            tx.emit(PingRecorded(ping_id=ping_id, body=ping.body))

        await runtime.store.transaction(fn)
        return {"id": ping_id}

    settings = settings or ServiceSettings(service_name="benchprod")
    return create_app(ServiceSpec(settings=settings, title="bench-producer", routers=[router], publishes=[TOPIC]))


def consumer_app(settings: ServiceSettings | None = None) -> FastAPI:
    consumer = EventConsumer("effects")

    @consumer.handles(PingRecorded)
    async def apply(event: PingRecorded, tx) -> None:  # noqa: ANN001
        # Queued: one insert_many for the whole fetched batch (a redelivery never gets here: the
        # inbox refuses it first).
        tx.insert("effects", {"_id": event.ping_id})

    settings = settings or ServiceSettings(service_name="benchcons")
    return create_app(ServiceSpec(settings=settings, title="bench-consumer", consumers=[consumer]))
