"""Rendered articles, kept per worker process and checked against the database on every read.

A read first fetches the article's stamp (one indexed row: id, version, visibility); the
bytes rendered for that exact version are reused, so a hit costs one small query and no
rendering, and `If-None-Match` is answered before any body is touched. Every write bumps
the version, so a worker can never serve what another worker's write made stale.

The route and `CachedArticleReads` (which answers anonymous reads before routing) read an
article the same way: one `Rendition` parsed from the query by one parser, and one `read`
that stamps, looks in the cache and renders on a miss. A read the middleware cannot answer
(a key, a bad parameter, an unknown or renamed article, an error) goes on to the route.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, get_args
from urllib.parse import quote

import orjson
from cachetools import LRUCache
from fastapi.routing import RouteContext, iter_route_contexts
from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import AnySelect, read_rows, sessionmaker_for
from app.errors import AppError, Invalid
from app.http import cached_bytes, entity_tag
from app.settings import Settings

from . import formats, queries, service
from .models import Article, ArticleStatus, is_due, is_public
from .schemas import article_payload, projection_of

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
        """The cache key of this version rendered with `options` (a `Rendition`, or a
        listing's options) at `now`."""
        # Whether the publication time has come changes JSON-LD and ninjs (Scheduled →
        # Published), though no write happens then.
        return (self.id, self.version, self.updated_at, is_due(self, now), *options)


# Built once: making a select from ORM attributes costs more than running it.
_BY_ID = select(*STAMP_COLUMNS).where(Article.id == bindparam("id"))
_BY_SLUG = select(*STAMP_COLUMNS).where(Article.slug == bindparam("slug"))


def _stamp_query(reference: str) -> tuple[AnySelect, dict[str, Any]]:
    try:
        return _BY_ID, {"id": uuid.UUID(reference)}
    except ValueError:
        return _BY_SLUG, {"slug": reference}


async def stamp(
    source: AsyncSession | async_sessionmaker[AsyncSession], reference: str, *, sees_drafts: bool
) -> Stamp:
    """The stamp of the article `reference` names, if the caller may see it (else the same
    404/410 as `service.get`). `source` is the request's session, or a sessionmaker when
    there is none yet (see `db.read_rows`)."""
    statement, params = _stamp_query(reference)
    rows = await read_rows(source, statement, params)
    found = Stamp(*rows[0]) if rows else None  # type: ignore[call-arg]  # a row of its fields
    service.check_visible(found, reference, sees_drafts=sees_drafts)
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
        if media_type == formats.JSONLD_MEDIA_TYPE:
            # Pages paste JSON-LD into a <script> element, where "</script" in a string
            # would end it early and "<!--" would keep a later "</script>" from ending it.
            # These characters occur only inside JSON strings, where the `\u` escape is the
            # same string, and inert in HTML.
            for character, escape in ((b"&", b"\\u0026"), (b"<", b"\\u003c"), (b">", b"\\u003e")):
                body = body.replace(character, escape)
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


def surrogate_keys(article: Article) -> list[str]:
    # A tag is free text: percent-encoded, so that a space does not split it into two keys
    # and a line break or a non-Latin-1 character cannot break the header.
    keys = [f"article-{article.id}"]
    if article.section:
        keys.append(f"section-{article.section}")
    keys.extend(f"tag-{quote(tag, safe='')}" for tag in article.tags)
    return keys


async def list_items(
    session: AsyncSession,
    rows: Sequence[Row[Any]],
    rendered: LRUCache[tuple[Any, ...], Rendered],
    *,
    fields: frozenset[str] | None,
    include: frozenset[str],
) -> list[Rendered]:
    """The articles of a listing's page (rows of `queries.PAGE_COLUMNS`) as rendered for a
    list, from `rendered` where their version is there, else loaded and rendered now."""
    options = ("list", fields, include)

    def key_of(version: Any) -> tuple[Any, ...]:
        """A row of the page or a loaded article: either has these three."""
        return (version.id, version.version, version.updated_at, *options)

    items = [rendered.get(key_of(row)) for row in rows]
    missing = [row.id for row, item in zip(rows, items, strict=True) if item is None]
    if not missing:
        return items  # type: ignore[return-value]
    loaded = {
        article.id: article
        for article in await queries.load(session, missing, with_claims=bool(include))
    }
    for i, row in enumerate(rows):
        if items[i] is None:
            article = loaded[row.id]
            payload = article_payload(article, include=include, fields=fields)
            item = Rendered.of(payload, "application/json", {}, surrogate_keys(article))
            # Keyed by the version loaded, which may be newer than the row's.
            rendered[key_of(article)] = item
            items[i] = item
    return items  # type: ignore[return-value]


def page_etag(items: Sequence[Rendered], next_cursor: str | None, total: int | None) -> str:
    """The ETag of a page made of `items`: a page's bytes are its items' bytes with the
    cursor and total, so hashing the items' ETags with those tells pages apart as well as
    hashing the whole body, at a fraction of the cost."""
    tags = "".join(item.etag for item in items) + orjson.dumps([next_cursor, total]).decode()
    return entity_tag(tags.encode())


def render_cache(entries: int) -> LRUCache[tuple[Any, ...], Rendered]:
    """At most `entries` renderings per process, least recently used evicted first."""
    return LRUCache(maxsize=entries)


FORMATS = frozenset(get_args(formats.Format))
# The route `CachedArticleReads` answers for, by its name (see `_reference`).
ROUTE_NAME = "get_article"


@dataclass(frozen=True, slots=True)
class Rendition:
    """How one article is asked for: the format, and for JSON the fields and what to embed.
    Renderings are cached under all of it, so an option added here keys them too."""

    format: formats.Format
    fields: frozenset[str] | None
    include: frozenset[str]

    @classmethod
    def requested(cls, query: Mapping[str, str], accept: str | None) -> "Rendition":
        """The one parser of a read's query string (and `Accept`), for the route and the
        middleware alike; what the route refuses is a 422 naming the parameter."""
        format, fields, include = (query.get(name) for name in ("format", "fields", "include"))
        if format is not None and format not in FORMATS:
            choices = ", ".join(sorted(FORMATS))
            raise Invalid(f"format must be one of {choices}.", ["query", "format"])
        chosen_fields, embedded = projection_of(fields, include, claims_embedded=True)
        chosen = formats.choose(
            cast("formats.Format | None", format), accept, fields=chosen_fields, include=embedded
        )
        return cls(chosen, chosen_fields, embedded)

    def render(self, article: Article, settings: Settings, now: datetime) -> Rendered:
        document = formats.render(
            self.format, article, settings, fields=self.fields, include=self.include, now=now
        )
        return Rendered.of(
            document.payload, document.media_type, document.headers, surrogate_keys(article)
        )


async def read(
    source: AsyncSession | async_sessionmaker[AsyncSession],
    reference: str,
    rendition: Rendition,
    *,
    sees_drafts: bool,
    rendered: LRUCache[tuple[Any, ...], Rendered],
    settings: Settings,
) -> tuple[Rendered, bool]:
    """The article `reference` names as `rendition` asks, and whether it is public (shared
    caches may keep it): from `rendered` when this version is there, else loaded, rendered
    and kept. Raises the 404 or 410 of `service.get`. `source` is the request's session,
    or a sessionmaker (a hit then costs no session at all: see `stamp`)."""
    now = datetime.now(UTC)
    current = await stamp(source, reference, sees_drafts=sees_drafts)
    public = is_public(current, now)
    hit = rendered.get(current.key(now, rendition))
    if hit is not None:
        return hit, public
    if isinstance(source, AsyncSession):
        found = await service.get(source, current.id, sees_drafts=sees_drafts)
    else:
        async with source() as session:
            found = await service.get(session, current.id, sees_drafts=sees_drafts)
    made = rendition.render(found, settings, now)
    # Keyed by the version just rendered, which may be newer than `current`.
    rendered[Stamp.of(found).key(now, rendition)] = made
    return made, public


class CachedArticleReads:
    """Answers anonymous `GET /v1/articles/{id or slug}` itself, skipping routing and
    dependency resolution, with the route's own `read`: the article's stamp is still read
    from the database on every request. Anything else goes on to the app unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: RouteContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            reference = self._reference(scope)
            response = await self._answer(scope, reference) if reference else None
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _reference(self, scope: Scope) -> str | None:
        """The article the request names, when the route itself matches its path and
        method (found once, by name, with its router's prefix)."""
        if self.route is None:
            routes = iter_route_contexts(scope["app"].router.routes)
            self.route = next((r for r in routes if r.name == ROUTE_NAME), None)
            if self.route is None:
                return None  # an app without the articles' routes
        match, matched = self.route.matches(scope)
        return matched["path_params"]["article"] if match is Match.FULL else None

    async def _answer(self, scope: Scope, reference: str) -> Response | None:
        request = Request(scope)
        app = scope["app"]
        if "authorization" in request.headers or not app.state.settings.public_read:
            return None
        try:
            rendition = Rendition.requested(request.query_params, request.headers.get("accept"))
            rendered, public = await read(
                sessionmaker_for(app, scope),
                reference,
                rendition,
                sees_drafts=False,
                rendered=app.state.rendered_articles,
                settings=app.state.settings,
            )
        except (AppError, SQLAlchemyError, ConnectionError, TimeoutError):
            return None  # the route answers with the right problem (or redirect)
        request.state.route_template = self.route.path if self.route else None  # unrouted
        return rendered.response(request, public=public)
