"""Who is calling and what they may do: bearer keys, scopes, and the rule that a key with
`content:write` sees drafts."""

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import select

from app.db import Session
from app.errors import Forbidden, Unauthorized

from .models import ApiKey
from .scopes import Scope

R = TypeVar("R")

# A scope also grants the ones it implies.
IMPLIED = {
    Scope.write: {Scope.read},
    Scope.publish: {Scope.read},
    Scope.admin: {Scope.read},
}


# Keys are looked up by their first characters (not secret: listings show them), then the
# hash of the whole key is compared in constant time, so response times tell nothing about
# how close a guess came.
PREFIX_LENGTH = 10


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str:
    return key[:PREFIX_LENGTH]


def bearer_token(authorization: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header; None if the header is not that."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def matching_key(candidates: Iterable[R], token: str) -> R | None:
    """The candidate (anything with a `key_hash`) whose hash is that of `token`."""
    digest = hash_key(token).encode()
    found = None
    for candidate in candidates:
        if hmac.compare_digest(candidate.key_hash.encode(), digest):  # type: ignore[attr-defined]
            found = candidate
    return found


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_drafts(self) -> bool:
        return Scope.write in self.scopes or Scope.publish in self.scopes

    @property
    def may_publish(self) -> bool:
        """Publishes, and changes what is published or scheduled."""
        return Scope.publish in self.scopes

    @property
    def name(self) -> str:
        return self.key.name if self.key else "anonymous"


def effective_scopes(granted: list[str]) -> frozenset[str]:
    scopes = set(granted)
    for scope in granted:
        scopes |= IMPLIED.get(scope, set())  # type: ignore[call-overload]
    return frozenset(scopes)


async def current_caller(request: Request, session: Session) -> Caller:
    """The caller behind `Authorization: Bearer <key>`; anonymous without the header."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        public = request.app.state.settings.public_read
        return Caller(scopes=frozenset({Scope.read}) if public else frozenset())
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("Send the API key as `Authorization: Bearer <key>`.")
    candidates = await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix_of(token)))
    key = matching_key(candidates, token)
    if key is None or (key.revoked_at is not None and key.revoked_at <= datetime.now(UTC)):
        raise Unauthorized("The API key is unknown or has been revoked.")
    request.state.key_name = key.name  # for the request log
    return Caller(key=key, scopes=effective_scopes(key.scopes))


CurrentCaller = Annotated[Caller, Depends(current_caller)]


@cache
def require_scope(scope: Scope) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets the request through only with `scope` (one per scope, so
    FastAPI runs it once per request however many places ask for it)."""

    async def check(caller: CurrentCaller) -> Caller:
        if scope in caller.scopes:
            return caller
        if caller.key is None:
            raise Unauthorized(f"This needs an API key with the {scope.value!r} scope.")
        raise Forbidden(f"The API key {caller.name!r} lacks the {scope.value!r} scope.")

    return check


Reader = Annotated[Caller, Depends(require_scope(Scope.read))]
Writer = Annotated[Caller, Depends(require_scope(Scope.write))]
Publisher = Annotated[Caller, Depends(require_scope(Scope.publish))]
Admin = Annotated[Caller, Depends(require_scope(Scope.admin))]
