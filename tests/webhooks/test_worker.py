"""The dispatcher as it runs in production: inside the app's lifespan (`newsdesk serve`) and
as `newsdesk worker`, killed mid-delivery and restarted without losing an event."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.main import create_app
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.helpers import ROOT
from tests.webhooks.receiver import Answer
from tests.webhooks.test_dispatch import _in_flight

pytestmark = pytest.mark.anyio

STORIES = 16


@pytest.fixture
def worker(database_url: str) -> Iterator[object]:
    """Starts `newsdesk worker` processes on the test database; kills what is left after."""
    env = {
        **os.environ,
        "NEWSDESK_DATABASE_URL": database_url,
        "NEWSDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        "NEWSDESK_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.2,0.2",
        "NEWSDESK_WEBHOOK_TIMEOUT_SECONDS": "1",
        "NEWSDESK_WEBHOOK_POLL_SECONDS": "0.05",
        "NEWSDESK_WEBHOOK_LEADER_LEASE_SECONDS": "1",
        "NEWSDESK_WEBHOOK_CONCURRENCY": "2",
    }
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


async def _wait_for(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110  (polls the receiver and the database)
            await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_a_killed_worker_loses_nothing_when_restarted(desk, receiver, worker):
    await desk.subscribe(receiver)
    for n in range(STORIES):
        await desk.publish(f"story-{n}")
    receiver.default = Answer(200, delay=0.3)

    first = worker()

    async def mid_delivery() -> bool:
        return len(receiver.received) >= 3 and await _in_flight(desk)

    await _wait_for(mid_delivery)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(receiver.message_ids()) < STORIES, "killed before it was done"

    second = worker()

    async def all_delivered() -> bool:
        """Every story arrived, and every delivery is logged as done: the one cut off when
        the worker died is sent again once its lease runs out."""
        async with desk.sessionmaker() as session:
            statuses = list(await session.scalars(select(WebhookDelivery.status)))
        slugs = {m.payload["data"]["slug"] for m in receiver.received}
        return (
            slugs == {f"story-{n}" for n in range(STORIES)}
            and statuses == [DeliveryStatus.succeeded] * STORIES
        )

    await _wait_for(all_delivered, 60)
    second.send_signal(signal.SIGTERM)
    out, err = second.communicate(timeout=15)

    assert second.returncode == 0, err
    assert "Webhook dispatcher stopped." in out
    assert all(m.verified for m in receiver.received)
    assert len(receiver.message_ids()) == STORIES, "a resend keeps its webhook-id"


async def test_the_app_runs_the_dispatcher_in_its_lifespan(desk, receiver, settings):
    await desk.subscribe(receiver)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await desk.publish("pier-closes")

        async def arrived() -> bool:
            return len(receiver.received) == 1

        await _wait_for(arrived, 10)
    assert receiver.received[0].payload["data"]["slug"] == "pier-closes"


async def test_the_dispatcher_can_be_left_to_workers(desk, receiver, settings):
    settings.webhooks_dispatcher = False
    await desk.subscribe(receiver)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await desk.publish("pier-closes")
        await asyncio.sleep(0.5)
    assert receiver.received == []
