"""Rendered articles, kept per worker process and checked against the database on every read.

A read first fetches the article's stamp (one indexed row: id, version, visibility); the
bytes rendered for that exact version are reused, so a hit costs one small query and no
rendering, and `If-None-Match` is answered before any body is touched. Every write bumps
the version, so a worker can never serve what another worker's write made stale.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.http import entity_tag

from .models import Article, ArticleStatus
from .service import by_reference, check_visible

STAMP_COLUMNS = (
    Article.id,
    Article.version,
    Article.updated_at,
    Article.status,
    Article.published_at,
    Article.first_published_at,
    Article.deleted_at,
)


@dataclass(frozen=True, slots=True)
class Stamp:
    """What decides an article's visibility and which rendering of it is current."""

    id: uuid.UUID
    version: int
    updated_at: datetime
    status: ArticleStatus
    published_at: datetime | None
    first_published_at: datetime | None
    deleted_at: datetime | None

    @classmethod
    def of(cls, article: Article) -> "Stamp":
        return cls(*(getattr(article, column.key) for column in STAMP_COLUMNS))

    def key(self, now: datetime, *options: Any) -> tuple[Any, ...]:
        # Whether the publication time has come changes JSON-LD and ninjs (Scheduled →
        # Published), though no write happens then.
        live = self.published_at is not None and self.published_at <= now
        return (self.id, self.version, self.updated_at, live, *options)


async def stamp(session: AsyncSession, reference: str, *, sees_drafts: bool) -> Stamp:
    """The stamp of the article `reference` names, if the caller may see it (else the same
    404/410 as `service.get`)."""
    row = (await session.execute(select(*STAMP_COLUMNS).where(by_reference(reference)))).first()
    found = Stamp(*row) if row is not None else None
    check_visible(found, reference, sees_drafts=sees_drafts)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class Rendered:
    """One representation's bytes with the headers that belong to them."""

    body: bytes
    etag: str
    media_type: str
    headers: dict[str, str]
    surrogate_keys: tuple[str, ...]

    @classmethod
    def of(
        cls,
        payload: Any,
        media_type: str,
        headers: dict[str, str],
        surrogate_keys: list[str],
    ) -> "Rendered":
        body = orjson.dumps(payload)
        return cls(body, entity_tag(body), media_type, headers, tuple(surrogate_keys))


def render_cache(entries: int) -> LRUCache[tuple[Any, ...], Rendered]:
    """At most `entries` renderings per process, least recently used evicted first."""
    return LRUCache(maxsize=entries)
