"""Framework-level HTTP behaviour: problem+json for every error the framework raises itself,
body-size and media-type limits, authentication, CORS, gzip with its own ETags, and the
operational endpoints."""

import gzip
import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ops.service import head
from tests.factories import BODY, article_data, make_article
from tests.helpers import PROBLEM, assert_problem, row_counts

pytestmark = pytest.mark.anyio

BASE_URL = "https://api.newsdesk.test"
FRONT = "https://front.newsdesk.test"
ONE_MIB = 1024 * 1024


# --- errors from the framework itself ------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/nothing", "/v1/articles/x/y/z", "/v2/"])
async def test_unknown_path_is_404_problem_json(client, path):
    response = await client.get(path, headers={"Accept": "text/html"})
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/sources"),
        ("POST", "/v1/sources"),
        ("PUT", "/v1/articles"),
        ("POST", "/healthz"),
    ],
)
async def test_wrong_method_is_405_problem_json_with_allow(client, writer, method, path):
    response = await client.request(method, path, headers=writer)
    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert "GET" in allowed
    assert method not in allowed


async def test_unknown_article_is_404_with_an_app_problem_type(client):
    response = await client.get("/v1/articles/no-such-story")
    body = assert_problem(response, 404)
    assert body["type"].startswith(BASE_URL + "/")
    assert "no-such-story" in body["detail"]


# --- media type and body size --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_post_with_a_non_json_media_type_is_415(client, session, writer, content_type):
    before = await row_counts(session)
    headers = dict(writer)
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/v1/articles", content=json.dumps(article_data()).encode(), headers=headers
    )
    body = assert_problem(response, 415)
    assert body["type"].startswith(BASE_URL + "/")
    assert await row_counts(session) == before


async def test_patch_with_text_plain_is_415_and_merge_patch_json_is_accepted(
    client, session, writer
):
    article = await make_article(session, published=False)
    payload = json.dumps({"headline": "Pier closure delayed"}).encode()
    refused = await client.patch(
        f"/v1/articles/{article.id}",
        content=payload,
        headers={**writer, "Content-Type": "text/plain"},
    )
    assert_problem(refused, 415)
    unchanged = await client.get(f"/v1/articles/{article.id}", headers=writer)
    assert unchanged.json()["headline"] == "North pier to close for repairs"
    accepted = await client.patch(
        f"/v1/articles/{article.id}",
        content=payload,
        headers={**writer, "Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["headline"] == "Pier closure delayed"


def oversized_article() -> bytes:
    """A well-formed JSON article just over 1 MiB."""
    data = article_data(claims=[], body="")
    skeleton = json.dumps(data).encode()
    data["body"] = "x" * (ONE_MIB + 1 - len(skeleton))
    raw = json.dumps(data).encode()
    assert len(raw) == ONE_MIB + 1
    return raw


async def test_body_over_1_mib_with_content_length_is_413(client, session, writer):
    before = await row_counts(session)
    response = await client.post(
        "/v1/articles",
        content=oversized_article(),
        headers={**writer, "Content-Type": "application/json"},
    )
    assert response.request.headers["content-length"] == str(ONE_MIB + 1)
    body = assert_problem(response, 413)
    assert body["detail"]
    assert await row_counts(session) == before


async def test_chunked_body_over_1_mib_is_413(client, session, writer):
    before = await row_counts(session)
    raw = oversized_article()

    async def chunks():
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    response = await client.post(
        "/v1/articles", content=chunks(), headers={**writer, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    body = assert_problem(response, 413)
    assert body["detail"]
    assert await row_counts(session) == before


async def test_body_of_exactly_1_mib_is_not_refused_for_size(client, session, writer):
    data = article_data(claims=[], body="")
    data["body"] = "x" * (ONE_MIB - len(json.dumps(data).encode()))
    raw = json.dumps(data).encode()
    assert len(raw) == ONE_MIB
    response = await client.post(
        "/v1/articles", content=raw, headers={**writer, "Content-Type": "application/json"}
    )
    # Within the size limit, so it reaches validation: the body is over 200,000 characters.
    body = assert_problem(response, 422)
    assert ["body", "body"] in [error["loc"] for error in body["errors"]]


# --- authentication and scopes -------------------------------------------------------------


async def test_post_without_a_key_is_401_with_www_authenticate(client, session):
    before = await row_counts(session)
    response = await client.post("/v1/articles", json=article_data())
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert body["type"].startswith(BASE_URL + "/")
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    "authorization",
    ["Basic d3JpdGVyOnNlY3JldA==", "Bearer", "Bearer    ", "Token abc", "nd_no_scheme", ""],
    ids=["basic", "bearer-no-key", "bearer-blank", "other-scheme", "no-scheme", "empty"],
)
async def test_malformed_authorization_is_401_even_on_public_reads(client, authorization):
    response = await client.get("/v1/articles", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_unknown_key_is_401_even_on_public_reads(client, session):
    await make_article(session)
    response = await client.get(
        "/v1/articles", headers={"Authorization": "Bearer nd_this-key-does-not-exist"}
    )
    body = assert_problem(response, 401)
    assert "data" not in body
    assert response.headers["www-authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("reader", 403)], ids=["anonymous", "reader"]
)
async def test_auth_is_checked_before_the_body_is_parsed(client, session, reader, who, status):
    """A caller who may not write learns that, whatever the body holds (even malformed JSON),
    rather than a validation report about input nobody would accept from them."""
    before = await row_counts(session)
    headers = {"Content-Type": "application/json", **(reader if who == "reader" else {})}
    for raw in (b"{not json", b"{}"):
        response = await client.post("/v1/articles", content=raw, headers=headers)
        assert_problem(response, status)
    assert await row_counts(session) == before


async def test_reader_key_cannot_post_403(client, session, reader):
    before = await row_counts(session)
    response = await client.post("/v1/articles", json=article_data(), headers=reader)
    body = assert_problem(response, 403)
    assert body["type"].startswith(BASE_URL + "/")
    assert await row_counts(session) == before
    # The same key may read.
    assert (await client.get("/v1/articles", headers=reader)).status_code == 200


# --- problem types and no stack traces -----------------------------------------------------


async def test_app_problem_types_are_absolute_uris_under_public_base_url(
    client, session, writer, reader
):
    await make_article(session, slug="taken")
    responses = [
        await client.post("/v1/articles", json=article_data()),  # 401
        await client.post("/v1/articles", json=article_data(), headers=reader),  # 403
        await client.get("/v1/articles/missing", headers=writer),  # 404
        await client.post("/v1/articles", json=article_data(slug="taken"), headers=writer),  # 409
        await client.post("/v1/articles", json={"headline": 1}, headers=writer),  # 422
        await client.get("/v1/articles?limit=0"),  # 422 on a query parameter
        await client.post("/v1/articles", content=b"{}", headers=writer),  # 415
    ]
    assert [r.status_code for r in responses] == [401, 403, 404, 409, 422, 422, 415]
    for response in responses:
        problem = assert_problem(response, response.status_code)
        assert problem["type"].startswith(BASE_URL + "/problems/"), problem
        assert problem["detail"]


async def test_no_error_body_ever_carries_a_stack_trace(client, writer):
    responses = [
        await client.post(
            "/v1/articles",
            content=b"\xff\xfe not json",
            headers={**writer, "Content-Type": "application/json"},
        ),
        await client.post(
            "/v1/articles",
            content=b'{"headline": "x", "claims": [{"attributions": [{"source": 5}]}]}',
            headers={**writer, "Content-Type": "application/json"},
        ),
        await client.get("/v1/articles?cursor=%00%ff-not-a-cursor"),
        await client.get("/v1/articles?published_after=yesterday"),
        await client.get("/v1/claims/not-a-uuid"),
        await client.get("/v1/sources/00000000-0000-0000-0000-000000000000"),
        await client.patch("/v1/claims/00000000-0000-0000-0000-000000000000", json={}),
        await client.get("/v1/articles?fields=id,password"),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "Traceback" not in response.text
        assert 'File "' not in response.text
        assert "sqlalchemy" not in response.text.lower()


# --- CORS ----------------------------------------------------------------------------------


async def test_cors_preflight_from_the_configured_origin_allows_if_match(client):
    response = await client.options(
        "/v1/articles/some-id",
        headers={
            "Origin": FRONT,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "if-match, content-type, authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    for header in ("if-match", "content-type", "authorization"):
        assert header in allowed_headers
    assert "PATCH" in response.headers["access-control-allow-methods"]


async def test_cors_simple_request_from_the_configured_origin_exposes_etag(client, session):
    await make_article(session)
    response = await client.get("/v1/articles", headers={"Origin": FRONT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT
    assert "etag" in response.headers["access-control-expose-headers"].lower()


async def test_cors_other_origins_get_no_allow_origin(client, session):
    await make_article(session)
    other = "https://evil.test"
    preflight = await client.options(
        "/v1/articles",
        headers={
            "Origin": other,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/v1/articles", headers={"Origin": other})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


# --- gzip ----------------------------------------------------------------------------------


async def make_long_articles(session: AsyncSession, count: int = 10) -> None:
    filler = " ".join(f"Paragraph filler sentence number {i} about the harbour." for i in range(40))
    for n in range(count):
        await make_article(
            session,
            headline=f"Harbour story number {n}",
            body=f"{BODY}\n\n{filler}\n\n{filler} ({n})",
        )


async def test_large_list_is_gzipped_with_its_own_etag(client, session):
    await make_long_articles(session)
    url = "/v1/articles?include=claims"
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 10_000
    identity_etag = plain.headers["etag"]

    zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    gzip_etag = zipped.headers["etag"]
    assert gzip_etag.endswith('-gzip"')
    assert not gzip_etag.startswith("W/")
    assert gzip_etag != identity_etag
    assert gzip_etag == identity_etag[:-1] + '-gzip"'
    # httpx has decoded it: the same JSON as the identity representation.
    assert zipped.json() == plain.json()
    assert len(zipped.json()["data"]) == 10
    assert all(len(article["claims"]) == 2 for article in zipped.json()["data"])


async def test_gzip_bytes_on_the_wire_are_gzip(client, session):
    await make_long_articles(session)
    async with client.stream(
        "GET", "/v1/articles?include=claims", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"
    assert len(json.loads(gzip.decompress(raw))["data"]) == 10


async def test_if_none_match_with_the_gzip_etag_is_304(client, session):
    await make_long_articles(session)
    url = "/v1/articles?include=claims"
    zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
    gzip_etag = zipped.headers["etag"]
    assert gzip_etag.endswith('-gzip"')
    again = await client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": gzip_etag})
    assert again.status_code == 304
    assert again.content == b""
    # A stale tag still gets the full representation.
    stale = await client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.headers["content-encoding"] == "gzip"


async def test_small_responses_are_not_gzipped(client):
    health = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert health.status_code == 200
    assert "content-encoding" not in health.headers
    empty = await client.get("/v1/articles", headers={"Accept-Encoding": "gzip"})
    assert empty.status_code == 200
    assert empty.json() == {"data": [], "next_cursor": None}
    assert "content-encoding" not in empty.headers
    assert not empty.headers["etag"].endswith('-gzip"')


# --- operations ----------------------------------------------------------------------------


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_migration_head(client, session, backend):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["migration"] == head()
    assert body["database"] == backend
    current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    assert current == head()


async def test_docs_is_html_and_openapi_is_json(client):
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "openapi.json" in docs.text
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.headers["content-type"].startswith("application/json")
    document = spec.json()
    assert document["openapi"].startswith("3.")
    for path in ("/v1/articles", "/v1/articles/{article}", "/v1/claims", "/v1/sources"):
        assert path in document["paths"], path
    assert "post" in document["paths"]["/v1/articles"]


async def test_a_query_string_over_the_limit_is_414_on_every_route(client, writer):
    long_tag = "t" * 4100  # the default limit is 4,096 bytes
    for path in ("/v1/articles", "/v1/articles/some-slug", "/v1/feeds/rss", "/no/such/route"):
        response = await client.get(path, params={"tag": long_tag}, headers=writer)
        body = assert_problem(response, 414)
        assert "4096 bytes" in body["detail"]


async def test_a_query_string_at_the_limit_is_served(client):
    query = "tag=" + "t" * (4096 - len("tag="))
    assert len(query) == 4096
    response = await client.get(f"/v1/articles?{query}")
    assert response.status_code == 200
