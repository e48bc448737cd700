"""notifications' settings: the kit's, plus the mail server, the sender's pace and the secrets of links."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from nrn_kit.settings import DEVELOPMENT_SECRET_PREFIX, ServiceSettings

DEV_UNSUBSCRIBE_SECRET = DEVELOPMENT_SECRET_PREFIX + "-unsubscribe-secret"


class Settings(ServiceSettings):
    service_name: str = "notifications"
    database_name: str = "nrn_notifications"
    http_port: int = 8006
    secret_fields: tuple[str, ...] = ("unsubscribe_secret",)
    # It publishes no event (its outbox is the `mail` collection, sent by its own sender), so the
    # kit's event relay would only poll and watch an empty outbox: ~7% of the database's time in
    # the send bench.
    relay_embedded: bool = False

    # Links in messages point at the gateway's pages: PUBLIC_URL (the kit's setting), e.g. https://nrn.example.

    # The mail server. Unset SMTP_HOST in development: `nrn up` starts a local catcher and sets it.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(1025, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # STARTTLS after EHLO (port 587); SMTP_TLS for implicit TLS (port 465). Never both.
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    mail_from: str = "SC2 National Resource Network <notifications@nrn.example>"
    # Right-hand side of Message-IDs; defaults to the domain of MAIL_FROM.
    message_id_domain: str | None = None

    # The sender: an outbox of messages, sent by its own task, never by the consumer.
    sender_enabled: bool = True
    # Concurrent SMTP sessions. Each waits for its message's mark before its next one, so a session
    # sends at one message per server exchange plus one database write; throughput grows with
    # sessions (bench: 4 → ~140, 16 → ~190 notices/s). 16 stays under Postfix's default ceiling of
    # parallel deliveries to one destination (default_destination_concurrency_limit = 20); lower it
    # for a relay that caps concurrent sessions. A crash repeats at most this many messages.
    sender_connections: int = Field(16, ge=1, le=64)
    sender_batch: int = Field(100, ge=1, le=5_000)
    sender_poll_seconds: float = Field(1.0, gt=0)
    # A claimed message whose sender died is taken again after this lease.
    sender_lease_seconds: float = Field(120.0, gt=0)
    # Failed sends wait backoff × 2^attempt (capped), then give up and show as failed to staff.
    send_max_attempts: int = Field(8, ge=1, le=50)
    send_backoff_seconds: float = Field(30.0, ge=0)
    send_backoff_max_seconds: float = Field(3_600.0, ge=0)

    # Daily digests and the 90-day follow-up reminders: how often the scheduler looks (0: never).
    schedule_interval_seconds: float = Field(60.0, ge=0)
    schedule_batch: int = Field(500, ge=1, le=10_000)

    # Signs unsubscribe links (no production default: the kit refuses development secrets there).
    unsubscribe_secret: SecretStr = SecretStr(DEV_UNSUBSCRIBE_SECRET)

    # The development mail catcher's Maildir (set by `nrn up`): the staff "caught mail" page reads it.
    # Unset in production, where the page answers 404.
    caught_mail_dir: str | None = None

    @model_validator(mode="after")
    def _tls_modes(self) -> "Settings":
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS and SMTP_TLS are exclusive: STARTTLS upgrades a plain connection, "
                             "SMTP_TLS starts with TLS")
        if self.environment == "production" and self.caught_mail_dir:
            raise ValueError("CAUGHT_MAIL_DIR is a development setting; production sends through a real server")
        return self

    @property
    def id_domain(self) -> str:
        if self.message_id_domain:
            return self.message_id_domain
        address = self.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rsplit("@", 1)[-1] or "nrn.example"
