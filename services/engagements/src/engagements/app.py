"""The one wiring point: settings → kit runtime → routes, consumers, indexes, the attachment store."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nrn_contracts import ENGAGEMENTS_TOPIC

from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec
from nrn_kit.http import problem

from . import api, consumers
from .adapters.files import AttachmentStore
from .adapters.mongo import INDEXES
from .config import Settings
from .domain.errors import EditConflict, Incomplete, RuleViolation
from .handlers import Clock, Deps, system_clock

log = logging.getLogger(__name__)


async def _sweep_orphans_forever(runtime: Runtime) -> None:
    deps: Deps = runtime.state["deps"]
    while True:
        await asyncio.sleep(runtime.settings.orphan_sweep_interval_seconds)
        try:
            removed = await deps.files.sweep_orphans(deps.now())
            if removed:
                log.info("deleted %d attachment(s) no application references", removed)
        except Exception:  # noqa: BLE001 - the next round tries again; the log says why
            log.exception("attachment sweep failed")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()

    async def start(runtime: Runtime) -> None:
        assert runtime.store is not None and runtime.db is not None
        runtime.state["deps"] = Deps(store=runtime.store, files=AttachmentStore(runtime.db),
                                     clock=clock or system_clock, rubric=settings.rubric,
                                     attachment_max_bytes=settings.attachment_max_bytes)
        if settings.orphan_sweep_interval_seconds > 0:
            runtime.state["sweep"] = asyncio.create_task(_sweep_orphans_forever(runtime), name="attachment-sweep")

    async def stop(runtime: Runtime) -> None:
        task = runtime.state.pop("sweep", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_app_from_spec(ServiceSpec(
        settings=settings,
        title="engagements",
        description="Direct technical assistance: applications, review, funding rounds and engagements",
        routers=[api.router],
        consumers=[consumers.consumer],
        indexes=INDEXES,
        publishes=[ENGAGEMENTS_TOPIC],
        on_start=[start],
        on_stop=[stop],
        # attachments are the one upload: their limit plus the multipart envelope (every other body: 1 MiB)
        upload_routes={"/applications/{application_id}/attachments": settings.attachment_max_bytes + 64 * 1024},
    ))

    @app.exception_handler(RuleViolation)
    async def _rule(request: Request, exc: RuleViolation) -> JSONResponse:
        extra: dict = {}
        if getattr(exc, "actual", None) is not None:
            extra["current_version"] = exc.actual  # type: ignore[attr-defined]
        if isinstance(exc, Incomplete):
            errors = exc.errors
        else:
            errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        if isinstance(exc, EditConflict):
            extra["conflicts"] = exc.conflicts
        return problem(exc.status, exc.title, exc.detail, code=exc.rule.replace("_", "-"),
                       instance=request.url.path, field=exc.field, rule=exc.rule, errors=errors, **extra)

    return app
