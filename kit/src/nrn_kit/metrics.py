"""Operator metrics: OpenTelemetry instruments, a Prometheus scrape endpoint, OTLP when configured.

Each service (and a relay run as ``nrn relay``) has one :class:`ServiceMetrics`: its own
``MeterProvider`` whose readers are a Prometheus reader on the service's own registry and, when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, an OTLP exporter (``<endpoint>/v1/metrics``, every 15 s).

**The scrape endpoint** is ``GET http://METRICS_HOST:METRICS_PORT/metrics`` (Prometheus text format),
a listener of its own beside the service's HTTP port, so that it never shows on the public
gateway's port and never meets a service's own routes (requests311's ``GET /metrics`` is the
program's figures). ``METRICS_PORT`` defaults to ``HTTP_PORT + 1000`` (``nrn up``: gateway 9000,
accounts 9001, requests311 9002, library 9003; with ``ENVIRONMENT=test`` a free port), ``0`` picks a free
port (the bound address is :attr:`ServiceMetrics.url`), ``METRICS_ENABLED=false`` turns the listener off (OTLP still exports).
``METRICS_HOST`` defaults to ``HTTP_HOST``. The listener is a thread (prometheus_client's), so it
answers even while the service's event loop is stuck; a port it cannot bind is logged, not fatal.

Series (Prometheus names; OpenTelemetry names are the dotted forms):

=====================================================  =========  ==========================================
``http_server_duration_milliseconds`` (histogram)      ms         ``http_method``, ``http_status_code``,
                                                                  ``http_target`` (the route template, ``""``
                                                                  for an unknown path)
``http_server_active_requests``                        requests   ``http_method``
``nrn_outbox_backlog``                                 entries    committed, not yet published (lease holder)
``nrn_outbox_oldest_unpublished_age_seconds``          s          age of the oldest of those; 0 when none
``nrn_relay_batches_total``                            batches    ``outcome`` = published | failed
``nrn_relay_events_published_total``                   events     ``topic``
``nrn_relay_broker_resets_total``                      resets     the broker lost what was published
                                                                  (``reason``): the window was re-published
``nrn_consumer_lag``                                   records    ``group``, ``topic``, ``partition``
                                                                  (highwater − committed offset)
``nrn_consumer_events_total``                          events     ``group``, ``topic``, ``outcome`` =
                                                                  applied | duplicate | retried | parked
``nrn_consumer_dead_letters_total``                    events     ``group``, ``topic`` (the origin topic)
``nrn_worker_restarts_total``                          restarts   ``worker`` (relay, consumer:NAME) restarted
                                                                  inside the process after an error
``process_start_time_seconds`` and ``process_*``       —          a change of the start time is a restart
``target_info``                                        —          ``service_name``, ``service_namespace``
=====================================================  =========  ==========================================

Every ``nrn_*`` series also has ``service`` (several services share a process in tests).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, ProcessCollector

from .settings import ServiceSettings

log = logging.getLogger(__name__)

# Gauges are read when scraped (from a thread): sources hand back what the event loop last saw.
GaugeSource = Callable[[], Iterable[tuple[float, dict[str, Any]]]]

OTLP_EXPORT_INTERVAL_MS = 15_000


class ServiceMetrics:
    """The instruments of one service and the readers that export them."""

    def __init__(self, settings: ServiceSettings) -> None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        self.settings = settings
        self.service = settings.service_name
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        readers: list[Any] = [PrometheusMetricReader(registry=self.registry)]
        if settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/metrics"
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint),
                                                         export_interval_millis=OTLP_EXPORT_INTERVAL_MS))
        views = [
            # The HTTP instrumentation labels requests with the host, port, scheme and flavour too:
            # per route, method and status is what an operator reads, and it keeps the series few.
            View(instrument_name="http.server.duration",
                 attribute_keys={"http.method", "http.status_code", "http.target"}),
            View(instrument_name="http.server.active_requests", attribute_keys={"http.method"}),
            View(instrument_name="http.server.request.size", aggregation=DropAggregation()),
            View(instrument_name="http.server.response.size", aggregation=DropAggregation()),
        ]  # an instrument no view names keeps the default view
        self.provider = MeterProvider(
            resource=Resource.create({"service.name": self.service, "service.namespace": "nrn"}),
            metric_readers=readers, views=views,
        )
        meter = self.provider.get_meter("nrn_kit")
        self.relay_batches = meter.create_counter(
            "nrn.relay.batches", unit="{batch}", description="Outbox batches the relay sent, by outcome")
        self.relay_published = meter.create_counter(
            "nrn.relay.events.published", unit="{event}", description="Outbox entries the broker acknowledged")
        self.relay_resets = meter.create_counter(
            "nrn.relay.broker_resets", unit="{reset}",
            description="Times the broker had lost what the relay published, so the retention window went again")
        self.consumer_events = meter.create_counter(
            "nrn.consumer.events", unit="{event}", description="Events a consumer handled, by outcome")
        self.dead_letters = meter.create_counter(
            "nrn.consumer.dead_letters", unit="{event}", description="Events parked in the dead-letter topic")
        self.worker_restarts = meter.create_counter(
            "nrn.worker.restarts", unit="{restart}", description="Background workers restarted after an error")
        self._sources: dict[str, list[GaugeSource]] = {"backlog": [], "oldest": [], "lag": []}
        self._lock = threading.Lock()
        meter.create_observable_gauge(
            "nrn.outbox.backlog", [self._observe("backlog")], unit="{entry}",
            description="Outbox entries committed and not yet published")
        meter.create_observable_gauge(
            "nrn.outbox.oldest_unpublished.age", [self._observe("oldest")], unit="s",
            description="Age of the oldest outbox entry not yet published (0 when none is waiting)")
        meter.create_observable_gauge(
            "nrn.consumer.lag", [self._observe("lag")], unit="{record}",
            description="Records on a partition not yet applied by the group (highwater minus committed offset)")
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def attrs(self, **extra: Any) -> dict[str, Any]:
        return {"service": self.service, **extra}

    def add_gauge_source(self, gauge: str, source: GaugeSource) -> Callable[[], None]:
        """Feed ``nrn.outbox.backlog`` ("backlog"), its age ("oldest") or ``nrn.consumer.lag`` ("lag");
        returns the function that removes the source."""
        with self._lock:
            self._sources[gauge].append(source)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._sources[gauge].remove(source)

        return remove

    def _observe(self, gauge: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(_: CallbackOptions) -> Iterable[Observation]:
            with self._lock:
                sources = list(self._sources[gauge])
            out = []
            for source in sources:
                try:
                    out.extend(Observation(value, self.attrs(**attributes)) for value, attributes in source())
                except Exception:  # noqa: BLE001 — one broken source must not hide the others
                    log.exception("metrics source for %s failed", gauge)
            return out

        return callback

    # ---------------------------------------------------------------- the scrape endpoint

    def serve(self) -> str | None:
        """Start the scrape listener (idempotent); returns its URL, or None when off or not bound."""
        if self._server is not None or not self.settings.metrics_enabled:
            return self.url
        from prometheus_client import start_http_server

        host = self.settings.metrics_host or self.settings.http_host
        port = self.settings.metrics_port
        if port is None:
            # Tests run many services side by side: any free port. Otherwise one an operator can predict.
            port = 0 if self.settings.environment == "test" else self.settings.http_port + 1000
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            # Metrics must not keep a service from serving: say so loudly, and run without them.
            log.error("metrics endpoint not started: cannot listen on %s:%s (%s); set METRICS_PORT", host, port, exc)
            return None
        bound = self._server.server_address
        self.url = f"http://{bound[0]}:{bound[1]}/metrics"
        log.info("metrics at %s", self.url)
        return self.url

    def close(self) -> None:
        """Stop the listener (the meter provider flushes OTLP at exit, as the SDK arranges)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.url = None


def seconds_since(moment: float | None) -> float:
    """Age in seconds of a ``time.time()`` value, 0 for None (a gauge that says "nothing waits")."""
    return max(0.0, time.time() - moment) if moment else 0.0
