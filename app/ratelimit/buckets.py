"""Token buckets: each holds a minute's requests and refills continuously, so a caller may
spend its whole minute at once and then gets one more request every 60/rate seconds.

`LocalBuckets` keeps them in this process (each worker has its own); `RedisBuckets` keeps
them in Redis, where one atomic script takes from the bucket, so every worker and host
draws on the same budget. Both answer the same `Decision`."""

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.settings import Settings

logger = logging.getLogger("newsdesk")

WINDOW_SECONDS = 60
# A bucket left alone for a window is full again, so forgetting it then loses nothing.
IDLE_SECONDS = WINDOW_SECONDS


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    quota: int  # requests per window
    remaining: int  # whole requests left now
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until the bucket holds a whole request again; 0 if it does

    @classmethod
    def of(cls, allowed: bool, tokens: float, quota: int) -> "Decision":
        """The decision for a bucket of `quota` left holding `tokens` after this request."""
        per_second = quota / WINDOW_SECONDS
        short_of_one = max(0.0, 1 - tokens)
        return cls(
            allowed=allowed,
            quota=quota,
            remaining=math.floor(tokens),
            reset=math.ceil((quota - tokens) / per_second),
            retry_after=math.ceil(short_of_one / per_second),
        )


def refill(tokens: float, quota: int, elapsed: float) -> float:
    return min(float(quota), tokens + max(0.0, elapsed) * quota / WINDOW_SECONDS)


class Buckets(Protocol):
    async def take(self, partition: str, quota: int) -> Decision | None:
        """Spend one request from `partition`'s bucket of `quota` requests per window;
        None when the limit cannot be checked right now (the request goes through)."""

    async def aclose(self) -> None: ...


class LocalBuckets:
    """Buckets in this process's memory, bounded: the idle are forgotten (they are full)."""

    def __init__(self, max_partitions: int = 100_000) -> None:
        self._buckets: TTLCache[str, tuple[float, float]] = TTLCache(max_partitions, IDLE_SECONDS)

    async def take(self, partition: str, quota: int) -> Decision:
        now = time.monotonic()
        tokens, last = self._buckets.get(partition, (float(quota), now))
        tokens = refill(tokens, quota, now - last)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[partition] = (tokens, now)
        return Decision.of(allowed, tokens, quota)

    async def aclose(self) -> None:
        self._buckets.clear()


# Refill, take one if there is one, store, and let Redis forget the bucket once it would be
# full anyway. Redis's own clock is the only one used, so hosts' clocks need not agree.
# The level comes back as a string: Lua numbers returned to a client are cut to integers.
TAKE_SCRIPT = """
local quota = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or quota
local at = tonumber(state[2]) or now
tokens = math.min(quota, tokens + math.max(0, now - at) * quota / window)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], window + 1)
return {allowed, tostring(tokens)}
"""


class RedisBuckets:
    """Buckets in Redis, shared by every process that names the same server. While Redis
    cannot be reached, requests go through unlimited (and a warning is logged at most
    every 10 s): an outage of the limiter must not become an outage of the API."""

    KEY_PREFIX = "newsdesk:ratelimit:"

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._redis.register_script(TAKE_SCRIPT)
        self._last_warning = -math.inf

    async def take(self, partition: str, quota: int) -> Decision | None:
        try:
            allowed, tokens = await self._take(
                keys=[self.KEY_PREFIX + partition], args=[quota, WINDOW_SECONDS]
            )
        except (RedisError, OSError) as error:
            if time.monotonic() - self._last_warning > 10:
                self._last_warning = time.monotonic()
                logger.warning("rate limits unchecked, Redis is out of reach: %r", error)
            return None
        return Decision.of(bool(allowed), float(tokens), quota)

    async def aclose(self) -> None:
        await self._redis.aclose()


def buckets_for(settings: Settings) -> Buckets:
    return RedisBuckets(settings.redis_url) if settings.redis_url else LocalBuckets()
