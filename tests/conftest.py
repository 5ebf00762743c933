"""One suite, two databases: every test runs on SQLite, and on PostgreSQL too when
NEWSDESK_TEST_DATABASE_URL names a server (each run creates and drops its own database).
Each test runs inside a transaction that is rolled back, so every test starts empty."""

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.db import create_engine
from app.ops.service import alembic_config
from app.settings import Settings
from tests.databases import BACKENDS, POSTGRES_SERVER, fresh_database
from tests.helpers import client_of
from tests.live import live  # noqa: F401  (the fixture)

if os.environ.get("CI") and not POSTGRES_SERVER:
    raise pytest.UsageError("CI runs the PostgreSQL suite: set NEWSDESK_TEST_DATABASE_URL.")


@contextmanager
def _processes_only_if_slow(item: pytest.Item) -> Iterator[None]:
    """A test that starts a process (the CLI, a server, curl) takes seconds, so it says so
    with `@pytest.mark.slow` and `make test-fast` leaves it out. One that does not say so
    fails where the process would start (in the test or in a fixture it sets up), naming
    itself."""
    if item.get_closest_marker("slow") is not None:
        yield
        return

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{item.nodeid} starts a process: mark it slow")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", refuse)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _processes_only_if_slow(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _processes_only_if_slow(item):
        return (yield)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def media_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The commands tests run keep images in a directory of the run's, never in ./var."""
    url = tmp_path_factory.mktemp("media").resolve().as_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSDESK_MEDIA_STORE_URL", url)
        yield


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head with Alembic, as production builds it."""
    url, drop = fresh_database(request.param, tmp_path_factory.mktemp("db"))
    command.upgrade(alembic_config(url), "head")
    yield url
    drop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessionmaker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Every session in a test shares one connection whose transaction is rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield async_sessionmaker(
            connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        await transaction.rollback()


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url="https://api.newsdesk.test",
        cors_origins=["https://front.newsdesk.test"],
        # Rate limits have tests of their own (tests/ratelimit); elsewhere they would only
        # make a test's request count matter.
        rate_limit_anonymous=0,
        rate_limit_per_key=0,
        # Each test's app gets a store of its own, gone with it.
        media_store_url="memory://",
        _env_file=None,
    )


@pytest.fixture
async def client(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(sessionmaker, settings) as client:
        yield client


async def _key(session: AsyncSession, name: str, *scopes: Scope) -> dict[str, str]:
    _, secret = await keys.create(session, name, list(scopes))
    await session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def writer(session: AsyncSession) -> dict[str, str]:
    return await _key(session, "writer", Scope.write)


@pytest.fixture
async def publisher(session: AsyncSession) -> dict[str, str]:
    return await _key(session, "publisher", Scope.publish)


@pytest.fixture
async def editor(session: AsyncSession) -> dict[str, str]:
    """Writes and publishes: may also change what is already published."""
    return await _key(session, "editor", Scope.write, Scope.publish)


@pytest.fixture
async def admin(session: AsyncSession) -> dict[str, str]:
    return await _key(session, "admin", Scope.admin)


@pytest.fixture
async def reader(session: AsyncSession) -> dict[str, str]:
    return await _key(session, "reader", Scope.read)


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()
