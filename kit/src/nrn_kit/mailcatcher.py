"""The development mail catcher: a real SMTP server (``aiosmtpd``) that keeps every message it is
given in a Maildir instead of delivering it, so a developer can read what the platform sent.

    python -m nrn_kit.mailcatcher --port 1025 --maildir .nrn/infra/mail

``nrn up`` starts it through :func:`nrn_kit.infra.local_infra` (``mail=True``) when no
``SMTP_HOST`` is configured, and points notifications at it; the staff "Caught mail" page reads
the Maildir. Each message is stored byte for byte as received, with ``X-Catcher-Envelope-From`` /
``X-Catcher-Envelope-To`` headers in front (the SMTP envelope, which the message itself may not
repeat). It accepts any sender and recipient, on loopback only by default.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import signal
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirHandler:
    """aiosmtpd handler: every accepted message is added to the Maildir at ``folder``."""

    def __init__(self, folder: Path) -> None:
        # Maildir(create=True) makes tmp/new/cur only when the folder itself is new
        for sub in ("tmp", "new", "cur"):
            (Path(folder) / sub).mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(folder, create=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802, ARG002
        content = envelope.original_content or b""
        prefix = (f"X-Catcher-Envelope-From: {envelope.mail_from}\r\n"
                  f"X-Catcher-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        self.box.add(prefix + content)
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, folder: Path) -> None:
    handler = MaildirHandler(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="nrn-mailcatcher", data_size_limit=25 * 1024 * 1024),
        host=host, port=port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nrn-mailcatcher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True, type=Path)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.maildir))


if __name__ == "__main__":
    main()
