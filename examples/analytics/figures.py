"""The NRN program's headline figures from its event streams, with DuckDB.

    python examples/analytics/figures.py --bootstrap 127.0.0.1:9092 [--prefix ""] [--db nrn.duckdb]

Reads every topic open to analysts (CloudEvents JSON on Kafka) from its start to its current end,
loads the events into a DuckDB table ``events`` (one row per event: id, type, subject, time, topic,
data as JSON) and prints:

- questions by topic and state per quarter (311 for Cities, ``QuestionSubmitted``);
- median business days from a question to its memo (``MemoDelivered``; weekdays less US federal
  holidays, counted from the day after submission, as requests311 counts them);
- on-time rate: memos delivered without a missed memo deadline (``ServiceLevelBreached`` step ``memo``);
- engagements by barrier (direct assistance, ``EngagementOpened``/``AssessmentCompleted``);
- convening attendance (peer networking, ``AttendanceRecorded`` with ``attended``);
- volunteer hours: no event carries them yet (peer networking's pro bono matches do not publish
  hours), so the figure says so instead of printing a zero.

Deduplicates by event id (delivery to Kafka is at least once). Needs only ``duckdb`` and ``aiokafka``
(and ``holidays`` for the business days).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import holidays
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

# The topics analysts read (the registry's external topics); the security topic is never among them.
TOPICS = ("nrn.accounts.v1", "nrn.requests311.v1", "nrn.library.v1", "nrn.engagements.v1", "nrn.peer.v1")
T = "org.nationalresourcenetwork."


async def read_topics(bootstrap: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every record of the topics, from the start to the end they had when we looked (no consumer group)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [prefix + t for t in TOPICS if prefix + t in existing]
        described = await admin.describe_topics(wanted) if wanted else []
    finally:
        await admin.close()
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d.get("partitions", ())]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        if not partitions:
            return out
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = {}
        for tp in partitions:  # the end each partition has now (end_offsets can lag on some brokers)
            await consumer.seek_to_end(tp)
            ends[tp] = await consumer.position(tp)
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    try:
                        event = json.loads(record.value)
                    except (TypeError, ValueError):
                        continue  # not an event: the dead-letter topics are not read, but be safe
                    if isinstance(event, dict) and "type" in event:
                        event["_topic"] = tp.topic[len(prefix):]
                        out.append(event)
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
    return out


def load(events: list[dict[str, Any]], db: str = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(db)
    con.execute("CREATE OR REPLACE TABLE events (id VARCHAR PRIMARY KEY, type VARCHAR, subject VARCHAR, "
                "time TIMESTAMPTZ, topic VARCHAR, data JSON)")
    rows = {e["id"]: (e["id"], e["type"], e.get("subject"), e.get("time"), e["_topic"], json.dumps(e.get("data") or {}))
            for e in events}
    if rows:
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", list(rows.values()))
    return con


def business_days(start: date, end: date) -> int:
    """Weekdays after ``start`` up to and including ``end``, less US federal holidays (observed)."""
    us = holidays.US(years=range(start.year, end.year + 1))
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in us:
            days += 1
    return days


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    q = T + "requests311."
    by_quarter = con.execute(f"""
        SELECT strftime(CAST(data->>'submitted_at' AS TIMESTAMPTZ), '%Y') || '-Q' ||
                 CAST(quarter(CAST(data->>'submitted_at' AS TIMESTAMPTZ)) AS VARCHAR) AS quarter,
               data->>'topic' AS topic, coalesce(data->>'state', 'unknown') AS state, count(*) AS questions
        FROM events WHERE type = '{q}question_submitted.v1'
        GROUP BY ALL ORDER BY quarter, topic, state""").fetchall()
    pairs = con.execute(f"""
        SELECT s.subject, CAST(s.data->>'submitted_at' AS TIMESTAMPTZ), min(CAST(m.data->>'delivered_at' AS TIMESTAMPTZ))
        FROM events s JOIN events m ON m.subject = s.subject AND m.type = '{q}memo_delivered.v1'
        WHERE s.type = '{q}question_submitted.v1' GROUP BY ALL""").fetchall()
    days = [business_days(_eastern_day(a), _eastern_day(b)) for _, a, b in pairs]
    late = {r[0] for r in con.execute(f"""SELECT DISTINCT subject FROM events
        WHERE type = '{q}service_level_breached.v1' AND data->>'step' = 'memo'""").fetchall()}
    delivered = [p[0] for p in pairs]
    barriers = con.execute(f"""
        SELECT barrier, count(DISTINCT subject) AS engagements FROM (
          SELECT subject, unnest(CAST(data->'barriers' AS VARCHAR[])) AS barrier FROM events
          WHERE type IN ('{T}engagements.engagement_opened.v1', '{T}engagements.assessment_completed.v1'))
        GROUP BY ALL ORDER BY engagements DESC, barrier""").fetchall()
    attendance = con.execute(f"""
        SELECT subject AS convening, count(*) FILTER (WHERE CAST(data->>'attended' AS BOOLEAN)) AS attended,
               count(*) AS recorded
        FROM events WHERE type = '{T}peer.attendance_recorded.v1' GROUP BY ALL ORDER BY convening""").fetchall()
    return {
        "questions_by_quarter_topic_state": [
            {"quarter": r[0], "topic": r[1], "state": r[2], "questions": r[3]} for r in by_quarter],
        "memos_delivered": len(delivered),
        "median_business_days_to_memo": statistics.median(days) if days else None,
        "on_time_rate": (sum(1 for s in delivered if s not in late) / len(delivered)) if delivered else None,
        "engagements_by_barrier": [{"barrier": b, "engagements": n} for b, n in barriers],
        "convening_attendance": [{"convening": c, "attended": a, "recorded": n} for c, a, n in attendance],
        "volunteer_hours": None,
        "not_yet_published": ["volunteer_hours"],
    }


def _eastern_day(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("America/New_York")).date()


def show(result: dict[str, Any]) -> str:
    lines = ["Questions by quarter, topic and state:"]
    lines += [f"  {r['quarter']}  {r['topic']:<24} {r['state']:<8} {r['questions']}"
              for r in result["questions_by_quarter_topic_state"]] or ["  (none yet)"]
    median = result["median_business_days_to_memo"]
    rate = result["on_time_rate"]
    lines += [f"Memos delivered: {result['memos_delivered']}",
              f"Median business days to memo: {median if median is not None else '(no memo delivered yet)'}",
              f"On-time rate (memo deadline): {f'{rate:.0%}' if rate is not None else '(no memo delivered yet)'}",
              "Engagements by barrier:"]
    lines += [f"  {r['barrier']:<28} {r['engagements']}" for r in result["engagements_by_barrier"]] or ["  (none yet)"]
    lines += ["Convening attendance:"]
    lines += [f"  {r['convening']:<28} {r['attended']} of {r['recorded']} recorded"
              for r in result["convening_attendance"]] or ["  (none yet)"]
    lines += ["Volunteer hours: not published by any service yet (peer networking's pro bono matches)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers (nrn up prints them)")
    parser.add_argument("--prefix", default="", help="topic prefix, if the deployment uses one")
    parser.add_argument("--db", default=":memory:", help="a DuckDB file to keep the events in for your own queries")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    con = load(asyncio.run(read_topics(args.bootstrap, args.prefix)), args.db)
    result = figures(con)
    print(json.dumps(result, indent=2, default=str) if args.json else show(result))


if __name__ == "__main__":
    main()
