"""Which event types partners may receive, and the patterns endpoints and agreements choose them by.

A partner receives only events of the topics the registry marks for external readers (``partners`` in a
topic's consumers), never ``nrn.accounts.security.v1`` (single-use link secrets).

Patterns: ``*`` (every type the agreement allows), an exact type, or a prefix ending in ``.*`` at a dot,
such as ``org.nationalresourcenetwork.requests311.*``.
"""

from __future__ import annotations

import re
from functools import cache

from nrn_contracts import TOPICS, Event
from nrn_contracts.schemas import contract_events

from .errors import InvalidInput

PARTNERS = "partners"
# Our own test deliveries: never on a topic, sent only when a partner asks.
TEST_EVENT_TYPE = "org.nationalresourcenetwork.partners.webhook_test.v1"

_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*|\.v[0-9]+))$")


def external_topics() -> list[str]:
    """Topics partners read: those whose consumers include ``partners``."""
    return sorted(name for name, topic in TOPICS.items() if PARTNERS in topic.consumers)


@cache
def partner_event_types() -> dict[str, type[Event]]:
    """Every event type a partner could receive, by type."""
    topics = set(external_topics())
    return {t: cls for t, cls in contract_events().items() if cls.topic in topics}


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def matches_any(patterns: list[str] | tuple[str, ...], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)


def expand(patterns: list[str] | tuple[str, ...]) -> list[str]:
    """The known partner event types the patterns select, sorted."""
    return [t for t in partner_event_types() if matches_any(patterns, t)]


def check_patterns(patterns: list[str], *, field: str = "event_types") -> list[str]:
    """Validate patterns (422 naming the entry): well formed and each selecting at least one partner type."""
    if not patterns:
        raise InvalidInput("choose at least one event type (or * for every type the agreement allows)", field=field)
    out: list[str] = []
    for index, raw in enumerate(patterns):
        pattern = raw.strip()
        if not _PATTERN.match(pattern):
            raise InvalidInput(
                f"{raw!r} is not an event type or a pattern such as org.nationalresourcenetwork.requests311.*",
                field=f"{field}.{index}")
        if not expand([pattern]):
            raise InvalidInput(f"{pattern!r} matches no event type partners can receive", field=f"{field}.{index}")
        if pattern not in out:
            out.append(pattern)
    return out


def label(event_type: str) -> str:
    """A person's name for an event type: 'Question submitted (311 for Cities)'."""
    if event_type == TEST_EVENT_TYPE:
        return "Test event"
    parts = event_type.split(".")
    service = {"accounts": "cities and accounts", "requests311": "311 for Cities", "library": "library",
               "engagements": "direct assistance", "peer": "peer networking"}.get(parts[2], parts[2])
    words = parts[3].replace("_", " ").capitalize() if len(parts) > 3 else event_type
    return f"{words} ({service})"
