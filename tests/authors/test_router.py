"""Authors as resources: reads with counts and HTTP caching, writes with their failures, and
bylines on articles that name authors by id or by name."""

import asyncio

import pytest
from sqlalchemy import func, select

from app.authors.models import Author
from tests.articles.test_formats import ninjs_errors
from tests.factories import article_data, make_article
from tests.helpers import assert_problem, error_locs, walk_pages
from tests.live import Live
from tests.media.pictures import photo

pytestmark = pytest.mark.anyio

BASE = "https://api.newsdesk.test"
HOSTILE = '<script>alert("x")</script> & <b>Bold</b>'


async def author_of(client, article_id, headers=None) -> dict:
    response = await client.get(f"/v1/articles/{article_id}", headers=headers)
    assert response.status_code == 200, response.text
    [author] = response.json()["authors"]
    return author


# --- writes ---------------------------------------------------------------------------------


async def test_create_derives_a_free_slug_and_reads_back_by_id_and_slug(client, session, writer):
    await make_article(session, authors=[{"name": "Ines Calder"}])
    body = {
        "name": "Inés  Calder",  # folds to another name than "Ines Calder": accents count
        "bio": "Covers the harbour.",
        "url": "https://ines.example/",
        "job_title": "Harbour reporter",
    }

    created = await client.post("/v1/authors", json=body, headers=writer)

    assert created.status_code == 201, created.text
    author = created.json()
    assert author["slug"] == "ines-calder-2"  # "ines-calder" is the byline's
    assert (author["name"], author["bio"], author["url"], author["job_title"]) == (
        "Inés  Calder",
        "Covers the harbour.",
        "https://ines.example/",
        "Harbour reporter",
    )
    assert author["article_count"] == 0
    assert created.headers["location"] == f"/v1/authors/{author['id']}"
    assert created.headers["etag"]
    for reference in (author["id"], author["slug"]):
        read = await client.get(f"/v1/authors/{reference}", headers=writer)
        assert read.status_code == 200
        assert read.json() == author


async def test_slug_or_name_taken_is_409_and_invalid_input_is_422(client, session, writer):
    await make_article(session, authors=[{"name": "Ines Calder"}])

    taken_slug = await client.post(
        "/v1/authors", json={"name": "Someone", "slug": "ines-calder"}, headers=writer
    )
    taken_name = await client.post("/v1/authors", json={"name": " INES   calder "}, headers=writer)
    invalid = await client.post(
        "/v1/authors",
        json={"name": "", "slug": "Not A Slug", "url": "ftp://x", "bio": "b" * 2001, "x": 1},
        headers=writer,
    )

    assert "ines-calder" in assert_problem(taken_slug, 409)["detail"]
    assert_problem(taken_name, 409)
    assert sorted(error_locs(assert_problem(invalid, 422))) == sorted(
        [["body", f] for f in ("name", "slug", "url", "bio", "x")]
    )


async def test_writes_need_content_write(client, reader):
    body = {"name": "Ada Obi"}
    assert_problem(await client.post("/v1/authors", json=body), 401)
    assert_problem(await client.post("/v1/authors", json=body, headers=reader), 403)
    assert_problem(await client.patch(f"/v1/authors/{'0' * 32}", json=body), 401)


async def test_post_replays_with_the_same_idempotency_key(client, writer):
    headers = {**writer, "Idempotency-Key": "author-1"}
    first = await client.post("/v1/authors", json={"name": "Ada Obi"}, headers=headers)
    again = await client.post("/v1/authors", json={"name": "Ada Obi"}, headers=headers)
    other = await client.post("/v1/authors", json={"name": "Tom Reyes"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert_problem(other, 422)


async def test_patch_is_a_merge_patch(client, writer):
    created = (
        await client.post(
            "/v1/authors",
            json={"name": "Ada Obi", "url": "https://ada.example/", "bio": "Old."},
            headers=writer,
        )
    ).json()
    path = f"/v1/authors/{created['id']}"

    patched = await client.patch(path, json={"bio": "New.", "url": None}, headers=writer)
    nulled = await client.patch(path, json={"name": None}, headers=writer)
    unknown = await client.patch(
        "/v1/authors/00000000-0000-0000-0000-000000000001", json={}, headers=writer
    )
    by_slug = await client.patch(f"/v1/authors/{created['slug']}", json={}, headers=writer)

    assert patched.status_code == 200, patched.text
    assert (patched.json()["bio"], patched.json()["url"], patched.json()["name"]) == (
        "New.",
        None,
        "Ada Obi",
    )
    assert error_locs(assert_problem(nulled, 422)) == [["body", "name"]]
    assert_problem(unknown, 404)
    assert_problem(by_slug, 404)  # writes name an author by id


async def test_hostile_text_is_stored_as_text_and_never_markup(client, session, writer, editor):
    created = await client.post(
        "/v1/authors", json={"name": HOSTILE, "bio": HOSTILE}, headers=writer
    )
    assert created.status_code == 201
    author = created.json()
    assert (author["name"], author["bio"]) == (HOSTILE, HOSTILE)
    article = await make_article(session, authors=[{"id": author["id"]}])

    jsonld = await client.get(f"/v1/articles/{article.id}", params={"format": "jsonld"})
    rss = await client.get("/v1/feeds/rss")
    atom = await client.get("/v1/feeds/atom")
    page = await client.get(f"/v1/articles/{article.id}")

    assert b"<script" not in jsonld.content.lower()
    assert jsonld.json()["@graph"][0]["author"][0]["name"] == HOSTILE
    assert b"<script" not in rss.content and b"<script" not in atom.content
    assert "&lt;script&gt;" in atom.text
    assert page.json()["authors"][0]["name"] == HOSTILE
    assert "<script" not in page.json()["body_html"]


# --- bylines on articles --------------------------------------------------------------------


async def test_bylines_by_name_match_one_author_regardless_of_case_and_spacing(
    client, session, writer
):
    first = await make_article(session, authors=[{"name": "Ines Calder"}])
    second = await make_article(session, authors=[{"name": "  ines   CALDER "}])

    assert await author_of(client, first.id) == await author_of(client, second.id)
    assert await session.scalar(select(func.count()).select_from(Author)) == 1


async def test_bylines_by_id_and_their_failures(client, writer):
    author = (await client.post("/v1/authors", json={"name": "Ada Obi"}, headers=writer)).json()

    by_id = await client.post(
        "/v1/articles", json=article_data(authors=[{"id": author["id"]}]), headers=writer
    )
    unknown = await client.post(
        "/v1/articles",
        json=article_data(
            authors=[{"name": "Tom"}, {"id": "00000000-0000-0000-0000-000000000001"}]
        ),
        headers=writer,
    )
    both = await client.post(
        "/v1/articles",
        json=article_data(authors=[{"id": author["id"], "name": "Ada Obi"}]),
        headers=writer,
    )
    neither = await client.post("/v1/articles", json=article_data(authors=[{}]), headers=writer)

    assert by_id.status_code == 201, by_id.text
    assert by_id.json()["authors"] == [{"id": author["id"], "slug": "ada-obi", "name": "Ada Obi"}]
    assert error_locs(assert_problem(unknown, 422)) == [["body", "authors", 1, "id"]]
    assert error_locs(assert_problem(both, 422)) == [["body", "authors", 0]]
    assert error_locs(assert_problem(neither, 422)) == [["body", "authors", 0]]


async def test_articles_filter_by_author_slug_id_or_name(client, session):
    calder = await make_article(session, headline="A", authors=[{"name": "Ines Calder"}])
    await make_article(session, headline="B", authors=[{"name": "Tomas Berg"}])
    author = await author_of(client, calder.id)

    for value in ("ines-calder", author["id"], "ines CALDER", " Ines  Calder"):
        response = await client.get("/v1/articles", params={"author": value})
        assert [a["id"] for a in response.json()["data"]] == [str(calder.id)], value
    nobody = await client.get("/v1/articles", params={"author": "nobody"})
    assert nobody.json()["data"] == []


async def test_renaming_an_author_updates_every_article_that_carries_them(client, session, editor):
    article = await make_article(session, authors=[{"name": "Ines Calder"}])
    path = f"/v1/articles/{article.id}"
    before = await client.get(path)  # rendered, and cached by this worker
    author = before.json()["authors"][0]
    changes = (await client.get("/v1/changes", headers=editor)).json()

    renamed = await client.patch(
        f"/v1/authors/{author['id']}", json={"name": "Ines Calder-Moreau"}, headers=editor
    )

    assert renamed.status_code == 200, renamed.text
    after = await client.get(path)
    assert after.json()["authors"] == [{**author, "name": "Ines Calder-Moreau"}]
    assert after.json()["version"] == before.json()["version"] + 1
    assert after.headers["etag"] != before.headers["etag"]
    jsonld = await client.get(path, params={"format": "jsonld"})
    assert jsonld.json()["@graph"][0]["author"][0]["name"] == "Ines Calder-Moreau"
    feed = await client.get("/v1/changes", params={"since": changes["next_cursor"]})
    assert [(e["event"], e["article_id"]) for e in feed.json()["data"]] == [
        ("article.updated", str(article.id))
    ]
    revisions = await client.get(f"{path}/revisions", headers=editor)
    assert revisions.json()["data"][0]["change"] == "author_updated"

    # A change that no article shows (the bio) leaves the articles alone.
    await client.patch(f"/v1/authors/{author['id']}", json={"bio": "New."}, headers=editor)
    assert (await client.get(path)).json()["version"] == after.json()["version"]


async def test_concurrent_writes_naming_the_same_new_author_make_one(live: Live) -> None:
    names = ["Nadia Brook", "nadia brook", "NADIA  BROOK"]
    responses = await asyncio.gather(
        *(
            live.client.post(
                "/v1/articles",
                json={"headline": f"Story {n}", "authors": [{"name": names[n % 3]}]},
                headers=live.headers,
            )
            for n in range(8)
        )
    )
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.json()["authors"][0]["id"] for r in responses}) == 1
    listed = await live.client.get("/v1/authors", headers=live.headers)
    assert [a["slug"] for a in listed.json()["data"]] == ["nadia-brook"]


# --- reads ----------------------------------------------------------------------------------


async def test_list_in_name_order_with_public_counts_q_and_cursor(client, session, writer):
    await make_article(session, authors=[{"name": "Cora Dunn"}, {"name": "Ada Obi"}])
    await make_article(session, authors=[{"name": "Ada Obi"}])
    await make_article(session, published=False, authors=[{"name": "Bo Hale"}])

    anonymous, pages = await walk_pages(client, "/v1/authors?limit=1")
    as_writer = await client.get("/v1/authors", headers=writer)
    searched = await client.get("/v1/authors", params={"q": "DUNN"})
    counted = await client.get("/v1/authors", params={"count": "true"})

    # Readers see only authors of published articles; the draft's author is private.
    assert [(a["name"], a["article_count"]) for a in anonymous] == [
        ("Ada Obi", 2),
        ("Cora Dunn", 1),
    ]
    assert pages == 2
    assert [(a["name"], a["article_count"]) for a in as_writer.json()["data"]] == [
        ("Ada Obi", 2),
        ("Bo Hale", 0),
        ("Cora Dunn", 1),
    ]
    assert as_writer.headers["cache-control"] == "private, no-store"
    assert [a["name"] for a in searched.json()["data"]] == ["Cora Dunn"]
    assert counted.json()["total"] == 2
    hidden = (await client.get("/v1/authors/bo-hale")).status_code
    assert hidden == 404


async def test_unknown_author_is_404(client, writer):
    assert_problem(await client.get("/v1/authors/nobody", headers=writer), 404)
    assert_problem(await client.get(f"/v1/authors/{'0' * 8}-0000-0000-0000-{'0' * 12}"), 404)


@pytest.mark.parametrize("path", ["/v1/authors/ines-calder", "/v1/authors"])
async def test_reads_are_cacheable_with_etag_304_and_head(client, session, path):
    await make_article(session)
    first = await client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"].startswith("public, max-age=")
    etag = first.headers["etag"]

    cached = await client.get(path, headers={"If-None-Match": etag})
    head = await client.head(path)

    assert cached.status_code == 304 and cached.content == b""
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag

    await make_article(session)  # one more article: the count changes, and so does the tag
    assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 200


# --- formats --------------------------------------------------------------------------------


async def test_jsonld_person_and_ninjs_author(client, session, writer):
    ines = (
        await client.post(
            "/v1/authors",
            json={"name": "Ines Calder", "url": "https://ines.example/", "job_title": "Editor"},
            headers=writer,
        )
    ).json()
    article = await make_article(session, authors=[{"id": ines["id"]}, {"name": "Tom Reyes"}])
    path = f"/v1/articles/{article.id}"

    jsonld = (await client.get(path, params={"format": "jsonld"})).json()
    ninjs = (await client.get(path, params={"format": "ninjs"})).json()

    tom = (await client.get("/v1/authors/tom-reyes")).json()
    assert jsonld["@graph"][0]["author"] == [
        {
            "@type": "Person",
            "name": "Ines Calder",
            "url": "https://ines.example/",
            "jobTitle": "Editor",
        },
        {"@type": "Person", "name": "Tom Reyes", "url": f"{BASE}/v1/authors/tom-reyes"},
    ]
    assert ninjs_errors(ninjs) == []
    assert ninjs["by"] == "Ines Calder and Tom Reyes"
    assert [p for p in ninjs["people"] if p["rel"] == "author"] == [
        {
            "name": "Ines Calder",
            "rel": "author",
            "uri": f"{BASE}/v1/authors/{ines['id']}",
            "literal": "ines-calder",
        },
        {
            "name": "Tom Reyes",
            "rel": "author",
            "uri": f"{BASE}/v1/authors/{tom['id']}",
            "literal": "tom-reyes",
        },
    ]


async def test_an_author_s_picture_is_a_medium_of_the_library(client, writer):
    medium = await client.post(
        "/v1/media",
        files={"file": ("ana.jpg", photo(600, 600), "image/jpeg")},
        data={"alt": "Ana Pell"},
        headers=writer,
    )
    unknown = {"avatar": {"id": "00000000-0000-4000-8000-000000000000"}}

    created = await client.post(
        "/v1/authors",
        json={"name": "Ana Pell", "avatar": {"id": medium.json()["id"]}},
        headers=writer,
    )
    refused = await client.post("/v1/authors", json={"name": "Ola Berg", **unknown}, headers=writer)
    cleared = await client.patch(
        f"/v1/authors/{created.json()['id']}", json={"avatar": None}, headers=writer
    )

    assert created.status_code == 201, created.text
    assert created.json()["avatar"] == medium.json()
    assert assert_problem(refused, 422)["errors"][0]["loc"] == ["body", "avatar", "id"]
    assert cleared.json()["avatar"] is None
    # A medium that is only someone's picture may be deleted: the picture goes with it.
    again = await client.patch(
        f"/v1/authors/{created.json()['id']}",
        json={"avatar": {"id": medium.json()["id"]}},
        headers=writer,
    )
    assert again.json()["avatar"]["id"] == medium.json()["id"]
    deleted = await client.delete(f"/v1/media/{medium.json()['id']}", headers=writer)
    assert deleted.status_code == 204
    read = await client.get(f"/v1/authors/{created.json()['id']}", headers=writer)
    assert read.json()["avatar"] is None


async def test_renaming_the_author_of_a_live_article_needs_content_publish(client, session, writer):
    live_article = await make_article(session, authors=[{"name": "Ines Calder"}])
    author = (await client.get(f"/v1/articles/{live_article.id}")).json()["authors"][0]

    refused = await client.patch(
        f"/v1/authors/{author['id']}", json={"name": "Ines Moreau"}, headers=writer
    )
    bio = await client.patch(
        f"/v1/authors/{author['id']}", json={"bio": "Harbour."}, headers=writer
    )

    assert_problem(refused, 403)
    assert bio.status_code == 200  # what no article shows is the writer's to change
    read = await client.get(f"/v1/authors/{author['id']}")
    assert read.json()["name"] == "Ines Calder"
