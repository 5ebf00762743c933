"""`RateLimits`: every request spends one from its caller's bucket before anything else
reads it, and every answer says what is left (`RateLimit-Policy` and `RateLimit`, the IETF
httpapi draft's structured fields); an empty bucket is a 429 with `Retry-After`.

An API key's bucket holds its own `rate_limit` (else the deployment's per-key limit);
callers without a valid key share their client address's bucket (IPv6 by /64), so
guessing keys is limited too. The client address is the connection's peer, or the one a
trusted proxy names in X-Forwarded-For (`NEWSDESK_TRUSTED_PROXIES`, see app/main.py). Health
probes are never limited."""

import ipaddress
import uuid
from typing import NamedTuple

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.dependencies import bearer_token, hash_key, matching_key, prefix_of
from app.auth.models import ApiKey
from app.db import read_rows, sessionmaker_for
from app.errors import problem_response, problem_type

from .buckets import WINDOW_SECONDS, Buckets, Decision

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
KEY_POLICY = "key"
ADDRESS_POLICY = "anonymous"


class KnownKey(NamedTuple):
    partition: str
    quota: int
    name: str


class RateLimits:
    def __init__(self, app: ASGIApp, buckets: Buckets, per_address: int, per_key: int) -> None:
        self.app = app
        self.buckets = buckets
        self.per_address = per_address
        self.per_key = per_key
        # hash of a valid key → (its partition, its quota, its name). A key's limit never
        # changes; revocation is the auth dependency's business, checked on every request.
        self._keys: LRUCache[str, KnownKey] = LRUCache(10_000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        policy, partition, quota = await self._bucket_of(scope)
        decision = await self.buckets.take(partition, quota) if quota else None
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await too_many_requests(scope, policy, decision)(scope, receive, send)
            return
        headers = header_lines(policy, decision)

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_limits)

    async def _bucket_of(self, scope: Scope) -> tuple[str, str, int]:
        """(policy name, bucket partition, requests per window) for this request's caller."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = bearer_token(value.decode("latin-1"))
                known = await self._known_key(scope, token) if token else None
                if known is not None:
                    scope.setdefault("state", {})["key_name"] = known.name  # for the log
                    return KEY_POLICY, known.partition, known.quota
                break
        return ADDRESS_POLICY, "address:" + address_of(scope), self.per_address

    async def _known_key(self, scope: Scope, token: str) -> KnownKey | None:
        digest = hash_key(token)
        known = self._keys.get(digest)
        if known is not None:
            return known
        statement = select(ApiKey.id, ApiKey.name, ApiKey.key_hash, ApiKey.rate_limit).where(
            ApiKey.prefix == prefix_of(token)
        )
        try:
            rows = await read_rows(sessionmaker_for(scope["app"], scope), statement)
        except (SQLAlchemyError, ConnectionError, TimeoutError):
            return None  # the route answers for the database
        key = matching_key(rows, token)
        if key is None:
            return None
        partition = f"key:{uuid.UUID(str(key.id)).hex}"
        known = KnownKey(partition, key.rate_limit or self.per_key, key.name)
        self._keys[digest] = known
        return known


def address_of(scope: Scope) -> str:
    """The client's address; an IPv6 client by its /64, which one host usually owns whole."""
    client = scope.get("client")
    if not client:
        return "unknown"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return str(client[0])  # not an IP (a test client, a Unix socket)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def header_lines(
    policy: str, decision: Decision, wait: int | None = None
) -> list[tuple[bytes, bytes]]:
    """`RateLimit-Policy` and `RateLimit` as structured-field lists (draft-ietf-httpapi-
    ratelimit-headers): the quota per window, then what is left and the seconds until the
    bucket is full again (or, when refusing, until the next request is allowed)."""
    seconds = decision.reset if wait is None else wait
    return [
        (b"ratelimit-policy", f'"{policy}";q={decision.quota};w={WINDOW_SECONDS}'.encode()),
        (b"ratelimit", f'"{policy}";r={decision.remaining};t={seconds}'.encode()),
    ]


def too_many_requests(scope: Scope, policy: str, decision: Decision) -> Response:
    wait = max(1, decision.retry_after)
    who = "this API key" if policy == KEY_POLICY else "callers without an API key from this address"
    headers = {
        name.decode(): value.decode() for name, value in header_lines(policy, decision, wait)
    }
    return problem_response(
        429,
        type_=problem_type(Request(scope), "quota-exceeded"),
        detail=(
            f"The rate limit for {who} ({decision.quota} requests a minute) is used up; "
            f"try again in {wait} s."
        ),
        headers={**headers, "Retry-After": str(wait)},
        members={"violated-policies": [policy]},
    )
