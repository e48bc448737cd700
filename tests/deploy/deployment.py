"""What the deployment tests read: the repository's services, docker-compose.yml, the Dockerfiles, uv.lock
and the rendered Kustomize overlays — all from files, offline, no cluster and no Docker engine."""

from __future__ import annotations

import functools
import importlib
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = ROOT / "deploy" / "schemas"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests are written for (autoscaling/v2, policy/v1, sidecar-free pods).
KUBERNETES_VERSION = "1.33.0"
# kustomize as kubectl embeds it (v5.5 in kubectl 1.32), else the pinned module through Go.
KUSTOMIZE_GO_MODULE = "sigs.k8s.io/kustomize/kustomize/v5@v5.5.0"


def service_names() -> list[str]:
    """Every service under services/ (a folder with a pyproject.toml)."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


def package_name(service: str) -> str:
    """The distribution name in services/<service>/pyproject.toml (``nrn-accounts`` for accounts)."""
    return tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]["name"]


def settings(service: str) -> Any:
    """The service's own Settings() with its defaults (development mode: nothing secret is needed)."""
    return importlib.import_module(f"{service}.config").Settings()


def has_outbox(service: str) -> bool:
    """A service with a database keeps an outbox and so has a relay in the stacks (the gateway has
    neither). Not ``relay_embedded``: notifications publishes nothing today and turns its in-process
    relay off, yet keeps its outbox and its stack's relay for the notices it will publish."""
    return service != "gateway"


def http_port(service: str) -> int:
    from nrn_cli.services import SERVICES

    return {s.name: s.port for s in SERVICES}[service]


def calls(service: str) -> set[str]:
    """The services ``service`` calls over HTTP, from its settings: every ``<other>_url`` field and the
    JWKS (accounts)."""
    names = set(service_names())
    out = set()
    for field in type(settings(service)).model_fields:
        if field == "accounts_jwks_url":
            out.add("accounts")
        elif field.endswith("_url") and field[: -len("_url")] in names:
            out.add(field[: -len("_url")])
    out.discard(service)
    return out


def call_settings(service: str) -> dict[str, str]:
    """The environment variables that point ``service`` at what it calls, with the in-cluster (and
    in-compose) address each must hold: ``<OTHER>_URL`` → ``http://<other>:<port>``, and the JWKS."""
    names = set(service_names())
    out = {}
    for field in type(settings(service)).model_fields:
        other = field[: -len("_url")]
        if field == "accounts_jwks_url" and service != "accounts":
            out["ACCOUNTS_JWKS_URL"] = f"http://accounts:{http_port('accounts')}/.well-known/jwks.json"
        elif field.endswith("_url") and other in names and other != service:
            out[field.upper()] = f"http://{other}:{http_port(other)}"
    return out


@functools.cache
def compose() -> dict[str, Any]:
    """docker-compose.yml with YAML merge keys resolved."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile(service: str) -> str:
    return (ROOT / "services" / service / "Dockerfile").read_text()


def kustomize_command(path: Path) -> list[str]:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(path)]
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(path)]
    if shutil.which("go"):
        return ["go", "run", KUSTOMIZE_GO_MODULE, "build", str(path)]
    raise RuntimeError("rendering deploy/k8s needs kubectl, kustomize or Go (README: CI lanes)")


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """The overlay's resources as ``kubectl kustomize`` renders them."""
    out = subprocess.run(kustomize_command(K8S / "overlays" / overlay), capture_output=True, text=True,
                         timeout=900, check=False)
    if out.returncode:
        raise AssertionError(f"kustomize failed on {overlay}: {out.stderr}")
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container_env(deployment: dict[str, Any]) -> dict[str, Any]:
    """name → value (a string) or valueFrom (a dict) of the first container."""
    env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in env}


def lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def production_closure(package: str) -> set[str]:
    """Every distribution a production install of ``package`` holds, from uv.lock: its dependencies and
    the extras they ask for, never a development group (what ``uv sync --no-dev --package`` installs)."""
    packages = {p["name"]: p for p in lock()["package"]}
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(package, ())]
    while todo:
        name, extras = todo.pop()
        entry = packages[name]
        key = name + "[" + ",".join(sorted(extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        deps = list(entry.get("dependencies", []))
        for extra in extras:
            deps += entry.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            todo.append((dep["name"], tuple(dep.get("extra", ()))))
    return {k.split("[", 1)[0] for k in seen}
