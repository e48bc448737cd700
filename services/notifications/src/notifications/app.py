"""The one wiring point: settings → kit runtime → routes, the consumer, the sender, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec

from . import api, consumers
from .adapters.mongo import INDEXES
from .config import Settings
from .handlers import Clock, Deps, follow_ups_due, send_digests, system_clock
from .sender import Sender, Transport

log = logging.getLogger(__name__)


async def _schedule_forever(runtime: Runtime) -> None:
    deps: Deps = runtime.state["deps"]
    interval = runtime.settings.schedule_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            digests = await send_digests(deps, limit=runtime.settings.schedule_batch)
            follow_ups = await follow_ups_due(deps, limit=runtime.settings.schedule_batch)
            if digests or follow_ups:
                log.info("schedule: %d digest(s), %d follow-up reminder(s)", digests, follow_ups)
                runtime.state["sender"].wake()
        except Exception:  # noqa: BLE001 - the next round tries again; the log says why
            log.exception("notification schedule failed")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               transports: list[Transport] | None = None) -> FastAPI:
    """``transports`` replace the SMTP connections (tests); ``clock`` the time source."""
    settings = settings or Settings()

    async def start(runtime: Runtime) -> None:
        assert runtime.store is not None
        deps = Deps(store=runtime.store, settings=settings, clock=clock or system_clock)
        runtime.state["deps"] = deps
        consumers.register(deps)
        sender = Sender(runtime.db, settings, clock=deps.clock, transports=transports)
        runtime.state["sender"] = sender
        tasks = runtime.state.setdefault("tasks", [])
        runtime.state["stop"] = stop_event = asyncio.Event()
        if settings.sender_enabled:
            tasks.append(asyncio.create_task(sender.run(stop_event), name="mail-sender"))
        if settings.schedule_interval_seconds > 0:
            tasks.append(asyncio.create_task(_schedule_forever(runtime), name="notification-schedule"))

    async def stop(runtime: Runtime) -> None:
        if "stop" in runtime.state:
            runtime.state["stop"].set()
        for task in runtime.state.pop("tasks", []):
            if task.get_name() == "mail-sender":
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), timeout=2)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if "deps" in runtime.state:
            consumers.unregister(runtime.state["deps"])

    return create_app_from_spec(ServiceSpec(
        settings=settings,
        title="notifications",
        description="Email and in-page notices to people, driven by the other services' events",
        routers=[api.router],
        consumers=[consumers.consumer],
        indexes=INDEXES,
        publishes=[],
        on_start=[start],
        on_stop=[stop],
    ))
