"""The one wiring point: settings → kit runtime → routes, the consumer, the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI
from nrn_contracts import PARTNERS_TOPIC

from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec
from nrn_kit.mongo import drop_indexes

from . import api, consumers
from .adapters.http import Resolver, system_resolver
from .adapters.mongo import OBSOLETE_INDEXES, indexes
from .config import Settings
from .dispatcher import AfterSend, Dispatcher
from .handlers import Clock, Deps, system_clock


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, resolver: Resolver | None = None,
               after_send: AfterSend | None = None, rng=None) -> FastAPI:  # noqa: ANN001
    """``clock`` replaces the time source of schedules and leases (tests), ``resolver`` the DNS look-up
    (tests map names to addresses), ``after_send`` runs between an answer and its record (crash tests)."""
    settings = settings or Settings()

    async def start(runtime: Runtime) -> None:
        assert runtime.store is not None
        await drop_indexes(runtime.store.db, OBSOLETE_INDEXES)
        deps = Deps(store=runtime.store, settings=settings, clock=clock or system_clock)
        dispatcher = Dispatcher(deps, resolver=resolver or system_resolver, after_send=after_send, rng=rng)
        deps.wake = dispatcher.wake
        runtime.state["deps"] = deps
        runtime.state["dispatcher"] = dispatcher
        consumers.register(deps)
        runtime.state["stop"] = stop_event = asyncio.Event()
        if settings.dispatcher_enabled:
            runtime.state["task"] = asyncio.create_task(dispatcher.run(stop_event), name="webhook-dispatcher")

    async def stop(runtime: Runtime) -> None:
        if "stop" in runtime.state:
            runtime.state["stop"].set()
            runtime.state["dispatcher"].wake()
        task = runtime.state.pop("task", None)
        if task is not None:
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout=2)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if "deps" in runtime.state:
            consumers.unregister(runtime.state["deps"])

    return create_app_from_spec(ServiceSpec(
        settings=settings,
        title="partners",
        description="Partner organisations' webhook subscriptions: signed Standard Webhooks deliveries of CloudEvents",
        routers=[api.router],
        consumers=[consumers.consumer],
        indexes=indexes(settings),
        publishes=[PARTNERS_TOPIC],
        on_start=[start],
        on_stop=[stop],
    ))
