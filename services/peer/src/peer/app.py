"""The one wiring point: settings → kit runtime → routes, consumers, indexes, the hold sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nrn_contracts import PEER_TOPIC

from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec
from nrn_kit.http import problem

from . import api, api_probono, consumers, handlers_health, handlers_probono
from .adapters import health as health_store
from .adapters import probono as probono_store
from .adapters.mongo import INDEXES
from .config import Settings
from .domain.errors import RuleViolation
from .handlers import Clock, Deps, expire_holds, system_clock

log = logging.getLogger(__name__)
MULTIPART_SLACK = 64 * 1024  # the multipart envelope around a health import of the largest size


def _indexes() -> dict:
    """Every program's indexes, one list per collection (health adds one to the cities read model)."""
    out: dict = {}
    for part in (INDEXES, health_store.INDEXES, probono_store.INDEXES):
        for collection, models in part.items():
            out.setdefault(collection, []).extend(models)
    return out


async def _sweep_forever(runtime: Runtime) -> None:
    interval = runtime.settings.hold_sweep_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            result = await expire_holds(runtime.state["deps"], batch=runtime.settings.hold_sweep_batch)
            if result["expired"]:
                log.info("waitlist holds lapsed: %s", result)
        except Exception:  # noqa: BLE001 - the next round tries again; the log says why
            log.exception("waitlist hold sweep failed")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()

    async def start(runtime: Runtime) -> None:
        assert runtime.store is not None
        runtime.state["deps"] = Deps(store=runtime.store, clock=clock or system_clock,
                                     hold=timedelta(hours=settings.waitlist_hold_hours),
                                     term_notice=timedelta(days=settings.term_notice_days))
        # the shipped health catalogue: measures defined once (HealthMeasureDefined), revised when the code's change
        defined = await handlers_health.sync_catalogue(runtime.state["deps"])
        if defined:
            log.info("health catalogue: %d measures defined or revised", defined)
        # volunteers saved before each kept their track record summary get it now (matching works it out on
        # first use meanwhile); once done, this is one read finding no one
        kept = await handlers_probono.keep_tracks(runtime.state["deps"])
        if kept:
            log.info("pro bono: track records worked out for %d volunteers", kept)
        if settings.hold_sweep_interval_seconds > 0:
            runtime.state["sweep"] = asyncio.create_task(_sweep_forever(runtime), name="hold-sweep")

    async def stop(runtime: Runtime) -> None:
        task = runtime.state.pop("sweep", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_app_from_spec(ServiceSpec(
        settings=settings,
        title="peer",
        description="Peer networking: convenings, working groups, the Peer Steering Committee, peer introductions, "
                    "the Peer Health Group's health dashboards, the pro bono talent network",
        routers=[api.router, api_probono.router],
        consumers=[consumers.consumer],
        indexes=_indexes(),
        upload_routes={"/health-data/imports": settings.health_import_max_bytes + MULTIPART_SLACK},
        publishes=[PEER_TOPIC],
        on_start=[start],
        on_stop=[stop],
    ))

    @app.exception_handler(RuleViolation)
    async def _rule(request: Request, exc: RuleViolation) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        return problem(exc.status, exc.title, exc.detail, code=exc.rule.replace("_", "-"),
                       instance=request.url.path, field=exc.field, rule=exc.rule, errors=errors)

    return app
