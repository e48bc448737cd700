"""The committed JSON Schemas and AsyncAPI document against the code.

Fails when a model changed incompatibly (publish a ``.v2`` type instead), when a schema file
is missing, stale or orphaned, and when asyncapi.json was not regenerated.
"""

from pathlib import Path

import jsonschema_rs
import pytest

from nrn_contracts import asyncapi
from nrn_contracts.compat import incompatibilities
from nrn_contracts.schemas import contract_events, dumps, read_committed, schema_for
from nrn_contracts.testing import example

CONTRACTS = Path(__file__).resolve().parents[1]
COMMITTED = read_committed(CONTRACTS / "schemas")
CONTRACT_EVENTS = contract_events()
REGENERATE = "run `python -m nrn_contracts schemas` and commit contracts/schemas"


def test_every_registered_type_has_a_committed_schema() -> None:
    missing = sorted(CONTRACT_EVENTS.keys() - COMMITTED.keys())
    assert not missing, f"no committed schema for {missing}: {REGENERATE}"


def test_every_committed_schema_still_has_its_event() -> None:
    orphans = sorted(COMMITTED.keys() - CONTRACT_EVENTS.keys())
    assert not orphans, f"committed schemas of removed event types {orphans}: consumers may still expect them"


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
def test_the_model_is_compatible_with_its_committed_schema(event_type: str) -> None:
    if event_type not in COMMITTED:
        pytest.fail(f"no committed schema for {event_type}: {REGENERATE}")
    problems = incompatibilities(COMMITTED[event_type], schema_for(CONTRACT_EVENTS[event_type]))
    assert not problems, (
        f"{event_type} changed incompatibly: {problems}. Only adding an optional field is compatible; "
        "publish a new major version (.v2) beside the old one instead."
    )


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
def test_the_committed_schema_is_up_to_date(event_type: str) -> None:
    if event_type not in COMMITTED:
        pytest.fail(f"no committed schema for {event_type}: {REGENERATE}")
    assert dumps(COMMITTED[event_type]) == dumps(schema_for(CONTRACT_EVENTS[event_type])), REGENERATE


@pytest.mark.parametrize("event_type", sorted(CONTRACT_EVENTS))
def test_what_producers_write_is_valid_against_the_committed_schema(event_type: str) -> None:
    if event_type not in COMMITTED:
        pytest.fail(f"no committed schema for {event_type}: {REGENERATE}")
    validator = jsonschema_rs.Draft202012Validator(COMMITTED[event_type])
    validator.validate(example(CONTRACT_EVENTS[event_type]).model_dump(mode="json"))


def test_the_committed_asyncapi_document_is_up_to_date() -> None:
    committed = (CONTRACTS / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == asyncapi.dumps(asyncapi.build()), (
        "run `python -m nrn_contracts asyncapi --out contracts/asyncapi.json` and commit it"
    )
