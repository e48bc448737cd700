"""Reading what the development mail catcher caught (a Maildir written by ``nrn_kit.mailcatcher``),
for the staff "caught mail" page. Development only: unset ``CAUGHT_MAIL_DIR`` means no page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Caught:
    key: str
    message: EmailMessage
    received_at: datetime


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def _files(folder: str) -> dict[str, Path]:
    """key → file of every message (a Maildir key is the file name before its ':' info)."""
    root = Path(folder)
    out: dict[str, Path] = {}
    for sub in ("new", "cur"):
        directory = root / sub
        if directory.is_dir():
            for path in directory.iterdir():
                if path.is_file() and not path.name.startswith("."):
                    out[path.name.split(":", 1)[0]] = path
    return out


def _load(key: str, path: Path) -> Caught | None:
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return Caught(key, _parse(raw), datetime.fromtimestamp(mtime, UTC))


def list_caught(folder: str, *, limit: int = 100, offset: int = 0) -> tuple[list[Caught], int]:
    """Newest first; and how many there are in all."""
    entries = []
    for key, path in _files(folder).items():
        try:
            entries.append((path.stat().st_mtime, key, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    out = [c for _, key, path in entries[offset:offset + limit] if (c := _load(key, path)) is not None]
    return out, len(entries)


def get_caught(folder: str, key: str) -> Caught | None:
    path = _files(folder).get(key)
    return _load(key, path) if path is not None else None


def summary(c: Caught) -> dict[str, Any]:
    msg = c.message
    parts = list(msg.walk())
    return {
        "id": c.key,
        "from": str(msg.get("From", "")),
        "to": [addr for _, addr in getaddresses([str(v) for v in msg.get_all("To", [])])],
        "subject": str(msg.get("Subject", "")),
        "date": _date(msg),
        "message_id": str(msg.get("Message-ID", "")),
        "received_at": c.received_at.isoformat(),
        "has_calendar": any(p.get_content_type() == "text/calendar" for p in parts),
        "attachments": len(list(msg.iter_attachments())) if msg.is_multipart() else 0,
    }


def _date(msg: EmailMessage) -> str | None:
    try:
        return parsedate_to_datetime(str(msg["Date"])).isoformat() if msg["Date"] else None
    except (TypeError, ValueError):
        return None


def detail(c: Caught) -> dict[str, Any]:
    msg = c.message
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    calendar = next((p for p in msg.walk() if p.get_content_type() == "text/calendar"), None)
    attachments = []
    for index, part in enumerate(msg.iter_attachments() if msg.is_multipart() else []):
        payload = part.get_payload(decode=True) or b""
        attachments.append({"index": index, "filename": part.get_filename() or f"attachment-{index + 1}",
                            "content_type": part.get_content_type(), "size": len(payload)})
    return {
        **summary(c),
        "headers": [[k, str(v)] for k, v in msg.items()],
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "calendar": calendar.get_content() if calendar is not None else None,
        "attachment_list": attachments,
        "size": len(msg.as_bytes()),
    }


def attachment(c: Caught, index: int) -> tuple[str, str, bytes] | None:
    """(filename, content type, bytes) of attachment ``index``."""
    if not c.message.is_multipart():
        return None
    for i, part in enumerate(c.message.iter_attachments()):
        if i == index:
            return (part.get_filename() or f"attachment-{index + 1}", part.get_content_type(),
                    part.get_payload(decode=True) or b"")
    return None
