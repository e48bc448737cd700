"""notifications' consumer killed mid-work and started again: every notice made exactly once.

The consumer applies a fetched batch in one transaction and writes the batch's notices and messages
together just before its commit (``handlers._record``). 120 questions are published (each tells two
people: the asking official and the triage lead); the first instance's consumer task is cancelled
in the middle of its batches (its transaction aborted, its offsets not committed past what was
applied), then a second instance on the same database and consumer group takes over. At the end
every question event is in the inbox once and has exactly two notices and two messages."""

from __future__ import annotations

import asyncio

from nrn_kit.consumer import applied_event_keys
from nrn_kit.testing import eventually

from notifications.testing import question_submitted

from .conftest import running_service

QUESTIONS = 120


async def test_killed_mid_batch_then_restarted_makes_each_notice_once(make_settings) -> None:  # noqa: ANN001
    events = [question_submitted(f"req-{i}", title=f"Question {i}") for i in range(QUESTIONS)]
    async with running_service(make_settings, drop=False) as first:
        await first.people()
        known = len(await applied_event_keys(first.db))
        sender = asyncio.create_task(first.publish(*events, source="/nrn/requests311"))
        await eventually(lambda: _questions_applied(first, known, at_least=QUESTIONS // 4))
        runtime = first.app.state.runtime
        for task in [t for t in runtime._tasks if t.get_name().startswith("consumer:")]:
            task.cancel()  # killed mid-batch: no graceful stop, no offsets committed for unapplied work
        ids = await sender
        assert len(await applied_event_keys(first.db)) - known < QUESTIONS

    async with running_service(make_settings) as second:
        await eventually(lambda: _questions_applied(second, known, at_least=QUESTIONS), timeout=120)
        for event_id in ids:
            assert sum(key.endswith(f":{event_id}") for key in await applied_event_keys(second.db)) == 1
            assert await second.db.notices.count_documents({"event_id": event_id}) == 2  # official + triage lead
            assert await second.db.mail.count_documents({"_id": {"$regex": f"^{event_id}:"}}) == 2


async def _questions_applied(svc, known: int, *, at_least: int) -> bool:  # noqa: ANN001
    return len(await applied_event_keys(svc.db)) - known >= at_least
