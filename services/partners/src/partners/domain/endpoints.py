"""A partner's webhook endpoint: its URL, the event types it chose, its filters, its signing secrets.

Secrets are ``whsec_`` + base64 of 24 random bytes (the Standard Webhooks format): shown once, when the
endpoint is registered or the secret rotated. After a rotation the previous secret keeps signing beside
the new one for a grace period, so each delivery carries both signatures and the partner can switch
without losing a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets as _secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from nrn_contracts import TOPIC_TAXONOMY

from . import catalogue
from .addresses import refusal
from .agreements import Agreement
from .errors import InvalidInput

SECRET_PREFIX = "whsec_"
ENABLED, DISABLED = "enabled", "disabled"
_STATE_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split())
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(24)).decode()


def webhook_id(endpoint_id: str, event_id: str) -> str:
    """The stable ``webhook-id`` of one event to one endpoint: the same on every retry, redelivery or replay."""
    return "msg_" + hashlib.sha256(f"{endpoint_id}\0{event_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SigningSecret:
    secret: str
    created_at: datetime
    expires_at: datetime | None = None  # set when rotated out: signs until then

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, list[str]]:
        return {"states": list(self.states), "topics": list(self.topics)}


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    partner_id: str
    url: str
    description: str | None
    event_types: tuple[str, ...]
    filters: Filters
    secrets: tuple[SigningSecret, ...]
    status: str = ENABLED
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_by: str = ""
    created_at: datetime | None = None
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED

    def signing_secrets(self, now: datetime) -> list[str]:
        """Every secret that signs now, newest first."""
        return [s.secret for s in sorted(self.secrets, key=lambda s: s.created_at, reverse=True) if s.active(now)]

    def wants(self, event_type: str, agreement: Agreement) -> bool:
        return agreement.allows_type(event_type) and (
            event_type == catalogue.TEST_EVENT_TYPE or catalogue.matches_any(self.event_types, event_type))

    def passes(self, state: str | None, topic: str | None, agreement: Agreement) -> bool:
        """Filters narrow: an event whose state (or topic) is unknown does not pass a state (topic) filter.
        A filter the agreement no longer allows is not applied."""
        if self.filters.states and "state" in agreement.filters and state not in self.filters.states:
            return False
        if self.filters.topics and "topic" in agreement.filters and topic not in self.filters.topics:
            return False
        return True


def check_url(raw: str, *, allow_loopback: bool) -> str:
    """An absolute https URL with a host (http only where loopback is allowed, for tests and development),
    no user name or password, no fragment; an IP address given literally must be one deliveries may reach."""
    url = raw.strip()
    if any(c.isspace() for c in url):  # urlsplit keeps them; the events' Url type (and a receiver) would not
        raise InvalidInput("the URL must not contain spaces or line breaks; write a space as %20", field="url")
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in schemes:
        raise InvalidInput("the endpoint must be an https:// URL", field="url")
    if not parts.hostname:
        raise InvalidInput("the URL needs a host name", field="url")
    if parts.username or parts.password:
        raise InvalidInput("the URL must not carry a user name or password; use the signing secret", field="url")
    if parts.fragment:
        raise InvalidInput("the URL must not have a #fragment", field="url")
    try:
        _ = parts.port
    except ValueError:
        raise InvalidInput("the URL's port is not a number from 1 to 65535", field="url") from None
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if not _HOST.match(host) or ".." in host:
            raise InvalidInput("the URL's host name is not valid", field="url")
        if host.lower().rstrip(".") in ("localhost", "localhost.localdomain") and not allow_loopback:
            raise InvalidInput("the endpoint cannot be on this network: localhost is refused", field="url")
    if literal is not None:
        why = refusal(literal, allow_loopback=allow_loopback)
        if why:
            raise InvalidInput(f"the endpoint cannot be on a private network: {host} is {why}", field="url")
    if len(url) > 2000:
        raise InvalidInput("the URL is longer than 2,000 characters", field="url")
    return url


def check_filters(states: list[str] | None, topics: list[str] | None, agreement: Agreement) -> Filters:
    states = [s.strip().upper() for s in states or [] if s.strip()]
    topics = [t.strip() for t in topics or [] if t.strip()]
    if states and "state" not in agreement.filters:
        raise InvalidInput("the partner's agreement does not allow filtering by state", field="filters.states")
    if topics and "topic" not in agreement.filters:
        raise InvalidInput("the partner's agreement does not allow filtering by topic", field="filters.topics")
    for index, state in enumerate(states):
        if state not in _STATE_CODES:
            raise InvalidInput(f"{state!r} is not a US state code such as MI", field=f"filters.states.{index}")
    for index, topic in enumerate(topics):
        if topic not in TOPIC_TAXONOMY:
            raise InvalidInput(f"{topic!r} is not a topic of the taxonomy", field=f"filters.topics.{index}")
    return Filters(states=tuple(dict.fromkeys(states)), topics=tuple(dict.fromkeys(topics)))


def check_types(patterns: list[str], agreement: Agreement) -> tuple[str, ...]:
    chosen = catalogue.check_patterns(patterns)
    for index, pattern in enumerate(chosen):
        if not any(catalogue.matches(pattern, t) for t in agreement.allowed_types()):
            raise InvalidInput(f"the partner's agreement allows none of the event types {pattern!r} names",
                               field=f"event_types.{index}")
    return tuple(chosen)


def rotate(endpoint: Endpoint, *, now: datetime, grace: timedelta) -> tuple[Endpoint, str]:
    """A new secret; the current ones keep signing for ``grace`` (not longer than they already would)."""
    secret = new_secret()
    kept = []
    for s in endpoint.secrets:
        if not s.active(now):
            continue
        until = now + grace
        kept.append(replace(s, expires_at=until if s.expires_at is None else min(s.expires_at, until)))
    kept = [s for s in kept if s.active(now)]
    return replace(endpoint, secrets=(SigningSecret(secret, now), *kept)), secret
