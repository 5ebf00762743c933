"""Webhooks end to end: the app on real transactions (`live`), a receiver on 127.0.0.1, and
a dispatcher the test drives round by round. Retry waits and timeouts are cut to fractions
of a second."""

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.settings import Settings
from app.webhooks.dispatcher import Dispatcher, http_client
from tests.helpers import create_article
from tests.live import Live
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@dataclass
class Desk:
    client: httpx.AsyncClient
    editor: dict[str, str]
    admin: dict[str, str]
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings

    async def subscribe(self, receiver: Receiver, **fields: Any) -> dict[str, Any]:
        """A webhook to `receiver`, which is given its secret to verify signatures."""
        response = await self.client.post(
            "/v1/webhooks", json={"url": receiver.url, **fields}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        receiver.secret = response.json()["secret"]
        return response.json()

    async def publish(self, slug: str, **fields: Any) -> dict[str, Any]:
        article = await create_article(self.client, self.editor, slug=slug, **fields)
        response = await self.client.post(
            f"/v1/articles/{article['id']}/publish", headers=self.editor
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def dispatch(self, until: Callable[[], bool]) -> None:
        """Run dispatcher rounds until `until()` holds (failing after 20 s)."""
        dispatcher = Dispatcher(self.sessionmaker, self.settings)
        async with http_client() as client, asyncio.timeout(20):
            while not until():
                if not await dispatcher.run_once(client):
                    await asyncio.sleep(0.05)

    async def drain(self) -> None:
        """Run dispatcher rounds while there is work that is due."""
        dispatcher = Dispatcher(self.sessionmaker, self.settings)
        async with http_client() as client:
            while await dispatcher.run_once(client):
                pass

    async def deliveries(self, webhook: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/v1/webhooks/{webhook['id']}/deliveries", params=params, headers=self.admin
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(f"/v1/webhooks/{webhook['id']}", headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()


def fast(settings: Settings) -> Settings:
    """Webhook timings for tests: retries within a second, short timeouts and leases."""
    settings.webhooks_allow_private = True
    settings.webhook_retry_schedule = [0, 0.2, 0.2, 0.2]
    settings.webhook_timeout_seconds = 1
    settings.webhook_poll_seconds = 0.05
    settings.webhook_disable_after_failures = 100
    settings.webhook_disable_after_seconds = 0
    settings.webhook_leader_lease_seconds = 2
    return settings


@pytest.fixture
async def desk(live: Live, engine: AsyncEngine, settings: Settings) -> Desk:
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker.begin() as session:
        _, secret = await keys.create(session, "partner-desk", [Scope.admin])
    return Desk(
        live.client,
        live.headers,
        {"Authorization": f"Bearer {secret}"},
        sessionmaker,
        fast(settings),
    )
