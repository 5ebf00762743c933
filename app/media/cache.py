"""Renditions kept in memory, per worker process: a rendition never changes under its name
(its medium's file is content-addressed, and a moved focal point makes crops under new
names), so what a worker has read once it may send again without asking the database or
the store. Entries expire after `MEDIA_CACHE_SECONDS`, so that a deleted medium stops being
served by every worker within that time (CDNs, told `immutable`, keep it longer anyway).

`CachedRenditions` answers anonymous `GET /v1/media/{id}/{name}` from the cache before
routing, as `CachedArticleReads` does for articles; a miss goes on to the route, which
fills the cache."""

from dataclasses import dataclass

from cachetools import TTLCache
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.http import none_match

ROUTE_NAME = "get_rendition"
PREFIX = "/v1/media/"
# Renditions never change under their name (a new focal point makes new names).
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Kept:
    body: bytes
    media_type: str
    etag: str

    def response(self, request: Request) -> Response:
        headers = {
            "ETag": self.etag,
            "Cache-Control": IMMUTABLE,
            "X-Content-Type-Options": "nosniff",
        }
        if none_match(request.headers.get("if-none-match"), self.etag):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


RenditionCache = TTLCache[tuple[str, str], Kept]


def rendition_cache(max_bytes: int, seconds: float) -> RenditionCache:
    return TTLCache(maxsize=max_bytes, ttl=seconds, getsizeof=lambda kept: len(kept.body))


def keep(cache: RenditionCache, medium_id: str, name: str, kept: Kept) -> None:
    """Kept unless larger than the whole cache (cachetools refuses such a value)."""
    if len(kept.body) <= cache.maxsize:
        cache[(medium_id, name)] = kept


def forget(cache: RenditionCache, medium_id: str) -> None:
    """This worker stops serving a deleted medium at once (the others within the TTL)."""
    for key in [key for key in list(cache.keys()) if key[0] == medium_id]:
        cache.pop(key, None)


class CachedRenditions:
    """Answers an anonymous rendition read from this worker's cache; anything else (a key,
    a miss, another path) goes on to the app unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: RouteContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every request passes here: all but rendition reads are let by on their path alone,
        # before the route's pattern is tried.
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PREFIX)
        ):
            kept = self._kept(scope)
            if kept is not None:
                request = Request(scope)
                request.state.route_template = self.route.path if self.route else None
                await kept.response(request)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _kept(self, scope: Scope) -> Kept | None:
        if self.route is None:
            routes = iter_route_contexts(scope["app"].router.routes)
            self.route = next((r for r in routes if r.name == ROUTE_NAME), None)
            if self.route is None:
                return None  # an app without the media routes
        match, matched = self.route.matches(scope)
        if match is not Match.FULL:
            return None
        state = scope["app"].state
        if not state.settings.public_read or any(
            name == b"authorization" for name, _ in scope["headers"]
        ):
            return None
        params = matched["path_params"]
        cache: RenditionCache = state.rendition_cache
        return cache.get((params["medium_id"], params["name"]))
