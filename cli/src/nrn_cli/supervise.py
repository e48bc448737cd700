"""Keep the services of `nrn up` running: start them in order, restart a crashed one, stop them in order.

- Each service is a child process that dies with `nrn up` (``setpriv --pdeathsig``, like the broker and
  database), so a ``kill -9`` of `nrn up` leaves no orphan holding a port.
- A service is "up" only when its ``/health/ready`` answers 200 *from the process we started* (the
  answer names its pid): a stale process on the port can never pass for it.
- A service that exits is started again after a backoff (1 s, doubling to 30 s; back to 1 s once it
  has stayed up a minute), and the output says so; the others keep running.
- Stopping drains in order: the gateway first (it stops taking requests and finishes those in flight),
  then the services in reverse start order (each finishes its requests, then its relay and consumers
  stop), each with a grace period before SIGKILL; the caller then stops the infrastructure.
- What runs where, pids and restarts are written to a status file that `nrn status` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from nrn_kit.infra import dies_with_parent

BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0  # up this long: the next crash starts the backoff over
START_TIMEOUT_S = 90.0
STOP_GRACE_S = 20.0


class StartError(RuntimeError):
    """A service could not be started; the message says why, with the last lines of its log."""


@dataclass
class Child:
    name: str
    url: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    state: str = "new"  # new | starting | up | waiting (to restart) | stopped
    restarts: int = 0
    last_exit: int | None = None
    backoff: float = BACKOFF_MIN_S
    since: float = 0.0  # monotonic time of the current state
    restart_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def answers_as(url: str, pid: int, timeout: float = 2.0) -> bool:
    """True when ``url``'s readiness check passes and was answered by process ``pid``."""
    try:
        response = httpx.get(f"{url}/health/ready", timeout=timeout)
        return response.status_code == 200 and response.json().get("pid") == pid
    except (httpx.HTTPError, ValueError):
        return False


@dataclass
class Supervisor:
    children: list[Child]
    status_file: Path
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    extra_status: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ start

    def _spawn(self, child: Child) -> None:
        child.log_path.parent.mkdir(parents=True, exist_ok=True)
        with child.log_path.open("ab") as log:
            # Own session: a Ctrl-C in the terminal reaches `nrn up` only, which stops everyone in order.
            child.proc = subprocess.Popen(dies_with_parent(child.argv), env=child.env, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        child.state, child.since = "starting", self.clock()

    def start(self, child: Child, timeout: float = START_TIMEOUT_S) -> None:
        """Start ``child`` and wait until it answers; StartError if it exits or never answers."""
        self._spawn(child)
        deadline = self.clock() + timeout
        assert child.proc is not None
        while self.clock() < deadline:
            if (code := child.proc.poll()) is not None:
                child.state, child.last_exit = "stopped", code
                raise StartError(f"{child.name} exited with {code} during start-up; last lines of "
                                 f"{child.log_path}:\n{tail(child.log_path)}")
            if answers_as(child.url, child.proc.pid):
                child.state, child.since = "up", self.clock()
                self.write_status()
                return
            time.sleep(0.25)
        self._terminate(child)
        raise StartError(f"{child.name} did not answer at {child.url} within {timeout:.0f}s; last lines of "
                         f"{child.log_path}:\n{tail(child.log_path)}")

    # ------------------------------------------------------------------ supervise

    def tick(self) -> None:
        """One look at every child: notice deaths, restart after the backoff, notice recoveries."""
        now = self.clock()
        changed = False
        for child in self.children:
            proc = child.proc
            if child.state in ("up", "starting") and proc is not None and (code := proc.poll()) is not None:
                child.last_exit = code
                child.state, child.since = "waiting", now
                child.restart_at = now + child.backoff
                self.say(f"{child.name} exited with {_describe(code)}; restarting in {child.backoff:.0f}s "
                         f"(restart {child.restarts + 1}). Last lines of {child.log_path}:\n"
                         + _indent(tail(child.log_path, 8)))
                child.backoff = min(child.backoff * 2, BACKOFF_MAX_S)
                changed = True
            elif child.state == "waiting" and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
                changed = True
            elif child.state == "starting" and proc is not None:
                if answers_as(child.url, proc.pid, timeout=1.0):
                    child.state, child.since = "up", now
                    self.say(f"{child.name} is up again at {child.url} (restart {child.restarts}, pid {proc.pid})")
                    changed = True
                elif now - child.since > START_TIMEOUT_S:
                    self.say(f"{child.name} did not answer within {START_TIMEOUT_S:.0f}s of its restart; stopping it")
                    self._terminate(child)  # noticed as an exit on the next tick
            elif child.state == "up" and child.backoff > BACKOFF_MIN_S and now - child.since > HEALTHY_AFTER_S:
                child.backoff = BACKOFF_MIN_S
        if changed:
            self.write_status()

    # ------------------------------------------------------------------ stop

    def _terminate(self, child: Child, grace: float = STOP_GRACE_S) -> None:
        proc = child.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        child.last_exit = proc.returncode

    def stop(self) -> None:
        """Drain: the last started (the gateway) first, each given its grace before the next."""
        for child in reversed(self.children):
            if child.proc is not None and child.proc.poll() is None:
                self.say(f"stopping {child.name}…")
            self._terminate(child)
            child.state = "stopped"
        with contextlib.suppress(OSError):
            self.status_file.unlink()

    # ------------------------------------------------------------------ status

    def write_status(self) -> None:
        data = {
            "supervisor_pid": os.getpid(),
            "written_at": time.time(),
            **self.extra_status,
            "services": [{"name": c.name, "url": c.url, "pid": c.pid, "state": c.state, "restarts": c.restarts,
                          "last_exit": c.last_exit, "log": str(c.log_path)} for c in self.children],
        }
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.status_file)


def _describe(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
