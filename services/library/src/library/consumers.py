"""The events the library consumes, each applied in the kit's transaction with its inbox record."""

from __future__ import annotations

from nrn_contracts.events import (
    AccountRegistered, CityEligibilityDetermined, CityRegistered, ConsentChanged, ConveningMaterialPublished,
    ConveningScheduled, DeliverablePublished, EngagementClosed, MemoDelivered, QuestionSubmitted, RequestClosed,
)
from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from . import handlers

consumer = EventConsumer("read-models")


@consumer.handles(QuestionSubmitted, MemoDelivered, RequestClosed, ConsentChanged)
async def on_request_event(event, tx: Tx) -> None:  # noqa: ANN001
    await handlers.apply_requests311_event(tx, event)


@consumer.handles(CityRegistered, CityEligibilityDetermined)
async def on_city(event, tx: Tx) -> None:  # noqa: ANN001
    await handlers.apply_city_event(tx, event)


@consumer.handles(AccountRegistered)
async def on_account(event: AccountRegistered, tx: Tx) -> None:
    await handlers.apply_account_event(tx, event)


@consumer.handles(EngagementClosed)
async def on_engagement_closed(event: EngagementClosed, tx: Tx) -> None:
    await handlers.apply_engagement_closed(tx, event)


@consumer.handles(ConveningScheduled)
async def on_convening(event: ConveningScheduled, tx: Tx) -> None:
    await handlers.apply_convening_scheduled(tx, event)


@consumer.handles(ConveningMaterialPublished)
async def on_convening_material(event: ConveningMaterialPublished, tx: Tx) -> None:
    await handlers.apply_convening_material(tx, event)


@consumer.handles(DeliverablePublished)
async def on_deliverable(event: DeliverablePublished, tx: Tx) -> None:
    await handlers.apply_deliverable_published(tx, event)
