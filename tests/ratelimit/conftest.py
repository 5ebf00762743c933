"""The Redis the shared-budget tests run against: 127.0.0.1:6379 (NEWSDESK_TEST_REDIS_URL
names another). CI starts it and fails when it is out of reach; elsewhere those tests are
skipped, saying why."""

import os

import pytest
import redis

REDIS_URL = os.environ.get("NEWSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis at {REDIS_URL} is out of reach ({error}); CI never skips this")
    return REDIS_URL
