"""The databases: a fresh SQLite file or PostgreSQL database (one per size in scale mode),
and `Newsdesk`, a migrated database with the corpus loaded and how to serve it."""

import asyncio
import contextlib
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.common import CORPUS_MODULE, VAR, BenchError, log
from bench.processes import Tools, background, free_port, run_command, shell_line


@dataclass(frozen=True)
class Database:
    url: str
    version: str


def fresh_sqlite(path: Path = VAR / "newsdesk-bench.db") -> Database:
    """An empty SQLite database at `path` (the file and its WAL removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Database(f"sqlite+aiosqlite:///{path}", sqlite3.sqlite_version)


def _on_server(url: str, work: Callable[[Any, str], Any]) -> Any:
    """`work(connection, quoted database name)` on a connection to the server of `url`
    (its `postgres` database)."""
    target = make_url(url)
    if not target.database:
        raise BenchError(f"{url} names no database")
    admin = target.set(drivername="postgresql", database="postgres")
    name = '"' + target.database.replace('"', '""') + '"'

    async def run() -> Any:
        connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            return await work(connection, name)
        finally:
            await connection.close()

    try:
        return asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"PostgreSQL at {admin.render_as_string()}: {error}") from error


async def _version(connection: Any) -> str:
    return str(await connection.fetchval("SHOW server_version")).split()[0]


def fresh_postgres(url: str) -> Database:
    """Drop and create the database of `url`."""

    async def recreate(connection: Any, name: str) -> str:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
        return await _version(connection)

    return Database(url, _on_server(url, recreate))


def existing_postgres(url: str) -> Database:
    async def version(connection: Any, name: str) -> str:
        return await _version(connection)

    return Database(url, _on_server(url, version))


def sized_url(url: str, size: int) -> str:
    """Scale mode keeps a database per size (`newsdesk_bench_100000`, …), so that `--reuse`
    can skip loading every one of them again."""
    target = make_url(url)
    return target.set(database=f"{target.database}_{size}").render_as_string(hide_password=False)


def corpus_size(url: str) -> int | None:
    """How many articles the database of `url` holds; None if it does not exist or has no
    article table."""

    async def count() -> int | None:
        try:
            connection = await asyncpg.connect(
                make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            )
        except asyncpg.InvalidCatalogNameError:
            return None
        try:
            return int(await connection.fetchval("SELECT count(*) FROM article"))
        except asyncpg.UndefinedTableError:
            return None
        finally:
            await connection.close()

    return asyncio.run(count())


@dataclass
class Newsdesk:
    """A migrated database with the corpus loaded, and how to serve it."""

    tools: Tools
    database: Database
    load_seconds: float
    commands: list[str]

    @property
    def env(self) -> dict[str, str]:
        return {"NEWSDESK_DATABASE_URL": self.database.url}

    @classmethod
    def prepare(cls, tools: Tools, database: Database, articles: int | None) -> "Newsdesk":
        """Migrate the database and load `articles` (None: it holds them already)."""
        commands: list[str] = []
        env = {"NEWSDESK_DATABASE_URL": database.url}
        log(f"migrating {database.url}")
        run_command([tools.newsdesk, "migrate"], env, commands)
        if articles is None:
            return cls(tools, database, 0.0, commands)
        log(f"loading {articles:,} articles")
        began = time.monotonic()
        corpus = [sys.executable, "-m", CORPUS_MODULE, "--database-url", database.url]
        run_command([*corpus, "--count", str(articles), "--seed", "1"], None, commands)
        load_seconds = time.monotonic() - began
        log(f"loaded in {load_seconds:.0f} s")
        return cls(tools, database, load_seconds, commands)

    def create_key(self) -> str:
        command = [self.tools.newsdesk, "keys", "create", "--name", "bench"]
        # content:publish too: the article the reads load is given a featured image.
        scopes = ["--scope", "content:write", "--scope", "content:publish"]
        output = run_command([*command, *scopes], self.env, self.commands)
        return output.strip().splitlines()[-1].strip()

    @contextlib.contextmanager
    def serve(self, workers: int) -> Iterator[str]:
        """The base URL of `newsdesk serve` on a free port, for the with-block."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [self.tools.newsdesk, "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers), "--no-access-log"]
        env = {
            **self.env,
            "NEWSDESK_PUBLIC_BASE_URL": base,
            "NEWSDESK_PUBLIC_READ": "true",
            # The load comes from one address and one key: the bench measures the server,
            # not its rate limiter (make bench-ratelimit does that).
            "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
            "NEWSDESK_RATE_LIMIT_PER_KEY": "0",
            "NEWSDESK_MEDIA_STORE_URL": (VAR / "media").resolve().as_uri(),
        }
        self.commands.append(shell_line(command, env) + " &")
        VAR.mkdir(parents=True, exist_ok=True)
        with background(command, VAR / "serve.log", f"{base}/healthz", env):
            yield base
