"""With the database out of reach, every request gets a quick 503 problem (never a 500, never
a hang) and `/readyz` fails; when the database is back, service resumes without a restart.
PostgreSQL is reached through a TCP relay that the test cuts and restores, as a network
outage or a server restart would."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.db import create_engine
from app.settings import Settings
from tests.databases import POSTGRES_SERVER
from tests.factories import article_data
from tests.live import Live, app_on

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not POSTGRES_SERVER, reason="outages are staged on PostgreSQL"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

# A request that hangs instead of failing fast fails the test after this long.
HANG = 15


class Relay:
    """Forwards a local port to the database server; `cut()` drops the listener and every
    connection through it, `restore()` listens on the same port again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    server = make_url(POSTGRES_SERVER)
    relay = Relay(server.host or "127.0.0.1", server.port or 5432)
    await relay.restore()
    yield relay
    if relay.server is not None:
        relay.server.close()
    for writer in list(relay.writers):
        writer.transport.abort()


@pytest.fixture
async def api(
    relay: Relay, database_url: str, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    through_relay = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    engine = create_engine(through_relay.render_as_string(hide_password=False))
    async with app_on(engine, settings) as client:
        yield client
    await engine.dispose()


async def request(client: httpx.AsyncClient, method: str, url: str, **kwargs) -> httpx.Response:
    return await asyncio.wait_for(client.request(method, url, **kwargs), HANG)


async def test_an_outage_gives_503s_and_service_resumes_by_itself(
    api: httpx.AsyncClient, relay: Relay, live: Live
) -> None:
    writer = live.headers  # a committed key; `live` empties the tables afterwards
    assert (await request(api, "GET", "/readyz")).status_code == 200
    created = await request(api, "POST", "/v1/articles", json=article_data(), headers=writer)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    await request(api, "POST", f"/v1/articles/{created.json()['id']}/publish", headers=writer)
    assert (await request(api, "GET", f"/v1/articles/{slug}")).status_code == 200  # cached

    await relay.cut()
    calls = [
        ("GET", "/v1/articles", {}),
        ("GET", f"/v1/articles/{slug}", {}),
        ("GET", "/v1/feeds/rss", {}),
        ("POST", "/v1/articles", {"json": article_data(slug="during-outage"), "headers": writer}),
        ("GET", "/readyz", {}),
    ]
    for method, url, kwargs in calls:
        response = await request(api, method, url, **kwargs)
        assert response.status_code == 503, (method, url, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if url != "/readyz":
            assert response.headers["retry-after"] == "5"
            assert "database" in response.json()["detail"]

    await relay.restore()
    statuses = [(await request(api, "GET", "/v1/articles")).status_code for _ in range(3)]
    assert statuses[-1] == 200, statuses
    assert set(statuses) <= {200, 503}
    # The write that met the outage left nothing behind, not even a draft.
    assert (
        await request(api, "GET", "/v1/articles/during-outage", headers=writer)
    ).status_code == 404


async def test_a_statement_stuck_behind_a_lock_gives_up_with_a_503(
    live: Live, database_url: str, settings: Settings
) -> None:
    """A database that accepts but does not answer (here: a table locked by someone else)
    holds a request for the statement timeout, not for ever."""
    patient = create_engine(database_url, statement_timeout=0.5)
    locker = create_engine(database_url)
    try:
        async with app_on(patient, settings) as api:
            async with locker.connect() as connection, connection.begin():
                await connection.exec_driver_sql("LOCK TABLE article IN ACCESS EXCLUSIVE MODE")
                began = asyncio.get_running_loop().time()
                stuck = await request(api, "GET", "/v1/articles")
                waited = asyncio.get_running_loop().time() - began
            assert stuck.status_code == 503, stuck.text
            assert stuck.headers["content-type"] == "application/problem+json"
            assert 0.4 <= waited < 5
            assert (await request(api, "GET", "/v1/articles")).status_code == 200  # lock gone
    finally:
        await patient.dispose()
        await locker.dispose()
