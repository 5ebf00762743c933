"""The `newsdesk` command: serve, migrate, manage API keys and load demo content.

Each command imports what it needs as it runs: `newsdesk --help` and `newsdesk post` start
without loading the server stack, and so does every worker of `newsdesk serve` (a worker
process imports this module again before it answers its supervisor's health checks)."""

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import click
import typer

from app import defaults
from app.auth.scopes import Scope

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from app.auth.models import ApiKey

HELP = f"""Newsdesk: news articles and their sourced claims.

The commands that keep data work on the database that NEWSDESK_DATABASE_URL names (default:
{defaults.DATABASE_URL}, relative to the directory the command runs in). Create it, or
bring it up to date, with `newsdesk migrate`. `newsdesk post` works over HTTP instead."""

# Plain help (click's): it wraps to the terminal's width, where rich's tables cut option
# names and help short with "…" on a narrow one.
cli = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)
keys = typer.Typer(
    help="Create, list and revoke API keys.", no_args_is_help=True, rich_markup_mode=None
)
cli.add_typer(keys, name="keys")

T = TypeVar("T")
# Several workers by default: one process per core serves reads without a GIL between them.
DEFAULT_WORKERS = os.cpu_count() or 1


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"newsdesk {version('newsdesk')}")
        raise typer.Exit()


@cli.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def _require_database() -> None:
    """Exit 2 with one line on stderr, saying which database and what to do, unless the
    configured database is there, answers and is migrated."""
    from app.ops import service as ops
    from app.settings import get_settings

    problem = ops.database_problem(get_settings().database_url)
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(code=2)


def _engine(statement_timeout: float | None = None) -> "AsyncEngine":
    """An engine on the configured database, with every model mapped: a command's queries
    may reach any of them through relationships."""
    from app import models  # noqa: F401
    from app.db import create_engine
    from app.settings import get_settings

    return create_engine(get_settings().database_url, statement_timeout)


def _run(work: "Callable[[AsyncSession], Awaitable[T]]") -> T:
    """Run `work` in one transaction against the configured database."""
    import asyncio

    from sqlalchemy.ext.asyncio import async_sessionmaker

    async def main() -> T:
        engine = _engine()
        try:
            async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _migrate() -> str:
    """Bring the configured database's schema up to head; the head."""
    from alembic import command

    from app.ops import service as ops
    from app.settings import get_settings

    command.upgrade(ops.alembic_config(get_settings().database_url), "head")
    return ops.head()


@cli.command(short_help="Create the database, or bring its schema up to date.")
def migrate() -> None:
    """Create the database, or bring its schema up to date (alembic upgrade head)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.ops import service as ops
    from app.settings import get_settings

    try:
        head = _migrate()
    except (SQLAlchemyError, OSError) as error:
        typer.echo(ops.unreachable(get_settings().database_url, error), err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"Database migrated to {head}.")


@cli.command(short_help="Serve the API.")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (default: one per CPU core).")
    ] = DEFAULT_WORKERS,
    access_log: Annotated[
        bool, typer.Option(help="Log one JSON line per request (see app/ops/access_log.py).")
    ] = True,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            min=0,
            help="On SIGTERM, seconds to let requests in flight finish before cancelling "
            "them (the webhook sends in flight finish after, within their own timeout).",
        ),
    ] = 30,
) -> None:
    """Serve the API. SQLite databases are migrated first; PostgreSQL must already be.
    SIGTERM stops taking connections and exits once the requests in flight are done."""
    from app import server
    from app.settings import get_settings

    if get_settings().database_url.startswith("sqlite"):
        _migrate()
    else:
        _require_database()
    server.run(
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        graceful_timeout=graceful_timeout,
    )


@cli.command(short_help="Run the webhook dispatcher on its own.")
def worker() -> None:
    """Run the webhook dispatcher on its own (with NEWSDESK_WEBHOOKS_DISPATCHER=false for
    `serve`, or beside it: one dispatcher leads at a time). Stops cleanly on SIGTERM/SIGINT,
    after the sends in flight."""
    import asyncio
    import signal as signal_module

    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.settings import get_settings
    from app.webhooks.dispatcher import Dispatcher

    _require_database()

    async def main() -> None:
        settings = get_settings()
        engine = _engine(settings.statement_timeout_seconds)
        dispatcher = Dispatcher(async_sessionmaker(engine, expire_on_commit=False), settings)
        loop = asyncio.get_running_loop()
        for signal in (signal_module.SIGTERM, signal_module.SIGINT):
            loop.add_signal_handler(signal, dispatcher.stop)
        typer.echo(f"Webhook dispatcher {dispatcher.holder} running.")
        try:
            await dispatcher.run()
        finally:
            await engine.dispose()
        typer.echo("Webhook dispatcher stopped.")

    asyncio.run(main())


@cli.command(short_help="Load the demo stories.")
def demo(
    if_empty: Annotated[bool, typer.Option(help="Only when there are no articles yet.")] = False,
) -> None:
    """Load the demo stories (published, with their claims, sources and illustrations)."""
    from app import demo as demo_content
    from app.media.storage import media_store
    from app.settings import get_settings

    _require_database()
    store = media_store(get_settings())
    loaded = _run(lambda session: demo_content.load(session, store, only_if_empty=if_empty))
    typer.echo(
        f"Loaded {loaded} demo articles."
        if loaded
        else "Demo content not loaded: the database already has articles."
    )


@cli.command(short_help="Make a draft article from a raw story page.")
def ingest(
    file: Annotated[
        typer.FileText,
        typer.Argument(metavar="FILE", encoding="utf-8", help="The raw page; - reads stdin."),
    ],
    html: Annotated[bool, typer.Option(help="The page is HTML (the default for .html).")] = False,
    publish: Annotated[bool, typer.Option(help="Publish the article at once.")] = False,
    section: Annotated[str | None, typer.Option(help="The article's section.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for several.")] = None,
) -> None:
    """Turn a raw story page into a draft article with its attributed claims, in the local
    database, and say what was found."""
    from app.errors import AppError
    from app.ingest import service as ingesting

    _require_database()
    try:
        content = file.read()
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{file.name} is not UTF-8 text") from None
    as_html = html or file.name.endswith((".html", ".htm"))
    raw = ingesting.Raw(content, html=as_html, section=section, tags=tag or [])
    try:
        draft = ingesting.draft(raw)
    except AppError as error:
        typer.echo(f"Not ingested: {error.detail}", err=True)
        raise typer.Exit(code=1) from None
    article = _run(
        lambda session: ingesting.store(session, draft, "newsdesk ingest", publish=publish)
    )
    cited = [a.source.name for c in draft.claims for a in c.attributions]  # type: ignore[union-attr]
    attributed = sum(bool(c.attributions) for c in draft.claims)
    typer.echo(f"{article.status.value.capitalize()} {article.slug} ({article.id}).")
    typer.echo(
        f"{len(draft.claims)} claims, {attributed} attributed; "
        f"sources: {', '.join(dict.fromkeys(cited)) or 'none'}."
    )


@cli.command(short_help="Remove deleted articles for good.")
def purge(
    older_than: Annotated[
        int, typer.Option(min=0, help="Remove articles deleted more than this many days ago.")
    ],
) -> None:
    """Physically remove deleted articles, with their claims and history (admin only: this
    is the one operation that loses data); then the files in the media store that no medium
    refers to any more (those of deleted media, written over an hour ago)."""
    from datetime import timedelta

    from app.articles import workflow
    from app.media import service as media
    from app.media.storage import media_store
    from app.settings import get_settings

    _require_database()
    removed = _run(lambda session: workflow.purge(session, timedelta(days=older_than)))
    store = media_store(get_settings())
    swept = _run(lambda session: media.sweep(session, store))
    typer.echo(
        f"Purged {removed} deleted article{'s' if removed != 1 else ''} "
        f"and {swept} unused media file{'s' if swept != 1 else ''}."
    )


@cli.command("export", short_help="Write every article as NDJSON: a backup.")
def export_archive(
    out: Annotated[
        typer.FileBinaryWrite | None,
        typer.Option(metavar="FILE", help="Write to this file instead of stdout."),
    ] = None,
    media: Annotated[
        str,
        typer.Option(
            help="`bytes`: each uploaded image's file goes in the export; `keys`: only its "
            "key, for an import beside the same media store (a shared bucket).",
            click_type=click.Choice(["bytes", "keys"]),
        ),
    ] = "bytes",
) -> None:
    """Write every medium, then every article (deleted ones too) with its claims, sources
    and revisions, as NDJSON: the logical backup that `newsdesk import` restores."""
    import sys

    from app.archive.export import export_articles
    from app.media.storage import media_store
    from app.settings import get_settings

    _require_database()
    store = media_store(get_settings())
    exported = _run(
        lambda session: export_articles(
            session, out or sys.stdout.buffer, store, media_bytes=media == "bytes"
        )
    )
    typer.echo(f"Exported {exported} article{'s' if exported != 1 else ''}.", err=True)


@cli.command("import", short_help="Load a `newsdesk export` file into an empty database.")
def import_archive(
    file: Annotated[
        typer.FileBinaryRead, typer.Argument(metavar="FILE", help="An export; - reads stdin.")
    ],
) -> None:
    """Load a `newsdesk export` file into an empty database: all of it, or nothing. Its
    images go into the configured media store, their renditions made again."""
    from app.archive.importer import ImportRefused, import_articles
    from app.media.storage import media_store
    from app.settings import get_settings

    _require_database()
    settings = get_settings()
    store = media_store(settings)
    try:
        imported = _run(
            lambda session: import_articles(session, file, store, settings.media_max_pixels)
        )
    except ImportRefused as error:
        typer.echo(f"Nothing imported. {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Imported {imported} article{'s' if imported != 1 else ''}.")


@keys.command("create", short_help="Create a key, shown once.")
def create_key(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    scope: Annotated[list[Scope], typer.Option(help="Repeat for several scopes.")],
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate",
            "--rate-limit",
            min=1,
            help="Requests per minute (default: NEWSDESK_RATE_LIMIT_PER_KEY).",
        ),
    ] = None,
) -> None:
    """Create a key. The key itself is printed once, alone on the last line."""
    from app.auth import service as keys_service

    _require_database()
    key, secret = _run(lambda session: keys_service.create(session, name, scope, rate_limit))
    typer.echo(f"Created key {key.id} ({key.name}) with scopes {', '.join(key.scopes)}.")
    typer.echo(secret)


@keys.command("list", short_help="List keys (never the keys themselves).")
def list_keys() -> None:
    """List keys (never the keys themselves)."""
    from app.auth import service as keys_service

    async def all_keys(session: "AsyncSession") -> "list[ApiKey]":
        found, cursor = await keys_service.list_keys(session, 100, None)
        while cursor:
            more, cursor = await keys_service.list_keys(session, 100, cursor)
            found += more
        return found

    _require_database()
    for key in _run(all_keys):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        rate = f"{key.rate_limit}/min" if key.rate_limit else "default rate"
        scopes = ",".join(key.scopes)
        typer.echo(f"{key.id}  {key.prefix}…  {key.name:<20} {scopes:<40} {rate:<14} {state}")


@keys.command("revoke", short_help="Revoke a key by id.")
def revoke_key(key_id: str) -> None:
    """Revoke a key by id."""
    import uuid

    from app.auth import service as keys_service

    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        raise typer.BadParameter(f"{key_id!r} is not a key id") from None
    _require_database()
    try:
        _run(lambda session: keys_service.revoke(session, parsed))
    except keys_service.KeyNotFound as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Revoked key {parsed}.")


@cli.command(short_help="Create stories on a remote Newsdesk over HTTP.")
def post(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A .json file (an article, or an array of them), a .ndjson file (one article "
            "a line), or - for standard input. Each article is a POST /v1/articles body.",
        ),
    ],
    api: Annotated[str, typer.Option(help="The API's base URL, e.g. http://127.0.0.1:8000.")],
    key: Annotated[
        str | None,
        typer.Option(
            envvar="NEWSDESK_API_KEY",
            help="API key with content:write (and content:publish for --publish).",
        ),
    ] = None,
    format: Annotated[
        str | None, typer.Option(help="json or ndjson: what FILE holds (stdin: ndjson).")
    ] = None,
    publish: Annotated[bool, typer.Option(help="Publish each story once created.")] = False,
    retries: Annotated[int, typer.Option(min=0, help="Retries of a transient failure.")] = 5,
    backoff: Annotated[
        float,
        typer.Option(
            min=0,
            envvar="NEWSDESK_POST_BACKOFF",
            help="Seconds before the first retry; doubled each time, with jitter.",
        ),
    ] = 0.5,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
) -> None:
    """Create the stories in FILE on a remote Newsdesk over HTTP. Safe to run again: each
    story's Idempotency-Key comes from its content, so what an earlier run with the same key
    created (while the server keeps its keys, 24 h by default) is reported as already there
    and not written twice. Exit 0 if every story succeeded, 1 if any failed, 2 for a usage
    error."""
    from app.client import post as posting

    def usage_error(message: str) -> typer.Exit:
        typer.echo(message, err=True)
        return typer.Exit(code=2)

    if not key:
        raise usage_error("Give the API key with --key or NEWSDESK_API_KEY.")
    if not api.startswith(("http://", "https://")):
        raise usage_error(f"--api must be an http(s) URL, not {api!r}.")
    try:
        stories = posting.read(file, format)
    except posting.InputError as error:
        raise usage_error(f"Cannot post {file}: {error}.") from None
    client = posting.Client(api, key, retries=retries, backoff=backoff, timeout=timeout)
    try:
        results = posting.post_all(client, stories, publish=publish)
    except posting.Unreachable as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    finally:
        client.close()
    for line in posting.summary(results):
        typer.echo(line)
    if any(result.error for result in results):
        raise typer.Exit(code=1)


@cli.command(short_help="Print the OpenAPI document the app serves.")
def openapi() -> None:
    """Print the OpenAPI document the app serves (the committed contract)."""
    import json

    from app.main import create_app

    typer.echo(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
