"""`newsdesk serve` against slow and oversized requests (app/server.py), over real sockets."""

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import article_data
from tests.helpers import Served, newsdesk, serving

pytestmark = pytest.mark.slow  # the tests share a running server

LIMITS = {
    "NEWSDESK_MAX_HEADER_BYTES": "4096",
    "NEWSDESK_HEADER_TIMEOUT_SECONDS": "1",
    "NEWSDESK_BODY_IDLE_TIMEOUT_SECONDS": "1",
}


@dataclass
class Server:
    served: Served
    key: str  # with content:write

    def exchange(self, *parts: bytes, pause: float = 0) -> tuple[bytes, float]:
        """Send `parts` on a new connection (`pause` seconds apart); what came back before
        the server closed it, and how long that took."""
        began = time.monotonic()
        received = b""
        address = urlsplit(self.served.base)
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            try:
                for index, part in enumerate(parts):
                    if index and pause:
                        time.sleep(pause)
                    sock.sendall(part)
                while chunk := sock.recv(65536):
                    received += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass  # the server hung up while we were still talking
        return received, time.monotonic() - began


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A served SQLite database with tight limits."""
    directory = tmp_path_factory.mktemp("served")
    url = f"sqlite+aiosqlite:///{directory / 'served.db'}"
    newsdesk(url, "migrate")
    created = newsdesk(url, "keys", "create", "--name", "w", "--scope", "content:write")
    key = created.stdout.strip().splitlines()[-1]
    with serving(url, "--workers", "1", log=directory / "serve.log", env=LIMITS) as served:
        yield Server(served, key)


def status_and_problem(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), response
    return int(head.split()[1]), json.loads(body)


def get(extra_header: bytes = b"") -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + extra_header + b"Connection: close\r\n\r\n"


def test_a_head_within_the_limit_is_served(server):
    response, _ = server.exchange(get(b"X-Padding: " + b"a" * 3900 + b"\r\n"))
    assert response.startswith(b"HTTP/1.1 200 ")


def test_a_head_over_the_limit_is_431(server):
    status, problem = status_and_problem(
        server.exchange(get(b"X-Padding: " + b"a" * 5000 + b"\r\n"))[0]
    )
    assert status == 431 and "4096 bytes" in problem["detail"]


def test_a_huge_head_is_cut_off_without_buffering_it(server):
    response, _ = server.exchange(get(b"X-Padding: " + b"a" * 20_000_000 + b"\r\n"))
    assert response == b"" or response.startswith(b"HTTP/1.1 431 ")
    assert server.exchange(get())[0].startswith(b"HTTP/1.1 200 ")  # and goes on serving


def test_a_head_trickling_in_is_408_after_the_timeout(server):
    response, took = server.exchange(b"GET /healthz HTTP/1.1\r\n", b"Host: t\r\n", pause=0.3)
    status, problem = status_and_problem(response)
    assert status == 408 and "headers" in problem["detail"]
    assert 0.9 <= took < 5


def test_a_silent_connection_is_closed(server):
    response, took = server.exchange(b"")
    assert response == b"" and 0.9 <= took < 5


def test_a_stalled_body_is_408_and_stores_nothing(server):
    body = json.dumps(article_data()).encode()
    head = (
        f"POST /v1/articles HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {server.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    response, took = server.exchange(head + body[:100])
    status, problem = status_and_problem(response)
    assert status == 408 and "body" in problem["detail"] and 0.9 <= took < 5
    time.sleep(0.2)  # the app sees the disconnect and rolls back
    listed = httpx.get(
        f"{server.served.base}/v1/articles?status=all",
        headers={"Authorization": f"Bearer {server.key}"},
    )
    assert listed.json()["data"] == []
    assert "Traceback" not in server.served.log.read_text()


def test_a_slow_but_steady_body_is_read_whole(server):
    body = json.dumps(article_data()).encode()
    head = (
        f"POST /v1/articles HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {server.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    thirds = [body[: len(body) // 3], body[len(body) // 3 : 2 * len(body) // 3]]
    # Three pauses of 0.6 s: longer than the 1 s idle timeout in all, never idle that long.
    response, took = server.exchange(head, *thirds, body[2 * len(body) // 3 :], pause=0.6)
    assert response.startswith(b"HTTP/1.1 201 "), response[:300]
    assert took >= 1.8
