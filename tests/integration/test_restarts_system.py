"""`nrn up` killed and restarted under load on the same data folder loses no question.

This is how the loss was seen (issue 18: 76 of 2,811 accepted questions never reached the library):
officials submit questions through the gateway while the whole platform — `nrn up` with its embedded
broker (memory only) and database (files in the data folder) — is stopped in the ways it stops:
every process killed at once (SIGKILL, as a machine crash or the OOM killer would), Ctrl-C (SIGINT,
graceful), and one service dying (SIGKILL of the library). After each, `nrn up` is started again on
the same data folder (unless it kept running, restarting the service itself). Afterwards every
question requests311 stored — answered or not — is in the library's read model of asked questions
exactly once, and the library applied each `QuestionSubmitted` once (its inbox).

The embedded broker comes back empty each time, so this proves the relays' re-publication and the
consumers' re-reading; on the real Kafka lane the broker outlives `nrn up`, and the lane restarts
the broker itself in kit/tests/integration/test_restarts.py, so this test is left to the embedded lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.testing import CITIES_CSV, OFFICIAL_PASSWORD
from nrn_kit.consumer import applied_event_keys
from nrn_kit.serving import free_port
from nrn_kit.testing import eventually

ADMIN = ("restart-admin@nrn.example", "restart admin passphrase 1")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the services run in sessions of their own, still its children)."""
    out, stack = [], [pid]
    while stack:
        parent = stack.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / "children").read_text().split()]
                out += children
                stack += children
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class NrnUp:
    """`nrn up` as a person runs it, with its output read for the database address and readiness."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.database: str | None = None
        self.urls: dict[str, str] = {}
        self._up = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300, attempts: int = 3) -> None:
        """Start `nrn up` and wait for "NRN is up"; again if it exits first (a port it picked was taken
        between its check and the service's bind: other work on a shared machine)."""
        for attempt in range(1, attempts + 1):
            self._spawn()
            deadline = time.monotonic() + timeout
            while not self._up.wait(0.5):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    break
            if self._up.is_set():
                return
            if self.proc.poll() is None:
                self.kill_all()
            if attempt == attempts:
                raise TimeoutError("nrn up did not come up:\n" + "\n".join(self.lines[-40:]))

    def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")}
        env.update({
            "NRN_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0], "NRN_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
            "STARTER_CITIES": "none", "LOG_JSON": "false", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192",
            # One load generator on 127.0.0.1 stands for many officials: the per-client limits would refuse it.
            "WRITE_RATE_CAPACITY": "100000", "WRITE_RATE_REFILL": "100000",
            "SIGNIN_RATE_CAPACITY": "1000", "SIGNIN_RATE_REFILL": "1000",
            "SLA_SWEEP_INTERVAL_SECONDS": "0",
        })
        self._up.clear()
        self.database = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nrn_cli.main", "up", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, text=True)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("database "):
                self.database = line.split(None, 1)[1].strip()
            words = line.split()
            if len(words) >= 2 and words[1].startswith("http://"):
                self.urls[words[0]] = words[1]  # "library      http://127.0.0.1:8003   (log: …)"
            if "NRN is up" in line:
                self._up.set()

    def kill_all(self) -> None:
        """SIGKILL `nrn up` and everything it started, at once."""
        pids = [self.proc.pid, *descendants(self.proc.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(30)
        self._wait_gone(pids)

    def interrupt(self) -> None:
        """Ctrl-C: `nrn up` stops what it started."""
        pids = descendants(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGINT)
        self.proc.wait(120)
        self._wait_gone(pids)

    def kill_service(self, name: str) -> None:
        [pid] = [p for p in descendants(self.proc.pid) if f"{name}.app:create_app" in cmdline(p)]
        os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _wait_gone(pids: list[int]) -> None:
        deadline = time.monotonic() + 60
        while any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in pids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"processes outlived nrn up: {[cmdline(p) for p in pids if Path(f'/proc/{p}').exists()]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.interrupt()
        if self.proc and self.proc.poll() is None:
            self.kill_all()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


class Officials:
    """Officials submitting questions through the gateway until told to stop."""

    def __init__(self, url: str, headers: dict[str, str], clients: int = 3) -> None:
        self.url, self.headers, self.clients = url, headers, clients
        self.accepted: set[str] = set()
        self.failed = 0
        self.failures: dict[str, int] = {}  # status code or error name -> how many
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._official(i)) for i in range(self.clients)]

    async def _official(self, i: int) -> None:
        n = 0
        async with httpx.AsyncClient(base_url=self.url, timeout=20) as http:
            while not self._stop.is_set():
                n += 1
                try:
                    r = await http.post("/api/v1/requests", headers=self.headers, json={
                        "title": f"Question {i}.{n} about financing lead line replacement",
                        "question": "Which programs have cities our size used to pay for lead service lines?",
                        "topic": "finance_budgets", "urgency": "soon", "consent": "anonymous"})
                except httpx.HTTPError as exc:
                    r, why = None, type(exc).__name__
                else:
                    why = str(r.status_code)
                if r is not None and r.status_code == 201:
                    self.accepted.add(r.json()["id"])
                else:
                    self.failed += 1
                    self.failures[why] = self.failures.get(why, 0) + 1
                    await asyncio.sleep(0.5)  # the platform is stopping or starting

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def prepare(url: str) -> dict[str, str]:
    """An eligible city and a verified official, through the public API; the official's headers."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        async def token(email: str, password: str) -> dict[str, str]:
            r = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        admin = await token(*ADMIN)
        r = await http.post("/api/v1/cities/import", headers=admin,
                            files={"file": ("cities.csv", CITIES_CSV.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        city = (await http.get("/api/v1/cities", params={"q": "Flint", "state": "MI"})).json()["items"][0]
        r = await http.post("/api/v1/accounts", json={"name": "Pat Official", "title": "Deputy Mayor",
                                                      "email": "pat.restart@example.org", "city_id": city["city_id"],
                                                      "password": OFFICIAL_PASSWORD})
        assert r.status_code == 201, r.text
        r = await http.post(f"/api/v1/accounts/{r.json()['account_id']}/verify", headers=admin)
        assert r.status_code == 200, r.text
        official = await token("pat.restart@example.org", OFFICIAL_PASSWORD)

        async def city_known() -> bool:  # requests311 learns the city from accounts' events
            r = await http.get("/api/v1/requests", params={"city_id": city["city_id"]}, headers=official)
            return r.status_code == 200

        await eventually(city_known, timeout=120)
        return official


async def service_back_or_exited(up: NrnUp, name: str) -> bool:
    if up.proc.poll() is not None:
        return True
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{up.urls[name]}/health/ready")).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_serving(up: NrnUp) -> None:
    async def ready() -> bool:
        if up.proc.poll() is not None:  # it stopped (a service failed to start): start it again
            await asyncio.to_thread(up.start)
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                return (await http.get(f"{up.url}/health/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(ready, timeout=120, interval=0.5)


@pytest.mark.timeout(1200)
async def test_nrn_up_killed_and_restarted_under_load_loses_no_question(tmp_path):
    up = NrnUp(tmp_path / "nrn", free_port())
    officials = None
    try:
        await asyncio.to_thread(up.start)
        officials = Officials(up.url, await prepare(up.url))
        officials.start()
        async def accepted_at_least(n: int) -> bool:
            return len(officials.accepted) >= n

        for what in ("kill everything", "ctrl-c", "library dies"):
            # Under way: questions are being accepted (a slow machine takes a while after a start).
            await eventually(lambda n=len(officials.accepted) + 15: accepted_at_least(n), timeout=180, interval=0.2)
            print(f"  {time.strftime('%X')} {what} ({len(officials.accepted)} questions accepted so far)")
            if what == "kill everything":
                await asyncio.to_thread(up.kill_all)
            elif what == "ctrl-c":
                await asyncio.to_thread(up.interrupt)
            else:
                await asyncio.to_thread(up.kill_service, "library")
                # `nrn up` either restarts the service, or stops everything and exits: wait for either.
                await eventually(lambda: service_back_or_exited(up, "library"), timeout=300, interval=0.5)
            if up.proc.poll() is not None:
                await asyncio.to_thread(up.start)
            await wait_serving(up)
        await eventually(lambda n=len(officials.accepted) + 15: accepted_at_least(n), timeout=180, interval=0.2)
        await officials.stop()
        assert len(officials.accepted) > 20, f"the load hardly ran: {len(officials.accepted)}, {officials.failures}"

        mongo = AsyncMongoClient(up.database)
        try:
            stored = {d["_id"] async for d in mongo.nrn_requests311.requests.find({}, {"_id": 1})}
            assert officials.accepted <= stored, "an accepted question is missing from requests311"
            asked = mongo.nrn_library.asked_questions
            remaining = set(stored)

            async def all_asked() -> bool:
                found = [d["request_id"] async for d in asked.find({"request_id": {"$in": list(remaining)}},
                                                                   {"request_id": 1})]
                remaining.difference_update(found)
                return not remaining

            await eventually(all_asked, timeout=180, interval=0.5)
            per_request = await asked.aggregate([{"$group": {"_id": "$request_id", "n": {"$sum": 1}}},
                                                 {"$match": {"n": {"$ne": 1}}}])
            assert [d async for d in per_request] == [], "a question is in the library's read model twice"
            assert await asked.count_documents({}) == len(stored)
            applied = len(await applied_event_keys(mongo.nrn_library, type_contains="question_submitted"))
            assert applied == len(stored), "each QuestionSubmitted applied exactly once"
        finally:
            await mongo.close()
        print(f"  {len(stored)} questions stored ({len(officials.accepted)} accepted, {officials.failed} failed "
              f"while the platform was down: {officials.failures}), each in the library's read model once")
    finally:
        if officials is not None and not officials._stop.is_set():
            with contextlib.suppress(Exception):
                await officials.stop()
        await asyncio.to_thread(up.stop)
