"""Writes that name the same new sources at the same time, in different orders, all
succeed: each creates the sources it needs in one order, so none waits on another that
waits on it (a deadlock on PostgreSQL, a 500 for one of them)."""

import asyncio
import random

import pytest

from tests.live import Live

pytestmark = pytest.mark.anyio

SOURCES = [{"name": f"Source {n}", "kind": "organization"} for n in range(8)]


async def test_concurrent_writes_naming_the_same_new_sources_all_succeed(live: Live) -> None:
    rng = random.Random(7)

    def article(n: int) -> dict:
        named = rng.sample(SOURCES, len(SOURCES))
        return {
            "headline": f"Story {n}",
            "claims": [
                {"statement": f"Claim {i}.", "attributions": [{"source": source}]}
                for i, source in enumerate(named)
            ],
        }

    responses = await asyncio.gather(
        *(
            live.client.post("/v1/articles", json=article(n), headers=live.headers)
            for n in range(12)
        )
    )
    assert [r.status_code for r in responses] == [201] * 12, [r.text for r in responses]
    sources = await live.client.get("/v1/sources", params={"limit": 100}, headers=live.headers)
    assert sorted(s["name"] for s in sources.json()["data"]) == sorted(s["name"] for s in SOURCES)
