"""Alembic environment: async engines, batch mode on SQLite, and our URL from settings."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection

from app.articles.search import is_search_object
from app.db import create_engine
from app.models import Base
from app.settings import get_settings

url = context.config.attributes.get("url") or get_settings().database_url


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # Full-text search objects are made by hand in the migrations; autogenerate must not
    # try to drop them.
    return not is_search_object(name)


def render_item(kind: str, obj: Any, _: Any) -> str | bool:
    # Our TypeDecorators are Python-side only: write their plain SQL type into migrations.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `newsdesk migrate`.")
asyncio.run(main())
