"""The demo stories load through the service and show every claim kind, attribution role
and source kind of the contract."""

import httpx
import pytest

from app import demo
from app.claims.models import AttributionRole, ClaimKind
from app.sources.models import SourceKind
from tests.helpers import store_of

pytestmark = pytest.mark.anyio


async def test_demo_content_covers_the_contract(client, session):
    assert await demo.load(session, store_of(client)) == 5
    await session.commit()
    listed = (await client.get("/v1/articles?include=claims&limit=25")).json()["data"]
    assert len(listed) == 5

    claims = [claim for article in listed for claim in article["claims"]]
    attributions = [a for claim in claims for a in claim["attributions"]]
    assert {c["kind"] for c in claims} == set(ClaimKind)
    assert {a["role"] for a in attributions} == set(AttributionRole)
    assert {a["source"]["kind"] for a in attributions} == set(SourceKind)
    assert any(a["anonymous_description"] for a in attributions)
    assert any(not c["attributions"] for c in claims)
    assert all(c["anchor_status"] == "anchored" for c in claims if c["anchor"])
    assert sum(a["sourcing"]["anonymous_sources"] for a in listed) >= 3

    reused = (await client.get("/v1/sources?limit=100")).json()["data"]
    assert any(source["article_count"] >= 2 for source in reused)

    # Each story has an illustration, described, served from the app's own store.
    pictures = [article["featured_image"] for article in listed]
    assert all(picture["alt"] and picture["credit"] for picture in pictures)
    assert len({picture["id"] for picture in pictures}) == 5
    served = await client.get(httpx.URL(pictures[0]["renditions"][0]["url"]).path)
    assert served.status_code == 200


async def test_demo_loads_only_into_an_empty_database(session, client):
    assert await demo.load(session, store_of(client)) == 5
    assert await demo.load(session, store_of(client), only_if_empty=True) == 0
