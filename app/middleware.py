"""The app's generic pure-ASGI middlewares (app/main.py stacks them with the others):
HEAD answered as GET, gzip-encoded responses given ETags of their own, and the limits on a
request's size: request bodies over the configured size are refused (413) before anything
reads them whole, and query strings over theirs (414), or holding a NUL character (422),
before anything parses them."""

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import HEAD_REQUEST, FieldError, problem_response, problem_type
from app.http import GZIP_ETAG_SUFFIX


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


class BodySizeLimit:
    """`max_bytes` for every path, except those given their own limit in `per_path` (bulk
    uploads, which are read line by line)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        too_large = f"The request body is larger than {limit} bytes."
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            type_ = problem_type(Request(scope), "payload-too-large")
            await problem_response(413, type_=type_, detail=too_large)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            # Bodies without Content-Length (chunked) are counted as they arrive.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, counting_receive, send)


class QueryStringLimit:
    """414 for a query string longer than `max_bytes` (percent-encoded, as sent); and 422
    for a NUL character (`%00`) in a parameter, 404 in the path, which no value or name can
    hold (PostgreSQL cannot even compare text with one)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope["query_string"]
        if len(query) > self.max_bytes:
            detail = f"The query string is longer than {self.max_bytes} bytes."
            type_ = problem_type(Request(scope), "uri-too-long")
            await problem_response(414, type_=type_, detail=detail)(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            detail = f"There is nothing at {scope['path']!r}."
            type_ = problem_type(Request(scope), "not-found")
            await problem_response(404, type_=type_, detail=detail)(scope, receive, send)
            return
        if b"%00" in query or b"\x00" in query:
            await self._refuse_nul(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse_nul(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = "must not contain the NUL character (U+0000)"
        errors = [
            FieldError(loc=["query", name], msg=message, type="value_error")
            for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True)
            if "\x00" in name or "\x00" in value
        ]
        if errors:
            detail = "; ".join(f"query.{e.loc[1]}: {message}" for e in errors)
            type_ = problem_type(Request(scope), "validation-error")
            response = problem_response(422, type_=type_, detail=detail, errors=errors)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
