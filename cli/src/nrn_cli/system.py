"""The whole platform inside one event loop, on real HTTP ports: for system tests and benchmarks.

Every service gets its own database and the same topic prefix; each learns the others' URLs
before it starts (sockets are bound first), exactly as `nrn up` wires separate processes.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from nrn_kit.serving import bind_socket, serve_app

from .services import SERVICES


@dataclass
class System:
    urls: dict[str, str]
    apps: dict[str, FastAPI]
    settings: dict[str, Any] = field(default_factory=dict)

    def runtime(self, name: str):  # noqa: ANN201 — nrn_kit.app.Runtime
        return self.apps[name].state.runtime


def build_settings(name: str, values: dict[str, Any]):  # noqa: ANN201
    return importlib.import_module(f"{name}.config").Settings(**values)


@contextlib.asynccontextmanager
async def running_system(
    *, kafka_bootstrap_servers: str, mongodb_uri: str, prefix: str, names: tuple[str, ...] | None = None,
    common: dict[str, Any] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
) -> AsyncIterator[System]:
    names = names or tuple(s.name for s in SERVICES)
    order = [s.name for s in SERVICES if s.name in names]
    sockets = {name: bind_socket() for name in order}
    urls = {name: f"http://127.0.0.1:{sock.getsockname()[1]}" for name, sock in sockets.items()}
    base = dict(
        environment="test", kafka_bootstrap_servers=kafka_bootstrap_servers, mongodb_uri=mongodb_uri,
        topic_prefix=f"{prefix}.",
        accounts_jwks_url=f"{urls.get('accounts', 'http://127.0.0.1:8001')}/.well-known/jwks.json",
        accounts_url=urls.get("accounts"), requests311_url=urls.get("requests311"), library_url=urls.get("library"),
        engagements_url=urls.get("engagements"), peer_url=urls.get("peer"), partners_url=urls.get("partners"),
        notifications_url=urls.get("notifications"),
        public_url=urls.get("gateway"), cookie_secure=False, log_json=False,
        metrics_port=0,  # each service's scrape endpoint on a free port (its URL: runtime.metrics.url)
    )
    base.update(common or {})
    system = System(urls=urls, apps={})
    async with contextlib.AsyncExitStack() as stack:
        for name in order:
            values = {k: v for k, v in base.items() if v is not None}
            values.update(service_name=name, database_name=f"{prefix}_{name}", **(overrides or {}).get(name, {}))
            settings = build_settings(name, values)
            app = importlib.import_module(f"{name}.app").create_app(settings)
            system.settings[name] = settings
            system.apps[name] = app
            await stack.enter_async_context(serve_app(app, sock=sockets[name]))
        yield system
