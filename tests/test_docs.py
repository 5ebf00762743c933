"""`/docs` works without the internet: Swagger UI's files come from the app itself."""

import re
from urllib.parse import urlsplit

import pytest

from app.ops import swagger_ui
from tests.helpers import assert_problem

pytestmark = pytest.mark.anyio

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


async def test_docs_loads_only_files_the_app_serves(client) -> None:
    page = (await client.get("/docs")).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
    assert len(urls) >= 4  # script, stylesheet, icon, document
    assert not re.search(r"https?://", page), "the page names another origin"
    for url in urls:
        assert not urlsplit(url).netloc, url
        response = await client.get(url)
        assert response.status_code == 200, url
        if url != "/openapi.json":
            suffix = url[url.rindex(".") :]
            assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert len(response.content) > 1000


async def test_swagger_ui_is_a_version_that_reads_openapi_3_1(client) -> None:
    bundle = await client.get(swagger_ui.url("swagger-ui-bundle.js"))
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.', bundle.content)
    assert version and int(version[1]) >= 5
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")


async def test_an_asset_revalidates_with_its_etag(client) -> None:
    url = swagger_ui.url("swagger-ui.css")
    etag = (await client.get(url)).headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        f"{swagger_ui.PATH}/{swagger_ui.version()}/index.html",
        f"{swagger_ui.PATH}/{swagger_ui.version()}/..%2F__init__.py",
        f"{swagger_ui.PATH}/0.0.1/swagger-ui.css",
        f"{swagger_ui.PATH}/swagger-ui.css",
    ],
)
async def test_anything_else_under_the_assets_is_404(client, path) -> None:
    assert_problem(await client.get(path), 404)
