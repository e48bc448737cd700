"""The one wiring point: settings → kit runtime → routes, consumers, indexes, the breach sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nrn_contracts import REQUESTS311_TOPIC

from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec
from nrn_kit.http import problem

from . import api, consumers
from .adapters.mongo import INDEXES
from .config import Settings
from .domain.errors import RuleViolation
from .handlers import Clock, Deps, ensure_metrics, ensure_queue_fields, sweep_service_levels, system_clock

log = logging.getLogger(__name__)


async def _sweep_forever(runtime: Runtime) -> None:
    interval = runtime.settings.sla_sweep_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            result = await sweep_service_levels(runtime.state["deps"], batch=runtime.settings.sla_sweep_batch)
            if result["breached"]:
                log.info("service-level sweep: %s", result)
        except Exception:  # noqa: BLE001 - the next round tries again; the log says why
            log.exception("service-level sweep failed")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()

    async def start(runtime: Runtime) -> None:
        assert runtime.store is not None
        runtime.state["deps"] = Deps(store=runtime.store, clock=clock or system_clock,
                                     levels=settings.service_levels, call_hours=settings.call_hours)
        await ensure_metrics(runtime.state["deps"])
        if await ensure_queue_fields(runtime.state["deps"]):
            log.info("queue sort and search fields added to requests written before they existed")
        runtime.state["http"] = httpx.AsyncClient(timeout=settings.similar_timeout_seconds)
        if settings.sla_sweep_interval_seconds > 0:
            runtime.state["sweep"] = asyncio.create_task(_sweep_forever(runtime), name="sla-sweep")

    async def stop(runtime: Runtime) -> None:
        task = runtime.state.pop("sweep", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        http = runtime.state.pop("http", None)
        if http is not None:
            await http.aclose()

    app = create_app_from_spec(ServiceSpec(
        settings=settings,
        title="requests311",
        description="311 for Cities: a question answered with a memo and a call, on the clock",
        routers=[api.router],
        consumers=[consumers.consumer],
        indexes=INDEXES,
        publishes=[REQUESTS311_TOPIC],
        on_start=[start],
        on_stop=[stop],
    ))

    @app.exception_handler(RuleViolation)
    async def _rule(request: Request, exc: RuleViolation) -> JSONResponse:
        extra = {}
        if getattr(exc, "actual", None) is not None:
            extra["current_version"] = exc.actual  # type: ignore[attr-defined]
        if getattr(exc, "current_revision", None) is not None:
            extra["current_revision"] = exc.current_revision  # type: ignore[attr-defined]
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        return problem(exc.status, exc.title, exc.detail, code=exc.rule.replace("_", "-"),
                       instance=request.url.path, field=exc.field, rule=exc.rule, errors=errors, **extra)

    return app
