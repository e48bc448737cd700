"""Passing a call through to a service and its answer back, unchanged in meaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from ..auth import Principal
from ..clients import ServiceClient
from ..security import client_key

# Request headers that carry meaning for the services beyond identity and trace.
FORWARDED_REQUEST_HEADERS = ("if-match", "accept-language")
# Response headers worth passing back to API clients. A document a service serves (the memo's
# HTML) carries its own Content-Security-Policy: it replaces the pages' policy, which would
# otherwise block the document's own stylesheet.
FORWARDED_RESPONSE_HEADERS = ("etag", "retry-after", "content-disposition", "content-security-policy",
                              "idempotent-replayed")


def client_headers(request: Request) -> dict[str, str]:
    """The end client's address for the services' own per-client limits (accounts trusts
    the first X-Forwarded-For address, since it sits behind the gateway)."""
    settings = request.app.state.settings
    return {"X-Forwarded-For": client_key(request.scope, settings.trust_forwarded_for)}


def _pick(headers: Any, names: Iterable[str]) -> dict[str, str]:
    return {name: headers[name] for name in names if name in headers}


async def forward(
    request: Request,
    client: ServiceClient,
    method: str,
    path: str,
    *,
    principal: Principal | None,
    json: Any = None,
    params: dict[str, Any] | list[tuple[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
    files: Any = None,
    location_prefix: str | None = None,
    location_id_field: str = "id",
    timeout: float | None = None,
) -> Response:
    """Call the service and answer with its status, JSON body and the headers that matter.

    4xx and 5xx never get here: the client raises and the app's handlers turn them into
    problems (4xx passed through, unavailability as 503). ``timeout`` (seconds) replaces the
    upstream read timeout for calls that do real work (rendering a PDF). A 201 carries
    ``Location: <location_prefix><the new id>`` (:func:`created_location`) when the caller says
    where the gateway serves what was created; endpoints without a GET for it send none."""
    response = await client.request(
        method,
        path,
        token=principal.token if principal else None,
        json=json,
        params=params,
        data=data,
        files=files,
        headers={**_pick(request.headers, FORWARDED_REQUEST_HEADERS), **client_headers(request)},
        timeout=timeout,
    )
    headers = _pick(response.headers, FORWARDED_RESPONSE_HEADERS)
    ctype = response.headers.get("content-type", "")
    body = response.json() if "json" in ctype and response.content else None
    if response.status_code == 201 and location_prefix is not None:
        location = created_location(response.headers.get("location"), body, location_prefix, location_id_field)
        if location:
            headers["location"] = location
    if response.status_code == 204 or not response.content:
        return Response(status_code=response.status_code, headers=headers)
    if "json" in ctype:
        return JSONResponse(body, status_code=response.status_code, headers=headers)
    return Response(response.content, status_code=response.status_code, media_type=ctype or None, headers=headers)


def created_location(service_location: str | None, body: Any, prefix: str, id_field: str = "id") -> str | None:
    """Where a client reads what a 201 created, in the gateway's URL space (RFC 9110 §15.3.2):
    ``prefix + id``. The new thing's id is the last segment of the service's ``Location`` (a
    service's URL space is its own; clients know only the gateway's), else the JSON body's
    ``id_field``. None when neither gives one."""
    new_id = None
    if service_location:
        new_id = service_location.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    elif isinstance(body, dict) and isinstance(body.get(id_field), str):
        new_id = body[id_field]
    return prefix + new_id if new_id else None


def page_params(limit: int | None, offset: int | None) -> dict[str, Any]:
    return {"limit": limit, "offset": offset}
