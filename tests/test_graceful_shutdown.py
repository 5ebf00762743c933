"""SIGTERM to `newsdesk serve` (a real server, two workers): the request in flight is
answered and its writes kept, no new connection is served, the webhook send in flight is
finished and recorded, and the server exits 0."""

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import Served, newsdesk, serving
from tests.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.slow  # each test starts a server


@dataclass
class Server:
    served: Served
    key: str
    database: Path

    @property
    def base(self) -> str:
        return self.served.base

    @property
    def process(self) -> subprocess.Popen[str]:
        return self.served.process

    @property
    def log(self) -> Path:
        return self.served.log

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def exit_code(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def rows(self, query: str) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(query).fetchall()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Server]:
    database = tmp_path / "graceful.db"
    url = f"sqlite+aiosqlite:///{database}"
    env = {
        "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
        "NEWSDESK_RATE_LIMIT_PER_KEY": "0",
        "NEWSDESK_WEBHOOKS_ALLOW_PRIVATE": "true",
        "NEWSDESK_WEBHOOK_POLL_SECONDS": "0.05",
    }
    newsdesk(url, "migrate")
    scopes = ["--scope", "content:write", "--scope", "content:publish", "--scope", "admin"]
    created = newsdesk(url, "keys", "create", "--name", "graceful", *scopes)
    key = created.stdout.strip().splitlines()[-1]
    options = ["--workers", "2", "--no-access-log", "--graceful-timeout", "20"]
    with serving(url, *options, log=tmp_path / "serve.log", env=env, ready="/readyz") as served:
        yield Server(served, key, database)


def _story(slug: str) -> bytes:
    article = {
        "slug": slug,
        "headline": f"Story {slug}",
        "body": "The ferry runs again, the port said.",
        "claims": [
            {
                "statement": "The ferry runs again.",
                "attributions": [{"source": {"name": "Port", "kind": "organization"}}],
            }
        ],
    }
    return json.dumps(article).encode() + b"\n"


def _new_connection_is_turned_away(base: str) -> str:
    """How the server answers a new client: "refused" (or reset) is what we want; a
    response means it still serves."""
    try:
        response = httpx.get(f"{base}/healthz", timeout=3)
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return "refused"
    except httpx.TimeoutException:
        return "hung"
    return f"answered {response.status_code}"


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(serve: Server) -> None:
    first_line_sent = threading.Event()
    carry_on = threading.Event()
    outcome: dict[str, httpx.Response | BaseException] = {}

    def body() -> Iterator[bytes]:
        yield _story("in-flight-1")
        first_line_sent.set()
        assert carry_on.wait(30)
        yield _story("in-flight-2")
        time.sleep(0.5)
        yield _story("in-flight-3")

    def upload() -> None:
        try:
            outcome["response"] = httpx.post(
                f"{serve.base}/v1/articles/bulk",
                content=body(),
                headers={
                    "Authorization": f"Bearer {serve.key}",
                    "Content-Type": "application/x-ndjson",
                },
                timeout=60,
            )
        except BaseException as error:  # reported by the assertions below
            outcome["response"] = error

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert first_line_sent.wait(10)
    time.sleep(0.3)  # the worker has the request's head and first line
    serve.terminate()
    time.sleep(1.5)  # the master relays SIGTERM to its workers within half a second
    assert serve.process.poll() is None, "exited with a request in flight"
    turned_away = _new_connection_is_turned_away(serve.base)
    carry_on.set()
    uploader.join(30)

    response = outcome["response"]
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    assert serve.exit_code() == 0, serve.log.read_text()
    slugs = {slug for (slug,) in serve.rows("SELECT slug FROM article")}
    assert slugs == {"in-flight-1", "in-flight-2", "in-flight-3"}
    assert turned_away == "refused", turned_away


def test_sigterm_lets_the_webhook_send_in_flight_finish_and_records_it(serve: Server) -> None:
    headers = {"Authorization": f"Bearer {serve.key}"}
    with Receiver() as receiver:
        receiver.default = Answer(200, delay=2)
        created = httpx.post(
            f"{serve.base}/v1/webhooks",
            json={"url": receiver.url, "events": ["article.published"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        article = httpx.post(
            f"{serve.base}/v1/articles", json=json.loads(_story("hooked")), headers=headers
        ).json()
        published = httpx.post(f"{serve.base}/v1/articles/{article['id']}/publish", headers=headers)
        assert published.status_code == 200, published.text

        # Taken by the dispatcher: its lease pushed the next attempt out past now.
        deadline = time.monotonic() + 10
        while not serve.rows(
            "SELECT 1 FROM webhook_delivery WHERE status = 'pending' AND attempt_count = 0 "
            "AND next_attempt_at > datetime('now')"
        ):
            assert time.monotonic() < deadline, "the delivery was never taken"
            time.sleep(0.02)
        time.sleep(0.5)  # sent by now; the receiver answers 2 s after it arrived
        assert receiver.received == []
        serve.terminate()
        assert serve.exit_code() == 0, serve.log.read_text()

    assert len(receiver.received) == 1 and receiver.received[0].verified
    deliveries = serve.rows("SELECT status, attempt_count FROM webhook_delivery")
    assert deliveries == [("succeeded", 1)], deliveries
    assert serve.rows("SELECT count(*) FROM webhook_outbox") == [(0,)]
    # The dispatcher stopped and let go of its lead.
    assert serve.rows("SELECT count(*) FROM worker_lease") == [(0,)]
