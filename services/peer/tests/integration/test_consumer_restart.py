"""peer's read-model consumer killed mid-work and started again: every event applied exactly once.

400 events (questions of 40 cities, applications naming barriers) and 40 partners joining (the
organizations the pro bono talent network may enroll) are published; the first
instance's consumer task is cancelled in the middle of its batches (its transaction aborted, its
offsets not committed past what was applied), then a second instance on the same database and
consumer group takes over. At the end every event id is in the inbox once, every city has exactly
its questions and barriers, every partner its name, and nothing was parked in the dead-letter topic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from nrn_contracts.events import accounts as acc
from nrn_contracts.events import engagements as eng
from nrn_contracts.events import requests311 as r311

from nrn_kit.consumer import applied_event_keys
from nrn_kit.testing import eventually

from .conftest import running_service

CITIES, PER_CITY = 40, 9


async def test_killed_mid_work_then_restarted_applies_each_event_once(make_settings) -> None:  # noqa: ANN001
    at = datetime(2026, 5, 1, 15, tzinfo=UTC)
    events = []
    for c in range(CITIES):
        for q in range(PER_CITY):
            events.append(r311.QuestionSubmitted(
                request_id=f"req-{c}-{q}", city_id=f"city-{c}", official_id=f"off-{c}", title=f"Question {q}",
                question="What have other cities tried?", topic=("housing", "land_use", "broadband")[q % 3],
                urgency="routine", consent_to_publish="none", submitted_at=at))
        events.append(eng.ApplicationSubmitted(
            application_id=f"app-{c}", city_id=f"city-{c}", official_id=f"off-{c}", background="b",
            economic_challenges="c", project_management="p", submitted_at=at, peer_connections=True,
            barriers=("land_use", "workforce")))
        events.append(acc.PartnerRegistered(partner_id=f"partner-{c}", name=f"Partner {c}", kind="consortium_member"))
    total = len(events)

    async with running_service(make_settings) as first:
        sender = asyncio.create_task(first.publish(*events, source="/nrn/requests311"))
        await eventually(lambda: _applied(first, at_least=total // 4))
        runtime = first.app.state.runtime
        for task in [t for t in runtime._tasks if t.get_name().startswith("consumer:")]:
            task.cancel()  # killed mid-batch: no graceful stop, no offsets committed for unapplied work
        await sender
        halfway = len(await applied_event_keys(first.db))
        assert halfway < total

    async with running_service(make_settings) as second:
        try:
            await eventually(lambda: _applied(second, at_least=total), timeout=120)
            assert len(await applied_event_keys(second.db)) == total  # each event id once
            signals = await second.db.city_signals.find({}).to_list()
            assert len(signals) == CITIES
            assert all(len(s["questions"]) == PER_CITY for s in signals)
            assert all(sorted(s["barriers"]) == ["land_use", "workforce"] and s["peer_connections"] for s in signals)
            partners = await second.db.partners.find({}).to_list()
            assert sorted(p["name"] for p in partners) == sorted(f"Partner {c}" for c in range(CITIES))
        finally:
            await second.app.state.runtime.client.drop_database(second.settings.database_name)


async def _applied(svc, *, at_least: int) -> bool:  # noqa: ANN001
    return len(await applied_event_keys(svc.db)) >= at_least
