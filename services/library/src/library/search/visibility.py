"""Who may see what. The rule is applied inside every search query, never after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ViewerKind = Literal["anonymous", "official", "staff", "partner"]
CURATOR_ROLES = frozenset({"curator", "administrator"})


@dataclass(frozen=True)
class Viewer:
    kind: ViewerKind = "anonymous"
    roles: frozenset[str] = field(default_factory=frozenset)
    account_id: str | None = None
    city_id: str | None = None
    verified: bool = False

    @property
    def audiences(self) -> tuple[str, ...]:
        if self.kind == "staff" and self.verified:
            return ("public", "officials", "staff")
        if self.kind == "official" and self.verified:
            return ("public", "officials")
        return ("public",)

    @property
    def can_curate(self) -> bool:
        return self.kind == "staff" and self.verified and bool(self.roles & CURATOR_ROLES)

    def statuses(self, include_unpublished: bool) -> tuple[str, ...]:
        """Statuses this viewer may see; drafts, items in review and archived items only for curators who ask."""
        if include_unpublished and self.can_curate:
            return ("draft", "in_review", "published", "archived")
        return ("published",)


ANONYMOUS = Viewer()

# Tokens written into each indexed item's "vis" field; a search requires the viewer's token.
CURATOR_TOKEN = "curator"


def visibility_tokens(status: str, audience: str) -> list[str]:
    """Which viewer tokens may see an item with this status and audience."""
    tokens = [CURATOR_TOKEN]
    if status == "published":
        tokens.append("staff")
        if audience in ("public", "officials"):
            tokens.append("official")
        if audience == "public":
            tokens.append("public")
    return tokens


def viewer_token(viewer: Viewer, include_unpublished: bool) -> str:
    if include_unpublished and viewer.can_curate:
        return CURATOR_TOKEN
    if viewer.kind == "staff" and viewer.verified:
        return "staff"
    if viewer.kind == "official" and viewer.verified:
        return "official"
    return "public"
