"""The `newsdesk` command, run as a user would (a subprocess with its own environment)."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import click
import httpx
import pytest
import typer
from typer.testing import CliRunner

from app.cli import cli
from tests.databases import BACKENDS, fresh_database
from tests.helpers import ROOT, free_port, newsdesk, serving

pytestmark = pytest.mark.slow  # each test runs the command line


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    url, drop = fresh_database(request.param, tmp_path)
    yield request.param, url
    drop()


def test_keys_create_list_revoke(empty_database: tuple[str, str]) -> None:
    _, url = empty_database
    assert newsdesk(url, "migrate").returncode == 0
    created = newsdesk(
        url,
        "keys",
        "create",
        "--name",
        "cms",
        "--scope",
        "content:write",
        "--scope",
        "content:publish",
        "--rate",
        "30",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("nd_") and " " not in key

    listed = newsdesk(url, "keys", "list")
    assert "cms" in listed.stdout and "content:publish,content:write" in listed.stdout
    assert "30/min" in listed.stdout
    assert key not in listed.stdout
    key_id = listed.stdout.split()[0]

    assert newsdesk(url, "keys", "revoke", key_id).returncode == 0
    assert "revoked" in newsdesk(url, "keys", "list").stdout
    unknown = newsdesk(url, "keys", "revoke", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr


def test_unknown_scope_is_refused(empty_database: tuple[str, str]) -> None:
    _, url = empty_database
    newsdesk(url, "migrate")
    result = newsdesk(url, "keys", "create", "--name", "x", "--scope", "everything")
    assert result.returncode != 0 and "everything" in result.stderr


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs NEWSDESK_TEST_DATABASE_URL")
def test_serve_refuses_an_unmigrated_postgres_database(tmp_path: Path) -> None:
    url, drop = fresh_database("postgresql", tmp_path)
    try:
        result = newsdesk(url, "serve", "--port", "8765")
    finally:
        drop()
    assert result.returncode == 2
    assert "newsdesk migrate" in result.stderr


def test_serve_migrates_sqlite_answers_and_logs_each_request_as_json(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    log = tmp_path / "serve.log"
    with serving(url, log=log) as served:
        ready = httpx.get(
            f"{served.base}/readyz", headers={"X-Request-ID": "cli-check-1"}, timeout=5
        )
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.headers["x-request-id"] == "cli-check-1"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("request_id") == "cli-check-1"]
    assert len(logged) == 1, log.read_text()
    assert logged[0] | {"time": None, "duration_ms": None, "pid": None} == {
        "time": None,
        "level": "INFO",
        "logger": "newsdesk.access",
        "pid": None,
        "message": "request",
        "method": "GET",
        "route": "/readyz",
        "status": 200,
        "duration_ms": None,
        "key": "anonymous",
        "request_id": "cli-check-1",
    }
    assert logged[0]["duration_ms"] >= 0
    assert isinstance(logged[0]["pid"], int)  # the worker's that served it


def test_demo_loads_once(empty_database: tuple[str, str]) -> None:
    _, url = empty_database
    newsdesk(url, "migrate")
    first = newsdesk(url, "demo", "--if-empty")
    assert first.returncode == 0 and "Loaded 5 demo articles" in first.stdout
    again = newsdesk(url, "demo", "--if-empty")
    assert again.returncode == 0 and "not loaded" in again.stdout


# --- a database that is not there, not answering or not migrated ---------------------------

DEFAULT_DATABASE = "sqlite+aiosqlite:///./var/newsdesk.db"
NOBODY = "00000000-0000-0000-0000-000000000000"
DATABASE_COMMANDS = {
    "keys create": (["keys", "create", "--name", "x", "--scope", "content:read"], None),
    "keys list": (["keys", "list"], None),
    "keys revoke": (["keys", "revoke", NOBODY], None),
    "ingest": (["ingest", "-"], "The mayor said the tram would run again, officials said.\n"),
    "purge": (["purge", "--older-than", "30"], None),
    "export": (["export"], None),
    "import": (["import", "-"], ""),
    "demo": (["demo"], None),
    "worker": (["worker"], None),
}


def run_in(
    directory: Path,
    *args: str,
    url: str | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`newsdesk *args` run from `directory`, with NEWSDESK_DATABASE_URL set to `url` (else
    unset: the default) and `env` added."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    if url is not None:
        environment["NEWSDESK_DATABASE_URL"] = url
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        cwd=directory,
        env={**environment, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a command said on stderr before exiting 2."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_outside_the_repository_a_command_says_to_migrate_and_creates_nothing(
    tmp_path: Path, command: str
) -> None:
    args, stdin = DATABASE_COMMANDS[command]

    said = one_line(run_in(tmp_path, *args, stdin=stdin))

    assert DEFAULT_DATABASE in said and "newsdesk migrate" in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["keys list", "ingest", "export", "worker"])
def test_an_unmigrated_database_is_refused_with_one_line(
    empty_database: tuple[str, str], tmp_path: Path, command: str
) -> None:
    _, url = empty_database
    args, stdin = DATABASE_COMMANDS[command]
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite+aiosqlite:///")).touch()  # there, but empty

    said = one_line(run_in(tmp_path, *args, url=url, stdin=stdin))

    assert "newsdesk migrate" in said and "not " in said


def test_an_unreachable_postgres_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://newsdesk:s3cret@127.0.0.1:{free_port()}/newsdesk"

    for command in (("keys", "list"), ("migrate",)):
        said = one_line(run_in(tmp_path, *command, url=url))

        assert f"postgresql+asyncpg://newsdesk:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in said
        assert "cannot be reached" in said and "s3cret" not in said


# --- help and version ----------------------------------------------------------------------


def test_help_names_the_database_setting_and_its_default() -> None:
    result = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "NEWSDESK_DATABASE_URL" in result.output and DEFAULT_DATABASE in result.output


def test_version_comes_from_the_package() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"newsdesk {version('newsdesk')}\n"


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))
        else:
            yield (*path, name)


@pytest.mark.parametrize("columns", ["60", "80"])
def test_no_help_text_is_cut_short(tmp_path: Path, columns: str) -> None:
    for path in every_command(typer.main.get_group(cli)):
        result = run_in(tmp_path, *path, "--help", env={"COLUMNS": columns})
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if not line.startswith("Usage:")]
        assert not [line for line in lines if "…" in line or line.endswith("...")], result.stdout
        assert max(len(line) for line in lines) <= int(columns), result.stdout
        # Each command in a list is described by whole sentences.
        listed = result.stdout.partition("Commands:")[2].strip()
        entries = [" ".join(entry.split()) for entry in re.split(r"\n  (?=\S)", listed) if entry]
        assert all(entry.endswith(".") for entry in entries), entries


# --- start-up cost -------------------------------------------------------------------------

SERVER_STACK = ("uvicorn", "sqlalchemy", "alembic", "fastapi", "starlette")


def modules_loaded_by(code: str) -> list[str]:
    """The modules of the server stack that a fresh interpreter has loaded after `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_STACK})))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_the_command_loads_none_of_the_server_stack() -> None:
    assert modules_loaded_by("import app.cli") == []


def test_post_loads_none_of_the_server_stack(tmp_path: Path) -> None:
    story = tmp_path / "story.ndjson"
    story.write_text('{"headline": "A story"}\n')
    post = [
        "post", str(story), "--api", f"http://127.0.0.1:{free_port()}", "--key", "k",
        "--retries", "0",
    ]  # fmt: skip
    code = f"from app.cli import cli\ntry:\n    cli({post!r})\nexcept SystemExit:\n    pass"
    assert modules_loaded_by(code) == []
