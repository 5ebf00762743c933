import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import errors, models, openapi  # noqa: F401  (models: register every mapper)
from app.articles import cache
from app.articles.router import router as articles_router
from app.auth.router import router as keys_router
from app.authors.router import router as authors_router
from app.changes.router import router as changes_router
from app.claims.router import router as claims_router
from app.claims.router import source_claims as source_claims_router
from app.db import create_engine
from app.feeds.router import router as feeds_router
from app.idempotency import dependencies as idempotency
from app.ingest.router import router as ingest_router
from app.media import cache as media_cache
from app.media import links as media_links
from app.media.router import router as media_router
from app.media.storage import media_store
from app.middleware import BodySizeLimit, EncodedEntityTags, HeadAsGet, QueryStringLimit
from app.ops.access_log import RequestLog
from app.ops.router import router as ops_router
from app.ratelimit.buckets import Buckets, buckets_for
from app.ratelimit.middleware import RateLimits
from app.settings import Settings, get_settings
from app.sources.router import router as sources_router
from app.taxonomy.router import router as taxonomy_router
from app.webhooks.dispatcher import Dispatcher
from app.webhooks.router import router as webhooks_router

DESCRIPTION = """News articles and their sourced claims.

Errors are RFC 9457 problem details (`application/problem+json`). Lists use keyset
pagination (`cursor`, `next_cursor`, `Link: rel="next"`). Reads carry strong ETags.
Send API keys as `Authorization: Bearer <key>`. Each key (and each client address, for
callers without one) has a rate limit: every response says what is left in `RateLimit-Policy`
and `RateLimit` (IETF httpapi draft), and a spent budget answers 429 with `Retry-After`.
"""


class State(TypedDict):
    sessionmaker: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def dispatching(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[None]:
    """The webhook dispatcher alongside the app, if configured; on shutdown it finishes the
    sends in flight."""
    if not settings.webhooks_dispatcher:
        yield
        return
    dispatcher = Dispatcher(sessionmaker, settings)
    task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher")
    try:
        yield
    finally:
        dispatcher.stop()
        await task


def operation_id(route: APIRoute) -> str:
    return route.name


# What browsers may send and read across origins, when NEWSDESK_CORS_ORIGINS names some.
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
]
# A multipart upload's form fields and boundaries, beyond the image itself.
MULTIPART_ALLOWANCE = 64 * 1024
CORS_RESPONSE_HEADERS = ["ETag", "Link", "Location", "Retry-After", "RateLimit", "RateLimit-Policy"]


def middleware(settings: Settings, buckets: Buckets) -> list[Middleware]:
    """Every middleware of the app, outermost first: a request passes down this list to the
    routes, and its answer back up. Starlette wraps the list in its own: outside it, the
    handler of unexpected errors (500); inside it, the one that renders the app's errors."""
    return [
        # The client is whom the trusted proxies say it is; anyone else's X-Forwarded-For
        # is ignored. (`newsdesk serve` leaves this to the app: uvicorn's own is off.)
        # Outermost, so that everything below sees that client and scheme.
        *(
            [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)]
            if settings.trusted_proxies
            else []
        ),
        # Logs and counts every answer, whatever below gave it (a 429, a 413, a cached
        # read), with the key's name and route template that those below leave in the
        # scope, and puts the request id on it.
        Middleware(RequestLog),
        # Answers preflights itself and puts its headers on every answer below it, refusals
        # included; it sees the method as sent (HEAD, not the GET it becomes next).
        *(
            [
                Middleware(
                    CORSMiddleware,
                    allow_origins=settings.cors_origins,
                    allow_methods=CORS_METHODS,
                    allow_headers=CORS_REQUEST_HEADERS,
                    expose_headers=CORS_RESPONSE_HEADERS,
                    max_age=600,
                )
            ]
            if settings.cors_origins
            else []
        ),
        # A HEAD goes on down as its GET, so that its headers are the GET's as everything
        # below leaves them (Content-Encoding, Content-Length, the gzip ETag, RateLimit);
        # the body is dropped on the way back up.
        Middleware(HeadAsGet),
        # Every request spends from its caller's bucket before anything below reads it, and
        # every answer from below says what is left.
        Middleware(
            RateLimits,
            buckets=buckets,
            per_address=settings.rate_limit_anonymous,
            per_key=settings.rate_limit_per_key,
        ),
        # Outside gzip, so that it sees the final headers: a gzipped answer gets its own ETag.
        Middleware(EncodedEntityTags),
        Middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes),
        # A query string (414, or 422 for a NUL), then a body (413), that is too long is
        # refused before anything below parses or reads it.
        Middleware(QueryStringLimit, max_bytes=settings.max_query_bytes),
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            per_path={
                "/v1/articles/bulk": settings.bulk_max_bytes,
                "/v1/ingest": settings.ingest_max_bytes,
                # The image, and the form around it.
                "/v1/media": settings.media_max_bytes + MULTIPART_ALLOWANCE,
            },
        ),
        # Anonymous article reads answered from the rendered-article cache, and rendition
        # reads from memory, without routing: inside the limits, and inside gzip, ETags and
        # rate limits like any other answer.
        Middleware(cache.CachedArticleReads),
        Middleware(media_cache.CachedRenditions),
        # Innermost: settles an idempotency key with the app's own answer, before anything
        # above adds to it, so that a replay goes back up through them like any answer.
        Middleware(idempotency.Settle),
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        engine = create_engine(settings.database_url, settings.statement_timeout_seconds)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        async with dispatching(sessionmaker, settings):
            yield {"sessionmaker": sessionmaker}
        await app.state.rate_limit_buckets.aclose()
        await engine.dispose()

    buckets = buckets_for(settings)
    app = FastAPI(
        title="Newsdesk",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Served by the ops router instead, with validators like every other GET.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        middleware=middleware(settings, buckets),
    )
    app.state.settings = settings
    app.state.rendered_articles = cache.render_cache(settings.rendered_article_cache_entries)
    app.state.rate_limit_buckets = buckets
    app.state.media_store = media_store(settings)
    app.state.rendition_cache = media_cache.rendition_cache(
        settings.media_cache_bytes, settings.media_cache_seconds
    )
    media_links.configure(settings)
    errors.install(app)
    idempotency.install(app)
    openapi.install(app)
    for router in (
        articles_router,
        claims_router,
        ingest_router,
        changes_router,
        sources_router,
        media_router,
        source_claims_router,
        authors_router,
        taxonomy_router,
        feeds_router,
        webhooks_router,
        keys_router,
        ops_router,
    ):
        app.include_router(router, responses=errors.ANY_CLIENT_ERROR)
    return app
