"""JSON Schemas of the event payloads, generated from the models and committed beside the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .envelope import EVENT_TYPES, Event, dataschema_for

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EVENTS_PACKAGE = "nrn_contracts.events"


def contract_events() -> dict[str, type[Event]]:
    """The event types this package defines, sorted by type.

    EVENT_TYPES may also hold classes registered by other code (test doubles, say); only
    the package's own events have committed schemas and appear in the AsyncAPI document.
    """
    import nrn_contracts.events  # noqa: F401  (registration)

    return {
        t: cls
        for t, cls in sorted(EVENT_TYPES.items())
        if cls.__module__ == EVENTS_PACKAGE or cls.__module__.startswith(EVENTS_PACKAGE + ".")
    }


def schema_for(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an event's ``data``, in validation mode.

    Validation mode is what compatibility is about: a field with a default is optional
    for a producer and may be absent in records written before it existed.
    """
    schema = cls.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": dataschema_for(cls.type),
        **schema,
    }


def dumps(schema: dict[str, Any]) -> str:
    """Stable text of a schema: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_filename(event_type: str) -> str:
    return f"{event_type}.json"


def default_contracts_dir() -> Path | None:
    """``contracts/`` of a source checkout (editable install), or None for an installed wheel."""
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "pyproject.toml").is_file() else None


def write_schemas(out_dir: Path) -> list[Path]:
    """Write one schema file per event type; returns the files written (existing ones are replaced)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, cls in contract_events().items():
        path = out_dir / schema_filename(event_type)
        path.write_text(dumps(schema_for(cls)), encoding="utf-8")
        written.append(path)
    return written


def read_committed(schema_dir: Path) -> dict[str, dict[str, Any]]:
    """The committed schemas by event type."""
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(schema_dir.glob("*.json"))
    }
