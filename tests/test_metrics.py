"""Prometheus metrics: admin only; request counts and latencies by route template and
status; webhook backlog and delivery states as the database holds them; and, with several
workers, the counts of all of them."""

import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.webhooks.models import DeliveryStatus, View, Webhook, WebhookDelivery, WebhookOutbox
from tests.factories import make_article
from tests.helpers import newsdesk, serving

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient, admin: dict[str, str]) -> dict:
    response = await client.get("/metrics", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def requests_of(scraped: dict, route: str, status: str) -> float:
    key = frozenset({"method": "GET", "route": route, "status": status}.items())
    return scraped.get(("newsdesk_http_requests_total", key), 0.0)


async def test_metrics_need_the_admin_scope(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=reader)).status_code == 403


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    article = await make_article(session)
    before = await scrape(client, admin)
    await client.get(f"/v1/articles/{article.slug}")
    await client.get(f"/v1/articles/{article.id}")
    await client.get("/v1/articles/no-such-story")
    after = await scrape(client, admin)
    route = "/v1/articles/{article}"
    assert requests_of(after, route, "200") - requests_of(before, route, "200") == 2
    assert requests_of(after, route, "404") - requests_of(before, route, "404") == 1
    count = (
        "newsdesk_http_request_duration_seconds_count",
        frozenset({"method": "GET", "route": route}.items()),
    )
    assert after[count] - before.get(count, 0.0) == 3


async def test_webhook_gauges_are_what_the_database_holds(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    hook = Webhook(
        url="https://partner.example/hooks",
        events=["article.published"],
        view=View.public,
        secret="whsec_c2VjcmV0",
        enabled=False,
    )
    session.add(hook)
    await session.flush()
    for status in (DeliveryStatus.failed, DeliveryStatus.failed, DeliveryStatus.pending):
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                message_id=f"msg_{uuid.uuid4().hex}",
                event="article.published",
                body="{}",
                status=status,
            )
        )
    await make_article(session)  # commits, and may leave changes in the outbox
    scraped = await scrape(client, admin)
    deliveries = "newsdesk_webhook_deliveries"
    assert scraped[(deliveries, frozenset({"status": "failed"}.items()))] == 2
    assert scraped[(deliveries, frozenset({"status": "pending"}.items()))] == 1
    assert scraped[("newsdesk_webhooks_disabled", frozenset())] == 1
    backlog = await session.scalar(select(func.count()).select_from(WebhookOutbox))
    assert scraped[("newsdesk_webhook_outbox_backlog", frozenset())] == backlog


@pytest.mark.slow
def test_several_workers_share_their_counts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    assert newsdesk(url, "migrate").returncode == 0
    created = newsdesk(url, "keys", "create", "--name", "ops", "--scope", "admin")
    key = created.stdout.strip().splitlines()[-1]
    with serving(url, "--workers", "2", log=tmp_path / "serve.log") as served:
        # New connections each time, so the requests spread over both workers.
        answered = [httpx.get(f"{served.base}/healthz", timeout=5).status_code for _ in range(40)]
        assert set(answered) == {200}
        metrics = httpx.get(f"{served.base}/metrics", headers={"Authorization": f"Bearer {key}"})
        text = metrics.text
    # 40 counted, plus the readiness probes that got through (at least one).
    assert requests_of(samples(text), "/healthz", "200") >= 41
