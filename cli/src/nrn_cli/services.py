"""What `nrn up` runs: each service's app factory, its default port and the settings it is given."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    factory: str  # "module:callable" returning an ASGI app, for `uvicorn --factory`
    port: int


# Order matters: accounts first (it serves the JWKS every other service verifies tokens with),
# the gateway last (it composes the others).
SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("accounts", "accounts.app:create_app", 8001),
    ServiceEntry("requests311", "requests311.app:create_app", 8002),
    ServiceEntry("library", "library.app:create_app", 8003),
    ServiceEntry("engagements", "engagements.app:create_app", 8004),
    ServiceEntry("peer", "peer.app:create_app", 8005),
    ServiceEntry("notifications", "notifications.app:create_app", 8006),
    ServiceEntry("partners", "partners.app:create_app", 8007),
    ServiceEntry("gateway", "gateway.app:create_app", 8000),
)


def service_urls(host: str, ports: dict[str, int]) -> dict[str, str]:
    return {name: f"http://{host}:{port}" for name, port in ports.items()}
