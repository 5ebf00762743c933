"""The benchmark corpus is what the app itself would have stored: loaded straight into the
tables, it must read back through the API like articles written through it."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.db import create_engine
from app.ops.service import alembic_config
from app.settings import Settings
from bench import corpus
from tests.databases import BACKENDS, fresh_database
from tests.live import app_on

pytestmark = pytest.mark.anyio

COUNT = 30


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url, drop = fresh_database(request.param, tmp_path_factory.mktemp("corpus"))
    command.upgrade(alembic_config(url), "head")
    asyncio.run(corpus.load(url, COUNT, seed=7))
    yield url
    drop()


@pytest.fixture
async def api(loaded: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(loaded)
    async with app_on(engine, Settings(database_url=loaded, _env_file=None)) as client:
        yield client
    await engine.dispose()


async def test_every_article_is_published_and_shaped_like_a_story(
    api: httpx.AsyncClient,
) -> None:
    listing = (await api.get("/v1/articles", params={"limit": 100})).json()
    assert len(listing["data"]) == COUNT
    for summary in listing["data"]:
        response = await api.get(f"/v1/articles/{summary['slug']}")
        assert response.status_code == 200
        article = response.json()
        assert article["status"] == "published"
        assert 2000 <= len(article["body"].encode()) <= 4200
        assert 5 <= len(article["body"].split("\n\n")) <= 7
        assert len(article["tags"]) == 3 and article["section"]
        assert 1 <= len(article["authors"]) <= 2
        assert 6 <= len(article["claims"]) <= 10
        for claim in article["claims"]:
            assert 1 <= len(claim["attributions"]) <= 2
            # Each claim is a sentence of the body, anchored and highlighted there.
            assert claim["anchor_status"] == "anchored"
            assert f'data-claim-id="{claim["id"]}"' in article["body_html"]


async def test_revision_one_is_the_article_as_served(api: httpx.AsyncClient, loaded: str) -> None:
    engine = create_engine(loaded)
    async with async_sessionmaker(engine)() as session:
        _, secret = await keys.create(session, "corpus-check", [Scope.write])
        await session.commit()
    await engine.dispose()
    slug = (await api.get("/v1/articles", params={"limit": 1})).json()["data"][0]["slug"]
    served = (await api.get(f"/v1/articles/{slug}")).json()
    revision = await api.get(
        f"/v1/articles/{served['id']}/revisions/1", headers={"Authorization": f"Bearer {secret}"}
    )
    assert revision.status_code == 200
    assert revision.json() == served


async def test_changes_feed_holds_one_publication_each_in_order(api: httpx.AsyncClient) -> None:
    events = (await api.get("/v1/changes", params={"limit": 100})).json()["data"]
    assert [e["event"] for e in events] == ["article.published"] * COUNT
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times)
    listing = (await api.get("/v1/articles", params={"limit": 100})).json()["data"]
    assert {e["article_id"] for e in events} == {a["id"] for a in listing}


async def test_search_finds_an_article_by_its_headline(api: httpx.AsyncClient) -> None:
    article = (await api.get("/v1/articles", params={"limit": 1})).json()["data"][0]
    words = [w for w in article["headline"].split() if len(w) > 4][:2]
    found = (await api.get("/v1/articles", params={"q": " ".join(words)})).json()["data"]
    assert article["id"] in {a["id"] for a in found}


def test_loading_into_a_database_with_articles_is_refused(loaded: str) -> None:
    with pytest.raises(corpus.NotEmpty):
        asyncio.run(corpus.load(loaded, 1))


def test_a_seed_always_gives_the_same_corpus() -> None:
    first = corpus.generate(3, 100, 10, 14)
    again = corpus.generate(3, 100, 10, 14)
    other = corpus.generate(4, 100, 10, 14)
    assert first.tables == again.tables
    assert first.tables["article"] != other.tables["article"]
    slugs = [row[1] for row in corpus.generate(3, 100, 0, 100).tables["article"]]
    assert len(set(slugs)) == 100
