"""Gateway settings. Nothing else in the gateway reads the environment."""

from __future__ import annotations

from nrn_kit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator

DEV_SESSION_SECRET = "development-only-session-secret-do-not-use"


class Settings(ServiceSettings):
    """Gateway settings; the kit's base refuses development secrets in production."""

    service_name: str = "gateway"
    http_port: int = 8000
    # The gateway owns no database and consumes no topic.
    relay_embedded: bool = False
    consumers_enabled: bool = False
    secret_fields: tuple[str, ...] = ("session_secret",)

    # Downstream services. One shared client each, built in the app factory.
    accounts_url: str = "http://127.0.0.1:8001"
    requests311_url: str = "http://127.0.0.1:8002"
    library_url: str = "http://127.0.0.1:8003"
    peer_url: str = "http://127.0.0.1:8005"
    partners_url: str = "http://127.0.0.1:8007"
    engagements_url: str = "http://127.0.0.1:8004"
    notifications_url: str = "http://127.0.0.1:8006"
    # How often an open page asks for the unread count in its header (htmx polling).
    notice_poll_seconds: int = 20

    upstream_connect_timeout: float = 1.0
    upstream_read_timeout: float = 5.0
    # Rendering a memo's PDF is real work upstream (about a second for a long memo on a busy core).
    document_read_timeout: float = 30.0
    # Importing the largest CSV (cities, health values) is minutes of work upstream at worst: validating
    # every row, then writing in batches. Below it the gateway gives up, retries, and the retry meets the
    # import still in progress (409).
    import_read_timeout: float = Field(120.0, gt=0)
    upstream_retries: int = 2  # extra attempts, idempotent methods and commands with an Idempotency-Key only
    # An idle pooled connection is dropped after this; it must stay below the services' server
    # keep-alive (uvicorn's default is 5 s), or both sides close the same connection at once.
    upstream_keepalive_expiry: float = Field(4.0, gt=0)
    upstream_backoff: float = 0.05  # first backoff in seconds, doubled per attempt
    breaker_failure_threshold: int = 5
    breaker_reset_timeout: float = 15.0
    section_timeout: float = 2.0  # per dashboard section
    # the zone staff pages show beside a city's own time (IANA; NRN works on US Eastern time)
    staff_time_zone: str = "America/New_York"
    # The dashboard's parts that do not depend on the person (recommended resources per city and
    # audience) are shared this long: a new programme or resource shows within it. 0: never shared.
    dashboard_shared_ttl: float = 30.0

    # Page sessions.
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    session_cookie: str = "nrn_session"
    session_max_age: int = 8 * 3600
    # Secure cookies need https; local http runs turn it off explicitly.
    cookie_secure: bool = True

    # Writes per client (the `limits` library, moving window): `write_rate_capacity` within
    # `write_rate_capacity / write_rate_refill` seconds. Sign-in is not limited here: accounts
    # throttles failed sign-ins per account and per client (successes never count).
    write_rate_capacity: float = 60
    write_rate_refill: float = 2.0
    # Where the counters live: this process, or a shared store `limits` speaks (`async+redis://…`).
    rate_limit_storage_uri: str = "async+memory://"
    # A page session's refresh is shared this long by its concurrent requests (single-flight).
    refresh_share_seconds: float = 10.0
    # A CSV file of cities: the largest upload (accounts' own MAX_IMPORT_BYTES is the same by default).
    max_import_bytes: int = 5 * 1024 * 1024

    # Only behind a proxy we control may X-Forwarded-For name the client.
    trust_forwarded_for: bool = False

    @model_validator(mode="after")
    def _production_session_rules(self) -> "Settings":
        if self.environment == "production":
            if len(self.session_secret.get_secret_value()) < 32:
                raise ValueError("SESSION_SECRET must be at least 32 characters in production")
            if not self.cookie_secure:
                raise ValueError("COOKIE_SECURE cannot be off in production")
        return self
