"""The CloudEvents envelope: envelope → encode → kafka_headers → decode, and decode's refusals."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nrn_contracts import (
    MAX_EVENT_BYTES,
    CloudEvent,
    EventTooLarge,
    InvalidEvent,
    decode,
    encode,
    envelope,
    kafka_headers,
)
from nrn_contracts.events import CityEligibilityDetermined, MemoDelivered, QuestionSubmitted
from nrn_contracts.schemas import contract_events
from nrn_contracts.testing import example, strategy

CONTRACT_EVENTS = contract_events()
SOURCE = "/nrn/requests311"
FUZZ = settings(max_examples=200, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
def test_every_type_round_trips_through_the_envelope(event_type: str) -> None:
    cls = CONTRACT_EVENTS[event_type]
    event = example(cls)
    ce = envelope(event, source=SOURCE)

    decoded_ce, decoded = decode(encode(ce))

    assert decoded == event
    assert type(decoded) is cls
    assert decoded_ce == ce
    assert ce.type == event_type
    assert ce.subject == event.aggregate_id()
    assert ce.dataschema == f"https://nationalresourcenetwork.org/schemas/{event_type}.json"


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
@settings(max_examples=15, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_events_round_trip(event_type: str, data: st.DataObject) -> None:
    event = data.draw(strategy(CONTRACT_EVENTS[event_type]))
    ce = envelope(event, source=SOURCE, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    _, decoded = decode(encode(ce))
    assert decoded == event


def test_envelope_fills_in_id_time_and_subject() -> None:
    event = example(QuestionSubmitted, request_id="r-7")
    ce = envelope(event, source=SOURCE)
    assert ce.specversion == "1.0"
    assert uuid.UUID(ce.id)
    assert ce.time.tzinfo is not None and ce.time.utcoffset() == timedelta(0)
    assert ce.subject == "r-7"
    assert ce.source == SOURCE
    assert ce.datacontenttype == "application/json"
    assert ce.traceparent is None
    assert envelope(event, source=SOURCE).id != ce.id


def test_envelope_keeps_given_id_time_and_traceparent() -> None:
    at = datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    ce = envelope(example(QuestionSubmitted), source=SOURCE, id="evt-1", time=at, traceparent="00-ab-cd-01")
    assert (ce.id, ce.traceparent) == ("evt-1", "00-ab-cd-01")
    assert ce.time == at and ce.time.tzinfo == UTC


def test_envelope_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="time"):
        envelope(example(QuestionSubmitted), source=SOURCE, time=datetime(2024, 1, 1))


def test_envelope_refuses_an_unregistered_class() -> None:
    from nrn_contracts.events.library import _ResourceState

    abstract = _ResourceState.model_construct(resource_id="x")
    with pytest.raises(TypeError, match="not a registered event"):
        envelope(abstract, source="/nrn/library")


def test_encode_is_compact_json_without_absent_attributes() -> None:
    ce = envelope(example(QuestionSubmitted, context=None), source=SOURCE, id="e1")
    value = encode(ce)
    parsed = json.loads(value)
    assert value == json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()
    assert "traceparent" not in parsed
    assert parsed["data"]["context"] is None, "null payload fields stay: they are part of the event"
    assert parsed["time"].endswith("Z")


def test_encode_keeps_non_ascii_text_as_utf8() -> None:
    ce = envelope(example(QuestionSubmitted, title="Zoning in Española — ¿qué?"), source=SOURCE)
    assert "Española — ¿qué?".encode() in encode(ce)


def _sized_event(total: int) -> CloudEvent:
    base = CloudEvent(specversion="1.0", id="big", source=SOURCE, type="org.example.blob.v1",
                      time=datetime(2024, 1, 1, tzinfo=UTC), data={"blob": ""})
    padding = total - len(encode(base))
    return base.model_copy(update={"data": {"blob": "x" * padding}})


def test_encode_accepts_exactly_one_mebibyte() -> None:
    assert len(encode(_sized_event(MAX_EVENT_BYTES))) == MAX_EVENT_BYTES


def test_encode_refuses_more_than_one_mebibyte() -> None:
    with pytest.raises(EventTooLarge, match="limit"):
        encode(_sized_event(MAX_EVENT_BYTES + 1))
    assert issubclass(EventTooLarge, ValueError)


def test_the_largest_memo_still_fits() -> None:
    # memo_markdown is capped so that even 4-byte characters stay under the record limit.
    memo = "𝄞" * 200_000
    ce = envelope(example(MemoDelivered, memo_markdown=memo), source=SOURCE)
    assert len(encode(ce)) < MAX_EVENT_BYTES


def test_kafka_headers_repeat_the_routing_attributes() -> None:
    ce = envelope(example(QuestionSubmitted), source=SOURCE, id="e1")
    assert kafka_headers(ce) == [
        ("ce_id", b"e1"),
        ("ce_type", b"org.nationalresourcenetwork.requests311.question_submitted.v1"),
        ("ce_source", b"/nrn/requests311"),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/cloudevents+json"),
    ]
    traced = ce.model_copy(update={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    assert kafka_headers(traced)[-1] == ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")


# --- decode: what it refuses, and that it refuses only with InvalidEvent ---------------------------


def _record(**changes) -> dict:
    ce = envelope(example(QuestionSubmitted), source=SOURCE, id="e1")
    record = json.loads(encode(ce))
    record.update(changes)
    return record


def _reason(value: bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        decode(value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == str(caught.value)
    return caught.value.reason


@pytest.mark.parametrize(
    "value",
    [b"", b"   ", b"\xff\xfe\x00", b"{", b"{\"specversion\": ", b"nope", b"[" * 100_000 + b"]" * 100_000,
     b"1" * 10_000, b"NaN", b"\x00" * 64],
)
def test_garbage_is_invalid(value: bytes) -> None:
    assert _reason(value)


def test_invalid_json_says_so() -> None:
    assert _reason(b"{not json").startswith("not JSON")


@pytest.mark.parametrize("value", [b"[]", b"{}", b'"text"', b"null", b"42", b'{"hello": "world"}'])
def test_json_that_is_not_an_envelope_is_invalid(value: bytes) -> None:
    assert "not a CloudEvents envelope" in _reason(value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"id": ""}, "id"),
        ({"time": "2024-01-01T00:00:00"}, "time"),
        ({"time": "yesterday"}, "time"),
        ({"source": None}, "source"),
        ({"id": None}, "id"),
        ({"type": ""}, "type"),
        ({"specversion": None}, "specversion"),
        ({"subject": ""}, "subject"),
        ({"dataschema": ""}, "dataschema"),
        ({"time": 1704067200}, "time"),
        ({"Time": "2024-01-01T00:00:00Z"}, "attribute name"),
        ({"com-example-ext": "x"}, "attribute name"),
        ({"comexampleext": {"nested": True}}, "comexampleext"),
        ({"comexampleext": [1]}, "comexampleext"),
        ({"comexampleext": 1.5}, "comexampleext"),
        ({"comexampleext": 2**31}, "comexampleext"),
        ({"data_base64": "AAAA"}, "data_base64"),
    ],
)
def test_a_bad_envelope_names_the_attribute(changes: dict, field: str) -> None:
    reason = _reason(json.dumps(_record(**changes)).encode())
    assert "not a CloudEvents envelope" in reason and field in reason


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type"])
def test_a_missing_required_attribute_is_named(attribute: str) -> None:
    record = _record()
    del record[attribute]
    reason = _reason(json.dumps(record).encode())
    assert "not a CloudEvents envelope" in reason and attribute in reason


# --- CloudEvents 1.0 conformance: the four required attributes are all an envelope needs ------------


def _minimal(**attributes) -> dict:
    return {"specversion": "1.0", "id": "A234-1234-1234", "source": "/mycontext",
            "type": "com.example.someevent", **attributes}


def test_the_required_attributes_alone_are_a_conformant_envelope() -> None:
    ce, event = decode(json.dumps(_minimal()).encode())
    assert event is None
    assert (ce.id, ce.source, ce.type, ce.specversion) == ("A234-1234-1234", "/mycontext", "com.example.someevent",
                                                           "1.0")
    assert ce.time is None and ce.subject is None and ce.dataschema is None and ce.data is None


@pytest.mark.parametrize("attribute", ["time", "subject", "datacontenttype", "dataschema"])
def test_each_optional_attribute_may_be_absent_from_a_known_event(attribute: str) -> None:
    record = _record()
    del record[attribute]
    ce, event = decode(json.dumps(record).encode())
    assert event == example(QuestionSubmitted)
    assert getattr(ce, attribute) in (None, "application/json")


def test_an_event_without_time_is_accepted() -> None:
    # The field report: an event without `time` was parked as "not a CloudEvents envelope".
    record = _record()
    del record["time"]
    ce, event = decode(json.dumps(record).encode())
    assert ce.time is None
    assert event == example(QuestionSubmitted)


@pytest.mark.parametrize("attribute", ["time", "subject", "datacontenttype", "dataschema", "traceparent",
                                       "comexampleext"])
def test_a_null_optional_attribute_counts_as_absent(attribute: str) -> None:
    ce, event = decode(json.dumps(_record(**{attribute: None})).encode())
    assert event == example(QuestionSubmitted)
    if attribute in ("time", "subject", "dataschema", "traceparent"):
        assert getattr(ce, attribute) is None


@pytest.mark.parametrize(
    "data",
    [{"appinfoA": "abc", "appinfoB": 123, "appinfoC": True}, "<much wow=\"xml\"/>", [1, 2], 5, True, None],
)
def test_data_of_an_unknown_type_may_be_any_json_value(data: object) -> None:
    ce, event = decode(json.dumps(_minimal(datacontenttype="text/xml", data=data)).encode())
    assert event is None and ce.data == data


def test_binary_data_travels_as_data_base64() -> None:
    ce, _ = decode(json.dumps(_minimal(datacontenttype="application/octet-stream", data_base64="AAEC")).encode())
    assert ce.data_base64 == "AAEC" and ce.data is None


def test_the_spec_examples_with_extensions_are_accepted() -> None:
    record = _minimal(time="2018-04-05T17:31:00Z", comexampleextension1="value", comexampleothervalue=5,
                      unsetextension=None, subject=None, datacontenttype="application/json",
                      data={"appinfoA": "abc"})
    ce, _ = decode(json.dumps(record).encode())
    assert ce.time == datetime(2018, 4, 5, 17, 31, tzinfo=UTC)


def test_time_with_an_offset_is_normalised_to_utc() -> None:
    ce, _ = decode(json.dumps(_minimal(time="2018-04-05T13:31:00-04:00")).encode())
    assert ce.time == datetime(2018, 4, 5, 17, 31, tzinfo=UTC) and ce.time.tzinfo == UTC


@pytest.mark.parametrize(("data", "got"), [(None, "no data"), ([1, 2], "a JSON array"), ("text", "a JSON string")])
def test_a_known_type_without_an_object_as_data_names_data(data: object, got: str) -> None:
    record = _record(data=data)
    if data is None:
        del record["data"]
    reason = _reason(json.dumps(record).encode())
    assert reason.startswith("invalid data for org.nationalresourcenetwork.requests311.question_submitted.v1")
    assert "data: expected a JSON object" in reason and got in reason


def test_our_envelopes_carry_time_subject_and_an_absolute_dataschema() -> None:
    parsed = json.loads(encode(envelope(example(QuestionSubmitted), source=SOURCE)))
    assert parsed["time"] and parsed["subject"]
    assert parsed["dataschema"].startswith("https://")


@pytest.mark.parametrize(
    ("data_changes", "field"),
    [
        ({"topic": "astrology"}, "topic"),
        ({"question": None}, "question"),
        ({"submitted_at": "2024-01-01T09:00:00"}, "submitted_at"),
        ({"consent_to_publish": True}, "consent_to_publish"),
    ],
)
def test_invalid_data_of_a_known_type_names_the_field(data_changes: dict, field: str) -> None:
    record = _record()
    record["data"].update(data_changes)
    reason = _reason(json.dumps(record).encode())
    assert reason.startswith("invalid data for org.nationalresourcenetwork.requests311.question_submitted.v1")
    assert field in reason


def test_missing_data_field_is_named() -> None:
    record = _record()
    del record["data"]["request_id"]
    assert "request_id: Field required" in _reason(json.dumps(record).encode())


def test_a_nested_invalid_field_is_named_with_its_path() -> None:
    event = example(CityEligibilityDetermined)
    record = json.loads(encode(envelope(event, source="/nrn/accounts")))
    record["data"]["reasons"][0]["threshold"] = "high"
    assert "reasons.0.threshold" in _reason(json.dumps(record).encode())


def test_an_unknown_type_is_returned_without_a_payload() -> None:
    record = _record(type="org.partner.something.v1", data={"anything": [1, {"x": None}]})
    ce, event = decode(json.dumps(record).encode())
    assert event is None
    assert ce.type == "org.partner.something.v1"
    assert ce.data == {"anything": [1, {"x": None}]}


def test_fields_added_by_a_newer_producer_and_extension_attributes_are_ignored() -> None:
    record = _record(partitionkey="r1", comexampleext="x")
    record["data"]["a_field_from_the_future"] = {"nested": True}
    ce, event = decode(json.dumps(record).encode())
    assert event == example(QuestionSubmitted)


def test_decode_accepts_bytearray_and_memoryview_but_not_text() -> None:
    value = encode(envelope(example(QuestionSubmitted), source=SOURCE))
    assert decode(bytearray(value))[1] == decode(memoryview(value))[1] == example(QuestionSubmitted)
    with pytest.raises(InvalidEvent, match="not bytes"):
        decode(value.decode())  # type: ignore[arg-type]


@FUZZ
@given(st.binary(max_size=2_000))
def test_decode_of_any_bytes_raises_only_invalid_event(value: bytes) -> None:
    try:
        decode(value)
    except InvalidEvent:
        pass


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_ATTRIBUTES = ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema",
               "traceparent", "data"]


@FUZZ
@given(st.sampled_from(sorted(CONTRACT_EVENTS)), st.dictionaries(st.sampled_from(_ATTRIBUTES), _json, max_size=3),
       st.dictionaries(st.text(max_size=25), _json, max_size=3))
def test_decode_of_damaged_envelopes_raises_only_invalid_event(
    event_type: str, attribute_changes: dict, data_changes: dict
) -> None:
    record = json.loads(encode(envelope(example(CONTRACT_EVENTS[event_type]), source=SOURCE)))
    record.update(attribute_changes)
    if isinstance(record.get("data"), dict):
        record["data"].update(data_changes)
    try:
        ce, event = decode(json.dumps(record).encode())
    except InvalidEvent:
        return
    assert event is None or type(event).type == ce.type


@FUZZ
@given(st.sampled_from(sorted(CONTRACT_EVENTS)), st.data())
def test_decode_of_corrupted_bytes_raises_only_invalid_event(event_type: str, data: st.DataObject) -> None:
    value = bytearray(encode(envelope(example(CONTRACT_EVENTS[event_type]), source=SOURCE)))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(value) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            value[at] ^= data.draw(st.integers(1, 255))
        elif action == "delete":
            del value[at]
        else:
            value.insert(at, data.draw(st.integers(0, 255)))
    try:
        decode(bytes(value))
    except InvalidEvent:
        pass
