"""Every path parameter of the public API is checked at the door: ids travel into upstream URLs, and a
control character there made the HTTP client refuse the URL (a 500 from every /api/v1/partners/{id}/… route,
found by the fuzz test). A parameter either carries a pattern (``gateway.api.models.Id``) or is
percent-encoded on the way (``QUOTED``)."""

from __future__ import annotations

from gateway.app import create_app
from gateway.config import Settings

QUOTED = {("post", "/api/v1/notices/{notice_id}/read", "notice_id")}  # quote(notice_id, safe="")


def test_every_path_parameter_has_a_pattern() -> None:
    spec = create_app(Settings(cookie_secure=False)).openapi()
    unchecked = [(method, path, p["name"]) for path, ops in spec["paths"].items() for method, op in ops.items()
                 for p in op.get("parameters", []) if p["in"] == "path"
                 and p.get("schema", {}).get("type") == "string" and not {"pattern", "enum"} & set(p["schema"])]
    assert set(unchecked) <= QUOTED, unchecked
