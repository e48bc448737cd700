"""Who is calling: the principal behind a bearer token or a page session.

The gateway verifies tokens itself with ``nrn_kit.auth`` (locally, against the accounts
JWKS), so it can authorise before any upstream call and refuse another city's ids without
asking anyone; it forwards the same token to the services, which verify it again. The
authorisation matrix is the kit's (``authorize`` / ``permitted``): one rule book for all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field

from nrn_kit.auth import (  # noqa: F401 - re-exported for the routes
    ADMINISTRATOR,
    CURATOR,
    PROGRAM_MANAGER,
    REVIEWER,
    SUBJECT_MATTER_EXPERT,
    TRIAGE_LEAD,
    AuthError,
    Forbidden,
    authorize,
    permitted,
)
from nrn_kit.auth import Principal as KitPrincipal


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal(KitPrincipal):
    """The kit's principal plus the token it came from (forwarded to the services)."""

    token: str = field(default="", repr=False, compare=False)

    @classmethod
    def of(cls, principal: KitPrincipal, token: str) -> "Principal":
        return cls(**asdict(principal), token=token)

    def may_see_city(self, city_id: str | None) -> bool:
        """Staff see every city; anyone else only their own."""
        if self.is_staff:
            return True
        return city_id is not None and self.city_id is not None and str(city_id) == str(self.city_id)

    def can(self, action: str, *, city_id: str | None = None) -> bool:
        return permitted(self, action, city_id=city_id)


# Verifies a token and returns its principal, or raises InvalidToken.
TokenVerifier = Callable[[str], Awaitable[Principal]]
