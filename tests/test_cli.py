"""The `newsdesk` command, run as a user would (a subprocess with its own environment)."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import BACKENDS, fresh_database
from tests.helpers import newsdesk, serving


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
    assert result.returncode == 1
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
    assert logged[0] | {"time": None, "duration_ms": None} == {
        "time": None,
        "level": "INFO",
        "logger": "newsdesk.access",
        "message": "request",
        "method": "GET",
        "route": "/readyz",
        "status": 200,
        "duration_ms": None,
        "key": "anonymous",
        "request_id": "cli-check-1",
    }
    assert logged[0]["duration_ms"] >= 0


def test_demo_loads_once(empty_database: tuple[str, str]) -> None:
    _, url = empty_database
    newsdesk(url, "migrate")
    first = newsdesk(url, "demo", "--if-empty")
    assert first.returncode == 0 and "Loaded 5 demo articles" in first.stdout
    again = newsdesk(url, "demo", "--if-empty")
    assert again.returncode == 0 and "not loaded" in again.stdout
