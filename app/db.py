"""Engine, declarative base, portable column types and the per-request unit of work."""

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeAlias, TypeVar
from weakref import WeakKeyDictionary

from fastapi import Depends, FastAPI, Request
from sqlalchemy import (
    DateTime,
    Engine,
    Executable,
    MetaData,
    Row,
    Select,
    TypeDecorator,
    event,
)
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool
from starlette.types import Scope

P = ParamSpec("P")
R = TypeVar("R")


# Any SELECT, whatever its columns (SQLAlchemy types a Select by the types of its row).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite alone would hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime}


CONNECT_TIMEOUT = 5
# PostgreSQL's codes for a statement cancelled by statement_timeout, and for a session
# ended for idling inside its transaction.
GAVE_UP = frozenset({"57014", "25P03"})


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or did not answer in time
    (refused, dropped or timed out connections; a statement past its timeout; SQLite busy
    past its timeout), rather than that a statement was wrong."""
    if isinstance(error, ConnectionError | TimeoutError | OperationalError | InterfaceError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    return error.connection_invalidated or getattr(error.orig, "sqlstate", None) in GAVE_UP


def create_engine(url: str, statement_timeout: float | None = None) -> AsyncEngine:
    """An engine on `url`. On PostgreSQL, `statement_timeout` (seconds) bounds every
    statement and every idle moment inside a transaction: a request stuck behind a lock or
    a runaway query gives up (503) instead of holding a connection. SQLite ignores it (its
    writers wait at most 30 s for the write lock)."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A connection the server has
    # dropped fails its one statement instead (a 503), and SQLAlchemy then discards the
    # whole pool, so service resumes by itself after a database restart. A server that
    # does not answer is given up on after CONNECT_TIMEOUT seconds, not asyncpg's 60.
    connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT}
    if statement_timeout:
        milliseconds = str(round(statement_timeout * 1000))
        connect_args["server_settings"] = {
            "statement_timeout": milliseconds,
            "idle_in_transaction_session_timeout": milliseconds,
        }
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_timeout=CONNECT_TIMEOUT,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    # The sqlite3 driver issues BEGIN on its own terms, which breaks SAVEPOINT (and with
    # it the rollback-per-test fixture); SQLite also ignores foreign keys unless asked.
    # WAL lets readers carry on while one writer commits.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writes take the write lock up front (BEGIN IMMEDIATE): SQLite then serialises
        # writers by waiting, instead of failing one that read before it wrote.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    return sessionmaker


def sessionmaker_for(app: FastAPI, scope: Scope) -> async_sessionmaker[AsyncSession]:
    """`get_sessionmaker` for code that runs before routing (ASGI middleware), honouring
    the app's dependency override of it as the routes do."""
    override = app.dependency_overrides.get(get_sessionmaker)
    if override is not None:
        sessionmaker: async_sessionmaker[AsyncSession] = override()
        return sessionmaker
    return scope["state"]["sessionmaker"]


@cache
def _sqlite_reader(database: str) -> Engine:
    """A read-only, synchronous engine on the SQLite file `database`, for this process.

    aiosqlite runs every statement on a thread of its own, and the hand-offs cost about a
    millisecond per request; an indexed read on the event loop's own thread takes tens of
    microseconds. Each statement runs in autocommit and so sees every transaction committed
    before it (WAL: readers never block writers)."""
    return create_sync_engine(
        f"sqlite:///file:{database}?mode=ro&uri=true",
        poolclass=StaticPool,
        connect_args={"timeout": 1},
    )


_autocommit_engines: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def _autocommit(bind: AsyncEngine) -> AsyncEngine:
    """`bind` in autocommit, made once per engine: making it (~25 µs) would otherwise cost
    a fair share of the one read it serves."""
    engine = _autocommit_engines.get(bind)
    if engine is None:
        engine = bind.execution_options(isolation_level="AUTOCOMMIT")
        _autocommit_engines[bind] = engine
    return engine


async def read_rows(
    source: AsyncSession | async_sessionmaker[AsyncSession],
    statement: Executable,
    params: dict[str, Any] | None = None,
) -> Sequence[Row[Any]]:
    """The rows of a read of plain columns (no ORM entities) that needs nothing of a
    session's own transaction, on the cheapest path the database offers: a SQLite file is
    read on the loop's thread (see `_sqlite_reader`); a server in autocommit, with no
    BEGIN and ROLLBACK round trips around the one statement. A session bound to a
    connection (whose transaction may hold rows not yet committed) reads through itself."""
    bind = source.bind if isinstance(source, AsyncSession) else source.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        if bind.dialect.name == "sqlite" and bind.url.database:
            with _sqlite_reader(bind.url.database).connect() as reader:
                return reader.execute(statement, params).all()
        if bind.dialect.name != "sqlite":
            async with _autocommit(bind).connect() as autocommit:
                return (await autocommit.execute(statement, params)).all()
    if not isinstance(source, AsyncSession):
        async with source() as session:
            return await read_rows(session, statement, params)
    connection = await source.connection()
    return (await connection.execute(statement, params)).all()


def dialect_name(session: AsyncSession) -> str:
    """'postgresql' or 'sqlite': which database the session talks to, where the two need
    different SQL."""
    return session.get_bind().dialect.name


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "newsdesk_write"


async def take_write_lock(session: AsyncSession) -> None:
    """Begin `session`'s transaction as a write: on SQLite, BEGIN IMMEDIATE."""
    await session.connection(execution_options={WRITE_OPTION: True})


def commits_on_its_own(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Marks an endpoint that writes in transactions of its own (bulk): its request session
    only reads, so it must not hold the write lock."""
    endpoint.own_transactions = True  # type: ignore[attr-defined]
    return endpoint


def _commits_on_its_own(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return bool(getattr(endpoint, "own_transactions", False))


async def get_session(
    request: Request,
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker.begin() as session:  # commits on success, rolls back on error
        if request.method not in READ_METHODS and not _commits_on_its_own(request):
            await take_write_lock(session)
        yield session


Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]

# scope="function" commits before the response is sent: a failed commit becomes a 500
# instead of a 201 for data that was never stored (the default scope runs after sending).
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
