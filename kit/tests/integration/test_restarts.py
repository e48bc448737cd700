"""Nothing committed is lost, and nothing is applied twice, whatever is killed under load.

A producer service (HTTP → order + outbox in one transaction, its relay embedded), a second relay
as a process of its own (the two contend for the lease), and two replicas of a consumer service
(one group; inbox + `$inc` effect in one transaction) run as separate processes on a database and
a broker of the test's own. While a load generator places orders, a seeded random schedule kills
one part at a time — SIGKILL (a crash) or SIGTERM (a graceful stop) — and starts it again on the
same port and data folder: the producer, the relay, a consumer replica, the database, the broker
(the embedded one loses every topic and offset), or everything at once. Afterwards every order the
producer committed — accepted or not: a killed producer may have committed an order whose answer
never left — is counted exactly once in the consumer's read model.

On the real Kafka lane (KAFKA_BOOTSTRAP_SERVERS set) the broker is the lane's, restarted through
``NRN_KAFKA_LANE`` (scripts/kafka/kafka-lane restart: the same log directory, so nothing is lost
there and nothing is published again), and the schedule is short to keep the lane quick.
``NRN_CHAOS_SEED`` replays a schedule; the seed is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from nrn_kit.infra import LocalPart
from nrn_kit.serving import free_port
from nrn_kit.settings import ServiceSettings
from nrn_kit.testing import ChildProcess, answers, eventually, settings_env

HERE = Path(__file__).resolve().parent
TOPIC = "nrn.restarttest.v1"  # restart_apps.TOPIC (that module runs only in the service processes)
KILLS = (signal.SIGKILL, signal.SIGTERM)


class Rig:
    """The processes under test and the ways to kill them."""

    def __init__(self, tmp: Path, run: str) -> None:
        self.tmp = tmp
        self.run = run
        self.database = LocalPart("mongodb", tmp / "database")
        self.lane = os.environ.get("NRN_KAFKA_LANE")
        self.external_broker = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        self.broker = None if self.external_broker else LocalPart("kafka", tmp / "broker")
        self.services: dict[str, ChildProcess] = {}

    def start_infra(self) -> None:
        self.database.start()
        if self.broker:
            self.broker.start()

    @property
    def bootstrap(self) -> str:
        return self.external_broker or self.broker.address

    def settings(self, service: str, **overrides) -> ServiceSettings:
        values = dict(
            environment="test", service_name=service, kafka_bootstrap_servers=self.bootstrap,
            mongodb_uri=self.database.address, database_name=f"r{self.run}_{service}", topic_prefix=f"r{self.run}.",
            kafka_session_timeout_ms=1000, kafka_heartbeat_interval_ms=200, relay_poll_seconds=0.2,
            relay_lease_seconds=2.0, relay_broker_check_seconds=0.5, consumer_backoff_seconds=0.01,
            topic_partitions=3, log_json=False, log_level="INFO", http_port=free_port(), metrics_port=free_port(),
        )
        values.update(overrides)
        return ServiceSettings(**values)

    def add_service(self, name: str, factory: str, settings: ServiceSettings) -> ChildProcess:
        argv = [sys.executable, "-m", "uvicorn", f"restart_apps:{factory}", "--factory", "--app-dir", str(HERE),
                "--host", "127.0.0.1", "--port", str(settings.http_port), "--no-access-log", "--log-level", "warning"]
        child = ChildProcess(name, argv, settings_env(settings), self.tmp / f"{name}.log",
                             ready=answers(f"http://127.0.0.1:{settings.http_port}/health/ready"))
        child.settings = settings
        self.services[name] = child
        return child

    def add_relay(self, name: str, settings: ServiceSettings) -> ChildProcess:
        child = ChildProcess(name, [sys.executable, "-m", "nrn_kit.relay"], settings_env(settings),
                             self.tmp / f"{name}.log", ready=answers(f"http://127.0.0.1:{settings.metrics_port}/metrics"))
        child.settings = settings
        self.services[name] = child
        return child

    async def restart_broker(self, sig: int) -> None:
        if self.broker:
            await asyncio.to_thread(self.broker.kill, sig)
            await asyncio.to_thread(self.broker.start)
        else:
            mode = "kill" if sig == signal.SIGKILL else "term"
            await asyncio.to_thread(subprocess.run, [self.lane, "restart", mode], check=True,
                                    stdout=subprocess.DEVNULL)

    async def kill_everything(self, sig: int) -> None:
        for child in self.services.values():
            await asyncio.to_thread(child.kill, sig)
        if self.broker:
            await asyncio.to_thread(self.broker.kill, sig)
        await asyncio.to_thread(self.database.kill, sig)
        self.start_infra()
        for child in self.services.values():
            await asyncio.to_thread(child.start)

    def stop(self) -> None:
        for child in self.services.values():
            child.kill(signal.SIGTERM)
        if self.broker:
            self.broker.close()
        self.database.close()


class Load:
    """Places orders from a few concurrent clients until stopped; remembers the accepted ones."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url, self.clients = url, clients
        self.accepted: set[str] = set()
        self.refused = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(i)) for i in range(self.clients)]

    async def _client(self, i: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            n = 0
            while not self._stop.is_set():
                n += 1
                try:
                    response = await http.post("/orders", json={"item": f"client {i} order {n}"})
                except httpx.HTTPError:
                    self.refused += 1
                    await asyncio.sleep(0.2)  # the producer is down: try again shortly
                    continue
                if response.status_code == 201:
                    self.accepted.add(response.json()["id"])
                else:
                    self.refused += 1
                    await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    try:
        text = httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_every_committed_order_is_applied_exactly_once_whatever_is_killed(tmp_path):
    seed = int(os.environ.get("NRN_CHAOS_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print(f"chaos seed {seed} (NRN_CHAOS_SEED={seed} replays it)")
    rig = Rig(tmp_path, uuid.uuid4().hex[:8])
    rig.start_infra()
    producer_settings = rig.settings("restartprod")
    producer = rig.add_service("producer", "producer_app", producer_settings)
    # The same outbox, relayed by a process of its own too: the two take turns holding the lease.
    rig.add_relay("relay", producer_settings.model_copy(update={"metrics_port": free_port(),
                                                                 "relay_watch_changes": True}))
    consumer_settings = rig.settings("restartcons")
    for name in ("consumer-a", "consumer-b"):
        rig.add_service(name, "consumer_app", consumer_settings.model_copy(
            update={"http_port": free_port(), "metrics_port": free_port()}))
    mongo = AsyncMongoClient(rig.database.address, serverSelectionTimeoutMS=30_000)
    load = None
    try:
        for child in rig.services.values():
            await asyncio.to_thread(child.start)
        load = Load(f"http://127.0.0.1:{producer_settings.http_port}")
        load.start()

        actions = ["producer", "relay", "consumer-a", "consumer-b", "broker", "database", "everything"]
        rounds = 7
        if rig.external_broker:
            # The real Kafka lane proves the broker's restart; the rest is proven on the embedded lane.
            actions, rounds = (["broker"], 2) if rig.lane else (["producer", "consumer-a"], 2)
        schedule = [(rng.choice(actions), rng.choice(KILLS), rng.uniform(0.5, 2.5)) for _ in range(rounds)]
        if not rig.external_broker:
            schedule[0] = ("broker", signal.SIGKILL, 1.5)  # the case that lost the most before: always once
        for target, sig, after in schedule:
            await asyncio.sleep(after)
            print(f"  {time.strftime('%X')} {signal.Signals(sig).name} {target} "
                  f"({len(load.accepted)} orders accepted so far)")
            if target == "broker":
                await rig.restart_broker(sig)
            elif target == "database":
                await asyncio.to_thread(rig.database.kill, sig)
                await asyncio.to_thread(rig.database.start)
            elif target == "everything":
                await rig.kill_everything(sig)
            else:
                child = rig.services[target]
                await asyncio.to_thread(child.kill, sig)
                await asyncio.to_thread(child.start)
        await asyncio.sleep(1.0)
        await load.stop()
        assert len(load.accepted) > 50, f"the load hardly ran ({len(load.accepted)} accepted)"

        orders = mongo[producer_settings.database_name].orders
        counts = mongo[consumer_settings.database_name].order_counts
        committed = {d["_id"] async for d in orders.find({}, {"_id": 1})}
        assert load.accepted <= committed, "an accepted order is not in the producer's database"
        remaining = set(committed)

        async def all_applied() -> bool:
            found = [d["_id"] async for d in counts.find({"_id": {"$in": list(remaining)[:5000]}}, {"_id": 1})]
            remaining.difference_update(found)
            return not remaining

        await eventually(all_applied, timeout=180, interval=0.5)

        # Quiet: everything published (the relays' backlog is 0) and every partition read to its end
        # (lag 0 on both replicas), so a repeat still on its way would have arrived.
        metric_urls = {name: f"http://127.0.0.1:{child.settings.metrics_port}/metrics"
                       for name, child in rig.services.items()}

        async def quiet() -> bool:
            backlogs, lags = [], []
            for name, url in metric_urls.items():
                samples = await asyncio.to_thread(scrape, url)
                backlogs += [v for (n, _), v in samples.items() if n == "nrn_outbox_backlog"]
                lags += [v for (n, _), v in samples.items() if n == "nrn_consumer_lag"]
            return bool(backlogs) and not any(backlogs) and bool(lags) and not any(lags)

        await eventually(quiet, timeout=120, interval=0.5)
        twice = [d async for d in counts.find({"applied": {"$ne": 1}})]
        assert not twice, f"applied more than once: {twice[:5]}"
        assert await counts.count_documents({}) == len(committed), "an effect without a committed order"
        # The gathered inserts (Tx.insert) on both sides: one each, none lost, none without its order.
        lines = [d["order_id"] async for d in mongo[producer_settings.database_name].order_lines.find()]
        assert sorted(lines) == sorted(committed), "an order's queued line was lost, doubled or orphaned"
        receipts = {d["_id"] async for d in mongo[consumer_settings.database_name].order_receipts.find()}
        assert receipts == committed, "a queued receipt was lost or orphaned"
        print(f"  {len(committed)} orders committed ({len(load.accepted)} accepted, {load.refused} refused "
              f"while parts were down), each applied exactly once")
    finally:
        if load is not None and not load._stop.is_set():
            with contextlib.suppress(Exception):
                await load.stop()
        await mongo.close()
        rig.stop()
