"""HTTP semantics of the app's answers: strong ETags from the bytes sent, conditional GET
(`If-None-Match` → 304), Cache-Control by audience and `Surrogate-Key` for CDN purges; JSON
responses and list pages with their next-page links; and `If-Match` on writes."""

import hashlib
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import orjson
from fastapi import Header
from starlette.requests import Request
from starlette.responses import Response

from app.errors import PreconditionFailed

# Names some lists also accept for `cursor`; the next page's link always says `cursor`.
CURSOR_ALIASES = ("since",)

# The gzip-encoded bytes are another representation, so they get their own strong ETag
# (app/middleware.py's EncodedEntityTags gives it).
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
