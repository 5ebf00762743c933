import pytest

from tests.factories import article_data

pytestmark = pytest.mark.anyio


async def test_create_and_read(client, writer):
    created = await client.post("/v1/articles", json=article_data(), headers=writer)
    assert created.status_code == 201, created.text
    body = created.json()
    got = await client.get(f"/v1/articles/{body['id']}", headers=writer)
    assert got.status_code == 200, got.text
    print(got.json()["body_html"])
    print(got.json()["sourcing"])
