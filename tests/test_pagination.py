"""Every list can be read to its end by following `Link: rel="next"`, as generic HTTP clients
and SDKs do, and sees each item exactly once: the same items, in the same order, as one
page big enough to hold them all."""

import re
from typing import Any

import httpx
import pytest

from app.webhooks import dispatcher
from tests.factories import article_data

pytestmark = pytest.mark.anyio

NEXT = re.compile(r'<([^>]+)>; rel="next"')
MAX_PAGES = 50


async def follow(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    """The items of every page from `url` on, following Link until there is none."""
    items: list[Any] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["data"]
        pages += 1
        assert pages <= MAX_PAGES, f"{url} never ends"
        found = NEXT.fullmatch(response.headers.get("link", ""))
        next_url = found[1] if found else None
    assert pages > 1, f"{url}: pick a smaller limit so that the test crosses pages"
    return items


async def one_page(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(re.sub(r"limit=\d+", "limit=100", url), headers=headers)
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    return response.json()["data"]


async def test_following_links_reads_every_list_to_its_end_once(
    client, session, sessionmaker, settings, writer, publisher, admin
):
    editor = {"Authorization": f"{writer['Authorization']}"}
    ids = []
    for n in range(5):
        data = article_data(
            slug=f"story-{n}", section=f"section-{n % 3}", tags=[f"tag-{n}", "common"]
        )
        data["claims"] = data["claims"] * 3  # six claims each
        response = await client.post("/v1/articles", json=data, headers=editor)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        response = await client.post(f"/v1/articles/{ids[-1]}/publish", headers=publisher)
        assert response.status_code == 200, response.text
    for n in range(3):
        response = await client.post(
            "/v1/webhooks",
            json={"url": f"https://partner-{n}.example/hooks"},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    webhook = response.json()["id"]
    await dispatcher.fan_out(sessionmaker, settings)  # a delivery per change and webhook
    source = (await client.get("/v1/sources", params={"limit": 1})).json()["data"][0]["id"]

    lists = [
        ("/v1/articles?limit=2", {}),
        ("/v1/articles?limit=2&tag=common&sort=published_at", {}),
        ("/v1/articles?limit=2&q=pier", {}),
        ("/v1/articles?limit=2&status=all", writer),
        (f"/v1/articles/{ids[0]}/claims?limit=4", {}),
        (f"/v1/articles/{ids[0]}/revisions?limit=1", writer),
        ("/v1/claims?limit=7", {}),
        ("/v1/sources?limit=1", {}),
        ("/v1/sources?limit=1&sort=name", {}),
        (f"/v1/sources/{source}/claims?limit=2", {}),
        ("/v1/sections?limit=1", {}),
        ("/v1/tags?limit=2", {}),
        ("/v1/changes?limit=2", {}),
        ("/v1/changes?limit=2&since=1", {}),
        ("/v1/webhooks?limit=1", admin),
        (f"/v1/webhooks/{webhook}/deliveries?limit=2", admin),
        ("/v1/keys?limit=1", admin),
    ]
    for url, headers in lists:
        followed = await follow(client, url, headers)
        whole = await one_page(client, url, headers)
        assert followed == whole, url
        keys = [repr(sorted(item.items())) for item in followed]
        assert len(set(keys)) == len(keys), f"{url} repeated an item"
