import asyncio
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine

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


def _behind(revision: str | None) -> str | None:
    """What is wrong with a schema at `revision`, and what to do; None when it is at head."""
    if revision == head():
        return None
    return f"schema is at {revision or 'nothing'}, not {head()}: run `newsdesk migrate`"


async def readiness_problem(session: AsyncSession) -> str | None:
    """Why the service cannot serve yet, or None when it can."""
    try:
        await session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "The database does not answer."
    behind = _behind(await current_revision(session))
    return f"The database {behind}." if behind else None


def database_problem(url: str) -> str | None:
    """Why a command cannot work on the database at `url` (none there, no answer, a schema
    not at head), in one line that names it and says what to do; None when it can. A SQLite
    file that is not there is reported, not created. For commands: runs its own loop."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        return f"NEWSDESK_DATABASE_URL is not a database URL: {error}."
    named = _named(url)
    file = parsed.database or ""
    if (
        parsed.get_backend_name() == "sqlite"
        and file not in ("", ":memory:")
        and not file.startswith("file:")
        and not Path(file).exists()
    ):
        return f"{named} does not exist: run `newsdesk migrate` to create it."
    try:
        revision = asyncio.run(_revision_at(url))
    except (SQLAlchemyError, OSError) as error:
        return unreachable(url, error)
    behind = _behind(revision)
    return f"{named}: its {behind}." if behind else None


def _named(url: str) -> str:
    # render_as_string() shows any password as ***.
    return f"The database at {make_url(url).render_as_string()} (NEWSDESK_DATABASE_URL)"


def unreachable(url: str, error: Exception) -> str:
    """One line for a database that did not answer: which one, and the driver's reason."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig else error
    reason = (str(cause).strip().splitlines() or [""])[0]
    return f"{_named(url)} cannot be reached ({type(cause).__name__}: {reason})."


async def _revision_at(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            await session.execute(text("SELECT 1"))  # fails when the database does not answer
            return await current_revision(session)
    finally:
        await engine.dispose()
