"""Rendered articles, kept per worker process and checked against the database on every read.

A read first fetches the article's stamp (one indexed row: id, version, visibility); the
bytes rendered for that exact version are reused, so a hit costs one small query and no
rendering, and `If-None-Match` is answered before any body is touched. Every write bumps
the version, so a worker can never serve what another worker's write made stale.

Anonymous hits are answered by `CachedArticleReads` before routing; everything else (keys,
misses, bad parameters, errors) goes on to the route, which renders and fills the cache.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, get_args

import orjson
from cachetools import LRUCache
from sqlalchemy import Engine, Select, bindparam, select
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import sessionmaker_for
from app.errors import AppError
from app.http import cached_bytes, entity_tag

from . import formats
from .models import Article, ArticleStatus
from .schemas import projection_of
from .service import check_visible, is_public

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


# Built once: making a select from ORM attributes costs more than running it.
_BY_ID = select(*STAMP_COLUMNS).where(Article.id == bindparam("id"))
_BY_SLUG = select(*STAMP_COLUMNS).where(Article.slug == bindparam("slug"))


def _stamp_query(reference: str) -> tuple[Select[Any], dict[str, Any]]:
    try:
        return _BY_ID, {"id": uuid.UUID(reference)}
    except ValueError:
        return _BY_SLUG, {"slug": reference}


def _visible(row: Any, reference: str, sees_drafts: bool) -> Stamp:
    found = Stamp(*row) if row is not None else None
    check_visible(found, reference, sees_drafts=sees_drafts)
    assert found is not None
    return found


async def stamp(session: AsyncSession, reference: str, *, sees_drafts: bool) -> Stamp:
    """The stamp of the article `reference` names, if the caller may see it (else the same
    404/410 as `service.get`)."""
    connection = await session.connection()  # Core: no ORM identity map for six columns
    row = (await connection.execute(*_stamp_query(reference))).first()
    return _visible(row, reference, sees_drafts)


@cache
def _sqlite_reader(database: str) -> Engine:
    """A read-only, synchronous engine on the SQLite file `database`, for this process.

    aiosqlite runs every statement on a thread of its own, and the hand-offs cost about a
    millisecond per read; an indexed read of one row on the event loop's own thread takes
    tens of microseconds, far less than the hand-offs. Each statement runs in autocommit
    and so sees every transaction committed before it (WAL: readers never block writers).
    """
    return create_sync_engine(
        f"sqlite:///file:{database}?mode=ro&uri=true",
        poolclass=StaticPool,
        connect_args={"timeout": 1},
    )


async def public_stamp(sessionmaker: async_sessionmaker[AsyncSession], reference: str) -> Stamp:
    """`stamp` for an anonymous reader, on the fastest path the database allows."""
    bind = sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite" and bind.url.database:
        with _sqlite_reader(bind.url.database).connect() as connection:
            row = connection.execute(*_stamp_query(reference)).first()
        return _visible(row, reference, sees_drafts=False)
    async with sessionmaker() as session:
        return await stamp(session, reference, sees_drafts=False)


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

    def response(self, request: Request, *, public: bool) -> Response:
        return cached_bytes(
            request,
            self.body,
            etag=self.etag,
            public=public,
            surrogate_keys=self.surrogate_keys,
            headers=self.headers,
            media_type=self.media_type,
        )


def render_cache(entries: int) -> LRUCache[tuple[Any, ...], Rendered]:
    """At most `entries` renderings per process, least recently used evicted first."""
    return LRUCache(maxsize=entries)


ARTICLE_PATH = re.compile(r"/v1/articles/([^/]+)")
FORMATS = frozenset(get_args(formats.Format))


def view_of(request: Request) -> tuple[Any, ...] | None:
    """The representation options of a read (format, fields, include) as the route keys
    its renderings, or None when the query is not one the route would accept as it is."""
    params = request.query_params
    chosen = params.get("format")
    if chosen is not None and chosen not in FORMATS:
        return None
    try:
        fields, include = projection_of(params.get("fields"), params.get("include"))
        chosen = formats.choose(
            chosen, request.headers.get("accept"), fields=fields, include=include
        )
    except AppError:
        return None
    return chosen, fields, include


class CachedArticleReads:
    """Answers anonymous `GET /v1/articles/{id or slug}` from the rendered-article cache,
    skipping routing and dependency resolution: the article's stamp is still read from the
    database, and anything that is not a public cache hit goes on to the app unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            match = ARTICLE_PATH.fullmatch(scope["path"])
            response = await self._hit(scope, match[1]) if match else None
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _hit(self, scope: Scope, reference: str) -> Response | None:
        request = Request(scope)
        app = scope["app"]
        if "authorization" in request.headers or not app.state.settings.public_read:
            return None
        view = view_of(request)
        if view is None:
            return None
        now = datetime.now(UTC)
        try:
            current = await public_stamp(sessionmaker_for(app, scope), reference)
        except (AppError, SQLAlchemyError):
            return None  # the route answers with the right problem
        rendered = app.state.rendered_articles.get(current.key(now, *view))
        if rendered is None:
            return None
        return rendered.response(request, public=is_public(current, now))
