"""examples/analytics against the real broker: events published as the services publish them, read
back from the topics' start into DuckDB, and the program's headline figures computed from them."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path

from nrn_contracts import encode, envelope, kafka_headers
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import peer
from nrn_contracts.events import requests311 as r311
from nrn_contracts.testing import example

from nrn_kit.kafka import ensure_topics, make_producer
from nrn_kit.settings import ServiceSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "analytics" / "figures.py"


def _module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("nrn_analytics_figures", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def at(day: int, month: int = 3, hour: int = 15) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def test_the_headline_figures_from_the_streams(make_settings) -> None:  # noqa: ANN001
    settings = make_settings(ServiceSettings)
    await ensure_topics(settings)
    events = [
        # Q1: two housing questions in MI, one finance question in OH; Q2: one housing in MI
        example(r311.QuestionSubmitted, request_id="a", topic="housing", state="MI", submitted_at=at(2)),  # Monday
        example(r311.QuestionSubmitted, request_id="b", topic="housing", state="MI", submitted_at=at(3)),
        example(r311.QuestionSubmitted, request_id="c", topic="finance_budgets", state="OH", submitted_at=at(4)),
        example(r311.QuestionSubmitted, request_id="d", topic="housing", state="MI", submitted_at=at(6, month=4)),
        # memos: a after 5 business days, b after 10 (late: its memo deadline was missed), c after 1
        example(r311.MemoDelivered, request_id="a", delivered_at=at(9)),
        example(r311.MemoDelivered, request_id="b", delivered_at=at(17)),
        example(r311.MemoDelivered, request_id="c", delivered_at=at(5)),
        example(r311.ServiceLevelBreached, request_id="b", step="memo"),
        example(r311.ServiceLevelBreached, request_id="a", step="acknowledge"),  # not the memo's
        example(eng.EngagementOpened, engagement_id="e1", barriers=("housing", "workforce")),
        example(eng.EngagementOpened, engagement_id="e2", barriers=("housing",)),
        example(peer.AttendanceRecorded, convening_id="conv-1", registration_id="g1", attended=True),
        example(peer.AttendanceRecorded, convening_id="conv-1", registration_id="g2", attended=False),
        example(peer.AttendanceRecorded, convening_id="conv-1", registration_id="g3", attended=True),
    ]
    producer = make_producer(settings)
    await producer.start()
    try:
        first = None
        for event in events:
            ce = envelope(event, source="/nrn/test")
            first = first or ce
            await producer.send_and_wait(settings.topic(type(event).topic), encode(ce),
                                         key=event.aggregate_id().encode(), headers=kafka_headers(ce))
        # a redelivery of the first event counts once
        await producer.send_and_wait(settings.topic(type(events[0]).topic), encode(first), key=b"a")
    finally:
        await producer.stop()
    module = _module()
    records = await module.read_topics(settings.kafka_bootstrap_servers, settings.topic_prefix)
    result = module.figures(module.load(records))
    assert result["questions_by_quarter_topic_state"] == [
        {"quarter": "2026-Q1", "topic": "finance_budgets", "state": "OH", "questions": 1},
        {"quarter": "2026-Q1", "topic": "housing", "state": "MI", "questions": 2},
        {"quarter": "2026-Q2", "topic": "housing", "state": "MI", "questions": 1},
    ]
    assert result["memos_delivered"] == 3
    assert result["median_business_days_to_memo"] == 5
    assert abs(result["on_time_rate"] - 2 / 3) < 1e-9
    assert result["engagements_by_barrier"] == [{"barrier": "housing", "engagements": 2},
                                                {"barrier": "workforce", "engagements": 1}]
    assert result["convening_attendance"] == [{"convening": "conv-1", "attended": 2, "recorded": 3}]
    assert result["volunteer_hours"] is None and "volunteer_hours" in result["not_yet_published"]
    text = module.show(result)
    assert "Median business days to memo: 5" in text and "not published" in text
    assert module.business_days(date(2026, 7, 2), date(2026, 7, 6)) == 1  # Fri 3 Jul observed, weekend
