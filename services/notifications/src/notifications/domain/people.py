"""Who may receive what: the same role × city rules as the pages (nrn_kit.auth's matrix).

A notice about a city's request carries the matrix action that reading it needs
(``request.read``) and the request's city; a person receives it only if the matrix lets them
perform that action for that city, so an official never receives another city's details and
a curator never receives a 311 request. Account and security notices go to their own account
holder only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nrn_kit.auth import Principal, permitted


@dataclass(frozen=True)
class Person:
    """notifications' read model of an account (from ``nrn.accounts.v1``)."""

    id: str
    kind: str  # official | staff | partner_member
    email: str | None
    name: str
    status: str  # pending | verified | deactivated
    city_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    expertise: frozenset[str] = field(default_factory=frozenset)
    partner_id: str | None = None

    @classmethod
    def from_document(cls, doc: dict) -> "Person":
        return cls(id=doc["_id"], kind=doc.get("kind") or "", email=doc.get("email"), name=doc.get("name") or "",
                   status=doc.get("status") or "pending", city_id=doc.get("city_id"),
                   roles=frozenset(doc.get("roles") or ()), expertise=frozenset(doc.get("expertise") or ()),
                   partner_id=doc.get("partner_id"))

    def principal(self) -> Principal:
        return Principal(account_id=self.id, kind=self.kind, roles=self.roles, expertise=self.expertise,
                         city_id=self.city_id, status=self.status, partner_id=self.partner_id)


def may_receive(person: Person, *, action: str | None, city_id: str | None, about_account: str | None = None,
                partner_id: str | None = None) -> bool:
    """Whether ``person`` may be told about something.

    ``action`` None: an account or security message, for ``about_account`` alone (and never a
    deactivated account). Otherwise the matrix decides, for ``city_id`` (``partner_id`` where partner-scoped)."""
    if person.status == "deactivated":
        return False
    if action is None:
        return about_account is not None and person.id == about_account
    return permitted(person.principal(), action, city_id=city_id, partner_id=partner_id)
