"""Every request leaves one structured line (method, route template, status, duration, key
name, request id) and carries a request id back, the caller's own when it is sane."""

import logging

import httpx
import pytest

from tests.factories import article_data, make_article
from tests.live import Live

pytestmark = pytest.mark.anyio

ACCESS = "newsdesk.access"


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS]


async def test_a_read_is_logged_with_its_route_and_the_callers_request_id(
    client: httpx.AsyncClient, session, caplog: pytest.LogCaptureFixture
) -> None:
    article = await make_article(session)
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = await client.get(
        f"/v1/articles/{article.slug}", headers={"X-Request-ID": "edge-7f3a:1"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "edge-7f3a:1"
    [record] = lines(caplog)
    assert (record.method, record.route, record.status) == ("GET", "/v1/articles/{article}", 200)
    assert (record.key, record.request_id) == ("anonymous", "edge-7f3a:1")
    assert record.duration_ms >= 0


@pytest.mark.parametrize("given", ["has spaces in it", "x" * 129, 'quote"d', ""])
async def test_an_unusable_request_id_is_replaced(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = await client.get("/healthz", headers={"X-Request-ID": given})
    made = response.headers["x-request-id"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0
    assert lines(caplog)[0].request_id == made


async def test_the_key_name_and_failures_are_logged(
    client: httpx.AsyncClient, writer: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    refused = await client.post("/v1/articles", json={}, headers=writer)
    missing = await client.get("/no/such/place")
    assert (refused.status_code, missing.status_code) == (422, 404)
    first, second = lines(caplog)
    assert (first.route, first.status, first.key) == ("/v1/articles", 422, "writer")
    assert (second.route, second.status, second.key) == ("unmatched", 404, "anonymous")
    assert first.request_id != second.request_id


async def test_a_read_answered_from_the_cache_is_logged_with_its_route(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    story = article_data(slug="logged-from-cache")
    created = await live.client.post("/v1/articles", json=story, headers=live.headers)
    article_id = created.json()["id"]
    await live.client.post(f"/v1/articles/{article_id}/publish", headers=live.headers)
    await live.client.get(f"/v1/articles/{article_id}")  # rendered and cached
    caplog.set_level(logging.INFO, logger=ACCESS)
    hit = await live.client.get(f"/v1/articles/{article_id}")
    assert hit.status_code == 200
    [record] = lines(caplog)
    assert (record.route, record.status) == ("/v1/articles/{article}", 200)
