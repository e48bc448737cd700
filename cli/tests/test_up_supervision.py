"""`nrn up` as a person runs it, as a process: `nrn status`, a killed service restarted while the
others keep running, a graceful stop that lets reads in flight finish (no 503), a `kill -9` of
`nrn up` that leaves no orphan, and a port held by a stale process that is never taken for ours.

Starts and stops only its own processes, by pid (the `nrn up` it launches and, through it, that
run's broker, database and services)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from nrn_cli.services import SERVICES

pytestmark = pytest.mark.integration

UP_TIMEOUT_S = 420  # four services and the infrastructure, on a loaded 2-core machine
NRN = [sys.executable, "-m", "nrn_cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purpose.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, out: Path | None = None):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        if proc is not None and proc.poll() is not None and not predicate():
            pytest.fail(f"nrn up exited ({proc.returncode}) waiting for {what}:\n{out.read_text() if out else ''}")
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}:\n{out.read_text() if out else ''}")


class Up:
    def __init__(self, data_dir: Path, port: int, out: Path) -> None:
        self.data_dir, self.port, self.out = data_dir, port, out
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")}
        self.proc = subprocess.Popen([*NRN, "up", "--data-dir", str(data_dir), "--port", str(port)],
                                     stdout=out.open("wb"), stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_up(self) -> None:
        wait_for(lambda: "NRN is up" in self.text(), UP_TIMEOUT_S, "NRN is up", self.proc, self.out)

    def status(self, *flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([*NRN, "status", "--data-dir", str(self.data_dir), *flags], capture_output=True,
                              text=True, timeout=120)

    def status_json(self) -> dict:
        return json.loads(self.status("--json").stdout)

    def pids(self) -> dict[str, int]:
        data = json.loads((self.data_dir / "run" / "status.json").read_text())
        return {s["name"]: s["pid"] for s in data["services"]}

    def infra_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def up_run(tmp_path: Path) -> Iterator[callable]:
    runs: list[Up] = []

    def start(port: int | None = None) -> Up:
        run = Up(tmp_path / "data", port or free_port(), tmp_path / f"up-{len(runs)}.out")
        runs.append(run)
        return run

    yield start
    for run in runs:  # whatever a failed assertion left running: ours only, by pid
        children = run.infra_pids() if run.proc.poll() is None else []
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGTERM)
            try:
                run.proc.wait(60)
            except subprocess.TimeoutExpired:
                run.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_status_restarts_and_a_graceful_stop(up_run) -> None:  # noqa: ANN001
    up = up_run()
    up.wait_up()

    # --- nrn status, for a person and for scripts -------------------------------------------------
    human = up.status()
    assert human.returncode == 0, human.stdout + human.stderr
    for name in (*(s.name for s in SERVICES), "outbox", "consumer lag", "dead letters",
                 "nrn.requests311.v1"):
        assert name in human.stdout
    report = up.status_json()
    assert report["running"] and report["healthy"]
    assert {s["name"]: (s["health"], s["restarts"]) for s in report["services"]} == {
        s.name: ("ok", 0) for s in SERVICES}
    assert {r["service"] for r in report["outbox"]} >= {"accounts", "requests311", "library"}
    assert all(r["pending"] >= 0 for r in report["outbox"])
    assert {r["topic"] for r in report["dead_letters"]} >= {"nrn.accounts.v1", "nrn.requests311.v1"}
    assert any(r["topic"] == "nrn.accounts.v1" for r in report["consumer_lag"])

    # --- one service dies: it is started again, the others keep running ----------------------------
    before = up.pids()
    os.kill(before["requests311"], signal.SIGKILL)
    wait_for(lambda: "requests311 is up again" in up.text(), 240, "requests311 restarted", up.proc, up.out)
    assert "requests311 exited with signal SIGKILL; restarting in 1s (restart 1)" in up.text()
    after = up.pids()
    assert after["requests311"] != before["requests311"]
    assert {k: v for k, v in after.items() if k != "requests311"} == {
        k: v for k, v in before.items() if k != "requests311"}
    report = up.status_json()
    assert {s["name"]: s["restarts"] for s in report["services"]}["requests311"] == 1
    assert report["healthy"]

    # --- a graceful stop: reads in flight finish, none gets 503 ------------------------------------
    url = f"http://127.0.0.1:{up.port}/api/v1/library/search?q=water"
    statuses: list[int] = []
    refused: list[str] = []
    stop_reading = threading.Event()

    def reader() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop_reading.is_set():
                try:
                    statuses.append(client.get(url).status_code)
                except httpx.TransportError as exc:  # the gateway no longer listens: not an in-flight read
                    refused.append(type(exc).__name__)
                    return

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    wait_for(lambda: len(statuses) >= 16, 120, "reads flowing")
    child_pids = list(up.pids().values()) + up.infra_pids()
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(120) == 0, up.text()
    stop_reading.set()
    for t in threads:
        t.join(60)
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    text = up.text()
    assert text.index("stopping gateway") < text.index("stopping library") < text.index("stopping accounts")
    assert "stopped." in text
    assert not [pid for pid in child_pids if alive(pid)]
    assert not (up.data_dir / "run" / "status.json").exists()
    assert up.status().returncode == 1  # and status says it is not running


class _StaleGateway(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 — answers every health check, like an orphan would
        body = b'{"status":"ok","pid":1}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_kill_9_leaves_no_orphans_and_a_stale_port_is_never_taken_for_ours(up_run) -> None:  # noqa: ANN001
    up = up_run()
    up.wait_up()
    children = list(up.pids().values()) + up.infra_pids()
    assert len(set(children)) >= len(SERVICES) + 2  # the services, the broker and the database
    up.kill()  # SIGKILL: no exit hook of ours runs; the kernel tells the children
    wait_for(lambda: not [pid for pid in children if alive(pid)], 120, "every child of the killed nrn up to exit")

    # Something else answers health checks on the gateway's port: nrn up must not call that "up".
    server = HTTPServer(("127.0.0.1", 0), _StaleGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        again = up_run(port=server.server_address[1])
        assert again.proc.wait(120) == 1
        assert "NRN is up" not in again.text()
        assert "already in use" in again.text()
    finally:
        server.shutdown()
        server.server_close()
