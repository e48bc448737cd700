"""Handing a message to the SMTP server, with ``aiosmtplib``.

One :class:`SmtpConnection` is one SMTP session, kept open between messages (a new TCP and TLS
handshake per message would cost more than the message) and opened again after an error.
STARTTLS (port 587) or implicit TLS (port 465) and AUTH when configured. Every command has a
timeout, so a server that hangs costs its sender a timeout, never more.
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass

import aiosmtplib

from ..config import Settings


@dataclass
class SendError(Exception):
    """The server did not take the message. ``permanent``: it refused it for good (5xx)."""

    reason: str
    permanent: bool

    def __str__(self) -> str:
        return self.reason


class SmtpConnection:
    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_tls, start_tls=s.smtp_starttls if s.smtp_starttls else False,
            username=s.smtp_username, password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            tls_context=self._tls_context,
        )

    async def send(self, raw: bytes, sender: str, recipients: list[str]) -> str:
        """Hand ``raw`` to the server for ``recipients``; the server's reply on success."""
        try:
            if self._client is None or not self._client.is_connected:
                self._client = self._new_client()
                await self._client.connect()
            errors, reply = await self._client.sendmail(sender, recipients, raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self.close()
            codes = [r.code for r in exc.recipients]
            raise SendError(f"recipient refused: {'; '.join(str(r) for r in exc.recipients)}",
                            permanent=all(500 <= c < 600 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            raise SendError(f"server answered {exc.code} {exc.message}", permanent=500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        if errors:
            raise SendError(f"recipient refused: {errors}", permanent=False)
        return reply

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                if client.is_connected:
                    client.close()
