"""Sample events for tests, built from each event's own JSON Schema.

    example(QuestionSubmitted, request_id="r-1", topic="housing")   # one full, valid event
    strategy(QuestionSubmitted)                                      # hypothesis strategy of valid events
    refused_by_event(ConveningBody, "title", ConveningScheduled, "title")  # [] when the event takes it all

Because the samples come from the schema and are then validated by the model, they also
check that the committed schema and the model agree. ``strategy`` needs ``hypothesis``
(the ``test`` extra); ``example`` needs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .envelope import Event
from .schemas import schema_for

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

E = TypeVar("E", bound=Event)
Schema = dict[str, Any]

EXAMPLE_TIME = "2024-05-01T14:30:00Z"
EXAMPLE_DATE = "2024-05-01"
# One valid value for each pattern the value types use (see values.py).
_PATTERN_EXAMPLES = {
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "someone@example.gov",
    r"^https?://\S+$": "https://example.org/resource",
    r"^[a-z][a-z0-9_]{0,63}$": "expert",
    r"^[A-Z]{2}$": "MI",
    r"^NRN-[0-9]{4}-[0-9]{5,}$": "NRN-2026-00123",
    r"^[0-9]{7}$": "2622000",
    r"^[A-Za-z0-9_-]{20,256}$": "Zm9vYmFyLXNlY3JldC10b2tlbi0x",
    r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$": "America/Detroit",
}


def example(cls: type[E], **overrides: Any) -> E:
    """A valid instance with every field filled in, deterministic; ``overrides`` replace fields."""
    schema = schema_for(cls)
    data = _example(schema, schema, name=cls.key)
    data.update(overrides)
    return cls.model_validate(data)


def strategy(cls: type[E]) -> SearchStrategy[E]:
    """Hypothesis strategy of valid instances, drawn from the event's JSON Schema."""
    schema = schema_for(cls)
    return _strategy(schema, schema).map(cls.model_validate)


def refused_by_event(api: type[BaseModel], field: str, event: type[BaseModel], event_field: str,
                     carry: Callable[[Any], Any] = lambda value: value) -> list[str]:
    """What an API body's ``field`` accepts and the ``event_field`` it is published in refuses: ``[]`` when none.

    An event model that refuses what the route took fails inside the handler, after the 422 stage: a 500 for
    the person and nothing done. The probes are the edge values of the API field (its shortest and longest
    text, plain, with a line break, with a tab, in two-byte letters; its lowest and highest integer), each
    kept only when the API field takes it; ``carry`` is what the handler does on the way (a join, a suffix).
    Lists are probed through one item. Each refusal reads ``"<value> (<length>): <the event's reason>"``.
    Raises ValueError when the API field takes none of the probes (a check that would try nothing).
    """
    api_type, event_type = _field_adapter(api, field), _field_adapter(event, event_field)
    probes = [value for value in _edge_values(api_type) if _accepts(api_type, value)]
    if not probes:
        raise ValueError(f"{api.__name__}.{field} takes none of the edge values: nothing would be compared")
    refused = []
    for value in probes:
        try:
            event_type.validate_python(carry(value))
        except ValidationError as exc:
            shown = value if not isinstance(value, str) else f"{value[:12]!r}… ({len(value)})"
            refused.append(f"{shown}: {exc.errors()[0]['msg']}")
    return refused


def _field_adapter(model: type[BaseModel], field: str) -> TypeAdapter[Any]:
    info = model.model_fields[field]
    return TypeAdapter(Annotated[info.annotation, info])


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _edge_values(adapter: TypeAdapter[Any]) -> list[Any]:
    root = adapter.json_schema()
    s = _resolve(root, root)
    branches = _non_null(s.get("anyOf", [s]))
    out: list[Any] = []
    for branch in branches:
        b = _resolve(branch, root)
        wrap = b.get("type") == "array"
        if wrap:
            b = _resolve(b["items"], root)
        for value in _edges_of(b):
            out.append([value] if wrap else value)
    return out


def _edges_of(s: Schema) -> list[Any]:
    if s.get("type") == "integer":
        return [v for v in (s.get("minimum"), s.get("maximum")) if v is not None] or [0, 2**31 - 1]
    if s.get("type") != "string" or "enum" in s or "const" in s or "format" in s:
        return []
    values: list[Any] = []
    for n in sorted({max(s.get("minLength", 1), 1), s.get("maxLength", 1_000_000)}):
        values += ["x" * n, ("a\nb" + "x" * n)[:n], ("a\tb" + "x" * n)[:n], "é" * n]
    if s.get("pattern") in _PATTERN_EXAMPLES:  # "x"s rarely match a pattern: its example, as is and lengthened
        sample = _PATTERN_EXAMPLES[s["pattern"]]
        values += [sample, sample.ljust(s.get("maxLength", len(sample)), "x")]
    return values


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _non_null(branches: list[Schema]) -> list[Schema]:
    return [b for b in branches if b.get("type") != "null"]


def _example(schema: Schema, root: Schema, name: str) -> Any:
    s = _resolve(schema, root)
    if "anyOf" in s:
        return _example(_non_null(s["anyOf"])[0], root, name)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return s["enum"][0]
    kind = s.get("type")
    if kind == "object":
        return {prop: _example(sub, root, prop) for prop, sub in s.get("properties", {}).items()}
    if kind == "array":
        return [_example(s["items"], root, name)] if s.get("maxItems", 1) >= 1 else []
    if kind == "boolean":
        return False
    if kind == "integer":
        value = max(1, s.get("minimum", 1))
        return min(value, s["maximum"]) if "maximum" in s else value
    if kind == "number":
        return float(s.get("minimum", 1.5))
    if kind == "string":
        if s.get("format") == "date-time":
            return EXAMPLE_TIME
        if s.get("format") == "date":
            return EXAMPLE_DATE
        if "pattern" in s:
            try:
                return _PATTERN_EXAMPLES[s["pattern"]]
            except KeyError:
                raise ValueError(f"no example for pattern {s['pattern']!r}; add one to _PATTERN_EXAMPLES") from None
        text = f"{name}-1"
        return text[: s.get("maxLength", len(text))].ljust(s.get("minLength", 0), "x")
    raise ValueError(f"cannot build an example of {s!r}")


def _strategy(schema: Schema, root: Schema) -> SearchStrategy[Any]:
    from datetime import timedelta, timezone

    from hypothesis import strategies as st

    s = _resolve(schema, root)
    if "anyOf" in s:
        return st.one_of([_strategy(b, root) for b in s["anyOf"]])
    if "const" in s:
        return st.just(s["const"])
    if "enum" in s:
        return st.sampled_from(s["enum"])
    kind = s.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=s.get("minimum"), max_value=s.get("maximum"))
    if kind == "number":
        return st.floats(
            min_value=s.get("minimum"), max_value=s.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "array":
        return st.lists(
            _strategy(s["items"], root), min_size=s.get("minItems", 0), max_size=min(s.get("maxItems", 3), 3)
        )
    if kind == "object":
        props = s.get("properties", {})
        required = set(s.get("required", ()))
        return st.fixed_dictionaries(
            {p: _strategy(sub, root) for p, sub in props.items() if p in required},
            optional={p: _strategy(sub, root) for p, sub in props.items() if p not in required},
        )
    if kind == "string":
        if s.get("format") == "date-time":
            offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
                lambda m: timezone(timedelta(minutes=m))
            )
            return st.datetimes(
                min_value=_naive(2000), max_value=_naive(2100), timezones=offsets
            ).map(lambda d: d.isoformat())
        if s.get("format") == "date":
            from datetime import date

            return st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(lambda d: d.isoformat())
        lo, hi = s.get("minLength", 0), s.get("maxLength")
        printable = st.characters(exclude_categories=("Cc", "Cs"))
        if "pattern" in s:
            return st.from_regex(s["pattern"], fullmatch=True, alphabet=printable).filter(
                lambda v: len(v) >= lo and (hi is None or len(v) <= hi)
            )
        # no control characters: every text type refuses them (values.single_line / multi_line)
        return st.text(alphabet=printable, min_size=lo,
                       max_size=min(hi or 40, max(lo, 40)))
    raise ValueError(f"cannot build a strategy for {s!r}")


def _naive(year: int):  # noqa: ANN202
    from datetime import datetime

    return datetime(year, 1, 1)
