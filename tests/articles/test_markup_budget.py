"""Bodies whose Markdown would take seconds to parse are refused before any parsing, with a
422 naming the body and the rule; everything real articles hold renders as before."""

import json

import pytest

from app.articles.body import MARKUP_BUDGET, markup_cost
from app.articles.models import Article
from app.demo import STORIES
from tests.factories import article_data
from tests.helpers import assert_problem, count_rows, create_article, fetch_article

pytestmark = pytest.mark.anyio

# Each within the 200,000-character limit; each took seconds of CPU a save.
DENSE = {
    "links": "[a](b) " * 28_000,
    "star_a": "*a" * 60_000,
    "underscore_words": "_a " * 60_000,
    "open_brackets": "[" * 199_000,
    "bracket_words": "[a" * 99_000,
    "nested_blockquotes": "> " * 99_000 + "a",
    "nested_lists": "- " * 99_000 + "a",
    "emphasis_run": "*_" * 99_000,
    "headings": "# a\n" * 49_000,
    "tiny_paragraphs": "a\n\n" * 66_000,
    "entities": "&amp;" * 39_000,
    "code_spans": "`a " * 60_000,
    "autolinks": "<http://a>" * 19_000,
    "images": "![a](b) " * 25_000,
}


@pytest.mark.parametrize("body", DENSE.values(), ids=DENSE.keys())
async def test_a_body_too_dense_in_markup_is_422_and_stores_nothing(client, session, writer, body):
    assert len(body) <= 200_000
    response = await client.post(
        "/v1/articles", json=article_data(body=body, claims=[]), headers=writer
    )
    problem = assert_problem(response, 422)
    [error] = problem["errors"]
    assert (error["loc"], error["type"]) == (["body", "body"], "markup_too_dense")
    assert f"at most {MARKUP_BUDGET}" in error["msg"]
    assert await count_rows(session, Article) == 0


async def test_a_patch_to_a_dense_body_is_422_and_changes_nothing(client, writer):
    article = await create_article(client, writer)
    response = await client.patch(
        f"/v1/articles/{article['id']}", json={"body": DENSE["links"]}, headers=writer
    )
    assert assert_problem(response, 422)["errors"][0]["type"] == "markup_too_dense"
    assert await fetch_article(client, article["id"], writer) == article


async def test_a_body_at_the_budget_saves_and_renders(client, writer):
    body = "*a* " * (MARKUP_BUDGET // 2)
    assert markup_cost(body) == MARKUP_BUDGET
    response = await client.post(
        "/v1/articles", json=article_data(body=body, claims=[]), headers=writer
    )
    assert response.status_code == 201, response.text
    assert response.json()["body_html"].count("<em>a</em>") == MARKUP_BUDGET // 2


def test_real_stories_are_far_inside_the_budget() -> None:
    stories = json.loads(STORIES.read_text(encoding="utf-8"))
    for story in stories:
        # Scaled to the longest body allowed, a story as dense as these still fits.
        density = markup_cost(story["body"]) / len(story["body"])
        assert density * 200_000 < MARKUP_BUDGET, story["headline"]
