"""A real webhook endpoint for tests: an HTTP server on 127.0.0.1 that verifies every
delivery's signature with the `standardwebhooks` library (an implementation independent of
ours) and answers as it is told."""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """Use as a context manager. Set `secret` to the webhook's secret before deliveries
    arrive; queue answers with `answer(...)` (afterwards it answers 200 ok)."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.received: list[Received] = []
        self.default = Answer()
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                answer = receiver._next_answer()
                if answer.delay:
                    time.sleep(answer.delay)
                receiver._record(
                    Received(self.path, headers, body, receiver._verify(body, headers))
                )
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/newsdesk"

    def answer(self, *answers: Answer | int) -> None:
        for answer in answers:
            self._answers.append(Answer(answer) if isinstance(answer, int) else answer)

    def _next_answer(self) -> Answer:
        return self._answers.popleft() if self._answers else self.default

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def message_ids(self) -> set[str]:
        with self._lock:
            return {r.message_id for r in self.received}

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
