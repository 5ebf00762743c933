"""How `newsdesk serve` runs uvicorn (`run`: its configuration, and one process or several
workers); how it speaks HTTP/1.1: uvicorn's httptools protocol, with the limits it lacks
against slow and oversized requests; and how it supervises several workers.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but would otherwise wait
forever for a request head sent a byte at a time, buffer a head of any size, and wait
forever for a body that stalls. Here a request head (request line and headers) must
arrive within `header_timeout_seconds` (else 408) and be at most `max_header_bytes`
(else 431), and a body must not stall for more than `body_idle_timeout_seconds` (else 408,
or the connection is closed if the response has begun). Only the client's silence counts:
while the app is not reading (flow control, `Expect: 100-continue`) the clock waits."""

import asyncio
from http import HTTPStatus
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from app import problems
from app.errors import PROBLEM_MEDIA_TYPE
from app.settings import get_settings


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_header_bytes = settings.max_header_bytes
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_idle_timeout_seconds
        self._reading_head = False
        self._head_bytes = 0
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Counted before the parser sees them, up to the blank line that ends the head (it
        # may straddle two reads, hence the tail kept from the last one).
        if self._reading_head:
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = seen[-3:]
            if self._head_bytes > self.max_header_bytes:
                self._refuse(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    f"The request line and headers are over {self.max_header_bytes} bytes.",
                )
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()
        self._arm(self.body_timeout, self._body_stalled)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_timeout, self._body_stalled)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _start_head(self) -> None:
        if not self._reading_head:
            self._reading_head = True
            self._head_bytes = 0
            self._tail = b""
            self._arm(self.header_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        if self._head_bytes == 0:
            self.transport.close()  # nothing asked: nobody to answer
            return
        self._refuse(
            HTTPStatus.REQUEST_TIMEOUT,
            f"The request headers did not arrive within {self.header_timeout:g} s.",
        )

    def _body_stalled(self) -> None:
        cycle = self.cycle
        if cycle is None or self.transport.is_closing():
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue:
            self._arm(self.body_timeout, self._body_stalled)  # the app is not reading yet
            return
        if cycle.response_started:
            self.transport.close()
            return
        self._refuse(
            HTTPStatus.REQUEST_TIMEOUT,
            f"The request body stalled for {self.body_timeout:g} s.",
        )

    def _refuse(self, status: HTTPStatus, detail: str) -> None:
        """Answer `status` as problem details and close: the request cannot be read on."""
        self._disarm()
        code = problems.code_for_status(status.value)
        body = orjson.dumps(
            {
                "type": f"{get_settings().public_base_url.rstrip('/')}/problems/{code}",
                "title": status.phrase,
                "status": status.value,
                "detail": detail,
            }
        )
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
        if self.cycle is not None:
            self.cycle.disconnected = True  # the app, if running, stops being answered

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class StopListeningFirst(Multiprocess):
    """uvicorn's supervisor of several workers, except that SIGTERM (or SIGINT) closes its
    listening socket at once: uvicorn's own keeps it open until every worker has drained,
    and new clients meanwhile wait in the backlog, unanswered, instead of being refused."""

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()


def run(*, host: str, port: int, workers: int, access_log: bool, graceful_timeout: int) -> None:
    """Serve the app with uvicorn until SIGTERM: in this process for one worker, else in
    `workers` processes under `StopListeningFirst`. The database must be ready."""
    # Imported here: a worker loads this module for its protocol, and needs neither.
    from app.ops.access_log import log_config
    from app.ops.metrics import metrics_shared_by

    settings = get_settings()
    with metrics_shared_by(workers):
        config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            # Named, not imported: a worker loads it only once it answers health checks.
            http="app.server:LimitedHttpToolsProtocol",
            timeout_keep_alive=settings.keep_alive_seconds,
            timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
            proxy_headers=False,  # the app decides whom to believe: NEWSDESK_TRUSTED_PROXIES
            log_level="info",
            log_config=log_config(access_log),
            access_log=False,  # uvicorn's own plain lines; ours are JSON, with more in them
            timeout_graceful_shutdown=graceful_timeout,
        )
        if workers == 1:
            uvicorn.Server(config).run()
        else:
            StopListeningFirst(config, sockets=[config.bind_socket()]).run()
