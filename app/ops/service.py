from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["url"] = url
    return config


@lru_cache
def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0]


async def current_revision(session: AsyncSession) -> str | None:
    try:
        async with session.begin_nested():
            return await session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        return None


async def readiness_problem(session: AsyncSession) -> str | None:
    """Why the service cannot serve yet, or None when it can."""
    try:
        await session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "The database does not answer."
    revision = await current_revision(session)
    if revision != head():
        return (
            f"The database schema is at {revision or 'nothing'}, not {head()}: "
            "run `newsdesk migrate`."
        )
    return None
