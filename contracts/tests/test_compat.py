"""The schema compatibility checker, on schemas generated from small before/after models."""

from typing import Literal

from pydantic import BaseModel, Field

from nrn_contracts.compat import incompatibilities


def _diff(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return incompatibilities(old.model_json_schema(), new.model_json_schema())


class Indicator(BaseModel):
    value: float
    year: int


class V1(BaseModel):
    request_id: str
    title: str = Field(max_length=300)
    urgency: Literal["routine", "soon", "urgent"]
    note: str | None = None
    tags: list[str] = []
    rate: Indicator | None = None


def test_identical_schemas_are_compatible() -> None:
    assert _diff(V1, V1) == []


def test_adding_an_optional_field_is_compatible() -> None:
    class V2(V1):
        consent: Literal["none", "named"] | None = None
        extra: str = "default"

    assert _diff(V1, V2) == []


def test_adding_an_optional_field_to_a_nested_object_is_compatible() -> None:
    class Indicator2(Indicator):
        source: str | None = None

    class V2(V1):
        rate: Indicator2 | None = None

    assert _diff(V1, V2) == []


def test_a_removed_property_is_reported() -> None:
    class V2(BaseModel):
        request_id: str
        title: str = Field(max_length=300)
        urgency: Literal["routine", "soon", "urgent"]
        tags: list[str] = []
        rate: Indicator | None = None

    assert _diff(V1, V2) == ["note: property removed"]


def test_a_changed_type_is_reported() -> None:
    class V2(V1):
        request_id: int

    assert _diff(V1, V2) == ["request_id: type changed from string to integer"]


def test_making_a_field_nullable_is_a_changed_type() -> None:
    class V2(V1):
        request_id: str | None

    assert _diff(V1, V2) == ["request_id: type changed from string to null|string"]


def test_an_optional_property_made_required_is_reported() -> None:
    class V2(V1):
        note: str | None

    assert _diff(V1, V2) == ["note: optional property made required"]


def test_a_required_property_made_optional_is_reported() -> None:
    class V2(V1):
        request_id: str = "unknown"

    assert _diff(V1, V2) == ["request_id: required property made optional"]


def test_a_new_required_property_is_reported() -> None:
    class V2(V1):
        city_id: str

    assert _diff(V1, V2) == ["city_id: new required property"]


def test_a_narrowed_enum_is_reported() -> None:
    class V2(V1):
        urgency: Literal["routine", "urgent"]

    assert _diff(V1, V2) == ["urgency: enum narrowed: 'soon' no longer allowed"]


def test_a_widened_enum_is_reported_because_old_consumers_reject_the_new_value() -> None:
    class V2(V1):
        urgency: Literal["routine", "soon", "urgent", "emergency"]

    assert _diff(V1, V2) == ["urgency: enum widened: 'emergency' would be rejected by old consumers"]


def test_a_free_string_becoming_an_enum_is_narrowed() -> None:
    class V2(V1):
        title: Literal["a", "b"]

    problems = _diff(V1, V2)
    assert "title: enum narrowed: any value was allowed, now only 'a', 'b'" in problems


def test_a_changed_constraint_is_reported() -> None:
    class V2(V1):
        title: str = Field(max_length=100)

    assert _diff(V1, V2) == ["title: constraint maxLength changed from 300 to 100"]


def test_a_change_inside_a_referenced_model_is_reported_with_its_path() -> None:
    class Indicator2(BaseModel):
        value: float
        year: str

    class V2(V1):
        rate: Indicator2 | None = None

    assert _diff(V1, V2) == ["rate.year: type changed from integer to string"]


def test_a_change_of_array_items_is_reported() -> None:
    class V2(V1):
        tags: list[int] = []

    assert _diff(V1, V2) == ["tags[]: type changed from string to integer"]


def test_several_breaks_are_all_reported() -> None:
    class V2(BaseModel):
        request_id: int
        title: str = Field(max_length=300)
        urgency: Literal["routine"]
        tags: list[str] = []
        rate: Indicator | None = None
        city_id: str

    assert sorted(_diff(V1, V2)) == [
        "city_id: new required property",
        "note: property removed",
        "request_id: type changed from string to integer",
        "urgency: enum narrowed: 'soon', 'urgent' no longer allowed",
    ]


def test_hand_written_schemas_without_refs_are_compared_too() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"enum": [1, 2]}}, "required": ["a"]}
    new = {"type": "object", "properties": {"a": {"type": ["string", "null"]}, "b": {"enum": [1]}}, "required": ["a"]}
    assert incompatibilities(old, new) == [
        "a: type changed from string to null|string",
        "b: enum narrowed: 2 no longer allowed",
    ]
