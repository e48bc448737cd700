"""partners' settings: the kit's, plus the delivery schedule, the HTTP limits and the key that keeps
endpoints' signing secrets encrypted."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from nrn_kit.settings import DEVELOPMENT_SECRET_PREFIX, ServiceSettings

DEV_SECRET_ENCRYPTION_KEY = DEVELOPMENT_SECRET_PREFIX + "-partners-secret-encryption-key"

# Svix's schedule, which the Standard Webhooks community follows: immediately, then after 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (each delay counted from the attempt before).
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400)


class Settings(ServiceSettings):
    service_name: str = "partners"
    database_name: str = "nrn_partners"
    http_port: int = 8007
    secret_fields: tuple[str, ...] = ("secret_encryption_key",)

    # Endpoints' signing secrets are kept encrypted (Fernet) under a key derived from this.
    secret_encryption_key: SecretStr = SecretStr(DEV_SECRET_ENCRYPTION_KEY)

    # Delay before each attempt, in seconds: the first is 0 (at once). After the last attempt fails
    # the delivery has failed for good and its endpoint is disabled.
    retry_schedule_seconds: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    # Each non-zero delay is moved by up to ± this fraction, so retries of many deliveries spread out.
    retry_jitter: float = Field(0.1, ge=0, le=0.5)
    # A Retry-After (429, 503) is honoured up to this long.
    retry_after_max_seconds: float = Field(86_400, ge=0)

    # One attempt: connect (DNS included), each read, and the whole exchange are bounded.
    connect_timeout_seconds: float = Field(5.0, gt=0)
    read_timeout_seconds: float = Field(10.0, gt=0)
    attempt_timeout_seconds: float = Field(15.0, gt=0)
    # Response bodies are read up to this many bytes (then the connection is dropped); the log keeps an excerpt.
    max_response_bytes: int = Field(64 * 1024, ge=0)
    response_excerpt_chars: int = Field(1_000, ge=0, le=10_000)

    # Isolation: each endpoint has its own connections, requests at once and bounded queue.
    endpoint_concurrency: int = Field(2, ge=1, le=64)
    endpoint_queue: int = Field(20, ge=1, le=10_000)
    # The dispatcher: how many due deliveries one round looks at, how often it looks without being woken.
    dispatcher_enabled: bool = True
    dispatch_batch: int = Field(500, ge=1, le=10_000)
    dispatch_poll_seconds: float = Field(0.5, gt=0)
    # A delivery claimed by a dispatcher that died is taken again after this (longer than one attempt).
    delivery_lease_seconds: float = Field(60.0, gt=0)
    # How stale the consumer's view of endpoints and agreements may be on another replica.
    endpoint_cache_seconds: float = Field(1.0, ge=0)

    # Development and tests only: deliver to loopback addresses (and over plain http). Production refuses it.
    allow_loopback_endpoints: bool = False

    # How long events (for replays) and the delivery log are kept.
    event_retention_days: int = Field(30, ge=1, le=3_650)
    log_retention_days: int = Field(30, ge=1, le=3_650)
    max_endpoints_per_partner: int = Field(20, ge=1, le=1_000)
    secret_grace_default_hours: float = Field(24, ge=0, le=168)

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _schedule(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or value[0] != 0 or any(v < 0 for v in value):
            raise ValueError("the retry schedule starts with 0 (the first attempt at once) and has no negative delay")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> "Settings":
        if self.environment == "production" and self.allow_loopback_endpoints:
            raise ValueError("ALLOW_LOOPBACK_ENDPOINTS is for tests and development; production refuses it")
        if self.delivery_lease_seconds <= self.attempt_timeout_seconds:
            raise ValueError("DELIVERY_LEASE_SECONDS must be longer than ATTEMPT_TIMEOUT_SECONDS")
        return self
