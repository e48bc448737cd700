"""Values the platform cannot hold are refused at the door, everywhere: every route of the gateway and of
every service, every query parameter and every field of every JSON body (nested ones and list items too).

* an integer past 64 bits (``year=9223372036854775808``, the field report) or below, and a number that
  is infinite or absurdly large, must be a 422 naming the field — not a 500 from the database or a 502;
* text with NUL or another control character must be a 422 naming the field (one shared type,
  ``nrn_contracts.values.SingleLine`` / ``MultiLine``; multi-line text keeps tab and line breaks).

Each probe validates one value in one place with the route's own parameter or body field, exactly as
FastAPI does for a request; an error located at that place is a refusal. Passwords are exempt (used
exactly as typed), and so are the sign-in, password and mailbox routes (`/auth/...`, the pages to reset a
password and confirm a mailbox: e-mail addresses and link tokens, whose canonical forms the sign-in work
owns).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

HUGE_INTS = (2**63, -(2**63) - 1)
HUGE_FLOATS = (float("inf"), 1e308)
EXEMPT = {"password", "new_password", "current_password"}
SIGN_IN_PAGES = {"/forgot-password", "/reset-password", "/confirm-email", "/confirm-email/resend"}


def _apps() -> dict[str, FastAPI]:
    """Every service `nrn up` runs, the gateway included, built by its own factory (no connection is opened)."""
    from nrn_cli.services import SERVICES
    from uvicorn.importer import import_from_string

    return {service.name: import_from_string(service.factory)() for service in SERVICES}


@functools.cache
def routes() -> list[tuple[str, str, APIRoute]]:
    out = []

    def walk(routes: Any, prefix: str, service: str) -> None:
        for route in getattr(routes, "routes", routes):
            if isinstance(route, APIRoute):
                out.append((service, prefix + route.path, route))
            elif hasattr(route, "original_router"):
                walk(route.original_router, prefix + route.include_context.prefix, service)

    for service, app in _apps().items():
        walk(app, "", service)
    return out


def _resolve(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _leaves(schema: dict, defs: dict, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """(path, schema) of every scalar a JSON document of this schema can hold; list items get index 0, a map's
    values one key (the first of its closed list of keys, if it has one)."""
    schema = _resolve(schema, defs)
    branches = [b for b in schema.get("anyOf", []) if _resolve(b, defs).get("type") != "null"]
    if branches:
        for branch in branches:
            yield from _leaves(branch, defs, path)
        return
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        for name, sub in schema["properties"].items():
            yield from _leaves(sub, defs, (*path, name))
    elif kind == "array" and "items" in schema:
        yield from _leaves(schema["items"], defs, (*path, 0))
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):  # a map: probed through one key
        keys = _resolve(schema.get("propertyNames", {}), defs).get("enum", ["key"])
        yield from _leaves(schema["additionalProperties"], defs, (*path, keys[0]))
    elif kind in ("string", "integer", "number") and "enum" not in schema and "const" not in schema:
        yield path, schema


def _place(path: tuple, value: Any) -> Any:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


def _text_probe(schema: dict) -> str:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength", 100)
    probe = "x" * max(lo - 1, 0) + "\x00"
    return probe if len(probe) <= hi else "\x00" * max(lo, 1)


def _probes(schema: dict) -> list[Any]:
    kind = schema.get("type")
    if kind == "integer":
        return list(HUGE_INTS)
    if kind == "number":
        return list(HUGE_FLOATS)
    if schema.get("format") in ("date-time", "date", "binary"):
        return []  # not text: parsed, and refused when not a date
    return [_text_probe(schema)]


def _refused(errors: list[dict] | None, loc: tuple) -> bool:
    return any(tuple(e["loc"][: len(loc)]) == loc for e in errors or [])


def _model_of(annotation: Any) -> Any:
    """The pydantic model of a body annotation (``Model``, ``Model | None``), else None (a plain dict)."""
    if hasattr(annotation, "model_json_schema"):
        return annotation
    models = [a for a in typing.get_args(annotation) if hasattr(a, "model_json_schema")]
    return models[0] if len(models) == 1 else None


def _cases() -> list[tuple[str, str, str, tuple, Any]]:
    cases = []
    for service, path, route in routes():
        if "/auth/" in path or path in SIGN_IN_PAGES:
            continue
        method = sorted(route.methods)[0]
        for param in route.dependant.query_params:
            schema = param.field_info.json_schema_extra or {}
            from pydantic import TypeAdapter

            adapter_schema = TypeAdapter(param.field_info.annotation).json_schema()
            for sub_path, leaf in _leaves(adapter_schema, adapter_schema.get("$defs", {})):
                leaf = {**leaf, **{k: v for k, v in schema.items() if k in ("minLength", "maxLength")}}
                for probe in _probes(leaf):
                    cases.append((service, f"{method} {path}", "query", (param.name, *sub_path), probe))
        body = route.body_field
        model = _model_of(body.field_info.annotation) if body is not None else None
        if model is not None:
            schema = model.model_json_schema()
            for sub_path, leaf in _leaves(schema, schema.get("$defs", {})):
                if set(p for p in sub_path if isinstance(p, str)) & EXEMPT:
                    continue
                for probe in _probes(leaf):
                    cases.append((service, f"{method} {path}", "body", sub_path, probe))
    return cases


CASES = _cases()


def _validate(service: str, where: str, kind: str, place: tuple, probe: Any) -> list[dict] | None:
    route = next(r for s, p, r in routes() if s == service and f"{sorted(r.methods)[0]} {p}" == where)
    if kind == "query":
        param = next(q for q in route.dependant.query_params if q.name == place[0])
        value = _place(place[1:], probe)
        _, errors = param.validate(value, {}, loc=("query", param.name))
        return errors, ("query", *place)
    _, errors = route.body_field.validate(_place(place, probe), {}, loc=("body",))
    return errors, ("body", *place)


@pytest.mark.parametrize(("service", "route", "kind", "place", "probe"), CASES,
                         ids=[f"{c[0]} {c[1]} {c[2]}:{'.'.join(map(str, c[3]))}={c[4]!r}" for c in CASES])
def test_a_value_the_platform_cannot_hold_is_refused_by_field(service: str, route: str, kind: str, place: tuple,
                                                              probe: Any) -> None:
    errors, loc = _validate(service, route, kind, place, probe)
    assert _refused(errors, loc), f"{service} {route} takes {probe!r} in {'.'.join(map(str, place))}"


def test_the_probes_cover_every_service() -> None:
    from nrn_cli.services import SERVICES

    counted = {s for s, *_ in CASES}
    assert counted == {service.name for service in SERVICES}
    assert len(CASES) > 300
