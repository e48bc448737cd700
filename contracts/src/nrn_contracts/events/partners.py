"""Events of the partners service (topic ``nrn.partners.v1``, keyed by ``endpoint_id``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..envelope import Event
from ..topics import PARTNERS_TOPIC
from ..values import Id, Reason, Url, UtcDateTime

_T = "org.nationalresourcenetwork.partners."

# gone: the endpoint answered 410 Gone; retries_exhausted: a delivery failed its last retry.
DisabledReason = Literal["gone", "retries_exhausted"]


class WebhookEndpointDisabled(
    Event, type=_T + "webhook_endpoint_disabled.v1", topic=PARTNERS_TOPIC, key="endpoint_id"
):
    """Deliveries to a partner's webhook endpoint stopped; the partner's administrators are told so
    they can fix it, enable it again and replay what it missed."""

    endpoint_id: Id
    partner_id: Id
    url: Url
    description: Reason | None = None
    reason: DisabledReason
    last_status: int | None = Field(default=None, description="HTTP status of the last attempt; null for no answer")
    last_error: Reason | None = Field(default=None, description="what went wrong, in words")
    attempts: int = Field(ge=1, description="attempts of the delivery that failed last")
    at: UtcDateTime
