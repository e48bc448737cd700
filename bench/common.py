"""Helpers shared by the benchmarks: infrastructure, isolated settings, timing and reporting."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from nrn_kit.settings import ServiceSettings
from nrn_kit.testing import settings_env


def bench_settings(infra, cls: type[ServiceSettings] = ServiceSettings, **overrides) -> ServiceSettings:  # noqa: ANN001
    run = uuid.uuid4().hex[:8]
    values = dict(
        environment="test", kafka_bootstrap_servers=infra.kafka_bootstrap_servers, mongodb_uri=infra.mongodb_uri,
        topic_prefix=f"b{run}.", kafka_session_timeout_ms=6000, kafka_heartbeat_interval_ms=500,
        relay_poll_seconds=0.2, log_json=False, log_level="WARNING", metrics_port=0,
    )
    values.update(overrides)
    values.setdefault("database_name", f"b{run}_{values.get('service_name', 'bench')}")
    return cls(**values)


async def wait_until(check: Callable[[], Awaitable[bool]], *, timeout: float, poll: float = 0.02) -> float:
    """Seconds until ``check`` holds (raises after ``timeout``)."""
    start = time.perf_counter()
    while not await check():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(poll)
    return time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, figures: dict[str, float | int | str], *, ratio_name: str, ratio: float, target: str,
           met: bool) -> None:
    print(f"\n== {name}")
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"  {key:<48} {shown}")
    print(f"  {ratio_name:<48} {ratio:.2f}   (target {target}: {'met' if met else 'NOT met'})")
    print("  json: " + json.dumps({"bench": name, **{k: v for k, v in figures.items()}, ratio_name: round(ratio, 3)}))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextlib.contextmanager
def service_process(factory: str, settings: ServiceSettings, port: int, *, timeout: float = 60,  # noqa: ANN201
                    profile: str | None = None):
    """Run an app factory under the kit's server in its own process, configured by environment like `nrn up`.

    ``profile``: a file for pyinstrument's text report of the whole process (written when it stops).
    """
    env = dict(os.environ)
    env.update(settings_env(settings))
    if profile:
        env.update(BENCH_PROFILE_FACTORY=factory, BENCH_PROFILE_OUT=profile)
        factory = "bench.common:profiled_app"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nrn_kit.serving", factory, "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{factory} exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{factory} not ready")
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60 if profile else 15)  # the profiler writes its report at exit
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def profiled_app():  # noqa: ANN201 — uvicorn's factory in a profiled service process
    """The app of ``BENCH_PROFILE_FACTORY``, sampled by pyinstrument while it serves; the text report goes
    to ``BENCH_PROFILE_OUT`` when it stops. (pyinstrument's own ``-m`` runner did not start uvicorn.)"""
    import importlib
    from pathlib import Path

    from pyinstrument import Profiler

    module, name = os.environ["BENCH_PROFILE_FACTORY"].split(":")
    app = getattr(importlib.import_module(module), name)()
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a):  # noqa: ANN001, ANN202
        async with inner(a):
            profiler = Profiler(interval=0.002, async_mode="disabled")  # every sample, awaits or not
            profiler.start()
            try:
                yield
            finally:
                profiler.stop()
                Path(os.environ["BENCH_PROFILE_OUT"]).write_text(profiler.output_text(unicode=True, color=False))

    app.router.lifespan_context = lifespan
    return app
