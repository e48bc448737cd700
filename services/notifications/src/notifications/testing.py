"""For tests and the benchmark: a real SMTP server on loopback that keeps what it receives, a
server that never answers, and events as the other services publish them.

Lives in the package (not under tests/) so unit tests, integration tests and the bench share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from pathlib import Path

from aiosmtpd.controller import Controller

from nrn_kit.mailcatcher import MaildirHandler
from nrn_kit.serving import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class _Handler:
    def __init__(self, maildir: Path | None = None) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.refuse: dict[str, str] = {}  # recipient → SMTP reply, e.g. "550 no such user"
        # also kept as the development catcher keeps it, for the "Caught mail" page
        self.maildir = MaildirHandler(maildir) if maildir is not None else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802, ARG002
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802, ARG002
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                          bytes(envelope.original_content or b"")))
        if self.maildir is not None:
            await self.maildir.handle_DATA(server, session, envelope)
        return "250 Message accepted"


class SmtpCatcher:
    """aiosmtpd on 127.0.0.1 (its own thread and loop, as aiosmtpd's Controller runs it); with
    ``maildir``, what it receives is also kept there as ``nrn_kit.mailcatcher`` keeps it."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.handler = _Handler(maildir)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def start(self) -> "SmtpCatcher":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@contextlib.contextmanager
def smtp_catcher() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher().start()
    try:
        yield catcher
    finally:
        catcher.stop()


@contextlib.asynccontextmanager
async def hanging_smtp_server() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word (not even the 220 greeting)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:  # noqa: ARG001
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        for writer in held:
            writer.close()
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


# ---------------------------------------------------------------------------- events as others publish them

CITY, OTHER_CITY = "mi-flint", "in-gary"


def later(**kw: float):  # noqa: ANN201
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC).replace(microsecond=0) + timedelta(**kw)


def question_submitted(request_id: str = "req-1", official: str = "off-1", city: str = CITY,
                       title: str = "How do we fund lead pipe replacement?"):  # noqa: ANN201
    from nrn_contracts.events import requests311 as r311

    return r311.QuestionSubmitted(
        request_id=request_id, city_id=city, official_id=official, title=title,
        question="Which sources can we combine?", topic="finance_budgets", urgency="soon",
        consent_to_publish="anonymous", submitted_at=later(), state="MI")
