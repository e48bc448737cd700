"""Operator metrics on a running kit service: the Prometheus endpoint is scraped over HTTP and holds
the series an operator reads; a failed request is logged with its trace id."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import APIRouter, Depends
from prometheus_client.parser import text_string_to_metric_families

from nrn_contracts import EVENT_TYPES, Event
from nrn_kit.app import Runtime, ServiceSpec, create_app, get_runtime
from nrn_kit.consumer import EventConsumer
from nrn_kit.serving import serve_app
from nrn_kit.testing import eventually

TOPIC = "nrn.metricstest.v1"


@pytest.fixture
def noted_event():
    class Noted(Event, type="org.nationalresourcenetwork.metricstest.noted.v1", topic=TOPIC, key="note_id"):
        note_id: str

    yield Noted
    EVENT_TYPES.pop(Noted.type, None)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the first series ``name`` whose labels include ``labels`` (None when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


async def test_the_scrape_endpoint_holds_http_outbox_relay_and_consumer_series(make_settings, noted_event, caplog):
    router = APIRouter()

    @router.post("/notes/{note_id}", status_code=201)
    async def note(note_id: str, runtime: Runtime = Depends(get_runtime)) -> dict:
        async def fn(tx) -> None:  # noqa: ANN001
            tx.emit(noted_event(note_id=note_id))

        await runtime.store.transaction(fn)
        return {"id": note_id}

    @router.get("/broken")
    async def broken() -> dict:
        raise RuntimeError("the disk is on fire")

    consumer = EventConsumer("notes")

    @consumer.handles(noted_event)
    async def keep(event, tx) -> None:  # noqa: ANN001
        await tx.db.notes.insert_one({"_id": event.note_id}, session=tx.session)

    settings = make_settings(service_name="metricstest")
    app = create_app(ServiceSpec(settings=settings, title="metrics test", routers=[router], consumers=[consumer],
                                 publishes=[TOPIC]))
    runtime: Runtime = app.state.runtime
    async with serve_app(app) as base, httpx.AsyncClient(base_url=base) as http:
        url = runtime.metrics.url
        assert url and url.endswith("/metrics")
        assert url.split(":")[2].split("/")[0] != base.rsplit(":", 1)[1], "a port of its own"
        assert (await http.get("/metrics")).status_code == 404, "not on the service's own port"
        for i in range(3):
            assert (await http.post(f"/notes/n{i}")).status_code == 201
        await producer_park_garbage(runtime, settings.topic(TOPIC))
        with caplog.at_level(logging.ERROR, logger="nrn_kit.requests"):
            assert (await http.get("/broken")).status_code == 500

        async def scraped() -> str | None:
            text = (await http.get(url)).text
            applied = sample(text, "nrn_consumer_events_total", topic=TOPIC, outcome="applied")
            # the lag gauge appears once a fetch has reported the partitions' highwater and the group
            # committed: on real Kafka that can come a poll after the events were applied
            lags = [sample(text, "nrn_consumer_lag", topic=TOPIC, partition=str(p)) for p in range(2)]
            settled = [lag for lag in lags if lag is not None] and all(lag in (0, None) for lag in lags)
            # and the relay re-reads its backlog once a second: a scrape can still hold the one before
            drained = sample(text, "nrn_outbox_backlog", service="metricstest") == 0
            done = (applied == 3 and sample(text, "nrn_consumer_dead_letters_total", topic=TOPIC) and settled
                    and drained)
            return text if done else None

        text = await eventually(scraped)

    svc = {"service": "metricstest"}
    assert sample(text, "http_server_duration_milliseconds_count", http_target="/notes/{note_id}",
                  http_status_code="201", http_method="POST") == 3
    assert sample(text, "http_server_duration_milliseconds_count", http_target="/broken", http_status_code="500") == 1
    assert sample(text, "nrn_relay_events_published_total", topic=TOPIC, **svc) == 3
    assert sample(text, "nrn_relay_batches_total", outcome="published", **svc) >= 1
    assert sample(text, "nrn_outbox_backlog", **svc) == 0
    assert sample(text, "nrn_outbox_oldest_unpublished_age_seconds", **svc) == 0
    group = settings.group("notes")
    lags = [sample(text, "nrn_consumer_lag", group=group, topic=TOPIC, partition=str(p)) for p in range(2)]
    assert [lag for lag in lags if lag is not None] and all(lag in (0, None) for lag in lags)
    assert sample(text, "nrn_consumer_events_total", topic=TOPIC, outcome="parked", group=group) == 1
    assert sample(text, "nrn_consumer_dead_letters_total", topic=TOPIC, group=group) == 1
    assert sample(text, "process_start_time_seconds") > 0
    assert sample(text, "target_info", service_name="metricstest") == 1

    [line] = [r for r in caplog.records if r.name == "nrn_kit.requests"]
    message = line.getMessage()
    assert "GET /broken failed with 500" in message and "RuntimeError: the disk is on fire" in message
    assert re.search(r"\(trace [0-9a-f]{32}\)", message), message


async def producer_park_garbage(runtime: Runtime, topic: str) -> None:
    """A record no consumer can read: it is parked in the dead-letter topic and counted."""
    await runtime.producer.send_and_wait(topic, value=b"{not json", key=b"garbage")


async def test_metrics_can_be_turned_off_and_a_taken_port_does_not_stop_the_service(make_settings):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = create_app(ServiceSpec(settings=make_settings(service_name="metricsport", metrics_port=port), title="t"))
        async with serve_app(app) as base, httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/health/ready")).status_code == 200
            assert app.state.runtime.metrics.url is None
    app = create_app(ServiceSpec(settings=make_settings(service_name="metricsoff", metrics_enabled=False), title="t"))
    async with serve_app(app):
        assert app.state.runtime.metrics.url is None
