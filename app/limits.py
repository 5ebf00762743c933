"""Refuse request bodies over the configured size (413) before anything reads them whole,
and query strings over theirs (414) before anything parses them."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem_response


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
            await problem_response(413, detail=too_large)(scope, receive, send)
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
    """414 for a query string longer than `max_bytes` (percent-encoded, as sent)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["query_string"]) > self.max_bytes:
            detail = f"The query string is longer than {self.max_bytes} bytes."
            await problem_response(414, detail=detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)
