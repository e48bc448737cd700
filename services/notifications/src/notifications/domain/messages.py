"""A notice as an e-mail: MIME parts and headers, built with the standard library (no I/O).

Structure: ``multipart/alternative`` (plain text, then HTML); with a calendar invitation,
``multipart/mixed`` holding that alternative (plain text, HTML, ``text/calendar; method=…``,
which is what calendar clients act on) and the same ``.ics`` as an attachment for people who
save it by hand.

Headers people's mail clients rely on: ``Message-ID`` stable per notice (a resend after a crash
carries the same one, so a receiving server or client can recognise it), ``Date`` the notice's
creation, ``Auto-Submitted: auto-generated`` (RFC 3834: no vacation replies), and for everything
but account and security messages ``List-Unsubscribe`` with ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click`` (RFC 2369, RFC 8058).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    summary: str  # one line for the in-page notice


def message_id(key: str, domain: str) -> str:
    """A stable Message-ID for a notice key (the same key always gives the same id)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_message(*, rendered: Rendered, sender: str, to_name: str, to_email: str, msg_id: str,
                  date: datetime, unsubscribe_url: str | None = None, ics: bytes | None = None,
                  ics_method: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name or "", addr_spec=to_email)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if ics is not None:
        method = ics_method or "REQUEST"
        msg.add_alternative(ics.decode(), subtype="calendar", charset="utf-8", params={"method": method})
        msg.add_attachment(ics, maintype="application", subtype="ics",
                           filename="cancelled.ics" if method == "CANCEL" else "invitation.ics")
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP)
