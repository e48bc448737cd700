"""The sender: the ``mail`` outbox → the SMTP server, in its own task, never in the consumer's.

It claims batches of due messages (``pending`` whose time has come, or ``sending`` whose lease
ran out because their sender died), marks them ``sending`` with a lease and the claim's id, and
puts them on one queue from which ``SENDER_CONNECTIONS`` SMTP sessions draw; the queue is claimed
again whenever it falls below half a batch, while the sessions go on sending. Each message is marked
``sent`` as soon as the server accepted it; a temporary failure (a 4xx, a refused connection, a
timeout) puts it back with a later ``next_attempt_at`` (backoff doubling up to a cap), and after
``SEND_MAX_ATTEMPTS`` (or at once for a 5xx refusal) it is ``failed``, shown to staff with a retry
button.

What "exactly once" can mean with SMTP. SMTP has no way to ask a server "did you already get
this?", and the server's "250 accepted" and our "mark sent" cannot be one atomic step. So:

- nothing is lost: a message is marked sent only after the server accepted it; a sender killed
  at any point leaves it ``pending`` or ``sending``, and ``sending`` is taken again when its
  lease runs out;
- a message is handed over again only if the sender died in the window between the server's
  acceptance and the mark (one database write): at most the messages in flight at that moment,
  i.e. at most ``SENDER_CONNECTIONS`` messages per crash. The marks of messages accepted at the
  same moment (a mark waits up to ``MARK_GATHER_SECONDS`` for the sessions still sending) go to
  the database in one ``update_many`` (one statement, not one each: the sender's main cost on the
  embedded database), but each session waits for its own mark before it hands over
  its next message, so the window stays one message per session; or if the server's "250" came after
  ``SMTP_TIMEOUT_SECONDS`` (the send counts as failed and is retried): one repeat per such reply;
- a message handed over twice is byte for byte the same, with the same ``Message-ID`` (composed
  from what the notice stored, deterministically: ``domain/messages.py``), so a receiving server or mail client that removes
  duplicates by Message-ID (as common mail stores do) shows it once: exactly once "as far as
  the server can tell" means one distinct Message-ID per notice, which the tests check by
  killing the sender between send and mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from .adapters import mongo as repo
from .adapters.smtp import SendError, SmtpConnection
from .config import Settings
from .handlers import Clock, _mail_from, compose, system_clock
from .render import TemplateFailed

log = logging.getLogger(__name__)


class Transport(Protocol):
    async def send(self, raw: bytes, sender: str, recipients: list[str]) -> str: ...
    async def close(self) -> None: ...


AfterSend = Callable[[dict[str, Any]], Awaitable[None]]

# How long a mark waits for the sessions still sending, so that their marks share its statement:
# about one SMTP exchange with a local server (a few ms), far below the lease and the SMTP timeout.
MARK_GATHER_SECONDS = 0.02


@dataclass(frozen=True)
class Mark:
    """What a sent message's mark writes; messages with equal marks are marked in one statement."""

    claim: str  # the round's claim id: a mark never touches a message another sender took since
    reply: str  # the server's reply (an SMTP server that names its queue id makes each one differ)
    account: bool  # an account message: its context (the single-use links) is removed


class Sender:
    def __init__(self, db: AsyncDatabase, settings: Settings, *, clock: Clock = system_clock,
                 transports: list[Transport] | None = None, after_send: AfterSend | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.transports: list[Transport] = transports or [SmtpConnection(settings)
                                                          for _ in range(settings.sender_connections)]
        # a seam for the crash tests: runs after the server accepted a message, before the mark
        self.after_send = after_send
        self.envelope_from = _mail_from(settings.mail_from)[1]
        self._wake = asyncio.Event()
        self._marks: list[tuple[Mark, str, asyncio.Future[None]]] = []  # waiting for the next write
        self._marker: asyncio.Task[None] | None = None
        self._sending = 0  # sessions waiting for the server's reply
        self._replied = asyncio.Event()  # one of them got it (or gave up)
        self.sent = 0
        self.failures = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                handled = await self.round()
                if handled:
                    continue  # more may be waiting
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.sender_poll_seconds)
        finally:
            marker = self._marker
            if marker is not None and not marker.done():
                # marks already handed to the database: let them land (fewer repeats after a stop)
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(marker), timeout=5)
            for transport in self.transports:
                await transport.close()

    async def claim(self, limit: int) -> list[dict[str, Any]]:
        """Take up to ``limit`` due messages for this round (leased; a dead sender's come back).

        Three round trips whatever the batch: read the due messages whole, lease them with one
        ``update_many`` that matches only those still claimable, and — only when another sender
        took some meanwhile (fewer modified than read) — read back by ``_id`` the ones this claim got.
        """
        now = self.clock()
        mail = self.db[repo.MAIL]
        docs = await mail.find(repo.mail_due(repo.PENDING, now)).sort("next_attempt_at", 1).limit(limit).to_list()
        if len(docs) < limit:
            # the lease of a claimed message runs out only if its sender died: send it again
            docs += await mail.find(repo.mail_due(repo.SENDING, now)).limit(limit - len(docs)).to_list()
        if not docs:
            return []
        ids = [d["_id"] for d in docs]
        claim = uuid.uuid4().hex
        lease = now + timedelta(seconds=self.settings.sender_lease_seconds)
        leased = {"state": repo.SENDING, "claim": claim, "next_attempt_at": lease}
        # still due at this moment: a message another sender took and put back for later is not.
        # No top-level $or (pending or sending, each due): with one, the embedded database scans
        # the whole outbox — every message ever sent — instead of looking the _ids up (1.8 s
        # against 0.1 s for 100 of 4,000 messages)
        result = await mail.update_many({"_id": {"$in": ids}, "state": {"$in": [repo.PENDING, repo.SENDING]},
                                         "next_attempt_at": {"$lte": now}}, {"$set": leased})
        if result.modified_count == len(docs):
            return [doc | leased for doc in docs]
        return await mail.find({"_id": {"$in": ids}, "claim": claim}).to_list()

    async def round(self) -> int:
        """Send due messages until none is left; returns how many were claimed.

        The sessions draw from one queue that is claimed again whenever it falls below half a batch
        (``SENDER_BATCH``), while they go on sending: no session waits for the slowest of a batch,
        and no claim holds up the sending (on the embedded database a claim costs tens of ms).
        The round ends once a claim finds nothing and the queue is empty."""
        batch = await self.claim(self.settings.sender_batch)
        if not batch:
            return 0
        queue: deque[dict[str, Any]] = deque(batch)
        claimed = len(batch)
        low_water = max(1, self.settings.sender_batch // 2)
        refill: asyncio.Task[None] | None = None
        more = True  # the last claim found something: there may be more

        async def claim_more() -> None:
            nonlocal claimed, more
            docs = await self.claim(self.settings.sender_batch - len(queue))
            queue.extend(docs)
            claimed += len(docs)
            more = bool(docs)

        async def take(group: asyncio.TaskGroup) -> tuple[dict[str, Any], bytes | TemplateFailed] | None:
            nonlocal refill
            while True:
                if more and len(queue) < low_water and (refill is None or refill.done()):
                    refill = group.create_task(claim_more(), name="mail-sender-claim")
                if queue:
                    doc = queue.popleft()
                    return doc, self._compose(doc)
                if refill is None or refill.done():
                    return None
                await asyncio.shield(refill)  # a worker must not cancel the claim others wait for

        async def work(transport: Transport, group: asyncio.TaskGroup) -> None:
            upcoming = await take(group)
            while upcoming is not None:
                marked = await self.deliver(transport, *upcoming)
                # the next message is composed while this one's mark is being written, and handed
                # over only once the mark is written (the crash window stays one message a session)
                upcoming = await take(group)
                if marked is not None:
                    await marked

        # a TaskGroup, not gather: when this task is cancelled (shutdown), every worker and claim is
        # cancelled and awaited before the cancellation goes on, so none keeps sending from a dead round
        async with asyncio.TaskGroup() as group:
            for transport in self.transports:
                group.create_task(work(transport, group))
        return claimed

    def _compose(self, doc: dict[str, Any]) -> bytes | TemplateFailed:
        """The message's bytes, or why its template failed."""
        try:
            return compose(self.settings, doc)[0]
        except TemplateFailed as exc:
            return exc

    async def deliver(self, transport: Transport, doc: dict[str, Any],
                      raw: bytes | TemplateFailed) -> asyncio.Future[None] | None:
        """Hand ``raw`` (``doc`` composed) to the server, or park or put back ``doc``. Returns, when
        the server accepted it, the future of its mark: the caller awaits it before handing over
        its next message."""
        if isinstance(raw, TemplateFailed):
            # kept with its reason and context; staff send it again once the template is fixed
            await self.db[repo.MAIL].update_one({"_id": doc["_id"], "claim": doc["claim"]}, {
                "$set": {"state": repo.PARKED, "last_error": str(raw)}})
            log.error("message %s parked: %s", doc["_id"], raw)
            return None
        self._sending += 1
        try:
            reply = await transport.send(raw, self.envelope_from, [doc["to"]])
        except SendError as exc:
            refused: SendError | None = exc
        else:
            refused = None
        finally:
            self._sending -= 1
            self._replied.set()
        if refused is not None:
            await self._failed(doc, str(refused), permanent=refused.permanent)
            return None
        if self.after_send is not None:
            await self.after_send(doc)
        self.sent += 1
        # the single-use links of an account message do not stay in the database once sent
        return self._mark(Mark(doc["claim"], str(reply)[:500], doc.get("kind") == "account"), doc["_id"])

    def _mark(self, mark: Mark, mail_id: str) -> asyncio.Future[None]:
        """Mark one message sent together with the marks the other sessions are making at the same
        moment — those alike (same claim, same server reply, account or not: usually all) in one
        ``update_many``, one statement, not one each. The future is done once it is written (or
        raises what the write raised): the caller hands over its next message only then, which
        keeps the crash window at one message per session."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((mark, mail_id, future))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks(), name="mail-sender-marks")
        return future

    async def _write_marks(self) -> None:
        # The sessions still waiting for the server's reply join this write when it comes within
        # MARK_GATHER_SECONDS: one statement for all, and the sessions keep sending in step, so the
        # next write gathers them all again. A slow reply holds the others' marks that long, no more.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MARK_GATHER_SECONDS
        while self._sending and (left := deadline - loop.time()) > 0:
            self._replied.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replied.wait(), timeout=left)
        await asyncio.sleep(0)  # a session whose reply just came is past its send: let it join
        while self._marks:
            batch, self._marks = self._marks, []
            alike: dict[Mark, list[str]] = {}
            for mark, mail_id, _ in batch:
                alike.setdefault(mark, []).append(mail_id)
            try:
                # Not in a transaction: one would commit once for the batch, but a sender killed in it
                # leaves its locks to the database's transaction time limit, and the restarted sender's
                # marks of those messages conflict until then.
                now = self.clock()
                for mark, ids in alike.items():
                    update: dict[str, Any] = {
                        "$set": {"state": repo.SENT, "sent_at": now, "smtp_reply": mark.reply, "last_error": None},
                        "$inc": {"attempts": 1}}
                    if mark.account:
                        update["$unset"] = {"context": ""}
                    # _id and claim only: the embedded database looks each _id up (a top-level
                    # operator such as $or would make it scan the whole outbox)
                    await self.db[repo.MAIL].update_many({"_id": {"$in": ids}, "claim": mark.claim}, update)
            except Exception as exc:  # noqa: BLE001 — each waiting session learns it, as from update_one
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _failed(self, doc: dict[str, Any], reason: str, *, permanent: bool) -> None:
        self.failures += 1
        attempts = doc.get("attempts", 0) + 1
        s = self.settings
        if permanent or attempts >= s.send_max_attempts:
            update = {"state": repo.FAILED, "last_error": reason, "attempts": attempts}
            log.warning("message %s failed for good after %d attempt(s): %s", doc["_id"], attempts, reason)
        else:
            delay = min(s.send_backoff_seconds * 2 ** (attempts - 1), s.send_backoff_max_seconds)
            update = {"state": repo.PENDING, "last_error": reason, "attempts": attempts,
                      "next_attempt_at": self.clock() + timedelta(seconds=delay)}
            log.info("message %s not sent (%s); attempt %d again in %.0fs", doc["_id"], reason, attempts + 1, delay)
        await self.db[repo.MAIL].update_one({"_id": doc["_id"], "claim": doc["claim"]}, {"$set": update})
