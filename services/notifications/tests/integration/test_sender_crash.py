"""A sender killed between the server's acceptance and its mark, then restarted: every message
reaches the server, each Message-ID is one message, and a message is handed over again only if
it was in flight at the kill (at most SENDER_CONNECTIONS of them), byte for byte the same."""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import sys
from pathlib import Path

from notifications.testing import question_submitted

from .conftest import running_service

CHILD = Path(__file__).with_name("sender_child.py")
CONNECTIONS = 4


async def _all_pending(svc, n: int) -> bool:  # noqa: ANN001
    return await svc.db.mail.count_documents({"state": "pending"}) >= n


async def test_sigkill_between_send_and_mark_then_restart_sends_each_message_once(make_settings) -> None:
    async with running_service(make_settings, sender_enabled=False) as svc:
        await svc.people()
        await svc.publish(*[question_submitted(f"req-{i}", title=f"Question number {i} about housing")
                            for i in range(12)])
        # the official's receipt and the triage lead's notice for each, and the official's "verified"
        expected = 12 * 2 + 1
        await svc.eventually(lambda: _all_pending(svc, expected))
        ids = {d["message_id"] async for d in svc.db.mail.find({}, {"message_id": 1})}
        argv = [sys.executable, str(CHILD), svc.settings.mongodb_uri, svc.settings.database_name, str(svc.smtp.port)]

        first = await asyncio.create_subprocess_exec(*argv, "5")
        assert await asyncio.wait_for(first.wait(), 120) == -signal.SIGKILL
        before_restart = len(svc.smtp.received)
        assert before_restart >= 5 and await svc.db.mail.count_documents({"state": "sending"}) >= 1

        second = await asyncio.create_subprocess_exec(*argv, "0")
        try:
            await svc.eventually(lambda: _all_sent(svc, expected), timeout=120)
        finally:
            second.terminate()
            await second.wait()

        received = svc.smtp.received
        by_id = collections.defaultdict(list)
        for r in received:
            by_id[r.message_id].append(r.raw)
        assert set(by_id) == ids  # every message arrived, and nothing else
        again = {mid: raws for mid, raws in by_id.items() if len(raws) > 1}
        assert len(received) - expected == sum(len(r) - 1 for r in again.values()) <= CONNECTIONS
        assert all(len(set(raws)) == 1 for raws in again.values())  # the same bytes each time


async def _all_sent(svc, n: int) -> bool:  # noqa: ANN001
    return await svc.db.mail.count_documents({"state": "sent"}) == n


async def test_task_cancelled_between_send_and_mark(make_settings) -> None:
    """The same in-process: the sender's task is cancelled right after an acceptance."""
    from notifications.sender import Sender

    # a long command timeout: a reply that comes late under load would be a second, honest, cause of
    # repeats (a timeout after the server accepted) that this test does not count
    async with running_service(make_settings, sender_enabled=False, sender_lease_seconds=0.5,
                               smtp_timeout_seconds=120) as svc:
        await svc.people()
        await svc.publish(*[question_submitted(f"req-{i}") for i in range(5)])
        await svc.eventually(lambda: _all_pending(svc, 11))
        task: asyncio.Task | None = None
        count = 0

        async def cancel_on_third(doc: dict) -> None:
            nonlocal count
            count += 1
            if count == 3:
                task.cancel()
                await asyncio.sleep(0)

        doomed = Sender(svc.db, svc.settings, after_send=cancel_on_third)
        task = asyncio.create_task(doomed.run(asyncio.Event()))
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        stop = asyncio.Event()
        fresh = asyncio.create_task(Sender(svc.db, svc.settings).run(stop))
        try:
            await svc.eventually(lambda: _all_sent(svc, 11))
        finally:
            stop.set()
            await fresh
        ids = [r.message_id for r in svc.smtp.received]
        assert len(set(ids)) == 11 and len(ids) - 11 <= svc.settings.sender_connections


async def test_a_session_stuck_on_a_slow_reply_does_not_hold_up_the_others(make_settings) -> None:
    """The sessions draw from one queue that is claimed again while they send: one session waiting
    on a slow server reply does not stop the others from sending every other message. (With a
    barrier at the end of each claimed batch they would wait for it there, and this never ends.)"""
    from notifications.sender import Sender

    async with running_service(make_settings, sender_enabled=False, sender_batch=4) as svc:
        await svc.people()
        await svc.publish(*[question_submitted(f"req-{i}") for i in range(10)])
        expected = 10 * 2 + 1
        await svc.eventually(lambda: _all_pending(svc, expected))
        others_done = asyncio.Event()
        accepted: list[bytes] = []

        class Transport:
            def __init__(self, slow: bool) -> None:
                self.slow = slow

            async def send(self, raw: bytes, sender: str, recipients: list[str]) -> str:
                if self.slow and not others_done.is_set():
                    await others_done.wait()  # the reply comes only once the others sent the rest
                accepted.append(raw)
                if len(accepted) == expected - 1:
                    others_done.set()
                return "250 OK"

            async def close(self) -> None:
                pass

        stop = asyncio.Event()
        sender = Sender(svc.db, svc.settings, transports=[Transport(True), Transport(False), Transport(False)])
        task = asyncio.create_task(sender.run(stop))
        try:
            await asyncio.wait_for(others_done.wait(), 60)
            await svc.eventually(lambda: _all_sent(svc, expected))
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)  # cancelled if a round never ends
        assert len(accepted) == expected == len({m for m in accepted})
