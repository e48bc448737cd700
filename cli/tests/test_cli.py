"""The `nrn` command and the agreement between the topic registry and the code that consumes."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from nrn_cli.main import build_parser, main
from nrn_cli.services import SERVICES
from nrn_contracts import TOPICS

ROOT = Path(__file__).resolve().parents[2]


def test_asyncapi_command_writes_the_committed_document(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["asyncapi"].startswith("3.")
    assert out.read_text() == (ROOT / "contracts" / "asyncapi.json").read_text(), \
        "contracts/asyncapi.json is stale: run `nrn asyncapi --out contracts/asyncapi.json`"


def test_every_subcommand_parses() -> None:
    parser = build_parser()
    assert parser.parse_args(["up", "--seed", "--port", "8100"]).seed is True
    assert parser.parse_args(["relay", "requests311"]).service == "requests311"
    assert parser.parse_args(["status", "--json"]).json is True
    assert parser.parse_args(["dlq", "redrive", "nrn.requests311.v1"]).dlq_command == "redrive"
    with pytest.raises(SystemExit):
        parser.parse_args(["relay", "gateway"])  # the gateway has no outbox


def test_status_without_a_running_platform_says_so(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["status", "--data-dir", str(tmp_path)]) == 1
    assert "NRN is not running" in capsys.readouterr().out
    assert main(["status", "--json", "--data-dir", str(tmp_path)]) == 1
    assert json.loads(capsys.readouterr().out)["running"] is False


def consumed_topics(service: str) -> set[str]:
    try:
        module = importlib.import_module(f"{service}.consumers")
    except ModuleNotFoundError:
        return set()
    from nrn_kit.consumer import EventConsumer

    return {t for value in vars(module).values() if isinstance(value, EventConsumer) for t in value.topics}


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_the_registry_names_exactly_the_topics_each_service_consumes(service: str) -> None:
    """AsyncAPI is generated from the registry; this keeps the registry true to the code."""
    in_code = consumed_topics(service)
    in_registry = {name for name, topic in TOPICS.items() if service in topic.consumers}
    assert in_code == in_registry
