"""How long a consumer replica's partitions wait when it dies, under the kit's consumer settings.

A producer service takes commands at a steady rate; two replicas of a consumer service (one group,
3 partitions) apply them and note when. One replica is then killed (SIGKILL: it cannot leave the
group, so its partitions wait for its session to time out), stopped (SIGTERM: it leaves the group),
or killed and started again at once (with static membership it rejoins as itself). The figure is
the longest an event emitted after that waits to be applied, against the longest before it.

    python -m bench.takeover [--rate 40] [--after 20]

Each scenario names its session timeout / heartbeat interval; "old" is the kit's earlier default.
Uses KAFKA_BOOTSTRAP_SERVERS when set (a real broker), the embedded broker otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time

import aiohttp
import httpx
from pymongo import AsyncMongoClient

from nrn_kit.infra import local_infra
from nrn_kit.serving import free_port
from nrn_kit.testing import settings_env

from ..common import bench_settings, service_process

SCENARIOS = [
    # name, session ms, heartbeat ms, how the replica goes, static membership
    ("old settings, replica killed", 10_000, 3_000, "kill", False),
    ("new settings, replica killed", 6_000, 1_000, "kill", False),
    ("new settings, replica stopped", 6_000, 1_000, "term", False),
    ("new settings + static membership, replica killed and restarted", 6_000, 1_000, "restart", True),
]


def replica(settings, port: int) -> subprocess.Popen:  # noqa: ANN001
    env = dict(os.environ)
    env.update(settings_env(settings))
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.takeover.app:consumer_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError("replica exited")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError("replica not ready")


async def scenario(infra, name: str, session: int, heartbeat: int, how: str, static: bool,  # noqa: ANN001
                   rate: float, after: float) -> dict:
    prod = bench_settings(infra, service_name="takeprod", topic_partitions=3)
    cons = prod.model_copy(update={"service_name": "takecons", "database_name": prod.database_name + "_c",
                                   "kafka_session_timeout_ms": session, "kafka_heartbeat_interval_ms": heartbeat})
    ports = [free_port(), free_port()]
    settings = [cons.model_copy(update={"http_port": p, "kafka_group_instance_id": f"replica-{i}" if static else None})
                for i, p in enumerate(ports)]
    url = f"http://127.0.0.1:{free_port()}"
    with service_process("bench.pipeline.app:producer_app", prod, int(url.rsplit(":", 1)[1])):
        procs = [replica(s, p) for s, p in zip(settings, ports, strict=True)]
        try:
            for p, proc in zip(ports, procs, strict=True):
                await asyncio.to_thread(wait_ready, p, proc)
            client = AsyncMongoClient(infra.mongodb_uri)
            effects = client[cons.database_name].effects
            stop = asyncio.Event()

            async def load() -> None:
                # A steady rate, whatever each answer takes: one task per command.
                async with aiohttp.ClientSession(base_url=url) as http:
                    async def post(i: int) -> None:
                        async with http.post("/pings", json={"body": f"ping {i}"}) as r:
                            r.raise_for_status()

                    posts, i = [], 0
                    while not stop.is_set():
                        i += 1
                        posts.append(asyncio.create_task(post(i)))
                        await asyncio.sleep(1 / rate)
                    await asyncio.gather(*posts)

            loading = asyncio.create_task(load())
            await asyncio.sleep(15)  # both replicas hold partitions and keep up
            killed_at = time.time()
            victim = procs[1]
            if how == "term":
                os.killpg(victim.pid, signal.SIGTERM)
            else:
                os.killpg(victim.pid, signal.SIGKILL)
            await asyncio.to_thread(victim.wait)
            if how == "restart":
                procs[1] = replica(settings[1], ports[1])
            await asyncio.sleep(after)
            stop.set()
            await loading
            await asyncio.sleep(max(session / 1000 * 2, 5))  # let the last ones land
            docs = await effects.find({}, {"emitted_at": 1, "applied_at": 1}).to_list(None)
            await client.drop_database(prod.database_name)
            await client.drop_database(cons.database_name)
            await client.close()
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait()
    before = [d["applied_at"].timestamp() - d["emitted_at"].timestamp() for d in docs
              if d["emitted_at"].timestamp() < killed_at - 1]
    after_kill = [d["applied_at"].timestamp() - d["emitted_at"].timestamp() for d in docs
                  if d["emitted_at"].timestamp() >= killed_at]
    return {"scenario": name, "session/heartbeat ms": f"{session}/{heartbeat}",
            "longest wait before, s": round(max(before), 2), "longest wait after, s": round(max(after_kill), 2),
            "events after": len(after_kill)}


async def main(rate: float, after: float) -> None:
    with local_infra() as infra:
        broker = "real Kafka" if "kafka" not in infra.started else "embedded broker (Tansu)"
        print(f"== consumer takeover on the {broker}, {rate:.0f} commands/s, 3 partitions, 2 replicas")
        for spec in SCENARIOS:
            result = await scenario(infra, *spec, rate=rate, after=after)
            print("  " + "  ".join(f"{k}: {v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--after", type=float, default=20, help="seconds of load after the replica goes")
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.after))
