"""The kit's entry points that the production images run besides the service: the compose stack's
one-shot topic job (``python -m nrn_kit.kafka``) and the containers' health check
(``python -m nrn_kit.healthcheck``), each as its own process, as a container runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from aiokafka import AIOKafkaClient
from fastapi import FastAPI

from nrn_contracts import TOPICS, dlq_topic
from nrn_contracts.topics import dlq_partitions
from nrn_kit.http import health_router
from nrn_kit.serving import free_port, serve_app


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MONGODB_", "TOPIC_", "HTTP_", "METRICS_"))}
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120, env={**base, **env})


async def test_topic_job_creates_every_registry_topic_as_the_registry_says(nrn_infra, test_id) -> None:  # noqa: ANN001
    prefix = f"t{test_id}."
    env = {"KAFKA_BOOTSTRAP_SERVERS": nrn_infra.kafka_bootstrap_servers, "TOPIC_PREFIX": prefix, "LOG_JSON": "false"}
    first = await asyncio.to_thread(_run, ["nrn_kit.kafka"], **env)
    assert first.returncode == 0, first.stderr
    wanted = {prefix + t: topic.partitions for t, topic in TOPICS.items()}
    wanted |= {prefix + dlq_topic(t): dlq_partitions() for t in TOPICS}
    assert {line.split()[1].rstrip(":") for line in first.stdout.splitlines()} == set(wanted)
    client = AIOKafkaClient(bootstrap_servers=nrn_infra.kafka_bootstrap_servers)
    await client.bootstrap()
    try:
        metadata = await client.fetch_all_metadata()
        found = {name: len(metadata.partitions_for_topic(name) or ()) for name in wanted}
    finally:
        await client.close()
    assert found == wanted
    # run again (a stack restarted): the topics stay as they are, the job still succeeds
    again = await asyncio.to_thread(_run, ["nrn_kit.kafka"], **env)
    assert again.returncode == 0, again.stderr


async def test_health_check_exits_by_what_the_service_answers() -> None:
    failing = {"on": False}

    async def database() -> None:
        if failing["on"]:
            raise RuntimeError("database unreachable")

    app = FastAPI()
    app.include_router(health_router({"database": database}))
    nothing = free_port()
    async with serve_app(app) as url:
        port = url.rsplit(":", 1)[1]
        ready = await asyncio.to_thread(_run, ["nrn_kit.healthcheck"], HTTP_PORT=port)
        assert ready.returncode == 0, ready.stderr
        failing["on"] = True
        unready = await asyncio.to_thread(_run, ["nrn_kit.healthcheck"], HTTP_PORT=port)
        assert unready.returncode == 1 and "answered 503" in unready.stderr
        live = await asyncio.to_thread(_run, ["nrn_kit.healthcheck", "--live"], HTTP_PORT=port)
        assert live.returncode == 0, live.stderr
        # a relay's container: the metrics port, here with nothing listening on it
        gone = await asyncio.to_thread(_run, ["nrn_kit.healthcheck", "--metrics"], HTTP_PORT=port, METRICS_PORT=str(nothing))
        assert gone.returncode == 1 and f"127.0.0.1:{nothing}/metrics" in gone.stderr
