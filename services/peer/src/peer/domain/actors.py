"""Who acts, as the domain sees them: built by the API from a verified token, trusted here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MANAGER_ROLES = frozenset({"administrator", "program_manager"})


@dataclass(frozen=True)
class Actor:
    id: str
    kind: Literal["official", "staff", "partner_member", "system"]
    roles: frozenset[str] = field(default_factory=frozenset)
    city_id: str | None = None  # officials only
    partner_id: str | None = None  # partner members only

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_official(self) -> bool:
        return self.kind == "official"

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner_member"

    def has(self, *roles: str) -> bool:
        return self.is_staff and (bool(self.roles & set(roles)) or "administrator" in self.roles)


SYSTEM = Actor(id="peer", kind="system")
