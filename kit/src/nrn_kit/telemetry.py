"""OpenTelemetry and structured logs.

One trace runs HTTP → MongoDB → outbox → Kafka → consumer: the outbox stores the command's
``traceparent``, the relay and the consumer continue it. Spans are exported by OTLP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` (setting ``otel_exporter_otlp_endpoint``) is set, and not at all otherwise.
Log records carry the current trace and span ids.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from .settings import ServiceSettings

_provider: TracerProvider | None = None
_instrumented = False


def tracer_provider() -> TracerProvider:
    """The process's provider; several services in one process (tests, `nrn up --single`) share it."""
    global _provider
    if _provider is None:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            _provider = current
        else:
            _provider = TracerProvider(resource=Resource.create({"service.namespace": "nrn"}))
            trace.set_tracer_provider(_provider)
    return _provider


def add_span_processor(processor: SpanProcessor) -> None:
    tracer_provider().add_span_processor(processor)


def setup_telemetry(settings: ServiceSettings) -> None:
    """Idempotent. Instruments pymongo before any client exists, as pymongo requires."""
    global _instrumented
    provider = tracer_provider()
    if settings.otel_exporter_otlp_endpoint and not getattr(provider, "_nrn_otlp", False):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        provider._nrn_otlp = True  # type: ignore[attr-defined]
    if not _instrumented:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument()
        HTTPXClientInstrumentor().instrument()
        _instrumented = True
    configure_logging(settings)


def instrument_app(app, metrics=None) -> None:  # noqa: ANN001 — a FastAPI app, nrn_kit.metrics.ServiceMetrics
    """Server spans for every request, HTTP metrics into ``metrics`` (when given), and a log line with
    the trace id for every request that failed (5xx or an exception)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app.add_middleware(FailedRequestLog)
    # One server span per request; the ASGI "send"/"receive" child spans add nothing a reader needs
    # and cost a tenth of a service's CPU under load (profiled in bench/pipeline).
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider(),
                                       meter_provider=metrics.provider if metrics is not None else None,
                                       excluded_urls="health/live,health/ready", exclude_spans=["send", "receive"])


request_log = logging.getLogger("nrn_kit.requests")
_FAILURE_KEY = "nrn_failure"


def note_failure(request, reason: str) -> None:  # noqa: ANN001 — a Starlette request
    """Say why a request is failing (an upstream timed out, …); the failed-request log line quotes it."""
    setattr(request.state, _FAILURE_KEY, reason)


class FailedRequestLog:
    """Logs each request answered with a 5xx (a timed-out upstream call becomes a 503/504 at the
    gateway) or ended by an exception: method, route, status, duration and the trace id, so that the
    trace of a failure can be found from its log line. Runs inside the server span (the
    instrumentation wraps the whole app), so JSON logs carry the same trace id as a field."""

    def __init__(self, app) -> None:  # noqa: ANN001 — an ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def watch(message) -> None:  # noqa: ANN001
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException as exc:
            self._log(scope, status or 500, started, f"{type(exc).__name__}: {exc}")
            raise
        if status >= 500:
            self._log(scope, status, started, scope.get("state", {}).get(_FAILURE_KEY))

    @staticmethod
    def _log(scope, status: int, started: float, error: str | None) -> None:  # noqa: ANN001
        route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
        elapsed_ms = (time.perf_counter() - started) * 1000
        request_log.error(
            "%s %s failed with %d after %.0f ms%s (trace %s)", scope.get("method"), route, status, elapsed_ms,
            f": {error}" if error else "", current_trace_id() or "none",
            extra={"http_method": scope.get("method"), "http_route": route, "http_status": status,
                   "duration_ms": round(elapsed_ms, 1)},
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": getattr(record, "service", None) or _service_name,
        }
        if span.is_valid:
            doc["trace_id"] = format(span.trace_id, "032x")
            doc["span_id"] = format(span.span_id, "016x")
        for key in ("http_method", "http_route", "http_status", "duration_ms"):
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


_service_name = "nrn"
_logging_configured = False


def configure_logging(settings: ServiceSettings) -> None:
    global _service_name, _logging_configured
    _service_name = settings.service_name
    if _logging_configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    if root.level > logging.DEBUG:
        # httpx writes an INFO line per call between services; the traces already hold each call
        # with its timing and status, so it speaks only of trouble unless LOG_LEVEL=DEBUG.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    _logging_configured = True


def current_trace_id() -> str | None:
    span = trace.get_current_span().get_span_context()
    return format(span.trace_id, "032x") if span.is_valid else None
