"""Errors the domain raises; the API maps each to a problem-details response."""

from __future__ import annotations


class DomainRuleError(Exception):
    """A business rule refused a command. `field` names the input at fault, when there is one."""

    status = 422
    title = "Request refused"

    def __init__(self, detail: str, *, field: str | None = None, extra: dict | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra or {}


class NotFound(DomainRuleError):
    status = 404
    title = "Not found"


class Conflict(DomainRuleError):
    status = 409
    title = "Conflict"


class CityNotEligible(DomainRuleError):
    status = 422
    title = "City not eligible"


class InvalidTransition(DomainRuleError):
    status = 409
    title = "Invalid state change"


class AuthenticationFailed(DomainRuleError):
    status = 401
    title = "Authentication failed"


class AccountLocked(DomainRuleError):
    status = 423
    title = "Account temporarily locked"


class TokenInvalid(DomainRuleError):
    status = 400
    title = "Invalid or expired token"
