"""Settings of the accounts service; nothing else reads the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator

from nrn_kit.settings import DEVELOPMENT_SECRET_PREFIX, ServiceSettings

from .domain.emails import InvalidEmail, canonical_email


class Settings(ServiceSettings):
    service_name: str = "accounts"
    database_name: str = "nrn_accounts"
    http_port: int = 8001

    # Ed25519 private key (PEM, PKCS#8). The development default makes the service generate a key
    # once and keep it in its own database; production refuses to start with it (secret_fields).
    token_signing_key: SecretStr = SecretStr(f"{DEVELOPMENT_SECRET_PREFIX}-generate-and-store")
    # During a rotation the previous key stays in the JWKS so its tokens verify until they expire.
    token_previous_signing_key: SecretStr | None = None
    access_token_ttl_seconds: int = Field(900, ge=60, le=3600)
    refresh_token_ttl_days: int = Field(14, ge=1, le=90)
    # single-use links e-mailed by notifications (the raw secret travels only on nrn.accounts.security.v1)
    reset_token_ttl_minutes: int = Field(60, ge=5, le=24 * 60)
    setup_token_ttl_hours: int = Field(72, ge=1, le=24 * 14)
    mailbox_token_ttl_hours: int = Field(48, ge=1, le=24 * 14)
    # After a refresh token is rotated, it is honoured once more for this long (several requests of
    # one browser session refreshing at once); any other reuse revokes its family. 0 turns it off.
    refresh_reuse_grace_seconds: int = Field(30, ge=0, le=300)

    # argon2id parameters (defaults: OWASP's recommended minimum)
    argon2_time_cost: int = Field(2, ge=1, le=10)
    argon2_memory_kib: int = Field(19 * 1024, ge=8 * 1024, le=1024 * 1024)
    argon2_parallelism: int = Field(1, ge=1, le=16)

    # Per account: the lockout (in the database, shared by every instance).
    lockout_max_failures: int = Field(5, ge=1)
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    # Per client address, with the `limits` library (moving window; rate strings in its notation).
    # Only failed sign-ins count: a city hall behind one address signs in as often as it needs.
    signin_failures_per_client: str = "30/10 minutes"
    # "Forgot password?" and "send the confirmation link again": per client and per address (the
    # address is counted whether or not it has an account, so the answer is alike for all).
    link_requests_per_client: str = "20/hour"
    link_requests_per_address: str = "5/hour"
    # Where the counters live: `async+memory://` (this process), or a shared store `limits` speaks
    # (`async+redis://host:6379`, `async+memcached://…`, `async+mongodb://…` which needs Motor).
    rate_limit_storage_uri: str = "async+memory://"
    # Accounts sits behind the gateway, so the client is the first X-Forwarded-For address.
    trust_forwarded_for: bool = True

    bootstrap_admin_email: str | None = Field(
        None, validation_alias=AliasChoices("NRN_BOOTSTRAP_ADMIN_EMAIL", "bootstrap_admin_email")
    )
    bootstrap_admin_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("NRN_BOOTSTRAP_ADMIN_PASSWORD", "bootstrap_admin_password")
    )
    starter_cities: Literal["none", "real", "demo"] = "none"
    max_import_bytes: int = Field(5 * 1024 * 1024, ge=1024)

    secret_fields: tuple[str, ...] = ("token_signing_key",)

    @field_validator("bootstrap_admin_email", mode="before")
    @classmethod
    def _bootstrap_admin_email(cls, value: object) -> str | None:
        """The bootstrap administrator is a staff account: its email passes the check every staff
        email passes, in the same canonical form (no `.localhost`, `.test`, `.local` … domains), or
        start fails."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return canonical_email(str(value))
        except InvalidEmail as exc:
            raise ValueError(
                f"NRN_BOOTSTRAP_ADMIN_EMAIL={value!r} is not an email accounts accepts for staff: {exc} "
                "(use a real or reserved domain, e.g. admin@example.org)"
            ) from None

    @field_validator("signin_failures_per_client", "link_requests_per_client", "link_requests_per_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '30/10 minutes' or '5 per hour'") from None
        return value

    @property
    def uses_development_key(self) -> bool:
        return self.token_signing_key.get_secret_value().startswith(DEVELOPMENT_SECRET_PREFIX)

    @property
    def refresh_token_ttl(self) -> timedelta:
        return timedelta(days=self.refresh_token_ttl_days)
