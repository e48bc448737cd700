"""Kafka clients built from settings, and topics declared from the contracts' registry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from aiokafka.protocol.metadata import MetadataRequest

from nrn_contracts import TOPICS, dlq_topic
from nrn_contracts.topics import dlq_configs, dlq_partitions

from .settings import ServiceSettings

log = logging.getLogger(__name__)

# The embedded broker enforces no record size limit; the producer does (contracts enforce 1 MiB too).
MAX_RECORD_BYTES = 1024 * 1024 + 64 * 1024


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-producer",
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        enable_idempotence=settings.kafka_enable_idempotence,
        max_request_size=MAX_RECORD_BYTES,
        request_timeout_ms=30_000,
    )


def make_consumer(settings: ServiceSettings, *topics: str, group: str | None, **overrides) -> AIOKafkaConsumer:
    options = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        client_id=f"{settings.service_name}-consumer",
        enable_auto_commit=False,
        # A service that starts for the first time builds its read models from the whole history.
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_records=settings.consumer_batch_size,
        fetch_max_wait_ms=100,
    )
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def topic_names(settings: ServiceSettings, logical: list[str] | None = None) -> list[tuple[str, int]]:
    """Physical names and partition counts of the given registry topics and their dead-letter topics."""
    out = []
    for name in logical if logical is not None else list(TOPICS):
        registered = TOPICS.get(name)
        partitions = settings.topic_partitions or (registered.partitions if registered else 1)
        out.append((settings.topic(name), partitions))
        out.append((settings.topic(dlq_topic(name)), dlq_partitions()))
    return out


def topic_configs(settings: ServiceSettings, logical: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Broker configuration of the given registry topics and their dead-letter topics, by physical name:
    retention and cleanup policy from the registry (``Topic.configs``: for ever, days, or compacted)."""
    out: dict[str, dict[str, str]] = {}
    for name in logical if logical is not None else list(TOPICS):
        registered = TOPICS.get(name)
        if registered is not None:
            out[settings.topic(name)] = registered.configs()
        out[settings.topic(dlq_topic(name))] = dlq_configs()
    return out


async def ensure_topics(settings: ServiceSettings, logical: list[str] | None = None) -> None:
    """Create topics with the registry's partition counts (a subscriber on an auto-created topic gets one)
    and its retention or compaction (applied at creation; an existing topic keeps what it has)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        configs = topic_configs(settings, logical)
        wanted = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=settings.kafka_replication_factor,
                     topic_configs=configs.get(name, {}))
            for name, partitions in topic_names(settings, logical)
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another service created it between our list and create
    finally:
        await admin.close()


@dataclass(frozen=True)
class BrokerView:
    """What the broker says of itself: its cluster id (None when it does not tell) and which of the
    asked topics it does not have."""

    cluster_id: str | None
    missing: frozenset[str]


async def broker_view(client: AIOKafkaClient, topics: Iterable[str] = ()) -> BrokerView:
    """One metadata request (no topic is created by asking). A broker that started afresh — the
    embedded one keeps nothing across a restart, and gets a new cluster id each start — shows a new
    cluster id, or lacks topics that were published to: the relay and the consumers act on it."""
    node = client.get_random_node()
    if node is None:
        await client.force_metadata_update()
        node = client.get_random_node()
    if node is None:
        raise KafkaConnectionError("no broker known")
    response = await client.send(node, MetadataRequest(list(topics), allow_auto_topic_creation=False))
    missing = frozenset(t[1] for t in response.topics if t[0] == UnknownTopicOrPartitionError.errno)
    return BrokerView(cluster_id=getattr(response, "cluster_id", None) or None, missing=missing)


async def create_registry_topics(settings: ServiceSettings, *, attempts: int = 60, delay: float = 2.0) -> list[str]:
    """Every registry topic and its dead-letter topic, created as the registry says (partitions, retention,
    compaction) with ``KAFKA_REPLICATION_FACTOR`` replicas; waits up to ``attempts × delay`` seconds for
    the broker. Returns the physical names; a topic that exists keeps what it has."""
    import asyncio

    for attempt in range(1, attempts + 1):
        try:
            await ensure_topics(settings)
            return [name for name, _ in topic_names(settings)]
        except KafkaConnectionError as exc:
            if attempt == attempts:
                raise
            log.info("kafka not ready (%s); retry %d/%d", exc, attempt, attempts)
            await asyncio.sleep(delay)
    return []


if __name__ == "__main__":  # python -m nrn_kit.kafka: the compose stack's one-shot topic job
    import asyncio

    _settings = ServiceSettings(service_name="topics")
    for _name in asyncio.run(create_registry_topics(_settings)):
        print(f"topic {_name}: present")
