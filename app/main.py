import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware.gzip import GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import errors, models, openapi  # noqa: F401  (models: register every mapper)
from app.articles import cache
from app.articles.router import router as articles_router
from app.auth.router import router as keys_router
from app.changes.router import router as changes_router
from app.claims.router import router as claims_router
from app.db import create_engine
from app.feeds.router import router as feeds_router
from app.http import EncodedEntityTags, HeadAsGet
from app.idempotency import dependencies as idempotency
from app.ingest.router import router as ingest_router
from app.limits import BodySizeLimit, QueryStringLimit
from app.ops.access_log import RequestLog
from app.ops.router import router as ops_router
from app.ratelimit.buckets import buckets_for
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
    )
    app.state.settings = settings
    app.state.rendered_articles = cache.render_cache(settings.rendered_article_cache_entries)
    app.state.rate_limit_buckets = buckets_for(settings)
    errors.install(app)
    idempotency.install(app)
    openapi.install(app)
    for router in (
        articles_router,
        claims_router,
        ingest_router,
        changes_router,
        sources_router,
        taxonomy_router,
        feeds_router,
        webhooks_router,
        keys_router,
        ops_router,
    ):
        app.include_router(router, responses=errors.ANY_CLIENT_ERROR)
    # Added innermost first: proxy headers → request log → CORS → HEAD as GET → rate limits
    # → ETags for gzip → gzip → query and body limits → cached article reads → app.
    app.add_middleware(cache.CachedArticleReads)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        per_path={
            "/v1/articles/bulk": settings.bulk_max_bytes,
            "/v1/ingest": settings.ingest_max_bytes,
        },
    )
    app.add_middleware(QueryStringLimit, max_bytes=settings.max_query_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes)
    app.add_middleware(EncodedEntityTags)
    app.add_middleware(
        RateLimits,
        buckets=app.state.rate_limit_buckets,
        per_address=settings.rate_limit_anonymous,
        per_key=settings.rate_limit_per_key,
    )
    app.add_middleware(HeadAsGet)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
            ],
            expose_headers=[
                "ETag",
                "Link",
                "Location",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
            ],
            max_age=600,
        )
    app.add_middleware(RequestLog)
    if settings.trusted_proxies:
        # The client is whom the trusted proxies say it is; anyone else's X-Forwarded-For
        # is ignored. (`newsdesk serve` leaves this to the app: uvicorn's own is off.)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
