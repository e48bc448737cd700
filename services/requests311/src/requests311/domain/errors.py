"""Domain errors. Each names the rule it enforces; the API maps the class to an HTTP status."""

from __future__ import annotations


class RuleViolation(Exception):
    """Base: `rule` is a stable machine name, `detail` the human sentence, `field` the input at fault."""

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


class InvalidTransition(RuleViolation):
    """The action is not allowed in the request's current status (or its preconditions fail)."""

    status = 409
    title = "Action not allowed now"


class NotPermitted(RuleViolation):
    status = 403
    title = "Not permitted"


class NotFound(RuleViolation):
    status = 404
    title = "Not found"


class VersionConflict(RuleViolation):
    """Optimistic concurrency: the caller acted on a version someone else already changed."""

    status = 409
    title = "Version conflict"

    def __init__(self, expected: int, actual: int | None) -> None:
        super().__init__(
            "version_mismatch",
            f"expected version {expected} but the request is at version {actual}; reload and retry",
            field="version",
        )
        self.expected = expected
        self.actual = actual


class WorkingCopyChanged(RuleViolation):
    """The memo's working copy was saved from elsewhere (another tab or person) since this editor loaded it."""

    status = 409
    title = "The memo changed"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            "working_copy_changed",
            f"the memo was saved elsewhere since you opened it (save {actual}, you started from {expected}); "
            "reload to see it before you go on",
            field="base_revision",
        )
        self.current_revision = actual
