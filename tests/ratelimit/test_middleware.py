"""Rate limits as callers meet them: per key, per anonymous address, behind trusted proxies,
and shared by two app instances through Redis."""

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from app.articles.models import Article
from app.db import get_sessionmaker
from app.main import create_app
from app.settings import Settings
from tests.factories import article_data

pytestmark = pytest.mark.anyio

Limited = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def limited(sessionmaker, settings: Settings) -> Limited:
    """`limited(client=("198.51.100.7", 1), rate_limit_anonymous=3, ...)`: a client of a
    new app with these settings, calling from that address."""

    @asynccontextmanager
    async def make(
        client: tuple[str, int] = ("198.51.100.7", 40000), **overrides: object
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=overrides))
        app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as made:
            yield made
        await app.state.rate_limit_buckets.aclose()

    return make


async def key_limited_to(limited: Limited, admin: dict[str, str], rate: int) -> dict[str, str]:
    """The Authorization header of a new read key with its own `rate` a minute."""
    async with limited(rate_limit_per_key=100) as client:
        created = await client.post(
            "/v1/keys",
            json={"name": f"limited to {rate}", "scopes": ["content:read"], "rate_limit": rate},
            headers=admin,
        )
    return {"Authorization": f"Bearer {created.json()['key']}"}


def random_address() -> str:
    """A client address no other test draws: a random /64 in the documentation prefix, since
    IPv6 callers share the budget of their /64 (a 1-in-250 IPv4 draw once collided)."""
    bits = uuid.uuid4().int
    return f"2001:db8:{bits & 0xFFFF:x}:{bits >> 16 & 0xFFFF:x}::1"


async def test_anonymous_callers_spend_their_address_budget_then_get_429(limited):
    async with limited(rate_limit_anonymous=3) as client:
        answers = [await client.get("/v1/articles") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-policy"] for a in answers] == ['"anonymous";q=3;w=60'] * 4
    assert [a.headers["ratelimit"] for a in answers[:3]] == [
        '"anonymous";r=2;t=20',
        '"anonymous";r=1;t=40',
        '"anonymous";r=0;t=60',
    ]
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["ratelimit"] == '"anonymous";r=0;t=20'
    problem = refused.json()
    assert problem["status"] == 429 and problem["type"].endswith("/problems/quota-exceeded")
    assert problem["violated-policies"] == ["anonymous"]
    assert "3 requests a minute" in problem["detail"]


async def test_a_refused_write_changes_nothing_and_is_logged_with_its_key(
    limited, writer, session, caplog
):
    caplog.set_level(logging.INFO, logger="newsdesk.access")
    async with limited(rate_limit_per_key=1) as client:
        first = await client.post("/v1/articles", json=article_data(), headers=writer)
        second = await client.post("/v1/articles", json=article_data(slug="second"), headers=writer)
    assert (first.status_code, second.status_code) == (201, 429)
    assert await session.scalar(select(func.count()).select_from(Article)) == 1
    logged = [r for r in caplog.records if r.name == "newsdesk.access"]
    assert [(r.status, r.key) for r in logged] == [(201, "writer"), (429, "writer")]


async def test_each_key_has_its_own_budget_set_at_creation(limited, admin):
    async with limited(rate_limit_per_key=100, rate_limit_anonymous=100) as client:
        created = await client.post(
            "/v1/keys",
            json={"name": "slow", "scopes": ["content:read"], "rate_limit": 2},
            headers=admin,
        )
        slow = {"Authorization": f"Bearer {created.json()['key']}"}
        answers = [await client.get("/v1/articles", headers=slow) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[0].headers["ratelimit-policy"] == '"key";q=2;w=60'
        assert answers[2].headers["retry-after"] == "30"
        assert "this API key" in answers[2].json()["detail"]
        # Another key and anonymous callers from the same address draw on their own budgets.
        other = await client.get("/v1/keys", headers=admin)
        assert other.status_code == 200
        # The admin key's second request (it may have earned one back since its first).
        assert other.headers["ratelimit"].split(";")[1] in ("r=98", "r=99")
        anonymous = await client.get("/v1/articles")
        assert anonymous.headers["ratelimit"] == '"anonymous";r=99;t=1'


async def test_guessed_keys_spend_the_address_budget(limited):
    async with limited(rate_limit_anonymous=2) as client:
        guesses = [
            await client.get("/v1/articles", headers={"Authorization": f"Bearer nd_guess{i}"})
            for i in range(3)
        ]
        assert [g.status_code for g in guesses] == [401, 401, 429]
        assert (await client.get("/v1/articles")).status_code == 429


async def test_health_probes_are_never_limited(limited):
    async with limited(rate_limit_anonymous=1) as client:
        probes = [await client.get("/healthz") for _ in range(3)]
        assert {p.status_code for p in probes} == {200}
        assert "ratelimit" not in probes[0].headers


async def test_zero_turns_a_limit_off(limited):
    async with limited(rate_limit_anonymous=0) as client:
        answers = [await client.get("/v1/articles") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert "ratelimit" not in answers[0].headers


async def test_cached_article_reads_are_limited_too(limited, writer, publisher):
    async with limited(rate_limit_anonymous=3) as client:
        created = await client.post("/v1/articles", json=article_data(), headers=writer)
        article = created.json()["id"]
        await client.post(f"/v1/articles/{article}/publish", json={}, headers=publisher)
    async with limited(client=(random_address(), 1), rate_limit_anonymous=3) as client:
        reads = [await client.get(f"/v1/articles/{article}") for _ in range(4)]
    # The second and third are answered from the rendered cache, before routing.
    assert [r.status_code for r in reads] == [200, 200, 200, 429]


async def test_forwarded_for_is_believed_only_from_trusted_proxies(limited):
    spoofed = {"X-Forwarded-For": random_address()}
    async with limited(client=("198.51.100.9", 1), rate_limit_anonymous=1) as client:
        assert (await client.get("/v1/articles", headers=spoofed)).status_code == 200
        other_claim = {"X-Forwarded-For": random_address()}
        assert (await client.get("/v1/articles", headers=other_claim)).status_code == 429

    async with limited(
        client=("10.1.2.3", 1), rate_limit_anonymous=1, trusted_proxies=["10.0.0.0/8"]
    ) as client:
        for _ in range(2):  # two clients behind the proxy: a budget each
            behind = {"X-Forwarded-For": f"{random_address()}, 10.9.9.9"}
            assert (await client.get("/v1/articles", headers=behind)).status_code == 200
        again = await client.get("/v1/articles", headers=behind)
        assert again.status_code == 429


async def test_an_ipv6_client_is_limited_by_its_64(limited):
    async with limited(client=("2001:db8:1:2::1", 1), rate_limit_anonymous=1) as client:
        assert (await client.get("/v1/articles")).status_code == 200
    async with limited(client=("2001:db8:1:2::ffff", 1), rate_limit_anonymous=1) as client:
        assert (await client.get("/v1/articles")).status_code == 200  # own app, own bucket


async def test_two_instances_share_one_budget_through_redis(limited, admin, redis_url):
    key = await key_limited_to(limited, admin, 10)
    async with (
        limited(redis_url=redis_url) as first,
        limited(redis_url=redis_url) as second,
    ):
        answers = [
            await (first if i % 2 else second).get("/v1/articles", headers=key) for i in range(20)
        ]
    statuses = [a.status_code for a in answers]
    # 10 a minute: the first ten pass, whichever instance answers, then both refuse.
    assert statuses == [200] * 10 + [429] * 10
    assert answers[9].headers["ratelimit"].startswith('"key";r=0;')


async def test_without_redis_each_instance_has_its_own_budget(limited, admin):
    key = await key_limited_to(limited, admin, 2)
    async with limited() as first, limited() as second:
        statuses = [
            (await c.get("/v1/articles", headers=key)).status_code
            for c in (first, second, first, second, first)
        ]
    assert statuses == [200, 200, 200, 200, 429]
