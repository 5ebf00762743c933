"""Concurrent writers must neither lose nor mix changes. The usual `client` fixture shares one
connection between all requests, so it cannot race; these tests run the app on the real
engine (each request its own pooled connection and its own committed transaction) and clean
up after themselves so that other tests still start empty."""

import asyncio
import re
from typing import Any

import httpx
import pytest

from tests.factories import article_data
from tests.live import Live

pytestmark = pytest.mark.anyio

WRITERS = 20
CLAIM_WRITERS = 10


async def create(live: Live) -> dict[str, Any]:
    response = await live.client.post("/v1/articles", json=article_data(), headers=live.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def history(live: Live, article_id: str) -> list[dict[str, Any]]:
    """Every revision summary, oldest first."""
    response = await live.client.get(
        f"/v1/articles/{article_id}/revisions", params={"limit": 100}, headers=live.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["data"][::-1]


async def snapshot(live: Live, article_id: str, version: int) -> dict[str, Any]:
    response = await live.client.get(
        f"/v1/articles/{article_id}/revisions/{version}", headers=live.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def failures(responses: list[httpx.Response], expected: int) -> list[str]:
    return [f"{r.status_code}: {r.text}" for r in responses if r.status_code != expected]


async def test_concurrent_patches_are_serialised_whole(live: Live):
    article = await create(live)
    url = f"/v1/articles/{article['id']}"

    async def write(n: int) -> httpx.Response:
        change = {"headline": f"writer {n}", "tags": [f"writer-{n}"], "deck": f"deck {n}"}
        return await live.client.patch(url, json=change, headers=live.headers)

    responses = await asyncio.gather(*(write(n) for n in range(WRITERS)))
    assert failures(responses, 200) == []
    # Each writer saw its own change on top of whatever came before, at its own version.
    assert sorted(r.json()["version"] for r in responses) == list(range(2, WRITERS + 2))
    for n, response in enumerate(responses):
        assert response.json()["headline"] == f"writer {n}"
        assert response.json()["tags"] == [f"writer-{n}"]

    final = await live.client.get(url, headers=live.headers)
    assert final.status_code == 200
    assert final.json()["version"] == 1 + WRITERS

    revisions = await history(live, article["id"])
    assert [r["version"] for r in revisions] == list(range(1, WRITERS + 2))
    assert [r["change"] for r in revisions] == ["created"] + ["updated"] * WRITERS
    assert {r["actor"] for r in revisions} == {"racer"}

    writers_seen = []
    for summary in revisions[1:]:
        state = await snapshot(live, article["id"], summary["version"])
        match = re.fullmatch(r"writer (\d+)", state["headline"])
        assert match, state["headline"]
        n = int(match.group(1))
        # One writer's whole change, never a mix of two.
        assert state["tags"] == [f"writer-{n}"], (summary["version"], state)
        assert state["deck"] == f"deck {n}", (summary["version"], state)
        assert state["version"] == summary["version"]
        # The response that writer got is exactly this revision.
        assert responses[n].json() == state
        writers_seen.append(n)
    assert sorted(writers_seen) == list(range(WRITERS))

    last = await snapshot(live, article["id"], WRITERS + 1)
    assert final.json() == last
    assert final.json()["claims"] == article["claims"]


async def test_concurrent_claim_additions_all_land(live: Live):
    article = await create(live)
    url = f"/v1/articles/{article['id']}"

    async def add(n: int) -> httpx.Response:
        claim = {
            "statement": f"Concurrent claim number {n}.",
            "kind": "report",
            "attributions": [{"source": {"name": f"Source {n % 3}", "kind": "organization"}}],
        }
        return await live.client.post(f"{url}/claims", json=claim, headers=live.headers)

    responses = await asyncio.gather(*(add(n) for n in range(CLAIM_WRITERS)))
    assert failures(responses, 201) == []
    added_ids = {r.json()["id"] for r in responses}
    assert len(added_ids) == CLAIM_WRITERS

    final = (await live.client.get(url, headers=live.headers)).json()
    assert final["version"] == 1 + CLAIM_WRITERS
    assert len(final["claims"]) == 2 + CLAIM_WRITERS
    assert {c["id"] for c in final["claims"]} == added_ids | {c["id"] for c in article["claims"]}
    assert {c["statement"] for c in final["claims"][2:]} == {
        f"Concurrent claim number {n}." for n in range(CLAIM_WRITERS)
    }
    assert final["sourcing"]["claims"] == 2 + CLAIM_WRITERS

    # Sources racing to be created were created once each.
    sources = await live.client.get(
        "/v1/sources", params={"q": "Source", "limit": 100}, headers=live.headers
    )
    assert sorted(s["name"] for s in sources.json()["data"]) == ["Source 0", "Source 1", "Source 2"]

    revisions = await history(live, article["id"])
    assert [r["version"] for r in revisions] == list(range(1, CLAIM_WRITERS + 2))
    assert [r["change"] for r in revisions] == ["created"] + ["claim_added"] * CLAIM_WRITERS
    for summary in revisions:
        state = await snapshot(live, article["id"], summary["version"])
        # Each revision holds one more claim than the one before it.
        assert len(state["claims"]) == 1 + summary["version"]
    assert await snapshot(live, article["id"], CLAIM_WRITERS + 1) == final


async def test_concurrent_patches_with_the_same_if_match_let_exactly_one_through(live: Live):
    article = await create(live)
    url = f"/v1/articles/{article['id']}"
    etag = (await live.client.get(url, headers=live.headers)).headers["etag"]

    async def write(n: int) -> httpx.Response:
        return await live.client.patch(
            url, json={"headline": f"writer {n}"}, headers={**live.headers, "If-Match": etag}
        )

    responses = await asyncio.gather(*(write(n) for n in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 9, [r.text for r in responses]
    winner = next(n for n, r in enumerate(responses) if r.status_code == 200)
    for response in responses:
        if response.status_code == 412:
            assert response.headers["content-type"].startswith("application/problem+json")

    final = (await live.client.get(url, headers=live.headers)).json()
    assert final["version"] == 2
    assert final["headline"] == f"writer {winner}"
    assert [r["version"] for r in await history(live, article["id"])] == [1, 2]


async def test_concurrent_workflow_steps_do_not_double_apply(live: Live):
    article = await create(live)
    url = f"/v1/articles/{article['id']}"
    responses = await asyncio.gather(
        *(live.client.post(f"{url}/publish", headers=live.headers) for _ in range(5))
    )
    # Publishing "now" twice is a conflict: exactly one publish happens.
    assert sorted(r.status_code for r in responses) == [200] + [409] * 4
    corrections = await asyncio.gather(
        *(
            live.client.post(f"{url}/corrections", json={"text": f"Fix {n}."}, headers=live.headers)
            for n in range(5)
        )
    )
    assert failures(corrections, 201) == []
    final = (await live.client.get(url, headers=live.headers)).json()
    assert final["version"] == 2 + 5
    assert sorted(c["text"] for c in final["corrections"]) == [f"Fix {n}." for n in range(5)]
    revisions = await history(live, article["id"])
    assert [r["version"] for r in revisions] == list(range(1, 8))
    assert [r["change"] for r in revisions] == ["created", "published"] + ["corrected"] * 5


async def test_edits_racing_a_delete_never_land_after_the_tombstone(live: Live):
    article = await create(live)
    url = f"/v1/articles/{article['id']}"

    async def edit(n: int) -> httpx.Response:
        return await live.client.patch(url, json={"deck": f"deck {n}"}, headers=live.headers)

    edits = [edit(n) for n in range(8)]
    results = await asyncio.gather(
        *edits[:4], live.client.delete(url, headers=live.headers), *edits[4:]
    )
    deleted = results[4]
    assert deleted.status_code == 204, deleted.text
    patches = results[:4] + results[5:]
    assert {r.status_code for r in patches} <= {200, 410}, [r.text for r in patches]
    landed = sum(r.status_code == 200 for r in patches)

    assert (await live.client.get(url, headers=live.headers)).status_code == 410
    revisions = await history(live, article["id"])
    assert [r["version"] for r in revisions] == list(range(1, landed + 3))
    assert revisions[-1]["change"] == "deleted"
    assert [r["change"] for r in revisions[1:-1]] == ["updated"] * landed


async def test_concurrent_creations_of_the_same_headline_get_distinct_slugs(live: Live):
    responses = await asyncio.gather(
        *(
            live.client.post("/v1/articles", json=article_data(), headers=live.headers)
            for _ in range(8)
        )
    )
    assert failures(responses, 201) == []
    slugs = [r.json()["slug"] for r in responses]
    assert len(set(slugs)) == 8
    assert "north-pier-to-close-for-repairs" in slugs


async def test_concurrent_retries_with_one_idempotency_key_write_once(live: Live):
    headers = {**live.headers, "Idempotency-Key": '"one-story"'}
    body = article_data(slug="one-story")

    async def post() -> httpx.Response:
        return await live.client.post("/v1/articles", json=body, headers=headers)

    responses = await asyncio.gather(*(post() for _ in range(8)))
    # The first runs; the others wait for it and are answered with its response.
    assert failures(responses, 201) == []
    assert len({r.content for r in responses}) == 1
    assert sum("idempotent-replayed" in r.headers for r in responses) == 7
    listed = await live.client.get("/v1/articles?status=all", headers=live.headers)
    assert [a["slug"] for a in listed.json()["data"]] == ["one-story"]
