"""Domain errors. Each names the rule it enforces; the API maps the class to an HTTP status
(RFC 9457 problem details with ``rule`` and ``field``)."""

from __future__ import annotations


class RuleViolation(Exception):
    """Base: ``rule`` is a stable machine name, ``detail`` the sentence a person reads, ``field`` the input at fault."""

    status: int = 422
    title: str = "Rule violated"

    def __init__(self, rule: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail
        self.field = field


class InvalidInput(RuleViolation):
    status = 422
    title = "Invalid input"


class NotAllowedNow(RuleViolation):
    """The action is not allowed in the current state (a closed window, a full city, a second registration)."""

    status = 409
    title = "Not allowed now"


class NotPermitted(RuleViolation):
    status = 403
    title = "Not permitted"


class NotFound(RuleViolation):
    status = 404
    title = "Not found"


class Contended(Exception):
    """Another writer changed the aggregate between our read and our write: the handler runs the
    whole command again (never seen by a caller unless it keeps happening)."""
