"""docker-compose.yml against the Compose Specification's JSON schema, and what the stack promises: every
service with its relay, health checks and depends_on conditions, topics from the registry, named
volumes, pinned images, no secret in the file and every variable in deploy/env.example."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import jsonschema
import pytest

from .deployment import ROOT, SCHEMAS, call_settings, compose, dockerfile, has_outbox, http_port, service_names, settings

SECRET_NAME = re.compile(r"SECRET|PASSWORD|SIGNING_KEY|ENCRYPTION_KEY|TOKEN", re.I)


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:20])


def test_compose_file_loads_in_docker_compose_where_it_is_installed() -> None:
    """The real loader (interpolation, merge keys, depends_on targets) — where `docker compose` or
    `docker-compose` is on the machine; this machine's Docker client has no compose plugin."""
    if shutil.which("docker-compose"):
        cmd = ["docker-compose"]
    elif shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        cmd = ["docker", "compose"]
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed: the schema test above stands alone")
    env = dict(os.environ, TOKEN_SIGNING_KEY="x", SESSION_SECRET="x", UNSUBSCRIBE_SECRET="x", SECRET_ENCRYPTION_KEY="x")
    out = subprocess.run([*cmd, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("service", service_names())
def test_every_service_runs_in_the_stack_with_its_relay(service: str) -> None:
    services = compose()["services"]
    assert service in services, f"docker-compose.yml has no {service}"
    entry = services[service]
    assert entry["build"] == {"context": ".", "dockerfile": f"services/{service}/Dockerfile"}
    assert str(entry["environment"]["HTTP_PORT"]) == str(http_port(service))
    if not has_outbox(service):
        assert f"{service}-relay" not in services
        return
    assert entry["environment"]["RELAY_EMBEDDED"] == "false", "the relay runs beside the service, not in it"
    relay = services[f"{service}-relay"]
    assert relay["build"] == entry["build"] and relay["command"] == ["python", "-m", "nrn_kit.relay"]
    assert relay["environment"]["SERVICE_NAME"] == service
    assert relay["environment"]["DATABASE_NAME"] == settings(service).database_name
    assert relay["environment"]["RELAY_WATCH_CHANGES"] == "true"
    assert relay["healthcheck"]["test"] == ["CMD", "python", "-m", "nrn_kit.healthcheck", "--metrics"]


@pytest.mark.parametrize("service", service_names())
def test_every_service_is_pointed_at_what_it_calls(service: str) -> None:
    """Each ``<other>_url`` of a service's settings is set in the stack to that service's address (unset, it
    would call 127.0.0.1 inside its own container), and the service starts after the ones it calls."""
    entry = compose()["services"][service]
    env = {k: str(v) for k, v in entry["environment"].items()}
    for name, url in call_settings(service).items():
        assert env.get(name) == url, f"{service}: {name} is {env.get(name)!r}, the stack serves it at {url}"
        callee = name.removesuffix("_JWKS_URL").removesuffix("_URL").lower()
        assert callee in entry.get("depends_on", {}), f"{service} calls {callee} but does not wait for it"


def test_every_dependency_waits_on_a_condition_that_can_be_met() -> None:
    services = compose()["services"]
    for name, entry in services.items():
        for dep, how in (entry.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert how["condition"] in ("service_started", "service_healthy", "service_completed_successfully")
            if how["condition"] == "service_healthy":
                target = services[dep]
                own = "healthcheck" in target and not target["healthcheck"].get("disable")
                image = "build" in target and "HEALTHCHECK" in dockerfile(target["build"]["dockerfile"].split("/")[1])
                assert own or image, f"{name} waits for {dep} to be healthy, which has no health check"
    for name in service_names():
        if has_outbox(name):
            deps = services[name]["depends_on"]
            assert deps["kafka"]["condition"] == "service_healthy" and deps["mongodb"]["condition"] == "service_healthy"
            assert deps["topics"]["condition"] == "service_completed_successfully"
    gateway = services["gateway"]["depends_on"]
    assert {s for s in service_names() if s != "gateway"} <= set(gateway)


def test_infrastructure_kafka_4_kraft_mongodb_8_replica_set_topics_from_the_registry() -> None:
    services = compose()["services"]
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert re.fullmatch(r"mongo:8\.\d+\.\d+", services["mongodb"]["image"])
    assert "--replSet" in services["mongodb"]["command"]
    assert "rs.initiate" in " ".join(services["mongodb"]["healthcheck"]["test"])
    assert services["topics"]["command"] == ["python", "-m", "nrn_kit.kafka"]
    assert services["topics"]["restart"] == "no"
    for tool in ("mailpit", "otel-collector", "jaeger"):
        assert tool in services
    assert services["notifications"]["environment"]["SMTP_HOST"].startswith("${SMTP_HOST:-mailpit")
    assert all(s["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
               for n, s in services.items() if "build" in s)


def test_volumes_are_named_and_images_pinned() -> None:
    spec = compose()
    declared = set(spec["volumes"])
    for name, entry in spec["services"].items():
        for volume in entry.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith("./") or source in declared, f"{name}: volume {source} is not declared"
        image = entry["image"]
        if "build" in entry:
            assert image.startswith("nrn/"), name
        else:
            assert re.search(r":v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$", image), f"{name}: {image} is not an exact version"


def test_no_secret_in_the_file_and_every_variable_in_env_example() -> None:
    spec = compose()
    text = (ROOT / "docker-compose.yml").read_text()
    for name, entry in spec["services"].items():
        for key, value in (entry.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{" + key + r"(:\?[^}]*|:-)?\}", str(value)), (
                    f"{name}.{key} must come from deploy/.env, without a default: {value!r}")
    example = {line.split("=", 1)[0] for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    assert used <= example, f"deploy/env.example does not list {sorted(used - example)}"
    assert ".env" in (ROOT / ".gitignore").read_text()
