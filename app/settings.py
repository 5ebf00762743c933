from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting can be given as a `NEWSDESK_<NAME>` environment variable."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/newsdesk.db"
    public_base_url: str = "http://127.0.0.1:8000"
    # The publisher named in schema.org JSON-LD; its URL is public_base_url unless set.
    publisher_name: str = "Newsdesk"
    publisher_url: str | None = None
    # Anonymous callers may read published content unless this is turned off.
    public_read: bool = True
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 1024 * 1024
    # A bulk upload is read line by line; each line may be up to max_body_bytes.
    bulk_max_bytes: int = 1024 * 1024 * 1024
    cache_max_age: int = 60
    cache_stale_while_revalidate: int = 300
    gzip_minimum_bytes: int = 1024
    # Idempotency-Key records are kept this long, then pruned.
    idempotency_ttl_hours: int = 24
    # A key whose first request has not finished after this long is taken over by a retry
    # (its request died: the write and its stored response commit together, or not at all).
    idempotency_lock_seconds: int = 300

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # NEWSDESK_CORS_ORIGINS="https://a.example,https://b.example"
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
