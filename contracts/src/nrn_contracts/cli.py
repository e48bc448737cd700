"""``nrn-contracts`` / ``python -m nrn_contracts``: regenerate and check the committed artefacts.

    nrn-contracts schemas [--out DIR] [--allow-breaking]   write contracts/schemas/<type>.json
    nrn-contracts asyncapi [--out FILE]                    print (or write) the AsyncAPI document
    nrn-contracts check [--dir DIR]                        exit 1 if anything committed is stale or broken
    nrn-contracts k8s-topics [--out FILE]                  print (or write) the Strimzi KafkaTopic resources
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import asyncapi, k8s
from .compat import incompatibilities
from .schemas import contract_events, default_contracts_dir, dumps, read_committed, schema_for, write_schemas

ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nrn-contracts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_schemas = sub.add_parser("schemas", help="write one JSON Schema per event type")
    p_schemas.add_argument("--out", type=Path, help="folder (default: contracts/schemas of this checkout)")
    p_schemas.add_argument(
        "--allow-breaking",
        action="store_true",
        help="overwrite committed schemas even where the change is incompatible",
    )
    p_asyncapi = sub.add_parser("asyncapi", help="generate the AsyncAPI 3.0 document")
    p_asyncapi.add_argument("--out", type=Path, help="file to write (default: standard output)")
    p_check = sub.add_parser("check", help="check committed schemas and AsyncAPI against the code")
    p_check.add_argument("--dir", type=Path, help="the contracts folder (default: this checkout's)")
    p_k8s = sub.add_parser("k8s-topics", help="generate the Strimzi KafkaTopic resources from the topic registry")
    p_k8s.add_argument("--out", type=Path, help="file to write (default: standard output), "
                                                "e.g. deploy/k8s/base/kafka/topics.yaml")
    args = parser.parse_args(argv)

    if args.command == "schemas":
        return _schemas(args.out or _checkout() / SCHEMAS_DIR, allow_breaking=args.allow_breaking)
    if args.command in ("asyncapi", "k8s-topics"):
        text = asyncapi.dumps(asyncapi.build()) if args.command == "asyncapi" else k8s.dumps(k8s.kafka_topics())
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8")
            print(f"wrote {args.out}", file=sys.stderr)
        return 0
    return _check(args.dir or _checkout())


def _checkout() -> Path:
    found = default_contracts_dir()
    if found is None:
        raise SystemExit("not running from a source checkout: pass --out/--dir")
    return found


def _schemas(out: Path, *, allow_breaking: bool) -> int:
    # The committed files are the baseline the compatibility test compares against, so an
    # incompatible change must not slip into them by regenerating.
    committed = read_committed(out) if out.is_dir() else {}
    breaks = [
        f"{event_type}: {problem}"
        for event_type, cls in contract_events().items()
        if event_type in committed
        for problem in incompatibilities(committed[event_type], schema_for(cls))
    ]
    if breaks and not allow_breaking:
        print("incompatible changes (publish a new .vN type instead, or pass --allow-breaking):", file=sys.stderr)
        for line in breaks:
            print(f"  {line}", file=sys.stderr)
        return 1
    written = write_schemas(out)
    print(f"wrote {len(written)} schemas to {out}", file=sys.stderr)
    return 0


def _check(contracts_dir: Path) -> int:
    problems: list[str] = []
    committed = read_committed(contracts_dir / SCHEMAS_DIR)
    events = contract_events()
    for event_type, cls in events.items():
        fresh = schema_for(cls)
        if event_type not in committed:
            problems.append(f"{event_type}: no committed schema")
            continue
        problems += [f"{event_type}: {p}" for p in incompatibilities(committed[event_type], fresh)]
        if dumps(committed[event_type]) != dumps(fresh):
            problems.append(f"{event_type}: committed schema is stale")
    problems += [f"{t}: committed schema has no event class" for t in sorted(committed.keys() - events.keys())]
    asyncapi_path = contracts_dir / ASYNCAPI_FILE
    if not asyncapi_path.is_file() or asyncapi_path.read_text(encoding="utf-8") != asyncapi.dumps(asyncapi.build()):
        problems.append(f"{asyncapi_path}: missing or stale")
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("regenerate: python -m nrn_contracts schemas && python -m nrn_contracts asyncapi "
              f"--out {asyncapi_path}", file=sys.stderr)
    return 1 if problems else 0
