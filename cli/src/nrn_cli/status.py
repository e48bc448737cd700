"""`nrn status`: one screen for the platform `nrn up` runs.

Reads `<data-dir>/run/status.json` (written by `nrn up`: addresses, pids, restarts), then asks the
running parts themselves:

- each service's ``/health/ready`` (and whether the process answering is the one `nrn up` started);
- each service's outbox: events committed but not yet published, and the oldest one's age
  (``nrn_kit.relay.outbox_backlog``: positions handed out past the relay's checkpoint, in the
  service's own database);
- each consumer group's lag per topic: the broker's end offsets minus the group's committed offsets;
- dead letters per topic: records in ``<topic>.dlq``, and how many ``nrn dlq redrive`` has not sent back.

They are computed here from the database and the broker, so they show even when a service is down;
each service also exports them on its metrics endpoint (nrn_kit.metrics: ``nrn_outbox_backlog``,
``nrn_consumer_lag``, …) for Prometheus.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# Imported with the module, not inside the timed database read: under load the import alone
# (aiokafka, OpenTelemetry) takes seconds.
from nrn_kit.relay import outbox_backlog

from .services import SERVICES

REDRIVE_GROUP_PREFIX = "nrn.dlq-redrive."


class NotRunning(RuntimeError):
    pass


def read_status_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NotRunning(f"NRN is not running from {path.parent.parent} (no {path.name}: start it with `nrn up`)") from exc
    pid = data.get("supervisor_pid")
    if not isinstance(pid, int) or not _alive(pid):
        raise NotRunning(f"NRN is not running from {path.parent.parent} (`nrn up`, pid {pid}, has stopped)")
    return data


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owned_databases() -> dict[str, str]:
    """Service name → its database, for services that own one (the gateway does not)."""
    out = {}
    for service in SERVICES:
        try:
            fields = importlib.import_module(f"{service.name}.config").Settings.model_fields
        except ImportError:
            continue
        if fields["relay_embedded"].default is False and fields["consumers_enabled"].default is False:
            continue
        out[service.name] = fields["database_name"].default
    return out


async def _health(client: httpx.AsyncClient, entry: dict[str, Any]) -> dict[str, Any]:
    row = {k: entry.get(k) for k in ("name", "url", "pid", "state", "restarts", "last_exit")}
    try:
        response = await client.get(f"{entry['url']}/health/ready", timeout=3.0)
        body = response.json()
        row["health"] = "ok" if response.status_code == 200 else "unavailable"
        row["checks"] = body.get("checks", {})
        if entry.get("pid") is not None and body.get("pid") != entry.get("pid"):
            row["health"] = "unavailable"
            row["checks"] = {"process": f"answered by pid {body.get('pid')}, not by the one nrn up started"}
    except (httpx.HTTPError, ValueError) as exc:
        row["health"], row["checks"] = "unreachable", {"http": type(exc).__name__}
    return row


async def _outboxes(mongodb_uri: str) -> list[dict[str, Any]]:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient = AsyncMongoClient(mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=3000)
    rows = []
    try:
        now = datetime.now(UTC)
        for service, database in _owned_databases().items():
            pending, created = await outbox_backlog(client[database])
            if isinstance(created, str):
                created = datetime.fromisoformat(created)
            age = (now - created).total_seconds() if isinstance(created, datetime) else None
            rows.append({"service": service, "pending": pending, "oldest_pending_seconds": age})
    finally:
        await client.close()
    return rows


async def _kafka(bootstrap: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient
    from nrn_contracts import TOPICS, dlq_topic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        existing = set(await reader.topics())
        partitions = {t: sorted(reader.partitions_for_topic(t) or ()) for t in existing}
        all_tps = [TopicPartition(t, p) for t, ps in partitions.items() for p in ps]
        ends = await reader.end_offsets(all_tps) if all_tps else {}
        starts = await reader.beginning_offsets(all_tps) if all_tps else {}

        lag_rows = []
        groups = sorted(g[0] for g in await admin.list_consumer_groups())
        for group in groups:
            if group.startswith(REDRIVE_GROUP_PREFIX):
                continue
            tps = [tp for tp in all_tps if not tp.topic.endswith(".dlq")]
            committed = await admin.list_consumer_group_offsets(group, partitions=tps) if tps else {}
            by_topic: dict[str, int] = {}
            for tp, meta in committed.items():
                if meta is None or meta.offset < 0:
                    continue
                by_topic[tp.topic] = by_topic.get(tp.topic, 0) + max(0, ends.get(tp, 0) - meta.offset)
            for topic, lag in sorted(by_topic.items()):
                lag_rows.append({"group": group, "topic": topic, "lag": lag})

        dlq_rows = []
        for name in sorted(TOPICS):
            dlq = dlq_topic(name)
            if dlq not in existing:
                dlq_rows.append({"topic": name, "dead_letters": 0, "not_redriven": 0})
                continue
            tps = [TopicPartition(dlq, p) for p in partitions[dlq]]
            total = sum(ends.get(tp, 0) - starts.get(tp, 0) for tp in tps)
            redriven = await admin.list_consumer_group_offsets(REDRIVE_GROUP_PREFIX + name, partitions=tps)
            done = sum(max(0, meta.offset - starts.get(tp, 0)) for tp, meta in redriven.items()
                       if meta is not None and meta.offset >= 0)
            dlq_rows.append({"topic": name, "dead_letters": total, "not_redriven": max(0, total - done)})
        return lag_rows, dlq_rows
    finally:
        await reader.stop()
        await admin.close()


async def collect(data: dict[str, Any]) -> dict[str, Any]:
    """Everything `nrn status` shows, as one JSON-able document."""
    async with httpx.AsyncClient() as client:
        services = await asyncio.gather(*(_health(client, entry) for entry in data.get("services", [])))
    report: dict[str, Any] = {
        "running_since": data.get("started_at"), "supervisor_pid": data.get("supervisor_pid"),
        "data_dir": data.get("data_dir"), "broker": data.get("broker"), "database": data.get("database"),
        "services": list(services), "outbox": [], "consumer_lag": [], "dead_letters": [], "errors": [],
    }
    try:
        report["outbox"] = await asyncio.wait_for(_outboxes(data["database"]), timeout=15)
    except Exception as exc:  # noqa: BLE001 — a status screen reports what it could not read
        report["errors"].append(f"database: {type(exc).__name__}: {exc}")
    try:
        report["consumer_lag"], report["dead_letters"] = await asyncio.wait_for(_kafka(data["broker"]), timeout=30)
    except Exception as exc:  # noqa: BLE001
        report["errors"].append(f"broker: {type(exc).__name__}: {exc}")
    report["healthy"] = (all(s["health"] == "ok" for s in report["services"]) and not report["errors"])
    return report


def render(report: dict[str, Any]) -> str:
    """The report for a person: one screen, plain text."""
    lines = []
    verdict = "all services healthy" if report["healthy"] else "NEEDS ATTENTION"
    since = ""
    if report.get("running_since"):
        since = f", up since {datetime.fromtimestamp(report['running_since']).strftime('%Y-%m-%d %H:%M:%S')}"
    lines.append(f"NRN: {verdict}{since} (nrn up pid {report['supervisor_pid']}, data in {report['data_dir']})")
    lines.append(f"broker {report['broker']}   database {report['database']}")
    lines.append("")
    lines.append(f"{'service':<13}{'state':<10}{'health':<13}{'restarts':>8}  {'pid':>7}  url")
    for s in report["services"]:
        lines.append(f"{s['name']:<13}{s['state'] or '':<10}{s['health']:<13}{s['restarts'] or 0:>8}  "
                     f"{s['pid'] or '':>7}  {s['url']}")
        for check, result in (s.get("checks") or {}).items():
            if result != "ok":
                lines.append(f"{'':<13}{check}: {result}")
    lines.append("")
    lines.append("outbox (committed, not yet published)")
    for row in report["outbox"]:
        age = row["oldest_pending_seconds"]
        lines.append(f"  {row['service']:<13}{row['pending']:>6} pending"
                     + (f", oldest {_duration(age)}" if age is not None and row["pending"] else ""))
    lines.append("")
    lines.append("consumer lag (published, not yet applied)")
    if not report["consumer_lag"]:
        lines.append("  (no consumer groups yet)")
    for row in report["consumer_lag"]:
        lines.append(f"  {row['group']:<32}{row['topic']:<28}{row['lag']:>6}")
    lines.append("")
    lines.append("dead letters (parked after failing; `nrn dlq list TOPIC`)")
    for row in report["dead_letters"]:
        extra = f" ({row['not_redriven']} not redriven)" if row["dead_letters"] else ""
        lines.append(f"  {row['topic']:<28}{row['dead_letters']:>6}{extra}")
    for error in report["errors"]:
        lines.append(f"could not read {error}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def status(data_dir: Path, status_file: str, *, as_json: bool) -> tuple[int, str]:
    """Exit code (0 healthy, 1 not running or unhealthy) and the text to print."""
    try:
        data = read_status_file(data_dir / status_file)
    except NotRunning as exc:
        return 1, json.dumps({"running": False, "reason": str(exc)}) if as_json else str(exc)
    report = asyncio.run(collect(data))
    report["running"] = True
    report["checked_at"] = time.time()
    return (0 if report["healthy"] else 1), (json.dumps(report, indent=2, default=str) if as_json else render(report))
