"""The token bucket itself, in this process and in Redis: the same arithmetic either way."""

import asyncio
import uuid

import pytest

from app.ratelimit import buckets as buckets_module
from app.ratelimit.buckets import Decision, LocalBuckets, RedisBuckets

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["local", "redis"])
async def buckets(request):
    if request.param == "local":
        made = LocalBuckets()
    else:
        made = RedisBuckets(request.getfixturevalue("redis_url"))
    yield made
    await made.aclose()


def partition() -> str:
    return f"test:{uuid.uuid4().hex}"


async def test_a_bucket_holds_a_minute_of_requests_then_refuses(buckets):
    bucket = partition()
    decisions = [await buckets.take(bucket, 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    # 3 a minute: one request comes back every 20 s, the whole bucket in 60 s.
    assert 19 <= refused.retry_after <= 20
    assert 59 <= refused.reset <= 60
    assert decisions[0].reset == 20 and decisions[0].retry_after == 0


async def test_buckets_are_separate(buckets):
    first, second = partition(), partition()
    assert (await buckets.take(first, 1)).allowed
    assert not (await buckets.take(first, 1)).allowed
    assert (await buckets.take(second, 1)).allowed


async def test_a_local_bucket_refills_with_time(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(buckets_module.time, "monotonic", lambda: clock[0])
    buckets = LocalBuckets()
    for _ in range(6):
        await buckets.take("b", 6)
    assert not (await buckets.take("b", 6)).allowed
    clock[0] += 10  # 6 a minute: one back every 10 s
    assert (await buckets.take("b", 6)).allowed
    assert not (await buckets.take("b", 6)).allowed
    clock[0] += 3600  # never more than the bucket holds
    assert (await buckets.take("b", 6)).remaining == 5


async def test_a_redis_bucket_refills_on_redis_time(redis_url):
    buckets = RedisBuckets(redis_url)
    bucket = partition()
    try:
        for _ in range(60):  # 60 a minute: one back every second
            await buckets.take(bucket, 60)
        assert not (await buckets.take(bucket, 60)).allowed
        await asyncio.sleep(1.1)
        back = await buckets.take(bucket, 60)
        assert back.allowed and back.remaining == 0
    finally:
        await buckets.aclose()


async def test_an_unreachable_redis_lets_requests_through_unlimited(caplog):
    buckets = RedisBuckets("redis://127.0.0.1:1/0")
    try:
        assert await buckets.take(partition(), 1) is None
        assert await buckets.take(partition(), 1) is None
    finally:
        await buckets.aclose()
    assert caplog.text.count("Redis is out of reach") == 1  # not once a request


def test_decision_arithmetic():
    assert Decision.of(True, 0.5, 60) == Decision(True, 60, 0, 60, 1)
    assert Decision.of(False, 0.0, 120) == Decision(False, 120, 0, 60, 1)
