"""Prometheus metrics: request counts and latencies by route and status (counted in every
worker; with several workers `newsdesk serve` gives them a shared multiprocess directory),
and, read from the database at scrape time so that every worker and host agree, the
webhook outbox backlog and deliveries by state, with this worker's connection pool.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import QueuePool

from app.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookOutbox

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
MEDIA_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter(
    "newsdesk_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "newsdesk_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@contextmanager
def metrics_shared_by(workers: int) -> Iterator[None]:
    """With several workers, Prometheus counters live in files of a directory they share
    (prometheus-client's multiprocess mode), fresh for each run of the server."""
    if workers == 1 or os.environ.get(MULTIPROCESS_DIRECTORY):
        yield
        return
    directory = tempfile.mkdtemp(prefix="newsdesk-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIRECTORY]
        shutil.rmtree(directory, ignore_errors=True)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    DURATION.labels(method, route).observe(seconds)


class _Snapshot:
    """Collector of metric families computed before the scrape (they need the database)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


async def _database_families(session: AsyncSession) -> list[Metric]:
    backlog = GaugeMetricFamily(
        "newsdesk_webhook_outbox_backlog", "Changes not yet handed to the webhooks."
    )
    backlog.add_metric(
        [], await session.scalar(select(func.count()).select_from(WebhookOutbox)) or 0
    )
    deliveries = GaugeMetricFamily(
        "newsdesk_webhook_deliveries",
        "Webhook deliveries by state: pending (being tried), failed (retries used up).",
        labels=["status"],
    )
    counted = dict(
        (
            await session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            )
        ).all()
    )
    for status in (DeliveryStatus.pending, DeliveryStatus.failed):
        deliveries.add_metric([status.value], counted.get(status, 0))
    disabled = GaugeMetricFamily(
        "newsdesk_webhooks_disabled", "Webhooks disabled after failing (or by their owner)."
    )
    query = select(func.count()).select_from(Webhook).where(Webhook.enabled.is_(False))
    disabled.add_metric([], await session.scalar(query) or 0)
    families: list[Metric] = [backlog, deliveries, disabled]
    pool = getattr(session.get_bind(), "pool", None)  # an engine's; a connection has none
    if isinstance(pool, QueuePool):
        connections = GaugeMetricFamily(
            "newsdesk_db_pool_connections",
            "Database connections of the worker that answered this scrape, by state.",
            labels=["state"],
        )
        connections.add_metric(["checked_out"], pool.checkedout())
        connections.add_metric(["idle"], pool.checkedin())
        families.append(connections)
    return families


async def exposition(session: AsyncSession) -> bytes:
    """The metrics in Prometheus' text format."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    database = CollectorRegistry()
    database.register(_Snapshot(await _database_families(session)))
    return generate_latest(requests) + generate_latest(database)
