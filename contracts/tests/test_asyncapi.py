"""The generated AsyncAPI 3.0 document."""

from typing import Any

from nrn_contracts import TOPICS, dlq_topic
from nrn_contracts.asyncapi import build
from nrn_contracts.schemas import contract_events

DOC = build()


def _resolve(ref: str) -> Any:
    target: Any = DOC
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_it_is_an_asyncapi_3_document() -> None:
    assert DOC["asyncapi"] == "3.0.0"
    assert DOC["info"]["title"] and DOC["info"]["version"]
    assert DOC["defaultContentType"] == "application/cloudevents+json"


def test_every_reference_resolves_inside_the_document() -> None:
    refs = _refs(DOC)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        _resolve(ref)


def test_channels_are_the_topics_and_their_dead_letter_topics() -> None:
    assert set(DOC["channels"]) == set(TOPICS) | {dlq_topic(t) for t in TOPICS}
    for name, topic in TOPICS.items():
        channel = DOC["channels"][name]
        assert channel["address"] == name
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions


def test_every_event_is_a_message_on_its_topic_with_payload_and_headers() -> None:
    events = contract_events()
    assert set(DOC["components"]["messages"]) == set(events)
    for event_type, cls in events.items():
        assert event_type in DOC["channels"][cls.topic]["messages"]
        assert event_type in DOC["channels"][dlq_topic(cls.topic)]["messages"]
        message = DOC["components"]["messages"][event_type]
        assert message["contentType"] == "application/cloudevents+json"
        envelope, specific = message["payload"]["allOf"]
        assert _resolve(envelope["$ref"])["title"] == "CloudEvent"
        assert specific["properties"]["type"] == {"const": event_type}
        assert _resolve(specific["properties"]["data"]["$ref"])["title"] == cls.__name__
        assert message["headers"]["properties"]["ce_type"] == {"const": event_type}
        assert set(message["headers"]["required"]) == {"ce_id", "ce_type", "ce_source", "ce_specversion", "content-type"}
        assert message["bindings"]["kafka"]["key"]["description"] == f"The {cls.key} of the event"


def test_operations_are_send_by_the_owner_and_receive_by_each_consumer() -> None:
    ops = DOC["operations"]
    expected = {(t.owner, "send", t.name) for t in TOPICS.values()} | {
        (c, "receive", t.name) for t in TOPICS.values() for c in t.consumers
    }
    found = {(op_id.split(".", 2)[0], op["action"], _resolve(op["channel"]["$ref"])["address"]) for op_id, op in ops.items()}
    assert found == expected
    for op in ops.values():
        channel = _resolve(op["channel"]["$ref"])
        # AsyncAPI 3: an operation's messages must be messages of its channel.
        for ref in op["messages"]:
            assert ref["$ref"].startswith(op["channel"]["$ref"] + "/messages/")
        assert len(op["messages"]) == len(channel["messages"])


def test_generation_is_deterministic() -> None:
    assert build() == DOC
