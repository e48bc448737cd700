"""Event vocabulary of the NRN platform: the CloudEvents envelope, event models, topic registry.

Importing the package registers every event model, so :func:`decode` knows every type.
"""

__version__ = "0.1.0"

from .envelope import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    CloudEvent,
    Event,
    EventTooLarge,
    InvalidEvent,
    decode,
    encode,
    envelope,
    kafka_headers,
)
from .topics import (
    ACCOUNTS_LATEST_TOPIC,
    ACCOUNTS_SECURITY_TOPIC,
    ACCOUNTS_TOPIC,
    CITIES_LATEST_TOPIC,
    ENGAGEMENTS_TOPIC,
    EXTERNAL_CONSUMERS,
    LIBRARY_TOPIC,
    PARTNERS_TOPIC,
    PEER_TOPIC,
    REQUESTS311_TOPIC,
    TOPICS,
    Topic,
    dlq_topic,
)
from .values import CONSENT_LEVELS, TOPIC_TAXONOMY, Consent, TaxonomyTopic

from . import events  # noqa: E402,F401  (registers every event type)

__all__ = [
    "ACCOUNTS_LATEST_TOPIC",
    "ACCOUNTS_SECURITY_TOPIC",
    "CITIES_LATEST_TOPIC",
    "ACCOUNTS_TOPIC",
    "CONSENT_LEVELS",
    "ENGAGEMENTS_TOPIC",
    "EVENT_TYPES",
    "EXTERNAL_CONSUMERS",
    "LIBRARY_TOPIC",
    "MAX_EVENT_BYTES",
    "PARTNERS_TOPIC",
    "PEER_TOPIC",
    "REQUESTS311_TOPIC",
    "TOPICS",
    "TOPIC_TAXONOMY",
    "CloudEvent",
    "Consent",
    "Event",
    "EventTooLarge",
    "InvalidEvent",
    "TaxonomyTopic",
    "Topic",
    "decode",
    "dlq_topic",
    "encode",
    "envelope",
    "events",
    "kafka_headers",
]
