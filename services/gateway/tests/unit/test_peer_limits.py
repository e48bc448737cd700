"""The gateway's validation of peer input against peer's own: route by route, field by field.

The gateway mirrors peer's limits (gateway.peer_limits, gateway.api.peer_models) instead of
importing the peer package; the dev install has both, so this compares them: every body and query
parameter the gateway forwards must carry peer's constraints (lengths, counts, ranges, patterns,
closed lists, required or not, unknown fields refused or not), and the limit constants must match.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from fastapi import FastAPI

from gateway import peer_limits as P
from gateway.api import peer as gw_peer
from gateway.testing import SCHEMA_LIMITS, schema_constraints

peer_api = pytest.importorskip("peer.api")
peer_api_probono = pytest.importorskip("peer.api_probono")
peer_limits = pytest.importorskip("peer.domain.limits")

constraints = functools.partial(schema_constraints, keep=(*SCHEMA_LIMITS, "additionalProperties"))


def _openapi(*routers: Any) -> dict[str, Any]:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    return app.openapi()


# peer's app serves api.router and, beside it, the pro bono talent network's router
GATEWAY, SERVICE = _openapi(gw_peer.router), _openapi(peer_api.router, peer_api_probono.router)
G_DEFS = GATEWAY.get("components", {}).get("schemas", {})
S_DEFS = SERVICE.get("components", {}).get("schemas", {})
RENAMED = {"/peer/cities/{city_id}/overview": "/cities/{city_id}/overview"}
SERVICE_ONLY = {("post", "/admin/sweep")}  # operations: the service's own sweep, not public
OPERATIONS = sorted((method, path) for path, ops in GATEWAY["paths"].items() for method in ops)


def test_every_route_goes_to_a_peer_route_and_every_peer_route_is_offered() -> None:
    missing = [f"{m.upper()} {p}" for m, p in OPERATIONS if m not in SERVICE["paths"].get(RENAMED.get(p, p), {})]
    assert missing == []
    offered = {(m, RENAMED.get(p, p)) for m, p in OPERATIONS}
    unoffered = {(m, p) for p, ops in SERVICE["paths"].items() for m in ops} - offered - SERVICE_ONLY
    assert unoffered == set()


def _body(op: dict[str, Any], defs: dict[str, Any]) -> Any:
    body = op.get("requestBody")
    if body is None:
        return None
    (media, content), = body["content"].items()  # JSON, or the multipart of a CSV import
    return {"required": bool(body.get("required")), "media": media, "schema": constraints(content["schema"], defs)}


def _query(op: dict[str, Any], defs: dict[str, Any]) -> Any:
    return sorted((p["name"], bool(p.get("required")), repr(constraints(p.get("schema", {}), defs)))
                  for p in op.get("parameters", []) if p["in"] == "query")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_body_and_query_has_peers_limits(method: str, path: str) -> None:
    g_op, s_op = GATEWAY["paths"][path][method], SERVICE["paths"][RENAMED.get(path, path)][method]
    assert _body(g_op, G_DEFS) == _body(s_op, S_DEFS)
    assert _query(g_op, G_DEFS) == _query(s_op, S_DEFS)


def test_the_limit_constants_are_peers() -> None:
    ours = {k: v for k, v in vars(P).items() if k.isupper()}
    theirs = {k: v for k, v in vars(peer_limits).items() if k.isupper()}
    assert ours == theirs
