"""HEAD wherever GET is (RFC 9110): the same status and headers as the GET, no body. Feed
readers, CDNs, link checkers and `curl -I` rely on it, and so does the README's safe-edit
recipe, which reads the ETag with HEAD."""

import httpx
import pytest

from app.auth import service as keys
from app.auth.scopes import Scope
from tests.auth.test_matrix import TABLE, Seed

pytestmark = pytest.mark.anyio

# Headers that may differ between two requests for the same thing.
PER_REQUEST = {"date", "x-request-id", "ratelimit", "ratelimit-policy"}


def comparable(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST}


async def test_every_get_route_answers_head_with_its_headers_and_no_body(client, session):
    _, secret = await keys.create(session, "everything", list(Scope))
    await session.commit()
    seed = Seed(session)
    wrong = []
    for (method, template), route in sorted(TABLE.items()):
        if method != "GET" or template == "/metrics":  # metrics change between two reads
            continue
        path, _ = await route.request(seed)
        for headers in ({"Authorization": f"Bearer {secret}"}, {"Accept-Encoding": "gzip"}):
            got = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            if head.status_code != got.status_code or comparable(head) != comparable(got):
                wrong.append(f"HEAD {template}: {head.status_code} {comparable(head)}")
            if head.content:
                wrong.append(f"HEAD {template} sent a body")
    assert wrong == [], "\n".join(wrong)


async def test_head_of_a_missing_article_is_its_404_without_a_body(client):
    head = await client.head("/v1/articles/no-such-story")
    assert head.status_code == 404
    assert head.headers["content-type"] == "application/problem+json"
    assert head.content == b""


async def test_head_is_refused_where_get_is_not_allowed_and_allow_says_head(client, writer):
    head = await client.head("/v1/ingest", headers=writer)
    assert head.status_code == 405
    assert head.headers["allow"] == "POST"
    delete = await client.delete("/v1/sources", headers=writer)
    assert delete.status_code == 405
    assert delete.headers["allow"] == "GET, HEAD"
