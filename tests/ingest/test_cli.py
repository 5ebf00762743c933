"""`newsdesk ingest`, run as a user would, against a database of its own."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.articles.models import Article
from app.db import create_engine
from tests.databases import BACKENDS, fresh_database
from tests.helpers import newsdesk
from tests.ingest.scorer import GOLD
from tests.ingest.test_router import HTML_PAGE

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # each test runs the command line
SEED = GOLD / "seed-raw.txt"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url, drop = fresh_database(request.param, tmp_path)
    assert newsdesk(url, "migrate").returncode == 0
    yield url
    drop()


async def stored(url: str) -> list[Article]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(select(Article))).all())
    finally:
        await engine.dispose()


async def test_a_page_is_ingested_as_a_draft_and_summarised(url):
    result = newsdesk(url, "ingest", str(SEED))
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith("Draft biden-authorizes-ukraine-")
    assert second.startswith("13 claims, 10 attributed; sources: senior U.S. officials,")
    assert "Vladimir Putin" in second
    [article] = await stored(url)
    assert (article.status, article.version) == ("draft", 1)


async def test_publish_section_and_tags(url):
    result = newsdesk(
        url, "ingest", str(SEED), "--publish", "--section", "world", "--tag", "Ukraine"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Published ")
    [article] = await stored(url)
    assert (article.status, article.section) == ("published", "world")


async def test_html_from_standard_input(url):
    result = newsdesk(url, "ingest", "-", "--html", stdin=HTML_PAGE)
    assert result.returncode == 0, result.stderr
    assert "Harbour Authority" in result.stdout
    [article] = await stored(url)
    assert article.headline == "Harbour pier to close for repairs"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "Not ingested: The page is empty."),
        ("Menu\nShare\nSubscribe", "Not ingested: No headline found"),
        (
            "Le port de la ville ferme\n\n" + "Le port restera fermé pendant six mois. " * 5,
            "English",
        ),
    ],
)
async def test_a_page_without_a_story_is_refused_and_nothing_stored(
    url, tmp_path, content, message
):
    page = tmp_path / "page.txt"
    page.write_text(content)
    result = newsdesk(url, "ingest", str(page))
    assert result.returncode == 1
    assert message in result.stderr
    assert await stored(url) == []


def test_a_missing_file_is_a_usage_error(url):
    result = newsdesk(url, "ingest", "/no/such/page.txt")
    assert result.returncode == 2
    assert "/no/such/page.txt" in result.stderr
