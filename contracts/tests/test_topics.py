"""The topic registry."""

import dataclasses

import pytest

from nrn_contracts import TOPICS, Topic, dlq_topic
from nrn_contracts.schemas import contract_events
from nrn_contracts.topics import (
    ACCOUNTS_LATEST_TOPIC,
    ACCOUNTS_SECURITY_TOPIC,
    ACCOUNTS_TOPIC,
    CITIES_LATEST_TOPIC,
    ENGAGEMENTS_TOPIC,
    LIBRARY_TOPIC,
    PARTNERS_TOPIC,
    PEER_TOPIC,
    REQUESTS311_TOPIC,
)


def test_the_topics_and_their_names() -> None:
    assert (ACCOUNTS_TOPIC, ACCOUNTS_SECURITY_TOPIC, REQUESTS311_TOPIC, LIBRARY_TOPIC, ENGAGEMENTS_TOPIC,
            PEER_TOPIC) == (
        "nrn.accounts.v1", "nrn.accounts.security.v1", "nrn.requests311.v1", "nrn.library.v1",
        "nrn.engagements.v1", "nrn.peer.v1",
    )
    assert (PARTNERS_TOPIC, CITIES_LATEST_TOPIC, ACCOUNTS_LATEST_TOPIC) == (
        "nrn.partners.v1", "nrn.accounts.cities.latest.v1", "nrn.accounts.accounts.latest.v1")
    assert set(TOPICS) == {ACCOUNTS_TOPIC, ACCOUNTS_SECURITY_TOPIC, REQUESTS311_TOPIC, LIBRARY_TOPIC,
                           ENGAGEMENTS_TOPIC, PEER_TOPIC, PARTNERS_TOPIC, CITIES_LATEST_TOPIC, ACCOUNTS_LATEST_TOPIC}
    assert all(name == topic.name for name, topic in TOPICS.items())


def test_owners_and_consumers() -> None:
    assert {(t.owner, t.consumers) for t in TOPICS.values()} == {
        ("accounts", ("requests311", "library", "notifications", "engagements", "peer", "analytics", "partners")),
        # link secrets: notifications only, never analytics or partners
        ("accounts", ("notifications",)),
        ("requests311", ("library", "notifications", "engagements", "peer", "analytics", "partners")),
        ("library", ("requests311", "analytics", "partners")),
        ("engagements", ("library", "notifications", "peer", "analytics", "partners")),
        ("peer", ("library", "notifications", "analytics", "partners")),
        # partners' own facts (endpoints disabled) name partners' URLs: notifications only
        ("partners", ("notifications",)),
        # the two compacted latest-state topics
        ("accounts", ("analytics", "partners")),
    }
    assert all(t.owner not in t.consumers for t in TOPICS.values())


def test_partitions_and_a_description_per_topic() -> None:
    # the two topics nearly every service reads are sized for the national scale-out (deploy/README.md)
    wide = {ACCOUNTS_TOPIC, REQUESTS311_TOPIC}
    assert {name for name, t in TOPICS.items() if t.partitions == 6} == wide
    assert all(t.partitions == 3 for name, t in TOPICS.items() if name not in wide)
    assert all(t.description for t in TOPICS.values())


def test_dead_letter_topic_sits_beside_its_topic() -> None:
    assert dlq_topic("nrn.requests311.v1") == "nrn.requests311.v1.dlq"
    assert dlq_topic("t1a2b3.nrn.library.v1") == "t1a2b3.nrn.library.v1.dlq"


def test_every_topic_carries_events_and_every_event_a_known_topic() -> None:
    events = contract_events().values()
    assert {cls.topic for cls in events} == set(TOPICS)
    for cls in events:
        assert cls.key in TOPICS[cls.topic].key.split(" | ")


def test_topics_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOPICS[ACCOUNTS_TOPIC].partitions = 12  # type: ignore[misc]
    assert isinstance(TOPICS[ACCOUNTS_TOPIC], Topic)


def test_retention_and_compaction_per_topic() -> None:
    configs = {name: t.configs() for name, t in TOPICS.items()}
    # the record the read models are built from is never cut
    for name in (ACCOUNTS_TOPIC, REQUESTS311_TOPIC, LIBRARY_TOPIC, ENGAGEMENTS_TOPIC, PEER_TOPIC):
        assert configs[name] == {"cleanup.policy": "delete", "retention.ms": "-1"}
    # single-use links expire: a week is plenty
    assert configs[ACCOUNTS_SECURITY_TOPIC]["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert configs[PARTNERS_TOPIC]["retention.ms"] == str(90 * 24 * 3600 * 1000)
    for name in (CITIES_LATEST_TOPIC, ACCOUNTS_LATEST_TOPIC):
        assert configs[name]["cleanup.policy"] == "compact" and TOPICS[name].compacted
    assert [n for n, t in TOPICS.items() if t.compacted] == [CITIES_LATEST_TOPIC, ACCOUNTS_LATEST_TOPIC]


def test_never_the_security_topic_for_partners_or_analytics() -> None:
    assert "partners" not in TOPICS[ACCOUNTS_SECURITY_TOPIC].consumers
    assert "analytics" not in TOPICS[ACCOUNTS_SECURITY_TOPIC].consumers
