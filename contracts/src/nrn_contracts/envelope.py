"""The event base class, its registry, and the CloudEvents 1.0 envelope used on every topic.

A Kafka record's value is the whole event in structured mode (``application/cloudevents+json``);
the ``ce_*`` headers repeat the routing attributes so a consumer can route without parsing and
a sink that drops headers loses nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .values import UtcDateTime

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"
# The embedded broker enforces no record size limit, so the producer side must.
MAX_EVENT_BYTES = 1024 * 1024

# "org.nationalresourcenetwork.<service>.<snake_name>.v<major>"; other prefixes are allowed
# (tests, partners), but the major version suffix is what the compatibility rule hangs on.
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\.v[1-9][0-9]*$")
_CLASS_ATTRS = ("type", "topic", "key")

EVENT_TYPES: dict[str, type[Event]] = {}


SCHEMA_BASE = "https://nationalresourcenetwork.org/schemas/"


def dataschema_for(event_type: str) -> str:
    """The event type's JSON Schema as an absolute URI (CloudEvents' ``dataschema`` is a URI, not a
    reference); the committed file is ``contracts/schemas/<type>.json``."""
    return f"{SCHEMA_BASE}{event_type}.json"


class Event(BaseModel):
    """Base of every event payload.

    Subclass with the event's identity as class keywords::

        class QuestionSubmitted(Event, type="org.nationalresourcenetwork.requests311.question_submitted.v1",
                                topic="nrn.requests311.v1", key="request_id"):
            request_id: Id
            ...

    A subclass that gives none of the three keywords is an abstract base for shared fields
    and is not registered.

    Read the identity from the class (``type(event).topic``), not the instance: a payload
    may have a field of the same name (``QuestionSubmitted.topic`` is the taxonomy topic),
    and on an instance the field wins.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: ClassVar[str]
    topic: ClassVar[str]
    key: ClassVar[str]

    def __init_subclass__(
        cls, *, type: str | None = None, topic: str | None = None, key: str | None = None, **kw: Any
    ) -> None:
        super().__init_subclass__(**kw)
        given = {"type": type, "topic": topic, "key": key}
        if all(v is None for v in given.values()):
            cls.__nrn_identity__ = None
            return
        missing = [name for name, v in given.items() if not v]
        if missing:
            raise TypeError(f"{cls.__qualname__}: event class keywords missing: {', '.join(missing)}")
        assert type is not None and topic is not None and key is not None
        if not _TYPE_RE.match(type):
            raise TypeError(
                f"{cls.__qualname__}: type {type!r} must look like "
                "'org.nationalresourcenetwork.<service>.<snake_name>.v<major>'"
            )
        existing = EVENT_TYPES.get(type)
        if existing is not None and not _same_definition(existing, cls):
            raise TypeError(
                f"{cls.__qualname__}: event type {type!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        cls.__nrn_identity__ = (type, topic, key)
        _shadow_inherited_identity(cls)

    @classmethod
    def __pydantic_init_subclass__(cls, **kw: Any) -> None:
        # Runs once pydantic has collected the fields, so `key` can be checked against them and
        # the identity can be set without pydantic mistaking it for a field default.
        super().__pydantic_init_subclass__(**kw)
        identity = cls.__dict__.get("__nrn_identity__")
        if identity is None:
            return
        type_, topic, key = identity
        if key not in cls.model_fields:
            raise TypeError(f"{cls.__qualname__}: key {key!r} is not a field of the event")
        cls.type, cls.topic, cls.key = type_, topic, key
        EVENT_TYPES[type_] = cls

    def aggregate_id(self) -> str:
        """The record key and CloudEvents subject: the value of the field named by ``key``."""
        return str(getattr(self, type(self).key))


def _same_definition(existing: type[Event], cls: type) -> bool:
    # Re-executing the same class statement (a module reload, a test helper called twice)
    # replaces the entry; a different class claiming the type is a mistake.
    return (existing.__module__, existing.__qualname__) == (cls.__module__, cls.__qualname__)


def _shadow_inherited_identity(cls: type[Event]) -> None:
    """Stop a parent's class attribute ``topic``/``type``/``key`` becoming a field default.

    When a payload field shares a name with an identity attribute and the class inherits from
    a registered event, pydantic would read the parent's class attribute as the field's default.
    Placing a field definition on the class first makes pydantic use it (and then delete it).
    """
    from pydantic.fields import FieldInfo

    own = cls.__dict__.get("__annotations__", {})
    inherited = getattr(cls, "__pydantic_fields__", {})
    for name in _CLASS_ATTRS:
        if name in cls.__dict__:
            continue
        if name in own:
            setattr(cls, name, Field())
        elif name in inherited and isinstance(inherited[name], FieldInfo):
            setattr(cls, name, inherited[name]._copy())


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON form (the spec's JSON event format).

    Required: ``specversion`` ("1.0"), ``id``, ``source``, ``type`` (non-empty strings). Optional:
    ``time`` (RFC 3339, with an offset), ``subject``, ``datacontenttype``, ``dataschema`` (non-empty
    if present), ``data`` (any JSON value) or ``data_base64`` (never both), and extension attributes
    (names of lower-case ASCII letters and digits; values of the spec's scalar types), which are
    checked and then ignored. A JSON ``null`` for an optional attribute means it is absent.
    The envelopes this package makes always carry ``time``, ``subject`` and ``dataschema``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=1_000)
    type: str = Field(min_length=1, max_length=300)
    time: UtcDateTime | None = None
    subject: str | None = Field(default=None, min_length=1)
    datacontenttype: str = DATA_CONTENT_TYPE
    dataschema: str | None = Field(default=None, min_length=1)
    traceparent: str | None = Field(default=None, max_length=512)
    data: Any = None
    data_base64: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _conformant_members(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for name, member in value.items():
            if name in _DATA_MEMBERS:
                continue
            if not isinstance(name, str) or not _ATTRIBUTE_NAME_RE.fullmatch(name):
                raise ValueError(f"attribute name {str(name)[:40]!r}: CloudEvents attribute names are "
                                 "lower-case ASCII letters and digits")
            if name not in cls.model_fields and not _is_attribute_value(member):
                raise ValueError(f"extension attribute {name!r}: a value must be a string, a boolean or "
                                 "a 32-bit integer")
        if value.get("time") is not None and not isinstance(value["time"], str | datetime):
            raise ValueError("time: a Timestamp is an RFC 3339 string, e.g. 2018-04-05T17:31:00Z")
        if value.get("data") is not None and value.get("data_base64") is not None:
            raise ValueError("data and data_base64 are mutually exclusive")
        # "When decoding attributes and a null value is encountered, it MUST be treated as the
        # equivalent of unset or omitted" (JSON event format, 2.2).
        return {k: v for k, v in value.items() if v is not None}


_ATTRIBUTE_NAME_RE = re.compile(r"[a-z0-9]+")
_DATA_MEMBERS = frozenset({"data", "data_base64"})


def _is_attribute_value(value: Any) -> bool:
    # The type system's JSON mapping: Boolean, Integer (signed 32-bit), String (also Binary, URI,
    # URI-reference and Timestamp); null is "unset". Objects, arrays and fractions are not attributes.
    if value is None or isinstance(value, bool | str):
        return True
    return isinstance(value, int) and -(2**31) <= value < 2**31


class InvalidEvent(ValueError):
    """A record that cannot be read as an event; ``reason`` says why (and names the field)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventTooLarge(ValueError):
    """An encoded event above :data:`MAX_EVENT_BYTES`."""


def envelope(
    event: Event,
    *,
    source: str,
    id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Wrap an event payload in a CloudEvent. ``source`` looks like ``/nrn/requests311``."""
    cls = type(event)
    if cls.__dict__.get("__nrn_identity__") is None:
        raise TypeError(f"{cls.__qualname__} is not a registered event class")
    return CloudEvent(
        specversion=SPECVERSION,
        id=id or str(uuid.uuid4()),
        source=source,
        type=cls.type,
        time=time or datetime.now(UTC),
        subject=event.aggregate_id(),
        datacontenttype=DATA_CONTENT_TYPE,
        dataschema=dataschema_for(cls.type),
        traceparent=traceparent,
        data=event.model_dump(mode="json"),
    )


def encode(ce: CloudEvent) -> bytes:
    """Compact JSON of the envelope (the Kafka record value). Raises EventTooLarge over 1 MiB."""
    # Absent optional attributes are left out, as CloudEvents asks; None values inside `data`
    # are kept (pydantic's exclude_none does not reach into a plain dict).
    value = ce.model_dump_json(exclude_none=True).encode()
    if len(value) > MAX_EVENT_BYTES:
        raise EventTooLarge(
            f"event {ce.type} {ce.id} is {len(value)} bytes encoded; the limit is {MAX_EVENT_BYTES}"
        )
    return value


def kafka_headers(ce: CloudEvent) -> list[tuple[str, bytes]]:
    """The CloudEvents Kafka headers that repeat the envelope's routing attributes."""
    headers = [
        ("ce_id", ce.id.encode()),
        ("ce_type", ce.type.encode()),
        ("ce_source", ce.source.encode()),
        ("ce_specversion", ce.specversion.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if ce.traceparent:
        headers.append(("traceparent", ce.traceparent.encode()))
    return headers


def decode(value: bytes) -> tuple[CloudEvent, Event | None]:
    """Parse a record value.

    Returns the envelope and the validated payload, or ``(envelope, None)`` for a type this
    package does not know. Raises :class:`InvalidEvent` — and nothing else — for anything
    that is not a valid event.
    """
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidEvent(f"record value is {type(value).__name__}, not bytes")
    try:
        ce = CloudEvent.model_validate_json(bytes(value))
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise InvalidEvent(f"not JSON: {exc.errors()[0]['msg']}") from None
        raise InvalidEvent(f"not a CloudEvents envelope: {_describe(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - the contract is that decode raises InvalidEvent only
        raise InvalidEvent(f"unreadable record value: {exc.__class__.__name__}: {exc}") from None
    cls = EVENT_TYPES.get(ce.type)
    if cls is None:
        return ce, None
    if not isinstance(ce.data, dict):
        got = "no data" if ce.data is None else f"a JSON {_json_kind(ce.data)}"
        raise InvalidEvent(f"invalid data for {ce.type}: data: expected a JSON object, got {got}")
    try:
        event = cls.model_validate(ce.data)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid data for {ce.type}: {_describe(exc)}") from None
    except Exception as exc:  # noqa: BLE001
        raise InvalidEvent(f"invalid data for {ce.type}: {exc.__class__.__name__}: {exc}") from None
    return ce, event


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number"}.get(type(value), type(value).__name__)


def _describe(exc: ValidationError, limit: int = 5) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for err in errors[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    if len(errors) > limit:
        parts.append(f"... and {len(errors) - limit} more")
    return "; ".join(parts)
