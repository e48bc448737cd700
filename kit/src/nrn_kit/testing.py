"""Pytest fixtures shared by every package's tests (loaded with ``-p nrn_kit.testing``).

One broker and one database serve the whole session; each test gets a fresh database name
and topic prefix from :func:`make_settings`, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import pytest

from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


@pytest.fixture(scope="session")
def nrn_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator["object"]:
    """The session's broker and database: the configured ones, or embedded ones we start and stop."""
    from .infra import local_infra

    with local_infra(data_dir=tmp_path_factory.mktemp("infra")) as infra:
        yield infra


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def make_settings(nrn_infra, test_id: str) -> Callable[..., ServiceSettings]:  # noqa: ANN001
    """Build a service's settings pointed at the session's infrastructure, isolated for this test."""

    def build(cls: type[S] = ServiceSettings, **overrides) -> S:  # type: ignore[assignment]
        values = dict(
            environment="test",
            kafka_bootstrap_servers=nrn_infra.kafka_bootstrap_servers,
            mongodb_uri=nrn_infra.mongodb_uri,
            topic_prefix=f"t{test_id}.",
            # Fast group joins and hand-overs: the broker waits half the session timeout on a join.
            kafka_session_timeout_ms=1000,
            kafka_heartbeat_interval_ms=200,
            relay_poll_seconds=0.2,
            relay_lease_seconds=2.0,
            consumer_backoff_seconds=0.01,
            consumer_max_attempts=3,
            log_json=False,
            topic_partitions=2,
            metrics_port=0,  # any free port: tests run side by side
        )
        values.update(overrides)
        service = values.get("service_name") or cls.model_fields["service_name"].default
        values.setdefault("database_name", f"t{test_id}_{service}")
        return cls(**values)

    return build


@pytest.fixture(scope="session")
def span_exporter():
    """Every finished span of the session's in-process services, for trace assertions."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from .telemetry import add_span_processor

    exporter = InMemorySpanExporter()
    add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter):  # noqa: ANN001
    span_exporter.clear()
    return span_exporter


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests under an integration/ folder use the real broker and database: mark them so `-m` can select.
    for item in items:
        if f"{os.sep}integration{os.sep}" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


async def eventually(check, *, timeout: float = 30.0, interval: float = 0.05):  # noqa: ANN001, ANN201
    """Poll ``check`` (an async callable) until it returns something truthy, and return that.

    The bound only stops a broken test from hanging; it measures nothing (tests never assert time).
    """
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


class TokenIssuer:
    """Signs access tokens the way accounts does (Ed25519, a kid, the kit's claims), for services'
    tests that run without accounts: give the service ``TokenVerifier(jwks=issuer.jwks)``."""

    def __init__(self) -> None:
        import base64

        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.kid = uuid.uuid4().hex[:8]
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        self.jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def token(self, sub: str, kind: str, *, roles: tuple[str, ...] = (), city_id: str | None = None,
              status: str = "verified", expertise: tuple[str, ...] = (), partner_id: str | None = None) -> str:
        import time

        import jwt

        now = int(time.time())
        claims = {"sub": sub, "kind": kind, "roles": list(roles), "expertise": list(expertise), "city_id": city_id,
                  "partner_id": partner_id, "status": status, "iss": "nrn-accounts", "aud": "nrn", "iat": now, "exp": now + 900,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})


def settings_env(settings: ServiceSettings) -> dict[str, str]:
    """The environment that configures a service process with ``settings`` (as `nrn up` configures its children)."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is not None and not isinstance(value, (dict, list, tuple)):
            env[name.upper()] = str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)
    return env


class ChildProcess:
    """A process a test starts, kills (SIGKILL: a crash; SIGTERM: a graceful stop) and starts again,
    in its own process group; ``ready`` says when it serves. Output goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path, *,  # noqa: ANN001
                 ready: Callable[[], bool]) -> None:
        self.name, self.argv, self.env, self.log_path, self.ready = name, argv, env, log_path, ready
        self.proc = None
        self.starts = 0

    def start(self, timeout: float = 120) -> None:
        import subprocess
        import time

        env = dict(os.environ)
        env.update(self.env)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready in {timeout:.0f}s; see {self.log_path}")
            time.sleep(0.1)

    def kill(self, sig: int | None = None, timeout: float = 30) -> None:
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig or signal.SIGKILL)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 200."""
    import httpx

    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return check


@contextlib.asynccontextmanager
async def indexed_database(settings: ServiceSettings, indexes: dict) -> AsyncIterator[object]:
    """Just a service's database with its indexes (and the kit's), no relay, consumers or sweeps taking
    the documents a test inserts: for query-plan tests (``explain``). Not dropped afterwards (the
    embedded database deletes one index entry at a time); the name is unique to the test."""
    from .mongo import ensure_indexes, make_client

    client = make_client(settings)
    database = client[settings.database_name]
    await ensure_indexes(database, indexes)
    try:
        yield database
    finally:
        await client.close()
