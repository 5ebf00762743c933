"""Articles show media: a featured image read back with its renditions, body images as
figures, alt text required of what readers see, a medium's change shown in every article
(with a new version and an `article.updated`), and deletion refused while in use."""

import uuid
from typing import Any

import feedparser
import httpx
import pytest
from sqlalchemy import select

from app.articles.models import Article
from tests.articles.test_formats import NINJS, contract_validator
from tests.factories import article_data
from tests.helpers import assert_problem
from tests.media.pictures import photo

pytestmark = pytest.mark.anyio


async def a_medium(
    client: httpx.AsyncClient, headers: dict[str, str], width: int = 1600, **fields: str
) -> dict[str, Any]:
    response = await client.post(
        "/v1/media",
        files={"file": ("pier.jpg", photo(width, width * 3 // 4), "image/jpeg")},
        data={"alt": "The north pier at dusk", "credit": "Photo: Ana Pell", **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    medium: dict[str, Any] = response.json()
    return medium


async def an_article(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    response = await client.post("/v1/articles", json=article_data(**fields), headers=headers)
    assert response.status_code == 201, response.text
    article: dict[str, Any] = response.json()
    return article


async def test_a_featured_image_is_read_back_as_the_medium_with_its_caption(client, editor):
    medium = await a_medium(client, editor, caption="The pier at dusk.")

    article = await an_article(
        client, editor, featured_image={"id": medium["id"], "caption": "Closed from Monday."}
    )
    again = await client.get(f"/v1/articles/{article['id']}", headers=editor)

    featured = again.json()["featured_image"]
    assert featured == {**medium, "caption": "Closed from Monday."}
    assert article["featured_image"] == featured
    # Without a caption of its own, the article shows the medium's.
    patched = await client.patch(
        f"/v1/articles/{article['id']}",
        json={"featured_image": {"id": medium["id"]}},
        headers=editor,
    )
    assert patched.json()["featured_image"]["caption"] == "The pier at dusk."
    cleared = await client.patch(
        f"/v1/articles/{article['id']}", json={"featured_image": None}, headers=editor
    )
    assert cleared.json()["featured_image"] is None


async def test_an_unknown_featured_image_is_refused_naming_it(client, editor):
    response = await client.post(
        "/v1/articles",
        json=article_data(featured_image={"id": "00000000-0000-4000-8000-000000000000"}),
        headers=editor,
    )

    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "featured_image", "id"]
    listing = await client.get("/v1/articles?status=all", headers=editor)
    assert listing.json()["data"] == []


async def test_a_body_image_is_a_figure_with_srcset_caption_and_credit(client, editor):
    medium = await a_medium(client, editor, width=2400, caption="Waves over the pier.")

    article = await an_article(
        client,
        editor,
        body=f"The pier closes.\n\n![Waves](media:{medium['id']})\n\nRepairs start in May.",
        claims=[],
    )

    html = article["body_html"]
    assert f'<figure class="image" data-medium-id="{medium["id"]}">' in html
    assert f'src="https://api.newsdesk.test/v1/media/{medium["id"]}/1280.jpg"' in html
    assert f"/v1/media/{medium['id']}/320.jpg 320w" in html
    assert f"/v1/media/{medium['id']}/2048.jpg 2048w" in html
    assert 'alt="The north pier at dusk"' in html
    assert (
        '<figcaption>Waves over the pier. <small class="credit">Photo: Ana Pell</small>'
        "</figcaption>"
    ) in html
    # The picture adds nothing to the text that claim anchors count in.
    assert article["body_text"] == "The pier closes.\n\nRepairs start in May."


async def test_a_body_image_not_in_the_library_is_refused(client, editor):
    response = await client.post(
        "/v1/articles",
        json=article_data(body="![Pier](media:00000000-0000-4000-8000-000000000000)", claims=[]),
        headers=editor,
    )
    malformed = await client.post(
        "/v1/articles", json=article_data(body="![Pier](media:pier.jpg)", claims=[]), headers=editor
    )

    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body"]
    assert "not in the library" in response.json()["detail"]
    assert assert_problem(malformed, 422)["errors"][0]["loc"] == ["body"]


async def test_hostile_text_in_a_medium_is_text_in_the_body_html(client, editor):
    medium = await a_medium(
        client, editor, alt='"><script>alert(1)</script>', caption="<img src=x onerror=alert(1)>"
    )

    article = await an_article(client, editor, body=f"![x](media:{medium['id']})", claims=[])

    html = article["body_html"]
    assert "<script>" not in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_an_article_readers_see_must_give_alt_text_for_every_image(client, editor):
    medium = await a_medium(client, editor, alt="")
    article = await an_article(client, editor, featured_image={"id": medium["id"]})

    refused = await client.post(f"/v1/articles/{article['id']}/publish", json={}, headers=editor)

    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["loc"] == ["featured_image"]
    assert f"PATCH /v1/media/{medium['id']}" in problem["detail"]
    still = await client.get(f"/v1/articles/{article['id']}", headers=editor)
    assert still.json()["status"] == "draft"
    await client.patch(f"/v1/media/{medium['id']}", json={"alt": "The pier"}, headers=editor)
    published = await client.post(f"/v1/articles/{article['id']}/publish", json={}, headers=editor)
    assert published.status_code == 200, published.text
    # And once published, the alt text cannot be taken away.
    cleared = await client.patch(f"/v1/media/{medium['id']}", json={"alt": None}, headers=editor)
    assert_problem(cleared, 422)
    assert (await client.get(f"/v1/media/{medium['id']}")).json()["alt"] == "The pier"


async def test_a_medium_change_is_a_new_version_of_each_article_showing_it(client, editor):
    medium = await a_medium(client, editor, caption="The pier.")
    featured = await an_article(client, editor, featured_image={"id": medium["id"]})
    in_body = await an_article(
        client, editor, slug="in-body", body=f"![Pier](media:{medium['id']})", claims=[]
    )
    unrelated = await an_article(client, editor, slug="unrelated")
    for article in (featured, in_body, unrelated):
        await client.post(f"/v1/articles/{article['id']}/publish", json={}, headers=editor)
    read = await client.get(f"/v1/articles/{featured['id']}")  # cached from here
    start = (await client.get("/v1/changes")).json()["next_cursor"]

    changed = await client.patch(
        f"/v1/media/{medium['id']}", json={"caption": "The pier, closed."}, headers=editor
    )

    assert changed.status_code == 200, changed.text
    events = (await client.get(f"/v1/changes?cursor={start}")).json()["data"]
    assert sorted((e["article_id"], e["event"]) for e in events) == sorted(
        [(featured["id"], "article.updated"), (in_body["id"], "article.updated")]
    )
    now = await client.get(f"/v1/articles/{featured['id']}")
    assert now.json()["featured_image"]["caption"] == "The pier, closed."
    assert now.json()["version"] == read.json()["version"] + 1
    assert now.headers["etag"] != read.headers["etag"]
    body = await client.get(f"/v1/articles/{in_body['id']}")
    assert "The pier, closed." in body.json()["body_html"]
    # Describing it the same way again changes nothing.
    same = await client.patch(
        f"/v1/media/{medium['id']}", json={"caption": "The pier, closed."}, headers=editor
    )
    assert same.status_code == 200
    after = (await client.get(f"/v1/changes?cursor={start}")).json()["data"]
    assert len(after) == 2


async def test_changing_a_medium_live_articles_show_needs_content_publish(client, editor, writer):
    medium = await a_medium(client, editor)
    article = await an_article(client, editor, featured_image={"id": medium["id"]})
    await client.post(f"/v1/articles/{article['id']}/publish", json={}, headers=editor)

    refused = await client.patch(f"/v1/media/{medium['id']}", json={"credit": "AP"}, headers=writer)

    assert_problem(refused, 403)
    assert (await client.get(f"/v1/media/{medium['id']}")).json()["credit"] == "Photo: Ana Pell"


async def test_a_medium_an_article_shows_cannot_be_deleted(client, session, editor):
    medium = await a_medium(client, editor)
    draft = await an_article(client, editor, slug="pier-draft", featured_image={"id": medium["id"]})

    refused = await client.delete(f"/v1/media/{medium['id']}", headers=editor)

    problem = assert_problem(refused, 409)
    assert "pier-draft" in problem["detail"]
    assert (await client.get(f"/v1/media/{medium['id']}")).status_code == 200
    # Once no article shows it, it goes; a deleted article does not hold it.
    await client.delete(f"/v1/articles/{draft['id']}", headers=editor)
    deleted = await client.delete(f"/v1/media/{medium['id']}", headers=editor)
    assert deleted.status_code == 204
    # The tombstone's reference is cleared by the database (ON DELETE SET NULL).
    kept = select(Article.featured_image_id).where(Article.id == uuid.UUID(draft["id"]))
    assert await session.scalar(kept) is None


# --- every format carries them -----------------------------------------------------------------


async def a_published_article_with_images(client, editor):  # type: ignore[no-untyped-def]
    featured = await a_medium(
        client, editor, width=2400, caption="The pier at dusk.", copyright="© 2026 Newsdesk"
    )
    inline = await a_medium(client, editor, width=800, alt="Waves over the wall")
    article = await an_article(
        client,
        editor,
        featured_image={"id": featured["id"]},
        body=f"The pier closes.\n\n![Waves](media:{inline['id']})",
        claims=[],
    )
    await client.post(f"/v1/articles/{article['id']}/publish", json={}, headers=editor)
    return article, featured, inline


async def test_the_json_article_embeds_body_images_and_matches_the_contract(client, editor):
    article, featured, inline = await a_published_article_with_images(client, editor)

    single = await client.get(f"/v1/articles/{article['id']}")
    listed = await client.get("/v1/articles")

    assert single.json()["body_images"] == [inline]
    assert single.json()["featured_image"]["id"] == featured["id"]
    contract_validator("/v1/articles/{article}").validate(single.json())
    contract_validator("/v1/articles").validate(listed.json())
    assert listed.json()["data"][0]["featured_image"] == single.json()["featured_image"]


async def test_ninjs_associates_each_picture_with_its_renditions(client, editor):
    article, featured, inline = await a_published_article_with_images(client, editor)

    ninjs = (await client.get(f"/v1/articles/{article['id']}?format=ninjs")).json()

    NINJS.validate(ninjs)
    first, second = ninjs["associations"]
    assert (first["name"], first["rel"], first["type"]) == ("featured-image", "featured", "picture")
    assert first["uri"] == f"https://api.newsdesk.test/v1/media/{featured['id']}"
    assert first["copyrightNotice"] == "© 2026 Newsdesk"
    assert {"role": "caption", "contentType": "text/plain", "value": "The pier at dusk."} in first[
        "descriptions"
    ]
    full = next(r for r in first["renditions"] if r["name"] == "full.jpg")
    assert (full["width"], full["height"], full["contentType"]) == (2400, 1800, "image/jpeg")
    assert full["href"] == f"https://api.newsdesk.test/v1/media/{featured['id']}/full.jpg"
    assert (second["name"], second["rel"]) == ("body-image-1", "inline")
    assert second["uri"].endswith(inline["id"])


async def test_json_ld_gives_the_featured_image_at_the_ratios_search_engines_ask(client, editor):
    article, featured, _ = await a_published_article_with_images(client, editor)

    graph = (await client.get(f"/v1/articles/{article['id']}?format=jsonld")).json()["@graph"]

    images = graph[0]["image"]
    assert [(i["width"], i["height"]) for i in images] == [
        (2048, 1536),
        (1200, 675),
        (1200, 900),
        (1200, 1200),
    ]
    assert all(i["@type"] == "ImageObject" for i in images)
    assert images[0]["url"] == f"https://api.newsdesk.test/v1/media/{featured['id']}/2048.jpg"
    assert images[0]["caption"] == "The pier at dusk."
    assert images[0]["description"] == "The north pier at dusk"
    assert images[0]["creditText"] == "Photo: Ana Pell"


async def test_feeds_enclose_the_featured_image_and_stay_valid(client, editor):
    _, featured, _ = await a_published_article_with_images(client, editor)
    shown = next(r for r in featured["renditions"] if r["name"] == "1280.jpg")

    rss = feedparser.parse((await client.get("/v1/feeds/rss")).content)
    atom = feedparser.parse((await client.get("/v1/feeds/atom")).content)
    json_feed = (await client.get("/v1/feeds/json")).json()

    assert rss.bozo == 0 and atom.bozo == 0
    for parsed in (rss, atom):
        enclosure = parsed.entries[0].enclosures[0]
        assert enclosure.href == shown["url"]
        assert enclosure.type == "image/jpeg"
        assert int(enclosure.length) == shown["bytes"]
    item = json_feed["items"][0]
    assert item["image"] == shown["url"]
    assert item["attachments"] == [
        {"url": shown["url"], "mime_type": "image/jpeg", "size_in_bytes": shown["bytes"]}
    ]
