"""The refusals of the partners domain, as the kit's DomainError (RFC 9457 problem details naming the field)."""

from __future__ import annotations

from nrn_kit.http import Conflict, DomainError, Forbidden, NotFound


class InvalidInput(DomainError):
    status, code, title = 422, "invalid-input", "Invalid input"


__all__ = ["Conflict", "DomainError", "Forbidden", "InvalidInput", "NotFound"]
