"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` in its own ``config.py``; nothing else reads ``os.environ``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that are fine on a laptop and must never reach production. A service adds its own
# secret fields to ``secret_fields``; production refuses any of them left at one of these.
DEVELOPMENT_SECRETS = frozenset({"", "dev", "development", "change-me", "changeme", "secret", "password"})
# Development defaults of secret settings start with this, so production can recognise them.
DEVELOPMENT_SECRET_PREFIX = "development-only"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    database_name: str = "nrn"
    # Prepended to every topic and consumer group: tests isolate themselves with it.
    topic_prefix: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str = ""
    accounts_jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    otel_exporter_otlp_endpoint: str | None = None
    # The Prometheus scrape endpoint (nrn_kit.metrics): GET http://METRICS_HOST:METRICS_PORT/metrics,
    # a listener of its own, never on the service's (or the public gateway's) HTTP port.
    metrics_enabled: bool = True
    metrics_host: str | None = None  # default: http_host
    metrics_port: int | None = Field(None, ge=0, le=65535)  # default: http_port + 1000; 0 = any free port
    log_level: str = "INFO"
    log_json: bool = True

    # Outbox relay: embedded in the service process unless a separate `nrn relay` runs it.
    relay_embedded: bool = True
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(1.0, gt=0)
    relay_lease_seconds: float = Field(10.0, gt=0)
    # How often the relay asks the broker whether it still holds what was published (one metadata
    # request); after a failed batch it asks at once.
    relay_broker_check_seconds: float = Field(2.0, gt=0)
    # How long the relay may hold back its checkpoint after a published batch, so that the batches
    # of a busy outbox share one write (0: a write per batch). Holding it back only means that a
    # relay crash publishes those entries again, which the consumers' inboxes absorb.
    relay_checkpoint_seconds: float = Field(0.2, ge=0, le=5)
    # An embedded relay is woken by its own process's commits; with several instances of a service
    # the one holding the lease hears of the others' commits by polling, or at once with this on.
    relay_watch_changes: bool = False

    # Group commit of concurrent commands (see nrn_kit.mongo.Store).
    store_group_commit: bool = True
    store_group_max: int = Field(64, ge=1, le=1_000)
    store_group_parallel: int = Field(1, ge=1, le=64)

    # Consumers.
    consumers_enabled: bool = True
    consumer_max_attempts: int = Field(5, ge=1, le=50)
    consumer_backoff_seconds: float = Field(0.05, ge=0)
    consumer_batch_size: int = Field(200, ge=1, le=5_000)
    # A consumer replica that dies without leaving holds its partitions until its session times out,
    # so the session bounds takeover: 6 s is the least a Kafka broker accepts by default
    # (group.min.session.timeout.ms); heartbeats at a sixth of it. See bench/takeover.
    kafka_session_timeout_ms: int = 6_000
    kafka_heartbeat_interval_ms: int = 1_000
    # Static membership (KIP-345): a stable, unique name per replica (a pod name). A replica that is
    # restarted within the session timeout then gets its partitions back without the group pausing
    # for a rebalance. Unset: dynamic members, which leave the group at once when stopped.
    kafka_group_instance_id: str | None = None
    # The embedded broker has no idempotent producer; turn it on against real Kafka if wanted.
    kafka_enable_idempotence: bool = False
    kafka_linger_ms: int = 5
    topic_partitions: int | None = None  # overrides the registry's partition count (tests, small deployments)
    # Replicas of a topic this service creates (nrn_kit.kafka.ensure_topics) when it finds it missing.
    # 1 for a one-broker stack; on a cluster the same as the KafkaTopic resources (deploy/k8s), so a
    # service that starts before the topic operator creates a topic makes it exactly as declared.
    kafka_replication_factor: int = Field(1, ge=1)

    # Idempotency-Key (nrn_kit.idempotency): how long an answer is kept, how long an attempt holds
    # its key before a retry may take over, how long a retry waits for the first attempt's answer.
    idempotency_ttl_seconds: int = Field(86_400, ge=60)
    idempotency_lease_seconds: float = Field(60.0, gt=0)
    idempotency_wait_seconds: float = Field(3.0, ge=0)

    # The edge (nrn_kit.edge): what one request may make the server hold before any rule runs.
    http_max_body_bytes: int = Field(1024 * 1024, ge=1024)
    http_upload_routes: dict[str, int] = Field(default_factory=dict)  # path → larger body limit
    http_max_header_bytes: int = Field(32 * 1024, ge=4096)
    http_max_json_depth: int = Field(32, ge=2, le=1_000)
    http_max_json_keys: int = Field(10_000, ge=10)
    http_header_timeout: float = Field(10.0, gt=0)
    http_body_timeout: float = Field(30.0, gt=0)
    http_body_idle_timeout: float = Field(10.0, gt=0)
    http_keep_alive_timeout: int = Field(5, ge=1)  # idle keep-alive connections close after this
    http_limit_concurrency: int | None = Field(1_000, ge=1)  # beyond it: 503 at once

    secret_fields: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> "ServiceSettings":
        if self.environment != "production":
            return self
        bad = []
        for name in self.secret_fields:
            value = getattr(self, name, None)
            raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            text = "" if raw is None else str(raw).strip()
            if text.lower() in DEVELOPMENT_SECRETS or text.startswith(DEVELOPMENT_SECRET_PREFIX):
                bad.append(name)
        if bad:
            raise ValueError(
                "production mode refuses development or missing secrets: " + ", ".join(sorted(bad))
            )
        return self

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def logical_topic(self, physical: str) -> str:
        """The registry's name of a physical topic (the test prefix taken off)."""
        prefix = self.topic_prefix
        return physical[len(prefix):] if prefix and physical.startswith(prefix) else physical

    def group(self, name: str) -> str:
        return f"{self.topic_prefix}{self.service_name}.{name}"

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of everything this service publishes."""
        return f"/nrn/{self.service_name}"
