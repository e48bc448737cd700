"""Compatibility of two versions of an event's JSON Schema.

The rule: adding an optional property is compatible; anything else that changes what a
producer may write or a consumer must accept is a break, and the event gets a new major
version (``….v2``) published beside the old one until its consumers move.

Producers and consumers of one event deploy separately and the topic keeps old records, so a
change is checked in both directions: new consumers must read old records, old consumers
must read new ones. That is why a widened enum or a relaxed constraint is reported too.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

# Keywords whose change alters which values are valid.
_CONSTRAINTS = (
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
)


def incompatibilities(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Every incompatible difference from ``old_schema`` to ``new_schema``, as readable lines.

    An empty list means the new schema may replace the old one under the same type.
    """
    problems: list[str] = []
    _compare(old_schema, new_schema, "", _Ctx(old_schema, new_schema), problems)
    return problems


# A recursive model would otherwise be walked forever; real payloads nest a few levels.
_MAX_DEPTH = 32


class _Ctx:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root


def _compare(old: Schema, new: Schema, path: str, ctx: _Ctx, problems: list[str]) -> None:
    if path.count(".") + path.count("[") + path.count("<") > _MAX_DEPTH:
        return
    o = _normalise(old, ctx.old_root)
    n = _normalise(new, ctx.new_root)
    where = path or "(root)"

    o_types, n_types = _types(o), _types(n)
    if o_types != n_types:
        problems.append(f"{where}: type changed from {_fmt(o_types)} to {_fmt(n_types)}")
        return

    _compare_enums(o, n, where, problems)
    for keyword in _CONSTRAINTS:
        if o.get(keyword) != n.get(keyword):
            problems.append(
                f"{where}: constraint {keyword} changed from {_fmt_value(o.get(keyword))} "
                f"to {_fmt_value(n.get(keyword))}"
            )

    if "_union" in o or "_union" in n:
        o_branches, n_branches = o.get("_union", [o]), n.get("_union", [n])
        if len(o_branches) != len(n_branches):
            problems.append(f"{where}: union changed from {len(o_branches)} to {len(n_branches)} alternatives")
            return
        for i, (ob, nb) in enumerate(zip(o_branches, n_branches, strict=True)):
            _compare(ob, nb, f"{path}<{i}>", ctx, problems)
        return

    if "object" in o_types:
        _compare_objects(o, n, path, ctx, problems)
    if "array" in o_types and ("items" in o or "items" in n):
        _compare(o.get("items", {}), n.get("items", {}), f"{path}[]", ctx, problems)


def _compare_objects(o: Schema, n: Schema, path: str, ctx: _Ctx, problems: list[str]) -> None:
    o_props: Schema = o.get("properties", {})
    n_props: Schema = n.get("properties", {})
    o_req, n_req = set(o.get("required", ())), set(n.get("required", ()))
    prefix = f"{path}." if path else ""
    for name in sorted(o_props.keys() - n_props.keys()):
        problems.append(f"{prefix}{name}: property removed")
    for name in sorted(n_props.keys() - o_props.keys()):
        if name in n_req:
            problems.append(f"{prefix}{name}: new required property")
    for name in sorted(o_props.keys() & n_props.keys()):
        if name not in o_req and name in n_req:
            problems.append(f"{prefix}{name}: optional property made required")
        elif name in o_req and name not in n_req:
            # Old consumers still require it; new producers may leave it out.
            problems.append(f"{prefix}{name}: required property made optional")
        _compare(o_props[name], n_props[name], f"{prefix}{name}", ctx, problems)


def _compare_enums(o: Schema, n: Schema, where: str, problems: list[str]) -> None:
    o_enum, n_enum = _enum(o), _enum(n)
    if o_enum is None and n_enum is None:
        return
    if o_enum is None:
        problems.append(f"{where}: enum narrowed: any value was allowed, now only {_fmt_values(n_enum)}")
        return
    if n_enum is None:
        problems.append(f"{where}: enum removed: old consumers accept only {_fmt_values(o_enum)}")
        return
    removed = [v for v in o_enum if v not in n_enum]
    added = [v for v in n_enum if v not in o_enum]
    if removed:
        problems.append(f"{where}: enum narrowed: {_fmt_values(removed)} no longer allowed")
    if added:
        problems.append(f"{where}: enum widened: {_fmt_values(added)} would be rejected by old consumers")


def _ref_of(schema: Schema) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref if isinstance(ref, str) else None


def _resolve(schema: Schema, root: Schema) -> Schema:
    # Only local references are produced by the generator; follow chains of them.
    for _ in range(32):
        ref = _ref_of(schema)
        if ref is None:
            return schema
        if not ref.startswith("#/"):
            raise ValueError(f"cannot resolve non-local $ref {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **siblings}
    raise ValueError("$ref chain too long")


def _normalise(schema: Schema, root: Schema) -> Schema:
    """Resolve references, merge single allOf, and turn ``anyOf [X, null]`` into a nullable X."""
    s = _resolve(schema, root)
    if "allOf" in s and len(s["allOf"]) == 1:
        merged = {k: v for k, v in s.items() if k != "allOf"}
        s = {**_normalise(s["allOf"][0], root), **merged}
    for keyword in ("anyOf", "oneOf"):
        if keyword not in s:
            continue
        rest = {k: v for k, v in s.items() if k != keyword}
        branches = [_normalise(b, root) for b in s[keyword]]
        nullable = any(_is_null(b) for b in branches)
        others = [b for b in branches if not _is_null(b)]
        if len(others) == 1:
            s = {**others[0], **rest}
        else:
            s = {**rest, "_union": others}
        if nullable:
            s["_nullable"] = True
        break
    return s


def _is_null(schema: Schema) -> bool:
    return schema.get("type") == "null" or schema.get("const", ...) is None


def _types(s: Schema) -> frozenset[str]:
    if "_union" in s:
        types = set().union(*(_types(b) for b in s["_union"]))
    else:
        declared = s.get("type")
        if isinstance(declared, str):
            types = {declared}
        elif isinstance(declared, list):
            types = set(declared)
        elif "const" in s:
            types = {_json_type(s["const"])}
        elif "enum" in s:
            types = {_json_type(v) for v in s["enum"]}
        elif "properties" in s:
            types = {"object"}
        elif "items" in s:
            types = {"array"}
        else:
            types = {"any"}
    if s.get("_nullable"):
        types.add("null")
    return frozenset(types)


def _enum(s: Schema) -> list[Any] | None:
    if "const" in s:
        return [s["const"]]
    if "enum" in s:
        return [v for v in s["enum"] if v is not None]
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fmt(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def _fmt_value(value: Any) -> str:
    return "(none)" if value is None else repr(value)


def _fmt_values(values: list[Any] | None) -> str:
    return ", ".join(repr(v) for v in values or [])
