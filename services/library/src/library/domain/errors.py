"""Domain errors. Each names the rule it enforces (and the field, where one is to blame).

They are the kit's DomainError, so the HTTP layer renders them as problem details unchanged.
"""

from __future__ import annotations

from nrn_kit.http import DomainError


class LibraryError(DomainError):
    status, code, title = 400, "bad-request", "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, field=field)


class InvalidTransition(LibraryError):
    status, code, title = 409, "transition-not-allowed", "Transition not allowed"


class NotFound(LibraryError):
    status, code, title = 404, "not-found", "Not found"


class Forbidden(LibraryError):
    status, code, title = 403, "forbidden", "Forbidden"


class VersionConflict(LibraryError):
    status, code, title = 409, "version-conflict", "Version conflict"


class InvalidInput(LibraryError):
    status, code, title = 422, "invalid-input", "Invalid input"


class SearchRefused(LibraryError):
    status, code, title = 422, "search-refused", "Search could not be run"
