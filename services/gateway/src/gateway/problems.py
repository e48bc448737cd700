"""RFC 9457 problem details for the API."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://nationalresourcenetwork.org/problems/"


def problem_body(
    status: int, title: str, detail: str | None = None, *, type: str = "about:blank", **extensions: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update({k: v for k, v in extensions.items() if v is not None})
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=int(body.get("status", 500)), media_type=PROBLEM_JSON, headers=headers)


class ProblemError(HTTPException):
    """Raised anywhere in the gateway to answer with a problem (JSON for the API, an error
    page for the pages). An HTTPException, so that any Starlette app answers it sensibly."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, *, type: str = "about:blank", **extensions: Any
    ) -> None:
        super().__init__(status, detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.body = problem_body(status, title, detail, type=type, **extensions)
