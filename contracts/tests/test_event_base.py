"""The Event base: registration rules, identity attributes, payload value rules."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from nrn_contracts import EVENT_TYPES, TOPICS, Event
from nrn_contracts.events import CityRegistered, MemoDelivered, QuestionSubmitted
from nrn_contracts.schemas import contract_events
from nrn_contracts.testing import example

CONTRACT_EVENTS = contract_events()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
def test_every_event_is_named_and_placed_by_the_convention(event_type: str) -> None:
    cls = CONTRACT_EVENTS[event_type]
    service = cls.__module__.rsplit(".", 1)[-1]
    assert event_type == f"org.nationalresourcenetwork.{service}.{_snake(cls.__name__)}.v1"
    assert cls.topic in TOPICS
    assert TOPICS[cls.topic].owner == service
    field = cls.model_fields[cls.key]
    assert field.is_required() and field.annotation is str, "the record key must be a required string"
    assert cls.key in TOPICS[cls.topic].key


def test_the_brief_s_event_list_is_all_registered() -> None:
    names = {cls.__name__ for cls in CONTRACT_EVENTS.values()}
    assert {
        "CityRegistered", "CityIndicatorsUpdated", "CityEligibilityDetermined", "EligibilityExceptionGranted",
        "EligibilityExceptionRevoked", "AccountRegistered", "AccountVerified", "AccountDeactivated", "RoleGranted",
        "RoleRevoked", "PartnerRegistered", "QuestionSubmitted", "QuestionTriaged", "InformationRequested",
        "InformationProvided", "ExpertAssigned", "QuestionDeclined", "MemoDrafted", "MemoReturned", "MemoDelivered",
        "CallScheduled", "CallCompleted", "CallMissed", "RequestClosed", "FeedbackReceived", "FollowUpRecorded",
        "RequestReopened", "ServiceLevelBreached", "ConsentChanged", "ResourcePublished", "ResourceUpdated",
        "ResourceArchived", "AnswerFoundBeforeAsking", "ApplicationSubmitted", "ApplicationDecided",
        "EngagementOpened", "EngagementClosed", "ConveningScheduled", "RegistrationConfirmed",
    } <= names


def test_a_taxonomy_topic_field_does_not_hide_the_kafka_topic() -> None:
    q = example(QuestionSubmitted, topic="housing")
    assert type(q).topic == "nrn.requests311.v1" == QuestionSubmitted.topic
    assert q.topic == "housing"
    assert QuestionSubmitted.model_fields["topic"].is_required()
    assert MemoDelivered.model_fields["topic"].is_required()


def test_aggregate_id_is_the_key_field() -> None:
    assert example(QuestionSubmitted, request_id="r-42").aggregate_id() == "r-42"
    assert example(CityRegistered, city_id="detroit-mi").aggregate_id() == "detroit-mi"


def test_events_are_immutable() -> None:
    q = example(QuestionSubmitted)
    with pytest.raises(ValidationError):
        q.title = "changed"  # type: ignore[misc]


def test_timestamps_must_be_aware_and_are_normalised_to_utc() -> None:
    with pytest.raises(ValidationError, match="submitted_at"):
        example(QuestionSubmitted, submitted_at=datetime(2024, 1, 1, 9, 0))
    q = example(QuestionSubmitted, submitted_at=datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert q.submitted_at == datetime(2024, 1, 1, 14, 0, tzinfo=UTC)
    assert q.submitted_at.utcoffset() == timedelta(0)


def test_closed_sets_and_obvious_limits_are_enforced() -> None:
    with pytest.raises(ValidationError, match="topic"):
        example(QuestionSubmitted, topic="astrology")
    with pytest.raises(ValidationError, match="consent_to_publish"):
        example(QuestionSubmitted, consent_to_publish="maybe")
    with pytest.raises(ValidationError, match="title"):
        example(QuestionSubmitted, title="")
    with pytest.raises(ValidationError, match="state"):
        example(CityRegistered, state="Michigan")


def test_unknown_payload_fields_are_ignored() -> None:
    data = example(CityRegistered).model_dump(mode="json") | {"mayor": "someone"}
    assert CityRegistered.model_validate(data) == example(CityRegistered)


def test_subclassing_registers_the_type(registry) -> None:
    class Pinged(Event, type="org.nationalresourcenetwork.test.pinged.v1", topic="nrn.test.v1", key="ping_id"):
        ping_id: str

    assert registry["org.nationalresourcenetwork.test.pinged.v1"] is Pinged
    assert (Pinged.type, Pinged.topic, Pinged.key) == ("org.nationalresourcenetwork.test.pinged.v1", "nrn.test.v1", "ping_id")


def test_a_duplicate_type_is_rejected(registry) -> None:
    with pytest.raises(TypeError, match="already registered"):

        class Impostor(Event, type=QuestionSubmitted.type, topic="nrn.requests311.v1", key="request_id"):
            request_id: str

    assert EVENT_TYPES[QuestionSubmitted.type] is QuestionSubmitted


def test_running_the_same_class_statement_again_replaces_the_entry(registry) -> None:
    def define() -> type[Event]:
        class Again(Event, type="org.nationalresourcenetwork.test.again.v1", topic="nrn.test.v1", key="id"):
            id: str

        return Again

    first, second = define(), define()
    assert registry["org.nationalresourcenetwork.test.again.v1"] is second is not first


def test_key_must_name_a_field(registry) -> None:
    with pytest.raises(TypeError, match="key 'request_id' is not a field"):

        class NoKey(Event, type="org.nationalresourcenetwork.test.no_key.v1", topic="nrn.test.v1", key="request_id"):
            other_id: str

    assert "org.nationalresourcenetwork.test.no_key.v1" not in registry


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "org.nationalresourcenetwork.test.partial.v1", "topic": "nrn.test.v1"}, "missing: key"),
        ({"type": "org.nationalresourcenetwork.test.no_version", "topic": "t", "key": "id"}, "must look like"),
        ({"type": "Org.Thing.V1", "topic": "t", "key": "id"}, "must look like"),
    ],
)
def test_identity_keywords_are_checked(registry, kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        type("Bad", (Event,), {"__annotations__": {"id": str}}, **kwargs)


def test_a_base_without_identity_is_abstract_and_shares_fields(registry) -> None:
    class _Base(Event):
        thing_id: str

    class ThingMade(_Base, type="org.nationalresourcenetwork.test.thing_made.v1", topic="nrn.test.v1", key="thing_id"):
        colour: str

    assert _Base not in registry.values()
    assert ThingMade(thing_id="t1", colour="red").aggregate_id() == "t1"


def test_subclassing_a_registered_event_keeps_a_field_named_like_an_identity_attribute(registry) -> None:
    class QuestionSubmittedLater(
        QuestionSubmitted, type="org.nationalresourcenetwork.test.question_submitted.v2", topic="nrn.test.v2", key="request_id"
    ):
        extra: str | None = None

    assert QuestionSubmittedLater.topic == "nrn.test.v2"
    assert QuestionSubmittedLater.model_fields["topic"].is_required()
    data = example(QuestionSubmitted, topic="health").model_dump()
    assert QuestionSubmittedLater.model_validate(data).topic == "health"
