"""HTTP caching for reads: strong ETags from the bytes sent, `If-None-Match` → 304,
Cache-Control by audience and `Surrogate-Key` for CDN purges."""

import hashlib
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Body, Header
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    HEAD_REQUEST,
    PreconditionFailed,
    UnsupportedMediaType,
    mark_malformed_json,
)

MERGE_PATCH = "application/merge-patch+json"
# Names some lists also accept for `cursor`; the next page's link always says `cursor`.
CURSOR_ALIASES = ("since",)

T = TypeVar("T")

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


def none_match(if_none_match: str | None, etag: str) -> str | None:
    """The tag in `If-None-Match` that names this representation (weak comparison, RFC 9110),
    or None. A 304 repeats that tag, so the gzip variant's ETag comes back as it was sent."""
    if not if_none_match:
        return None
    for tag in (part.strip() for part in if_none_match.split(",")):
        if tag == "*":
            return etag
        if _opaque(tag) == etag:
            return tag.removeprefix("W/")
    return None


def cache_control(request: Request, public: bool, revalidate: bool = False) -> str:
    """Public reads may be served stale for a while (`revalidate`: never without asking us
    again, for what must be seen at once); anything that needs a key is never stored."""
    if not public:
        return "private, no-store"
    if revalidate:
        return "public, no-cache"
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
    return cached_bytes(
        request,
        orjson.dumps(payload),
        public=public,
        surrogate_keys=surrogate_keys,
        headers=headers,
        media_type=media_type,
    )


def cached_bytes(
    request: Request,
    body: bytes,
    *,
    public: bool,
    media_type: str,
    surrogate_keys: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    revalidate: bool = False,
) -> Response:
    """`cached_json` for a body already rendered (HTML, XML, …), and its `etag` if known."""
    etag = etag or entity_tag(body)
    response_headers = {
        "ETag": etag,
        "Cache-Control": cache_control(request, public, revalidate),
        # The same on a 200 and its 304, whether or not this one was gzipped.
        "Vary": "Accept, Accept-Encoding, Authorization",
        **(headers or {}),
    }
    keys = " ".join(dict.fromkeys(surrogate_keys))
    if keys:
        response_headers["Surrogate-Key"] = keys
    matched = none_match(request.headers.get("if-none-match"), etag)
    if matched:
        return Response(status_code=304, headers={**response_headers, "ETag": matched})
    return Response(body, headers=response_headers, media_type=media_type)


def cached_page(
    request: Request,
    data: Sequence[Any],
    next_cursor: str | None,
    *,
    public: bool,
    total: int | None = None,
    surrogate_keys: Iterable[str] = (),
    etag: str | None = None,
    more: bool | None = None,
    revalidate: bool = False,
) -> Response:
    """A list page: `{"data", "next_cursor"[, "total"]}` with `Link: rel="next"` while there
    is more to read (`more`; by default, whenever there is a next cursor). Items may come as
    JSON already encoded (bytes), as cached renderings do, and the page's `etag` with them
    (it must change whenever the bytes do)."""
    items = [item if isinstance(item, bytes) else orjson.dumps(item) for item in data]
    body = b'{"data":[' + b",".join(items) + b'],"next_cursor":' + orjson.dumps(next_cursor)
    if total is not None:
        body += b',"total":' + orjson.dumps(total)
    headers = {}
    if next_cursor is not None and (more is None or more):
        headers["Link"] = f'<{next_page_url(request, next_cursor)}>; rel="next"'
    return cached_bytes(
        request,
        body + b"}",
        public=public,
        surrogate_keys=surrogate_keys,
        headers=headers,
        media_type="application/json",
        etag=etag,
        revalidate=revalidate,
    )


def next_page_url(request: Request, cursor: str) -> str:
    """This request's URL for the page at `cursor`: every list resumes with `cursor` (an
    alias such as the changes feed's `since` is dropped, so the two never disagree)."""
    return str(request.url.remove_query_params(CURSOR_ALIASES).include_query_params(cursor=cursor))


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


class _LenientJsonRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
            return mark_malformed_json(self, error)


class AuthFirstRoute(APIRoute):
    """FastAPI rejects a body that is not JSON before it runs any dependency, so a caller
    without a key would learn about their JSON before hearing they need a key. This route
    hands malformed bodies on to validation instead, which runs after the auth checks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_LenientJsonRequest(request.scope, request.receive))

        return route


class HeadAsGet:
    """HEAD wherever GET is allowed (RFC 9110): the request is answered as its GET would be,
    status and headers alike (ETag, Content-Length, Link, …), without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_REQUEST: True}, receive, send_head)


def _unique_vary(value: bytes) -> bytes:
    tokens = [token.strip() for token in value.split(b",") if token.strip()]
    return b", ".join(dict.fromkeys(tokens))


class EncodedEntityTags:
    """Gives gzip-encoded responses an ETag of their own (`"…-gzip"`), and says each `Vary`
    token once (GZipMiddleware appends `Accept-Encoding` to the one our reads already send,
    so that a 304 varies as its 200 does); mounted outside GZipMiddleware so it sees the
    final headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                gzipped = (b"content-encoding", b"gzip") in headers
                message["headers"] = [
                    (name, value[:-1] + GZIP_ETAG_SUFFIX.encode() + b'"')
                    if gzipped and name == b"etag" and value.endswith(b'"')
                    else (name, _unique_vary(value) if name == b"vary" else value)
                    for name, value in headers
                ]
            await send(message)

        await self.app(scope, receive, send_tagged)


def media_type_of(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def accepting(
    *media_types: str, patch: bool = False
) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency refusing a body of any other media type (415 naming those taken; for a
    PATCH also in `Accept-Patch`, RFC 5789)."""
    names = " or ".join(media_types)

    async def check(request: Request) -> None:
        media_type = media_type_of(request)
        if media_type not in media_types:
            error = UnsupportedMediaType(
                f"Send the body as {names} (got {media_type or 'no Content-Type'})."
            )
            if patch:
                error.headers = {"Accept-Patch": ", ".join(media_types)}
            raise error

    return check


# Write bodies are JSON; a PATCH is a JSON Merge Patch (RFC 7396), also taken as plain JSON.
# A JSON Patch (RFC 6902, application/json-patch+json) is another language, refused.
require_json = accepting("application/json")
require_merge_patch = accepting(MERGE_PATCH, "application/json", patch=True)


NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")


async def require_ndjson(request: Request) -> None:
    media_type = media_type_of(request)
    if media_type not in NDJSON_TYPES:
        raise UnsupportedMediaType(
            f"Send one JSON object per line as application/x-ndjson (got {media_type or 'none'})."
        )


# A PATCH body: documented under merge-patch+json alone, as one schema under two media types
# makes generated clients fail (openapi-python-client); `require_json` takes plain JSON too.
MergePatch = Annotated[T, Body(media_type=MERGE_PATCH)]


def merge_patch_body() -> dict[str, Any]:
    """OpenAPI `openapi_extra` for a PATCH whose body is a `MergePatch`."""
    return {
        "requestBody": {
            "description": "A JSON Merge Patch (RFC 7396): members sent replace, `null` "
            "clears, members left out stay as they are. `application/json` is accepted too, "
            "with the same meaning."
        }
    }


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your copy of what is being changed (for a new claim, of its "
        "article). If that has changed since, the write is refused with 412 Precondition "
        "Failed and nothing is changed. `*` matches any; without the header the write is "
        "unconditional.",
    ),
]


def check_if_match(header: str | None, current_etag: str) -> None:
    """`If-Match` guards a write against lost updates: 412 when the client's copy is stale."""
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
