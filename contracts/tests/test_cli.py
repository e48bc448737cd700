"""``nrn-contracts`` commands, run in-process against a temporary folder."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nrn_contracts import asyncapi
from nrn_contracts.cli import main
from nrn_contracts.events import QuestionSubmitted
from nrn_contracts.schemas import contract_events, dumps, schema_for


def test_schemas_writes_one_stable_file_per_type(tmp_path: Path) -> None:
    assert main(["schemas", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"{t}.json" for t in contract_events()]
    path = tmp_path / f"{QuestionSubmitted.type}.json"
    text = path.read_text()
    assert text == dumps(schema_for(QuestionSubmitted)) and text.endswith("}\n")
    assert json.loads(text)["$id"] == f"https://nationalresourcenetwork.org/schemas/{QuestionSubmitted.type}.json"
    assert main(["schemas", "--out", str(tmp_path)]) == 0
    assert path.read_text() == text


def test_schemas_refuses_to_overwrite_with_an_incompatible_schema(tmp_path: Path, capsys) -> None:
    assert main(["schemas", "--out", str(tmp_path)]) == 0
    path = tmp_path / f"{QuestionSubmitted.type}.json"
    baseline = json.loads(path.read_text())
    baseline["properties"]["retired_field"] = {"type": "string"}
    path.write_text(dumps(baseline))

    assert main(["schemas", "--out", str(tmp_path)]) == 1
    assert "retired_field: property removed" in capsys.readouterr().err
    assert "retired_field" in path.read_text()

    assert main(["schemas", "--out", str(tmp_path), "--allow-breaking"]) == 0
    assert "retired_field" not in path.read_text()


def test_asyncapi_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--out", str(out)]) == 0
    assert out.read_text() == asyncapi.dumps(asyncapi.build())


def test_check_passes_on_fresh_output_and_fails_on_stale(tmp_path: Path, capsys) -> None:
    main(["schemas", "--out", str(tmp_path / "schemas")])
    main(["asyncapi", "--out", str(tmp_path / "asyncapi.json")])
    assert main(["check", "--dir", str(tmp_path)]) == 0

    (tmp_path / "schemas" / f"{QuestionSubmitted.type}.json").unlink()
    (tmp_path / "asyncapi.json").write_text("{}\n")
    assert main(["check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{QuestionSubmitted.type}: no committed schema" in err
    assert "asyncapi.json: missing or stale" in err


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["publish"])


def test_module_entry_point_prints_the_document() -> None:
    done = subprocess.run([sys.executable, "-m", "nrn_contracts", "asyncapi"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["asyncapi"] == "3.0.0"
