"""What partners reads: every event type of every topic the registry marks external (``partners`` among a
topic's consumers) — never ``nrn.accounts.security.v1``. Each event is kept for replays and becomes one
delivery per endpoint that wants it (``handlers.receive``), in the consumer's transaction with its inbox
record. Unknown types on those topics are skipped by the kit's runner.
"""

from __future__ import annotations

import asyncio

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from . import handlers as h
from .domain.catalogue import partner_event_types

consumer = EventConsumer("deliveries")

# The running services' dependencies, by database name (several instances can share a process in tests).
_deps: dict[str, h.Deps] = {}
_registered: dict[str, asyncio.Event] = {}


def _event(name: str) -> asyncio.Event:
    return _registered.setdefault(name, asyncio.Event())


def register(deps: h.Deps) -> None:
    _deps[deps.db.name] = deps
    _event(deps.db.name).set()


def unregister(deps: h.Deps) -> None:
    _deps.pop(deps.db.name, None)
    _registered.pop(deps.db.name, None)


async def deliver(event, tx: Tx) -> None:  # noqa: ANN001
    assert tx.envelope is not None
    # the kit starts consuming before the app's start hook has registered its dependencies: wait for them
    # (a bounded wait; the event is retried, never parked, for want of them)
    await asyncio.wait_for(_event(tx.db.name).wait(), timeout=30)
    await h.receive(tx, _deps[tx.db.name], event, tx.envelope)


consumer.handles(*partner_event_types().values())(deliver)
