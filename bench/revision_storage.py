"""What revisions cost to store: one article with 500 attributed claims, one claim edited
`--edits` times through the API, and the bytes the revision tables hold after each step
(JSON as text, pieces as stored), in a throwaway SQLite database migrated to head.

    .venv/bin/python -m bench.revision_storage [--edits 20]
"""

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.auth import service as keys
from app.auth.scopes import Scope
from app.db import create_engine, get_sessionmaker
from app.main import create_app
from app.ops.service import alembic_config
from app.settings import Settings

TABLES = ("article_revision", "revision_piece")
CLAIMS = 500


async def stored_bytes(engine: AsyncEngine) -> int:
    """Every value in the revision tables, as the bytes it takes (text as UTF-8)."""
    total = 0
    async with engine.connect() as connection:
        present = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        for table in TABLES:
            if table not in present:
                continue
            for row in await connection.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                for value in row:
                    if isinstance(value, bytes):
                        total += len(value)
                    elif value is not None:
                        total += len(str(value).encode())
    return total


def claims() -> list[dict[str, object]]:
    return [
        {
            "statement": f"Claim {n}: the harbour authority said the repairs would take weeks.",
            "kind": "report",
            "attributions": [
                {
                    "source": {"name": "Harbour Authority", "kind": "organization"},
                    "role": "asserted_by",
                    "cue": "said",
                }
            ],
        }
        for n in range(CLAIMS)
    ]


async def measure(url: str, edits: int) -> None:
    engine = create_engine(url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker.begin() as session:
        _, secret = await keys.create(session, "bench", [Scope.write])
    app = create_app(Settings(database_url=url, rate_limit_per_key=0, _env_file=None))
    app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        body = {"headline": "Pier closes", "body": "The pier closes.", "claims": claims()}
        created = await c.post("/v1/articles", json=body, headers=headers)
        created.raise_for_status()
        article = created.json()
        first = await stored_bytes(engine)
        print(f"created: {len(article['claims'])} claims, {first} bytes in revision tables")
        claim_id = article["claims"][0]["id"]
        before = first
        for n in range(1, edits + 1):
            verification = ("confirmed", "disputed")[n % 2]
            edit = {"verification": verification, "statement": f"Edited {n} times."}
            response = await c.patch(f"/v1/claims/{claim_id}", json=edit, headers=headers)
            response.raise_for_status()
            now = await stored_bytes(engine)
            print(f"edit {n:2}: +{now - before} bytes")
            before = now
    print(
        f"after {edits} edits: {before} bytes; {(before - first) / edits:.0f} bytes per edit "
        "on average"
    )
    await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'revisions.db'}"
        command.upgrade(alembic_config(url), "head")
        asyncio.run(measure(url, args.edits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
