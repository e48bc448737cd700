"""The consumer replicas bench/takeover kills: they apply `PingRecorded` and note when, and when it was emitted."""

from __future__ import annotations

from fastapi import FastAPI

from nrn_kit.app import ServiceSpec, create_app
from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import utcnow
from nrn_kit.settings import ServiceSettings

from ..pipeline.app import PingRecorded


def consumer_app(settings: ServiceSettings | None = None) -> FastAPI:
    consumer = EventConsumer("effects")

    @consumer.handles(PingRecorded)
    async def apply(event: PingRecorded, tx) -> None:  # noqa: ANN001
        await tx.db.effects.insert_one({"_id": event.ping_id, "emitted_at": tx.envelope.time, "applied_at": utcnow()},
                                       session=tx.session)

    settings = settings or ServiceSettings(service_name="takecons")
    return create_app(ServiceSpec(settings=settings, title="takeover-consumer", consumers=[consumer]))
