"""The app on the real engine: every request on its own pooled connection, committing for
real. The usual `client` shares one connection and so cannot race; tests of concurrent
writers and readers use `live`, which empties every table afterwards."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.db import get_sessionmaker
from app.main import create_app
from app.models import Base
from app.settings import Settings


@dataclass
class Live:
    client: httpx.AsyncClient
    headers: dict[str, str]


@asynccontextmanager
async def app_on(engine: AsyncEngine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app whose requests each take a connection of `engine`'s pool and
    commit for real, as in a worker process."""
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    app = create_app(settings)
    app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120
    ) as client:
        yield client


@pytest.fixture
async def live(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Live]:
    """The app on real, separately committed transactions, with a write+publish key."""
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessionmaker() as session:
            _, secret = await keys.create(session, "racer", [Scope.write, Scope.publish])
            await session.commit()
        async with app_on(engine, settings) as client:
            yield Live(client, {"Authorization": f"Bearer {secret}"})
    finally:
        async with sessionmaker.begin() as session:
            for table in reversed(Base.metadata.sorted_tables):  # children first
                await session.execute(table.delete())
