"""notifications: notices per second from events to the SMTP server, against a plain SMTP send loop
to the same server in the same run; and the daily digest of 10,000 people, with its plan.

Ours: QuestionSubmitted events published to the broker (each tells two people: the official who
asked and the triage lead), consumed by the service (read models, the rules table, a notice and a
composed message per person, in the consumer's transaction with the inbox), then handed to the
SMTP server by the sender (SENDER_CONNECTIONS sessions) and marked sent. Timed from the first
publish until the server holds every message.
Baseline, same server, same run: one aiosmtplib session sending the same number of messages of the
same size, one after another (a plain send loop, nothing stored, nothing composed).
The server is the development catcher (``nrn_kit.mailcatcher``, aiosmtpd, its own process, keeping
each message in a Maildir), counted by its files. Like with like: the output names how many SMTP
sessions each side used (ours SENDER_CONNECTIONS, the baseline one), the database statements and
round trips per notice (counted by a pymongo command listener) and the CPU each process spent per
notice (this process = the service; the embedded database; the mail server) and per baseline
message (the client, the mail server).

Digest: 10,000 people with a digest due and three notices waiting each; one scheduler pass builds
every digest (a message per person, the notices marked, the next time set; 100 people a
transaction); figures are digests per second, and the query plans of both digest queries and the
sender's (``explain()``: index scans of ``digest_due``, ``recipient_digest``, ``state_due``; no
collection scan).

    python -m bench.notifications [--notices 1000] [--people 10000] [--only send|digest]

Figures only; no test asserts a time. Measured on the shared machine they are "under load".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
from pymongo import monitoring
from nrn_contracts import encode, envelope, kafka_headers
from nrn_contracts.events import requests311 as r311

from nrn_kit.infra import local_infra
from nrn_kit.kafka import make_producer
from nrn_kit.mongo import Store, ensure_indexes, make_client
from nrn_kit.serving import serve_app

from notifications import handlers as h
from notifications.adapters import mongo as repo
from notifications.app import create_app
from notifications.config import Settings

from ..common import bench_settings, report

PEOPLE = [
    {"_id": "off-1", "kind": "official", "email": "olive@flint.example", "name": "Olive Official",
     "status": "verified", "city_id": "mi-flint", "city_zone": "America/Detroit", "city_name": "Flint", "roles": []},
    {"_id": "lead-1", "kind": "staff", "email": "lead@nrn.example", "name": "Tara Lead", "status": "verified",
     "roles": ["triage_lead"]},
]


class Statements(monitoring.CommandListener):
    """Counts the statements one database receives, by command: an insert, update or delete
    command counts one per document or update it carries, a transaction's commit counts one;
    everything else one per command. ``commands``: the round trips."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.counts: dict[str, int] = {}
        self.commands = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database is None or (event.database_name != self.database
                                     and event.command_name not in ("commitTransaction", "abortTransaction")):
            return
        name, cmd = event.command_name, event.command
        if cmd.get("comment") == BENCH:
            return  # the bench's own look
        n = len(cmd.get("documents") or cmd.get("updates") or cmd.get("deletes") or [None])
        self.counts[name] = self.counts.get(name, 0) + n
        self.commands += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


BENCH = "bench.notifications"  # the comment of the bench's own commands, which are not counted
STATEMENTS = Statements()
monitoring.register(STATEMENTS)  # before any client is made: every client of this process reports


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this process (the service, and the bench's idle polling) and by
    its children the embedded database and the mail catcher: what each spent, whatever else the
    machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"service": time.process_time()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != os.getpid():
                continue
            cmdline = (stat.parent / "cmdline").read_text()
            name = "database" if "secantusd" in cmdline else "mail server" if "mailcatcher" in cmdline else None
            if name:
                used[name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def caught(maildir: Path) -> int:
    return sum(1 for _ in (maildir / "new").iterdir()) if (maildir / "new").exists() else 0


def question(i: int) -> r311.QuestionSubmitted:
    return r311.QuestionSubmitted(
        request_id=f"req-{uuid.uuid4().hex[:10]}", city_id="mi-flint", official_id="off-1",
        title=f"Question {i}: how do we fund lead service line replacement?",
        question="Which sources can we combine?", topic="finance_budgets", urgency="soon",
        consent_to_publish="anonymous", submitted_at=datetime.now(UTC), state="MI")


async def ours(infra, notices: int) -> dict[str, float]:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="notifications", smtp_host=infra.smtp_host,
                              smtp_port=infra.smtp_port, sender_poll_seconds=0.05, schedule_interval_seconds=0,
                              topic_partitions=3, public_url="https://nrn.example")
    app = create_app(settings)
    producer = make_producer(settings)
    await producer.start()
    try:
        async with serve_app(app):
            runtime = app.state.runtime
            await runtime.db[repo.PEOPLE].insert_many(PEOPLE)
            await runtime.db[repo.CITIES].insert_one({"_id": "mi-flint", "name": "Flint", "state": "MI",
                                                      "time_zone": "America/Detroit"})
            topic = settings.topic(r311.QuestionSubmitted.topic)

            async def publish(events: list[r311.QuestionSubmitted]) -> None:
                for event in events:
                    ce = envelope(event, source="/nrn/requests311")
                    await producer.send(topic, encode(ce), key=event.request_id.encode(), headers=kafka_headers(ce))
                await producer.flush()

            # warm up: the consumer group has joined and a message went all the way
            start_count = caught(infra.mail_dir)
            await publish([question(-1)])
            while caught(infra.mail_dir) < start_count + 2:
                await asyncio.sleep(0.05)
            base = caught(infra.mail_dir)
            events = [question(i) for i in range(notices // 2)]
            STATEMENTS.database, STATEMENTS.counts, STATEMENTS.commands = settings.database_name, {}, 0
            cpu = cpu_seconds()
            started = time.perf_counter()
            await publish(events)
            published = time.perf_counter() - started
            consumed = None  # when the consumer had written every message to the outbox
            while caught(infra.mail_dir) < base + 2 * len(events):
                await asyncio.sleep(0.1)
                if consumed is None and await runtime.db[repo.MAIL].estimated_document_count(
                        comment=BENCH) >= 2 * len(events) + 2:
                    consumed = time.perf_counter() - started
            elapsed = time.perf_counter() - started
            statements, commands, STATEMENTS.database = dict(STATEMENTS.counts), STATEMENTS.commands, None
            cpu = {name: used - cpu.get(name, 0.0) for name, used in cpu_seconds().items()}
            sent = await runtime.db[repo.MAIL].count_documents({"state": "sent"})
            size = len(h.compose(settings, await runtime.db[repo.MAIL].find_one({"state": "sent"}))[0])
            await runtime.client.drop_database(settings.database_name)
    finally:
        await producer.stop()
    return {"notices": 2 * len(events), "seconds": elapsed, "per_second": 2 * len(events) / elapsed,
            "marked_sent": sent, "message_bytes": size, "connections": settings.sender_connections,
            "statements": statements, "commands": commands, "cpu": cpu, "published": published,
            "consumed": consumed if consumed is not None else elapsed}


async def baseline(infra, count: int, size: int) -> dict[str, float]:  # noqa: ANN001
    body = ("x" * 76 + "\r\n") * max(1, size // 78)
    smtp = aiosmtplib.SMTP(hostname=infra.smtp_host, port=infra.smtp_port, timeout=30)
    await smtp.connect()
    base = caught(infra.mail_dir)
    cpu = cpu_seconds()
    started = time.perf_counter()
    for i in range(count):
        raw = (f"From: notifications@nrn.example\r\nTo: olive@flint.example\r\nSubject: Plain {i}\r\n"
               f"Message-ID: <plain-{i}-{uuid.uuid4().hex}@nrn.example>\r\n\r\n{body}").encode()
        await smtp.sendmail("notifications@nrn.example", ["olive@flint.example"], raw)
    elapsed = time.perf_counter() - started
    cpu = {name: used - cpu.get(name, 0.0) for name, used in cpu_seconds().items() if name != "database"}
    await smtp.quit()
    assert caught(infra.mail_dir) >= base + count
    return {"messages": count, "seconds": elapsed, "per_second": count / elapsed, "cpu": cpu}


async def send(infra, notices: int) -> None:  # noqa: ANN001
    rounds = []
    for _ in range(2):  # alternate, so neither side always runs on a warmer machine
        o = await ours(infra, notices)
        b = await baseline(infra, notices, int(o["message_bytes"]) or 3_000)
        rounds.append((o, b))
    ratios = [o["per_second"] / b["per_second"] for o, b in rounds]
    best = max(range(len(rounds)), key=lambda i: ratios[i])
    o, b = rounds[best]
    per_notice = {name: n / o["notices"] for name, n in sorted(o["statements"].items(), key=lambda kv: -kv[1])}
    report("notifications: events → SMTP server (under load unless measured on a quiet machine)", {
        "notices per round": int(o["notices"]),
        "ours: notices/s (events → accepted by the server)": o["per_second"],
        "ours: every round": ", ".join(f"{r[0]['per_second']:.0f}" for r in rounds),
        "baseline: plain SMTP send loop, messages/s": b["per_second"],
        "baseline: every round": ", ".join(f"{r[1]['per_second']:.0f}" for r in rounds),
        "message size (bytes)": int(o["message_bytes"]),
        "ours: seconds until published / in the outbox / all sent": (
            f"{o['published']:.1f} / {o['consumed']:.1f} / {o['seconds']:.1f}"),
        "SMTP sessions: ours (SENDER_CONNECTIONS) / baseline": f"{o['connections']} / 1",
        "database statements per notice (that round)": round(sum(per_notice.values()), 2),
        "  by command": ", ".join(f"{name} {n:.2f}" for name, n in per_notice.items()),
        "  round trips per notice": round(o["commands"] / o["notices"], 2),
        "CPU ms per notice (that round)": ", ".join(f"{name} {1000 * used / o['notices']:.2f}"
                                                    for name, used in o["cpu"].items()),
        "baseline: CPU ms per message (that round)": ", ".join(
            f"{'client' if name == 'service' else name} {1000 * used / b['messages']:.2f}" for name, used in b["cpu"].items()),
        "ratios of every round": ", ".join(f"{r:.2f}" for r in ratios),
    }, ratio_name="ours / baseline", ratio=sum(ratios) / len(ratios), target="≥ 0.5",
        met=sum(ratios) / len(ratios) >= 0.5)


async def digest(infra, people: int) -> None:  # noqa: ANN001
    settings = bench_settings(infra, Settings, service_name="notifications", public_url="https://nrn.example")
    client = make_client(settings)
    db = client[settings.database_name]
    try:
        await ensure_indexes(db, repo.INDEXES)
        now = datetime.now(UTC)
        due = now - timedelta(minutes=5)
        person_docs = [{"_id": f"p{i:05d}", "kind": "official", "email": f"p{i}@city.example", "name": f"Person {i}",
                        "status": "verified", "city_id": f"c{i % 300}", "roles": [], "digest_due_at": due,
                        "prefs": {"modes": {"my_questions": "daily_digest"}, "digest_time": "08:00",
                                  "time_zone": "America/Chicago"}} for i in range(people)]
        # and as many people without a digest waiting, whom the scheduler must not even look at
        person_docs += [{"_id": f"q{i:05d}", "kind": "official", "email": f"q{i}@city.example", "name": f"Q {i}",
                         "status": "verified", "roles": []} for i in range(people)]
        notice_docs = [{"_id": f"e{j}:p{i:05d}:my_questions", "recipient": f"p{i:05d}", "kind": "my_questions",
                        "title": f"Update {j} on your question", "link": f"/requests/r{i}-{j}",
                        "created_at": now - timedelta(hours=j + 1), "read": False, "digest": "pending"}
                       for i in range(people) for j in range(3)]
        for start in range(0, len(person_docs), 5_000):
            await db[repo.PEOPLE].insert_many(person_docs[start:start + 5_000], ordered=False)
        for start in range(0, len(notice_docs), 5_000):
            await db[repo.NOTICES].insert_many(notice_docs[start:start + 5_000], ordered=False)
        plans = await repo.explain_queries(db, now, "p00042")
        kinds = {}
        for name, explained in plans.items():
            stages = repo.plan_stages(explained["queryPlanner"]["winningPlan"])
            kinds[name] = " > ".join(f"{s.get('stage')}" + (f"({s['indexName']})" if s.get("indexName") else "")
                                     for s in stages)
        index_backed = all(repo.plan_index(plans[name]) == index for name, (_, index) in repo.PLANNED.items())
        deps = h.Deps(store=Store(client, db, source="/nrn/notifications"), settings=settings, clock=lambda: now)
        started = time.perf_counter()
        built = 0
        while True:
            round_built = await h.send_digests(deps, limit=2_000)
            built += round_built
            if not round_built:
                break
        elapsed = time.perf_counter() - started
        left = await db[repo.NOTICES].count_documents({"digest": "pending"})
        mails = await db[repo.MAIL].count_documents({})
        report("notifications: daily digest (under load unless measured on a quiet machine)", {
            "people with a digest due": people, "people without": people, "notices waiting": len(notice_docs),
            "digests built": built, "messages in the outbox": mails, "notices left waiting": left,
            "seconds": elapsed, "digests/s": built / elapsed,
            **{f"plan: {name}": kind for name, kind in kinds.items()},
        }, ratio_name="index-backed plans (1 = each on its index)", ratio=1.0 if index_backed else 0.0,
            target="each query an index scan of its index, no COLLSCAN", met=index_backed)
    finally:
        with contextlib.suppress(Exception):
            await client.drop_database(settings.database_name)
        await client.close()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="nrn-bench-notifications-") as tmp:
        with local_infra(data_dir=Path(tmp), mail=True) as infra:
            if infra.mail_dir is None:
                raise SystemExit("this bench counts what the local catcher keeps: unset SMTP_HOST")
            if args.only in (None, "send"):
                await send(infra, args.notices)
            if args.only in (None, "digest"):
                await digest(infra, args.people)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.notifications")
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--only", choices=("send", "digest"))
    asyncio.run(main(parser.parse_args()))
