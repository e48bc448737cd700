"""Who is calling: the principal behind a bearer token or a page session.

The gateway verifies tokens itself (so it can authorise before any upstream call, and
refuse another city's ids without asking anyone), and forwards the same token to the
services, which verify it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# Staff roles as the accounts service names them.
ADMINISTRATOR = "administrator"
PROGRAM_MANAGER = "program_manager"
TRIAGE_LEAD = "triage_lead"
SUBJECT_MATTER_EXPERT = "subject_matter_expert"
REVIEWER = "reviewer"
CURATOR = "curator"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    account_id: str
    token: str
    kind: str = "official"  # official | staff | partner_member
    roles: frozenset[str] = frozenset()
    city_id: str | None = None
    name: str | None = None
    email: str | None = None
    status: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_official(self) -> bool:
        return self.kind == "official"

    def has_role(self, *roles: str) -> bool:
        """Staff with any of ``roles``; administrators may do everything staff may."""
        return self.is_staff and bool(self.roles & ({ADMINISTRATOR, *roles}))

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.account_id

    def may_see_city(self, city_id: str | None) -> bool:
        """Staff see every city; anyone else only their own."""
        if self.is_staff:
            return True
        return city_id is not None and self.city_id is not None and str(city_id) == str(self.city_id)


# Verifies a token and returns its principal, or raises InvalidToken.
TokenVerifier = Callable[[str], Awaitable[Principal]]
