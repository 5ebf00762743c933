"""GET /v1/changes: every change to public content, in commit order, gap-free; replaying it
gives exactly the public set."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.articles.models import Article
from app.changes import service as changes
from app.changes.models import ScheduledChange
from app.db import WRITE_OPTION
from tests.factories import article_data
from tests.helpers import replay
from tests.live import Live

pytestmark = pytest.mark.anyio


async def poll(
    client: httpx.AsyncClient, headers: dict[str, str], since: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str]:
    """Every event after `since`, following cursors until nothing is left."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if since:
            params["since"] = since
        response = await client.get("/v1/changes", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"]
        events += page["data"]
        if not page["data"] or page["next_cursor"] == since:
            return events, page["next_cursor"]
        since = page["next_cursor"]


async def write(client, headers, method, url, **kwargs) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.request(method, url, headers=headers, **kwargs)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else {}


async def test_each_workflow_step_is_one_event(client, editor, publisher):
    article = await write(client, editor, "POST", "/v1/articles", json=article_data(slug="a"))
    url = f"/v1/articles/{article['id']}"
    assert (await poll(client, {}))[0] == []  # a draft is not public content

    await write(client, publisher, "POST", f"{url}/publish")
    await write(client, editor, "PATCH", url, json={"deck": "New deck"})
    await write(client, publisher, "POST", f"{url}/retract", json={"text": "Wrong."})
    await write(client, publisher, "POST", f"{url}/corrections", json={"text": "Note."})
    await write(client, publisher, "DELETE", url)

    other = await write(client, editor, "POST", "/v1/articles", json=article_data(slug="b"))
    await write(client, publisher, "POST", f"/v1/articles/{other['id']}/publish")
    await write(client, publisher, "POST", f"/v1/articles/{other['id']}/unpublish")
    await write(client, editor, "PATCH", f"/v1/articles/{other['id']}", json={"deck": "Draft"})

    events, _ = await poll(client, {})
    assert [(e["slug"], e["event"]) for e in events] == [
        ("a", "article.published"),
        ("a", "article.updated"),
        ("a", "article.retracted"),
        ("a", "article.updated"),
        ("a", "article.deleted"),
        ("b", "article.published"),
        ("b", "article.unpublished"),
    ]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [e["version"] for e in events[:5]] == [2, 3, 4, 5, 6]
    assert set(events[0]) == {"seq", "event", "article_id", "slug", "version", "occurred_at"}


async def test_polling_from_the_cursor_returns_only_what_is_new(client, editor, publisher):
    article = await write(client, editor, "POST", "/v1/articles", json=article_data())
    await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
    first, cursor = await poll(client, {})
    assert len(first) == 1
    again, same = await poll(client, {}, cursor)
    assert again == []
    assert same == cursor  # an empty poll still answers with a cursor to poll from
    await write(client, editor, "PATCH", f"/v1/articles/{article['id']}", json={"deck": "x"})
    new, _ = await poll(client, {}, cursor)
    assert [e["event"] for e in new] == ["article.updated"]


async def test_pages_follow_each_other_without_gaps(client, writer, publisher):
    for _ in range(5):
        article = await write(client, writer, "POST", "/v1/articles", json=article_data())
        await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
    events, _ = await poll(client, {}, limit=2)
    assert len(events) == 5
    assert len({e["seq"] for e in events}) == 5


@pytest.mark.parametrize("parameter", ["cursor", "since"])
async def test_a_malformed_cursor_is_422_naming_the_parameter_sent(client, parameter):
    for nonsense in ("nonsense", "-1", "9" * 30):
        response = await client.get("/v1/changes", params={parameter: nonsense})
        assert response.status_code == 422, nonsense
        assert response.json()["errors"][0]["loc"] == ["query", parameter]


async def test_cursor_and_since_must_agree(client):
    response = await client.get("/v1/changes", params={"cursor": "1", "since": "2"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "since"]


async def test_polling_resumes_from_a_webhook_sequence_number(client, writer, publisher):
    ids = []
    for _ in range(3):
        article = await write(client, writer, "POST", "/v1/articles", json=article_data())
        await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
        ids.append(article["id"])
    events, _ = await poll(client, {})
    seq = events[0]["seq"]  # what a webhook's `data.seq` carries
    for parameter in ("cursor", "since"):
        response = await client.get("/v1/changes", params={parameter: str(seq)})
        assert response.status_code == 200, response.text
        assert [e["article_id"] for e in response.json()["data"]] == ids[1:]


async def test_the_link_stops_at_the_tail_while_the_cursor_goes_on(client, writer, publisher):
    for _ in range(3):
        article = await write(client, writer, "POST", "/v1/articles", json=article_data())
        await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
    first = await client.get("/v1/changes", params={"limit": 2})
    assert 'rel="next"' in first.headers["link"]
    assert "cursor=" in first.headers["link"]
    following = await client.get(first.headers["link"][1:].split(">")[0])
    assert len(following.json()["data"]) == 1
    assert "link" not in following.headers  # nothing more for now: a Link follower stops
    assert following.json()["next_cursor"]  # a poller carries on from here
    # An alias in the request does not travel into the next page's link.
    aliased = await client.get("/v1/changes", params={"limit": 1, "since": "0"})
    assert "since=" not in aliased.headers["link"]


async def test_the_tail_is_revalidated_by_every_cache(client, writer, publisher):
    article = await write(client, writer, "POST", "/v1/articles", json=article_data())
    await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
    response = await client.get("/v1/changes")
    assert response.headers["cache-control"] == "public, no-cache"
    again = await client.get("/v1/changes", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert (await client.get("/v1/changes", headers=writer)).headers[
        "cache-control"
    ] == "private, no-store"


async def test_partners_do_not_see_articles_closed_to_syndication(
    client, editor, publisher, reader
):
    closed = article_data(slug="closed", syndication={"allowed": False, "usage_terms": None})
    article = await write(client, editor, "POST", "/v1/articles", json=closed)
    await write(client, publisher, "POST", f"/v1/articles/{article['id']}/publish")
    opened = await write(client, editor, "POST", "/v1/articles", json=article_data(slug="open"))
    url = f"/v1/articles/{opened['id']}"
    await write(client, publisher, "POST", f"{url}/publish")
    # Closing a public article to syndication takes it out of the partners' view only.
    await write(client, editor, "PATCH", url, json={"syndication": {"allowed": False}})

    partner, _ = await poll(client, reader)
    assert [(e["slug"], e["event"]) for e in partner] == [
        ("open", "article.published"),
        ("open", "article.unpublished"),
    ]
    newsroom, _ = await poll(client, editor)
    assert [(e["slug"], e["event"]) for e in newsroom] == [
        ("closed", "article.published"),
        ("open", "article.published"),
        ("open", "article.updated"),
    ]


async def test_a_scheduled_article_enters_the_feed_when_its_time_comes(
    client, session, writer, publisher
):
    article = await write(client, writer, "POST", "/v1/articles", json=article_data(slug="later"))
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await write(
        client,
        publisher,
        "POST",
        f"/v1/articles/{article['id']}/publish",
        json={"published_at": soon},
    )
    assert (await poll(client, {}))[0] == []

    # An hour passes: nothing runs, but the next poll finds it published.
    past = datetime.now(UTC) - timedelta(seconds=1)
    await session.execute(update(Article).values(published_at=past))
    await session.execute(update(ScheduledChange).values(due_at=past))
    await session.commit()
    events, _ = await poll(client, {})
    assert [(e["slug"], e["event"]) for e in events] == [("later", "article.published")]
    assert await session.scalar(select(ScheduledChange.article_id)) is None
    assert (await poll(client, {}))[0] == events  # released once, not again


async def test_rescheduling_or_unpublishing_cancels_the_pending_release(
    client, session, writer, publisher
):
    article = await write(client, writer, "POST", "/v1/articles", json=article_data())
    url = f"/v1/articles/{article['id']}"
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await write(client, publisher, "POST", f"{url}/publish", json={"published_at": soon})
    await write(client, publisher, "POST", f"{url}/unpublish")
    assert await session.scalar(select(ScheduledChange.article_id)) is None


async def _public_ids(session, syndicated: bool) -> set[str]:  # type: ignore[no-untyped-def]
    query = select(Article.id).where(Article.public_at(datetime.now(UTC)))
    if syndicated:
        query = query.where(Article.syndication_allowed.is_(True))
    return {str(i) for i in await session.scalars(query)}


@pytest.mark.parametrize("seed", [1, 2])
async def test_replaying_the_feed_gives_exactly_the_public_set(
    client, session, editor, publisher, reader, seed
):
    rng = random.Random(seed)
    ids: list[str] = []
    for _ in range(120):
        weights = {
            "create": 3,
            "edit": 3,
            "publish": 4,
            "schedule": 2,
            "unpublish": 2,
            "retract": 1,
            "delete": 1,
            "syndicate": 2,
            "claim": 2,
        }
        action = rng.choices(list(weights), list(weights.values()))[0] if ids else "create"
        if action == "create":
            created = await client.post("/v1/articles", json=article_data(), headers=editor)
            ids.append(created.json()["id"])
            continue
        url = f"/v1/articles/{rng.choice(ids)}"
        if action == "edit":
            await client.patch(url, json={"deck": f"deck {rng.random()}"}, headers=editor)
        elif action == "publish":
            await client.post(f"{url}/publish", headers=publisher)
        elif action == "schedule":
            at = datetime.now(UTC) + timedelta(hours=rng.choice([-2, 2]))
            await client.post(
                f"{url}/publish", json={"published_at": at.isoformat()}, headers=publisher
            )
        elif action == "unpublish":
            await client.post(f"{url}/unpublish", headers=publisher)
        elif action == "retract":
            await client.post(f"{url}/retract", json={"text": "Withdrawn."}, headers=publisher)
        elif action == "delete":
            await client.delete(url, headers=publisher)
        elif action == "syndicate":
            allowed = rng.choice([True, False])
            await client.patch(url, json={"syndication": {"allowed": allowed}}, headers=editor)
        else:
            await client.post(f"{url}/claims", json={"statement": "A claim."}, headers=editor)

    partner, _ = await poll(client, reader, limit=7)
    newsroom, _ = await poll(client, editor, limit=7)
    assert replay(partner) == await _public_ids(session, syndicated=True)
    assert replay(newsroom) == await _public_ids(session, syndicated=False)
    assert len(partner) >= 8  # the sequence really exercised the feed
    assert {e["event"] for e in newsroom} >= {
        "article.published",
        "article.updated",
        "article.unpublished",
    }


async def test_a_reader_polling_during_concurrent_writes_misses_nothing(live: Live):
    """Writers commit in any order; a poller following the cursor must still see every
    event, because events are numbered in commit order."""
    created = []
    for _ in range(12):
        response = await live.client.post("/v1/articles", json=article_data(), headers=live.headers)
        created.append(response.json()["id"])

    async def writer(article_id: str) -> None:
        url = f"/v1/articles/{article_id}"
        for n, step in enumerate(("publish", "edit", "edit", "unpublish", "publish")):
            if step == "edit":  # each edit a real change: one that changes nothing is no event
                deck = {"deck": f"Deck {n}"}
                response = await live.client.patch(url, json=deck, headers=live.headers)
            else:
                response = await live.client.post(f"{url}/{step}", headers=live.headers)
            assert response.status_code == 200, response.text

    seen: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def poller() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            events, cursor = await poll(live.client, live.headers, cursor, limit=5)
            seen.extend(events)
            if finished:
                return
            await asyncio.sleep(0)

    polling = asyncio.create_task(poller())
    await asyncio.gather(*(writer(article_id) for article_id in created))
    done.set()
    await polling

    everything, _ = await poll(live.client, live.headers)
    assert len(everything) == 12 * 5
    assert [e["seq"] for e in seen] == [e["seq"] for e in everything]


async def test_an_event_that_commits_late_is_not_skipped(live: Live, engine):
    """Transaction A records an event and stays open; B records a later one meanwhile.
    A poller must not see B's event (and move its cursor past A's) before A commits."""
    ids = []
    for _ in range(2):
        created = await live.client.post("/v1/articles", json=article_data(), headers=live.headers)
        ids.append(created.json()["id"])
        await live.client.post(f"/v1/articles/{ids[-1]}/publish", headers=live.headers)
    _, cursor = await poll(live.client, live.headers)

    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as slow:
        await slow.connection(execution_options={WRITE_OPTION: True})
        article = await slow.get(Article, uuid.UUID(ids[0]))
        assert article is not None
        await changes.record(slow, article)  # an updated event, not yet committed
        late = asyncio.create_task(
            live.client.patch(f"/v1/articles/{ids[1]}", json={"deck": "x"}, headers=live.headers)
        )
        await asyncio.sleep(0.3)  # B is now waiting for A
        seen, cursor = await poll(live.client, live.headers, cursor)
        assert seen == []
        await slow.commit()
    assert (await late).status_code == 200
    seen, _ = await poll(live.client, live.headers, cursor)
    assert [e["article_id"] for e in seen] == ids
