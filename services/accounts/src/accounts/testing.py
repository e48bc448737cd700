"""Test helpers: the links accounts sent, read back from its outbox.

The raw link secrets leave accounts only inside ``MailboxConfirmationRequested`` and
``PasswordResetRequested`` (topic ``nrn.accounts.security.v1``), never in an API answer. A test
that plays the person who received the e-mail reads them where they were written: the outbox
(the same document the relay publishes). Used by accounts' and the gateway's tests.
"""

from __future__ import annotations

from typing import Any

from nrn_contracts import decode
from nrn_contracts.events.accounts import MailboxConfirmationRequested, PasswordResetRequested
from pymongo.asynchronous.database import AsyncDatabase

from .domain.emails import canonical_email

CONFIRMATION = MailboxConfirmationRequested
RESET = PasswordResetRequested


async def sent_links(db: AsyncDatabase, email: str, event: type = RESET) -> list[dict[str, Any]]:
    """The ``data`` of every link event of this kind sent to ``email`` (any spelling), oldest first."""
    address = canonical_email(email)
    out = []
    async for doc in db["outbox"].find({"type": event.type}).sort("seq", 1):
        _, payload = decode(bytes(doc["value"]))
        if payload is not None and payload.email == address:
            out.append(payload.model_dump(mode="json"))
    return out


async def latest_link(db: AsyncDatabase, email: str, event: type = RESET) -> str | None:
    """The secret of the latest link of this kind sent to ``email``, or None."""
    links = await sent_links(db, email, event)
    return links[-1]["token"] if links else None
