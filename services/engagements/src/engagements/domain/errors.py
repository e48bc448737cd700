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
            f"expected version {expected} but it is now at version {actual}; reload and retry",
            field="version",
        )
        self.expected = expected
        self.actual = actual


class Incomplete(RuleViolation):
    """Submitting needs every required field valid: ``errors`` names each one at once, in form order."""

    status = 422
    title = "The application is not complete"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        count = len(errors)
        super().__init__("application_incomplete",
                         f"{count} field{'s' if count != 1 else ''} must be completed or corrected before submitting",
                         field=errors[0]["field"] if errors else None)
        self.errors = errors


class EditConflict(RuleViolation):
    """A draft saved on an older version changed fields that someone else changed meanwhile.

    ``conflicts``: ``[{field, label, yours, theirs, by_name, at}]``, one per field both changed
    differently; nothing was saved. Fields only one side changed merge without a conflict.
    """

    status = 409
    title = "Someone else changed this"

    def __init__(self, conflicts: list[dict], current_version: int) -> None:
        names = sorted({c["by_name"] for c in conflicts if c.get("by_name")})
        who = " and ".join(names) if names else "someone else"
        labels = ", ".join(c["label"] for c in conflicts)
        super().__init__("someone_else_changed_this",
                         f"{who} changed {labels} since you opened this draft; your changes were not saved. "
                         "Choose which version to keep for each field and save again.",
                         field=conflicts[0]["field"] if conflicts else None)
        self.conflicts = conflicts
        self.actual = current_version
