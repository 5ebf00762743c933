"""Every problem `type` the API sends is one of ours and resolves to a page that explains it;
the framework's own errors (404, 405, 413, 414) are typed like every other."""

import pytest

from app import problems
from app.errors import AppError
from app.main import create_app
from tests.factories import make_article
from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio

BASE = "https://api.newsdesk.test/problems/"  # the test settings' public base URL


def every_subclass(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *every_subclass(sub)]
    return found


def test_every_domain_error_names_a_listed_problem_type(settings):
    create_app(settings)  # imports every domain, and so every error class
    unlisted = [e.__name__ for e in every_subclass(AppError) if e.code not in problems.TYPES]
    assert unlisted == []


async def test_every_problem_type_resolves_to_a_page_that_explains_it(client):
    for code, problem in problems.TYPES.items():
        response = await client.get(f"/problems/{code}")
        assert response.status_code == 200, code
        assert response.headers["content-type"].startswith("text/html")
        assert problem.title in response.text
        assert str(problem.status) in response.text
    index = await client.get("/problems")
    assert all(f'href="problems/{code}"' in index.text for code in problems.TYPES)


async def test_an_unknown_problem_type_is_not_found(client):
    assert_problem(await client.get("/problems/no-such-problem"), 404)


async def test_framework_errors_carry_our_problem_types(client, settings):
    cases = [
        (await client.get("/v1/nowhere"), 404, "not-found"),
        (await client.delete("/v1/sources"), 405, "method-not-allowed"),
        (await client.get("/v1/articles?q=" + "x" * 5000), 414, "uri-too-long"),
        (
            await client.post(
                "/v1/articles",
                content=b"x" * (settings.max_body_bytes + 1),
                headers={"Content-Type": "application/json"},
            ),
            413,
            "payload-too-large",
        ),
    ]
    for response, status, code in cases:
        assert assert_problem(response, status)["type"] == BASE + code
        assert (await client.get(f"/problems/{code}")).status_code == 200


async def test_a_deleted_article_says_how_long_its_410_may_be_cached(
    client, session, publisher, settings
):
    article = await make_article(session)
    assert (await client.delete(f"/v1/articles/{article.id}", headers=publisher)).status_code == 204
    anonymous = await client.get(f"/v1/articles/{article.id}")
    assert_problem(anonymous, 410)
    assert anonymous.headers["cache-control"] == f"public, max-age={settings.cache_max_age}"
    keyed = await client.get(f"/v1/articles/{article.id}", headers=publisher)
    assert_problem(keyed, 410)
    assert keyed.headers["cache-control"] == "private, no-store"
