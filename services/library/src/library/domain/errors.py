"""Domain errors. The HTTP layer maps them to problem details; each names the rule it enforces."""

from __future__ import annotations


class LibraryError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidTransition(LibraryError):
    status = 409
    title = "Transition not allowed"


class NotFound(LibraryError):
    status = 404
    title = "Not found"


class Forbidden(LibraryError):
    status = 403
    title = "Forbidden"


class VersionConflict(LibraryError):
    status = 409
    title = "Version conflict"


class InvalidInput(LibraryError):
    status = 422
    title = "Invalid input"
