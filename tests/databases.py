"""Throwaway databases for tests: a SQLite file, or a database of its own on the PostgreSQL
server that NEWSDESK_TEST_DATABASE_URL names."""

import asyncio
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from app.db import create_engine

POSTGRES_SERVER = os.environ.get("NEWSDESK_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_SERVER else ["sqlite"]


async def _admin_sql(statement: str) -> None:
    assert POSTGRES_SERVER
    engine = create_engine(POSTGRES_SERVER)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql(statement)
    await engine.dispose()


def fresh_database(backend: str, directory: Path) -> tuple[str, Callable[[], None]]:
    """A new empty database on `backend`, and how to drop it."""
    if backend == "sqlite":
        path = directory / f"newsdesk-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite+aiosqlite:///{path}", lambda: None
    assert POSTGRES_SERVER
    name = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    return url, lambda: asyncio.run(_admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)'))
