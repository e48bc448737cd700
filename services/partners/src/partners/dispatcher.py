"""The dispatcher: due deliveries → each endpoint's own worker → one signed POST per attempt.

Isolation. Every endpoint has its own worker: its own connection pool of ``ENDPOINT_CONCURRENCY``
connections, that many requests at once, and a queue of at most ``ENDPOINT_QUEUE`` claimed
deliveries. An endpoint that hangs, trickles, answers garbage or redirects fills only its own queue;
the dispatcher then skips it and keeps feeding the others.

Bounded memory. What is waiting lives in MongoDB (``deliveries``), not in memory: a round takes at
most ``DISPATCH_BATCH`` due deliveries (read from cursors, passing over endpoints it skips), and each
endpoint holds at most its queue; a flood of events grows the collection, never the process.

Order. One aggregate's events reach an endpoint in order: a delivery is sent only when no earlier
delivery of the same aggregate (``order_key``, by ``seq``) to the same endpoint is unfinished — a
retry waiting for its time holds the later ones back.

Restarts. A delivery is claimed (``sending``, with a lease as its ``next_attempt_at``) before it is
sent; a dispatcher that dies leaves it claimed, and it is taken again when the lease runs out. The
retry schedule, the attempt count and the next time are in the document, so a restart mid-retry
resumes where it was. A delivery is sent twice only when the process died between the endpoint's
answer and the write of it: at most the requests in flight at that moment, with the same webhook-id,
which is what receivers deduplicate on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from . import handlers as h
from .adapters import mongo as repo
from .adapters.http import GuardedBackend, Limits, Resolver, Sent, client, post, system_resolver
from .domain import catalogue
from .domain.agreements import Agreement
from .domain.privacy import redact

log = logging.getLogger(__name__)

USER_AGENT = "NRN-Webhooks/1.0 (+https://nationalresourcenetwork.org/partners)"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

AfterSend = Callable[[dict[str, Any], Sent], Awaitable[None]]


def signed_headers(webhook_id: str, body: str, secrets: list[str], when: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one ``v1,`` signature per secret that signs now, space-separated."""
    signatures = " ".join(Webhook(secret).sign(webhook_id, when, body) for secret in secrets)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signatures, "content-type": CONTENT_TYPE, "user-agent": USER_AGENT}


class EndpointWorker:
    """One endpoint's queue, requests at once and connections."""

    def __init__(self, dispatcher: "Dispatcher", endpoint_id: str) -> None:
        s = dispatcher.deps.settings
        self.dispatcher = dispatcher
        self.endpoint_id = endpoint_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=s.endpoint_queue)
        self.keys: set[str] = set()  # aggregates queued or in flight here
        self.http = client(dispatcher.backend, limits=dispatcher.limits, connections=s.endpoint_concurrency)
        self.tasks = [asyncio.create_task(self._run(), name=f"endpoint:{endpoint_id}")
                      for _ in range(s.endpoint_concurrency)]
        self.last_used = asyncio.get_running_loop().time()

    @property
    def full(self) -> bool:
        return self.queue.full()

    @property
    def idle(self) -> bool:
        return self.queue.empty() and not self.keys

    def offer(self, delivery: dict[str, Any]) -> None:
        self.keys.add(delivery["order_key"])
        self.queue.put_nowait(delivery)
        self.last_used = asyncio.get_running_loop().time()

    async def _run(self) -> None:
        while True:
            delivery = await self.queue.get()
            try:
                await self.dispatcher.attempt(self.http, delivery)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the lease brings it back; the log says why
                log.exception("delivery %s could not be attempted", delivery["_id"])
            finally:
                self.keys.discard(delivery["order_key"])
                self.last_used = asyncio.get_running_loop().time()
                self.dispatcher.wake()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()


class Dispatcher:
    def __init__(self, deps: h.Deps, *, resolver: Resolver = system_resolver,
                 after_send: AfterSend | None = None, rng=None) -> None:  # noqa: ANN001
        s = deps.settings
        self.deps = deps
        self.db = deps.db
        self.backend = GuardedBackend(allow_loopback=s.allow_loopback_endpoints, resolver=resolver)
        self.limits = Limits(connect=s.connect_timeout_seconds, read=s.read_timeout_seconds,
                             total=s.attempt_timeout_seconds, max_body=s.max_response_bytes,
                             excerpt=s.response_excerpt_chars)
        self.workers: dict[str, EndpointWorker] = {}
        # a seam for the crash tests: runs after the endpoint answered, before the answer is written
        self.after_send = after_send
        self.rng = rng
        # endpoint id -> (its document, its partner's agreement, when read, deps.generation then)
        self._endpoints: dict[str, tuple[dict[str, Any] | None, Agreement | None, float, int]] = {}
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.round()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("dispatch round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.deps.settings.dispatch_poll_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        workers, self.workers = list(self.workers.values()), {}
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)

    async def _unavailable_endpoints(self) -> list[str]:
        disabled = [d["_id"] async for d in self.db[repo.ENDPOINTS].find({"status": {"$ne": "enabled"}}, {"_id": 1})]
        return disabled + [eid for eid, w in self.workers.items() if w.full]

    async def round(self) -> int:
        """Claim what is due (and what a dead dispatcher held past its lease) and hand it to the workers."""
        now = self.deps.clock()
        skip = set(await self._unavailable_endpoints())
        handed = 0
        due = repo.due_deliveries(self.db, now, skip=skip, limit=self.deps.settings.dispatch_batch)
        async with contextlib.aclosing(due):
            async for delivery in due:
                worker = self.workers.get(delivery["endpoint_id"])
                if worker is not None and (worker.full or delivery["order_key"] in worker.keys):
                    continue
                if await repo.earlier_unfinished(self.db, delivery):
                    continue
                claimed = await self._claim(delivery, now)
                if claimed is None:
                    continue
                if worker is None:
                    worker = self.workers[delivery["endpoint_id"]] = EndpointWorker(self, delivery["endpoint_id"])
                worker.offer(claimed)
                handed += 1
        await self._retire_idle_workers()
        return handed

    async def _claim(self, delivery: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        claim = uuid.uuid4().hex
        lease = now + timedelta(seconds=self.deps.settings.delivery_lease_seconds)
        result = await self.db[repo.DELIVERIES].update_one(
            {"_id": delivery["_id"], "state": delivery["state"], "next_attempt_at": delivery["next_attempt_at"]},
            {"$set": {"state": repo.SENDING, "claim": claim, "next_attempt_at": lease}})
        if result.modified_count == 0:
            return None  # another dispatcher took it
        return {**delivery, "state": repo.SENDING, "claim": claim, "next_attempt_at": lease}

    async def _retire_idle_workers(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        for endpoint_id, worker in list(self.workers.items()):
            if worker.idle and loop_time - worker.last_used > 30:
                del self.workers[endpoint_id]
                await worker.close()

    async def _release(self, delivery: dict[str, Any], **fields: Any) -> None:
        await self.db[repo.DELIVERIES].update_one({"_id": delivery["_id"], "claim": delivery["claim"]},
                                                  {"$set": {"claim": None, **fields}})

    async def attempt(self, http: httpx.AsyncClient, delivery: dict[str, Any]) -> None:
        """Send one delivery once and record what happened."""
        deps = self.deps
        now = deps.clock()
        endpoint_doc, agreement = await self._endpoint(delivery["endpoint_id"])
        if endpoint_doc is None:
            await self._release(delivery, state=repo.CANCELLED, last_error="the endpoint was removed", finished_at=now)
            return
        endpoint = repo.endpoint_from_doc(endpoint_doc, deps.box)
        if not endpoint.enabled:
            # it waits, unsent and uncounted, until the partner enables the endpoint again
            await self._release(delivery, state=repo.PENDING, next_attempt_at=now)
            return
        event = await self.db[repo.EVENTS].find_one({"_id": delivery["event_id"]})
        if event is None:
            await self._release(delivery, state=repo.FAILED, finished_at=now,
                                last_error="the event is no longer kept (older than the retention period)")
            return
        if not endpoint.wants(event["type"], agreement):
            await self._release(delivery, state=repo.CANCELLED, finished_at=now,
                                last_error="the endpoint or the agreement no longer includes this event type")
            return
        body = self.body(event, agreement)
        headers = signed_headers(delivery["_id"], body, endpoint.signing_secrets(now), datetime.now(UTC))
        sent = await post(http, self.backend, endpoint.url, body.encode(), headers, self.limits)
        if self.after_send is not None:
            await self.after_send(delivery, sent)
        self.sent += 1
        await h.record_attempt(deps, delivery, answer=sent.answer, latency_ms=sent.latency_ms, excerpt=sent.excerpt,
                               rng=self.rng)

    async def _endpoint(self, endpoint_id: str) -> tuple[dict[str, Any] | None, Agreement | None]:
        """The endpoint and its agreement, read again after ENDPOINT_CACHE_SECONDS (at once after a change made
        in this process): a disabled endpoint, a rotated secret or a narrowed agreement counts within that time."""
        loop_time = asyncio.get_running_loop().time()
        cached = self._endpoints.get(endpoint_id)
        if cached is not None and cached[3] == self.deps.generation and \
                loop_time - cached[2] < self.deps.settings.endpoint_cache_seconds:
            return cached[0], cached[1]
        doc = await self.db[repo.ENDPOINTS].find_one({"_id": endpoint_id})
        agreement = None
        if doc is not None:
            agreement = Agreement.from_doc(await self.db[repo.AGREEMENTS].find_one({"_id": doc["partner_id"]}),
                                           doc["partner_id"])
        self._endpoints[endpoint_id] = (doc, agreement, loop_time, self.deps.generation)
        return doc, agreement

    @staticmethod
    def body(event: dict[str, Any], agreement: Agreement) -> str:
        """The CloudEvent the partner receives, as compact JSON (the signed bytes)."""
        cloudevent = event["cloudevent"]
        if event["type"] == catalogue.TEST_EVENT_TYPE:
            payload = cloudevent
        else:
            cls = catalogue.partner_event_types().get(event["type"])
            payload = redact(cloudevent, cls, agreement.fields_for(event["type"]))
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)



