"""What partners reads: every event type of every topic the registry marks external (``partners`` among a
topic's consumers) — never ``nrn.accounts.security.v1``. Each event is kept for replays and becomes one
delivery per endpoint that wants it (``handlers.receive``), in the consumer's transaction with its inbox
record. Unknown types on those topics are skipped by the kit's runner.
"""

from __future__ import annotations

from nrn_kit.consumer import EventConsumer
from nrn_kit.mongo import Tx

from . import handlers as h
from .domain.catalogue import partner_event_types

consumer = EventConsumer("deliveries")

# The running services' dependencies, by database name (several instances can share a process in tests).
_deps: dict[str, h.Deps] = {}


def register(deps: h.Deps) -> None:
    _deps[deps.db.name] = deps


def unregister(deps: h.Deps) -> None:
    _deps.pop(deps.db.name, None)


async def deliver(event, tx: Tx) -> None:  # noqa: ANN001
    assert tx.envelope is not None
    await h.receive(tx, _deps[tx.db.name], event, tx.envelope)


consumer.handles(*partner_event_types().values())(deliver)
