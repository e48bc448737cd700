"""The two kit services the restart tests kill, each run by uvicorn in a process of its own.

`producer_app`: `POST /orders` → one transaction (order document, its line queued with ``tx.insert``
and written with its group's, `OrderPlaced` in the outbox).
`consumer_app`: applies `OrderPlaced` to its read model — `$inc` of the order's count, so an event
applied twice shows as 2, and a receipt queued with ``tx.insert`` (one insert_many a batch) — with the
inbox in the same transaction.
Both read their settings from the environment (``ServiceSettings``), like any service.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field

from nrn_contracts import Event
from nrn_kit.app import Runtime, ServiceSpec, create_app, get_runtime
from nrn_kit.consumer import EventConsumer
from nrn_kit.settings import ServiceSettings

TOPIC = "nrn.restarttest.v1"


class OrderPlaced(Event, type="org.nationalresourcenetwork.restarttest.order_placed.v1", topic=TOPIC, key="order_id"):
    order_id: str
    item: str


class OrderIn(BaseModel):
    item: str = Field(min_length=1, max_length=100)


def producer_app() -> FastAPI:
    router = APIRouter()

    @router.post("/orders", status_code=201)
    async def place(order: OrderIn, runtime: Runtime = Depends(get_runtime)) -> dict:
        order_id = uuid.uuid4().hex

        async def fn(tx) -> None:  # noqa: ANN001
            await tx.db.orders.insert_one({"_id": order_id, "item": order.item}, session=tx.session)
            tx.insert("order_lines", {"order_id": order_id, "item": order.item})
            tx.emit(OrderPlaced(order_id=order_id, item=order.item))

        await runtime.store.transaction(fn)
        return {"id": order_id}

    return create_app(ServiceSpec(settings=ServiceSettings(), title="restart-producer", routers=[router],
                                  publishes=[TOPIC]))


def consumer_app() -> FastAPI:
    consumer = EventConsumer("orders")

    @consumer.handles(OrderPlaced)
    async def count(event: OrderPlaced, tx) -> None:  # noqa: ANN001
        await tx.db.order_counts.update_one({"_id": event.order_id}, {"$inc": {"applied": 1}}, upsert=True,
                                            session=tx.session)
        tx.insert("order_receipts", {"_id": event.order_id})

    return create_app(ServiceSpec(settings=ServiceSettings(), title="restart-consumer", consumers=[consumer]))
