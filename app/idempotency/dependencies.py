"""How POST routes take part: the `Idempotency` dependency claims the key in the write's
transaction and stores the endpoint's response there; the `Settle` middleware stores what
ends otherwise (client errors replay as they were) or releases a key claimed on its own
(server errors); a retry of a finished request is answered from the record."""

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import Session, get_sessionmaker
from app.errors import AppError

from . import service
from .service import Claim, StoredResponse

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("content-type", "location", "etag", "cache-control")
STATE = "idempotency"


class BadKey(AppError):
    code = "bad-idempotency-key"

    def __init__(self) -> None:
        super().__init__(
            f"{HEADER} must be 1 to 255 visible ASCII characters, e.g. a UUID "
            '(as a structured-field string: "…"; a bare token is accepted too).'
        )


class Replayed(Exception):
    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


@dataclass
class Guard:
    """What an endpoint hands its response to, so that it is stored with the write."""

    claim: Claim | None
    response: Response | None = None

    def keep(self, response: Response, *, replay: Response | None = None) -> Response:
        """Store `response` to replay, or `replay` instead when a retry must see less (a
        secret is shown once and never stored a second time)."""
        self.response = replay or response
        return response


def parse_key(raw: str) -> str:
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
        raise BadKey()
    return key


def fingerprint(request: Request, body_digest: str) -> str:
    """What makes two requests "the same": method, path, query and body."""
    parts = [request.method, request.url.path, request.url.query, body_digest]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def body_digest(request: Request, body: bytes) -> str:
    """The body's SHA-256, a multipart body's taken without its boundary: a client that
    retries an upload builds the form again, with a new random boundary, around the same
    parts (and a boundary never occurs within them)."""
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() == "multipart/form-data":
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                body = body.replace(value.strip('"').encode("latin-1"), b"")
    return hashlib.sha256(body).hexdigest()


def owner(request: Request) -> str:
    """Keys are scoped to the API key that sent them (its hash, as stored)."""
    authorization = request.headers.get("authorization", "")
    return hashlib.sha256(authorization.partition(" ")[2].strip().encode()).hexdigest()


def stored(response: Response) -> StoredResponse:
    headers = [
        [name, response.headers[name]] for name in REPLAYED_HEADERS if name in response.headers
    ]
    return StoredResponse(response.status_code, headers, bytes(response.body))


async def begin(
    request: Request,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    body_digest: str,
) -> Claim | None:
    """Claim the request's key (if it has one) in `session`'s transaction. A finished
    request is replayed (raises Replayed); a reused or busy key raises a problem."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    claim = Claim(owner(request), parse_key(raw))
    settings = request.app.state.settings
    request_fingerprint = fingerprint(request, body_digest)
    found = await service.claim(
        session,
        claim,
        request_fingerprint,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        lock=timedelta(seconds=settings.idempotency_lock_seconds),
        wait=timedelta(seconds=settings.idempotency_wait_seconds),
    )
    if found is not None:
        raise Replayed(found)
    setattr(request.state, STATE, (claim, sessionmaker, request_fingerprint))
    return claim


async def takes_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Makes the POST safe to retry: a retry with the same key (and the "
            "same request) is answered with the first answer, marked `Idempotent-Replayed: "
            "true`, instead of writing again. 1 to 255 visible ASCII characters, e.g. a UUID; "
            "keys are kept per API key for `NEWSDESK_IDEMPOTENCY_TTL_HOURS` (24 by default). "
            "Reusing a key for a different request is refused with 422.",
        ),
    ] = None,
) -> None:
    """Declares the header (for the OpenAPI document); `begin` reads it."""


# For routes that claim the key themselves, with `begin`.
TakesKey = Depends(takes_key)


async def idempotency(
    request: Request,
    session: Session,
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)],
    _declared: Annotated[None, TakesKey],
) -> AsyncIterator[Guard]:
    body = await request.body()
    guard = Guard(await begin(request, session, sessionmaker, body_digest(request, body)))
    yield guard
    if guard.claim is not None and guard.response is not None:
        await service.complete(session, guard.claim, stored(guard.response))
        setattr(request.state, STATE, None)


# scope="function": the response is stored before the write's transaction commits.
Idempotency = Annotated[Guard, Depends(idempotency, scope="function")]


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replayed)
    headers = {name: value for name, value in exc.stored.headers}
    headers["Idempotent-Replayed"] = "true"
    return Response(exc.stored.body, status_code=exc.stored.status_code, headers=headers)


class Settle:
    """Pure ASGI: for a request whose key was claimed but whose response was not stored with
    a write, store it (client errors replay as they were) or release the key (server
    errors), before the client sees the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] != "http" or HEADER.lower().encode() not in headers:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception:
            await self._settle(scope, None)
            raise
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] >= 500:
            await self._settle(scope, None)
        else:
            response_headers = [
                [name.decode(), value.decode()]
                for name, value in start.get("headers", [])
                if name.decode() in REPLAYED_HEADERS
            ]
            await self._settle(scope, StoredResponse(start["status"], response_headers, body))
        for message in messages:
            await send(message)

    async def _settle(self, scope: Scope, response: StoredResponse | None) -> None:
        pending = scope.get("state", {}).get(STATE)
        if pending is not None:
            claim, sessionmaker, request_fingerprint = pending
            await service.settle(sessionmaker, claim, request_fingerprint, response)


def install(app: FastAPI) -> None:
    """A replay's answer; `Settle` is in app/main.py's list of middlewares, innermost."""
    app.add_exception_handler(Replayed, _replay)
