"""Sample events for tests, built from each event's own JSON Schema.

    example(QuestionSubmitted, request_id="r-1", topic="housing")   # one full, valid event
    strategy(QuestionSubmitted)                                      # hypothesis strategy of valid events

Because the samples come from the schema and are then validated by the model, they also
check that the committed schema and the model agree. ``strategy`` needs ``hypothesis``
(the ``test`` extra); ``example`` needs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

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
