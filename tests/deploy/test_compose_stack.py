"""The images built and the compose stack run for real — only where a Docker engine answers (`docker
info`). The project's machines have none: the test is skipped there and says so.

The journey: build every image, bring the whole stack up (`--wait`: every health check green, the topics
job done), then through the gateway sign in as the bootstrap administrator, read the API docs and the
starter cities, and see in Jaeger that accounts' events reached other services' consumers on a trace
(HTTP → MongoDB → outbox → relay → Kafka → consumer, on real Kafka and MongoDB). The stack is removed
with its volumes at the end."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time

import httpx
import pytest

from .deployment import ROOT

pytestmark = pytest.mark.integration

GATEWAY = "http://127.0.0.1:8000"
JAEGER = "http://127.0.0.1:16686"
ADMIN = ("admin@example.org", "a long passphrase for the compose journey")


def _engine() -> str | None:
    """None when a Docker engine with compose answers, else why not."""
    if not shutil.which("docker"):
        return "no docker command on this machine"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode:
        return "no Docker engine reachable (`docker info`: " + (info.stderr.strip().splitlines() or ["?"])[-1] + ")"
    if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode:
        return "the Docker client has no compose plugin"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    why = _engine()
    if why:
        pytest.skip(f"{why}: images are not built and the compose stack is not run here")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env_file = tmp_path_factory.mktemp("compose") / ".env"
    env_file.write_text("\n".join([
        f'TOKEN_SIGNING_KEY="{key}"', f"SESSION_SECRET={secrets.token_urlsafe(48)}",
        f"UNSUBSCRIBE_SECRET={secrets.token_urlsafe(48)}", f"SECRET_ENCRYPTION_KEY={secrets.token_urlsafe(48)}",
        f"NRN_BOOTSTRAP_ADMIN_EMAIL={ADMIN[0]}", f"NRN_BOOTSTRAP_ADMIN_PASSWORD={ADMIN[1]}", "STARTER_CITIES=real", ""]))
    compose = ["docker", "compose", "-p", "nrn-journey", "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml")]
    try:
        subprocess.run([*compose, "up", "--build", "--detach", "--wait", "--wait-timeout", "900"], check=True, timeout=3600)
        yield
    finally:
        subprocess.run([*compose, "down", "--volumes", "--remove-orphans"], timeout=600)


def _eventually(check, timeout: float = 120.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("not within the time allowed")
        time.sleep(2)


def test_the_stack_serves_the_journey_on_real_kafka_and_mongodb(stack) -> None:  # noqa: ANN001
    with httpx.Client(base_url=GATEWAY, timeout=30) as http:
        assert http.get("/health/ready").status_code == 200
        assert http.get("/api/docs").status_code == 200
        token = http.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        cities = _eventually(lambda: http.get("/api/v1/cities", headers=auth).json())
        assert cities
    # accounts' events (the starter cities) consumed by the services that keep cities, on traces
    services = _eventually(lambda: {"requests311", "library", "peer"} <= set(
        httpx.get(f"{JAEGER}/api/services", timeout=10).json().get("data") or []))
    assert services
