"""Settings of the accounts service; nothing else reads the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic.networks import validate_email

from nrn_kit.settings import DEVELOPMENT_SECRET_PREFIX, ServiceSettings


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
    reset_token_ttl_minutes: int = Field(30, ge=5, le=24 * 60)
    setup_token_ttl_hours: int = Field(72, ge=1, le=24 * 14)

    # argon2id parameters (defaults: OWASP's recommended minimum)
    argon2_time_cost: int = Field(2, ge=1, le=10)
    argon2_memory_kib: int = Field(19 * 1024, ge=8 * 1024, le=1024 * 1024)
    argon2_parallelism: int = Field(1, ge=1, le=16)

    lockout_max_failures: int = Field(5, ge=1)
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    signin_rate_per_client_per_minute: int = Field(20, ge=1)
    signin_rate_per_email_per_minute: int = Field(10, ge=1)
    # Accounts sits behind the gateway, so the client is the first X-Forwarded-For address.
    trust_forwarded_for: bool = True

    # There is no mail sender yet: outside production the reset token is returned by the API.
    expose_reset_tokens: bool | None = None

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
        email passes (``EmailStr``: no `.localhost`, `.test`, `.local` … domains), or start fails."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return validate_email(str(value).strip())[1]
        except Exception as exc:  # noqa: BLE001 - pydantic's PydanticCustomError, reworded below
            reason = getattr(exc, "message", lambda: str(exc))()
            raise ValueError(
                f"NRN_BOOTSTRAP_ADMIN_EMAIL={value!r} is not an email accounts accepts for staff: {reason} "
                "(use a real or reserved domain, e.g. admin@example.org)"
            ) from None

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.expose_reset_tokens is None:
            self.expose_reset_tokens = self.environment != "production"
        elif self.expose_reset_tokens and self.environment == "production":
            raise ValueError("production refuses EXPOSE_RESET_TOKENS=true: reset tokens must go by mail only")
        return self

    @property
    def uses_development_key(self) -> bool:
        return self.token_signing_key.get_secret_value().startswith(DEVELOPMENT_SECRET_PREFIX)

    @property
    def refresh_token_ttl(self) -> timedelta:
        return timedelta(days=self.refresh_token_ttl_days)
