"""HTTP caching for reads: strong ETags from the bytes sent, `If-None-Match` → 304,
Cache-Control by audience and `Surrogate-Key` for CDN purges."""

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PreconditionFailed, UnsupportedMediaType

# The gzip-encoded bytes are another representation, so they get their own strong ETag.
GZIP_ETAG_SUFFIX = "-gzip"


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_of(payload: Any) -> str:
    return entity_tag(orjson.dumps(payload))


def _opaque(tag: str) -> str:
    tag = tag.strip().removeprefix("W/")
    if tag.endswith(GZIP_ETAG_SUFFIX + '"'):
        tag = tag[: -len(GZIP_ETAG_SUFFIX) - 1] + '"'
    return tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names this representation (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    candidates = [part.strip() for part in if_none_match.split(",")]
    return "*" in candidates or any(_opaque(tag) == etag for tag in candidates)


def cache_control(request: Request, public: bool) -> str:
    if not public:
        return "private, no-store"
    settings = request.app.state.settings
    return (
        f"public, max-age={settings.cache_max_age}, "
        f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
    )


def cached_json(
    request: Request,
    payload: Any,
    *,
    public: bool,
    surrogate_keys: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A 200 with validators for a GET, or a 304 when the client already has these bytes."""
    body = orjson.dumps(payload)
    etag = entity_tag(body)
    response_headers = {
        "ETag": etag,
        "Cache-Control": cache_control(request, public),
        "Vary": "Accept, Authorization",
        **(headers or {}),
    }
    keys = " ".join(dict.fromkeys(surrogate_keys))
    if keys:
        response_headers["Surrogate-Key"] = keys
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=response_headers)
    return Response(body, headers=response_headers, media_type=media_type)


def cached_page(
    request: Request,
    data: list[Any],
    next_cursor: str | None,
    *,
    public: bool,
    total: int | None = None,
    surrogate_keys: Iterable[str] = (),
) -> Response:
    """A list page: `{"data", "next_cursor"[, "total"]}` with `Link: rel="next"`."""
    page: dict[str, Any] = {"data": data, "next_cursor": next_cursor}
    if total is not None:
        page["total"] = total
    headers = {}
    if next_cursor is not None:
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    return cached_json(request, page, public=public, surrogate_keys=surrogate_keys, headers=headers)


def json_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A write's answer: the new representation with its ETag."""
    body = orjson.dumps(payload)
    return Response(
        body,
        status_code=status_code,
        headers={"ETag": entity_tag(body), **(headers or {})},
        media_type="application/json",
    )


class EncodedEntityTags:
    """Gives gzip-encoded responses an ETag of their own (`"…-gzip"`); mounted outside
    GZipMiddleware so it sees the final headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if (b"content-encoding", b"gzip") in headers:
                    message["headers"] = [
                        (name, value[:-1] + GZIP_ETAG_SUFFIX.encode() + b'"')
                        if name == b"etag" and value.endswith(b'"')
                        else (name, value)
                        for name, value in headers
                    ]
            await send(message)

        await self.app(scope, receive, send_tagged)


def require_json(request: Request) -> None:
    """Write bodies are JSON (`application/json`, `application/merge-patch+json`, …)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {media_type or 'no Content-Type'})."
        )


def check_if_match(request: Request, current_etag: str) -> None:
    """`If-Match` guards a write against lost updates: 412 when the client's copy is stale."""
    header = request.headers.get("if-match")
    if header is None:
        return
    candidates = [part.strip() for part in header.split(",")]
    if "*" in candidates:
        return
    strong = [tag for tag in candidates if not tag.startswith("W/")]
    if not any(_opaque(tag) == current_etag for tag in strong):
        raise PreconditionFailed(
            "The article has changed since you fetched it (If-Match does not match its ETag)."
        )
