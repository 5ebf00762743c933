"""One structured line per request (and its count and latency in the metrics), and a
request id that follows the request.

`RequestLog` is the outermost middleware: it takes the caller's `X-Request-ID` when it is a
sane token (else makes one), echoes it on the response, and logs method, route template,
status, duration, the API key's name and the request id as one JSON object to the
`newsdesk.access` logger. `newsdesk serve` sends that logger to stderr as JSON lines.
"""

import logging
import re
import time
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics

logger = logging.getLogger("newsdesk.access")

REQUEST_ID_HEADER = b"x-request-id"
# Printable, header-safe and short: anything else is replaced, not echoed into logs.
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
UNROUTED = "unmatched"


def request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and SANE_REQUEST_ID.fullmatch(value):
            return value.decode()
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/articles/{article}`), so that log lines and
    their counts group by endpoint, not by every id and slug."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    return str(scope.get("state", {}).get("route_template", UNROUTED))


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route = route_template(scope)
            metrics.observe(scope["method"], route, status, seconds)
            if logger.isEnabledFor(logging.INFO):
                logger.info("request", extra=fields(scope, route, status, seconds, rid))


def fields(scope: Scope, route: str, status: int, seconds: float, rid: str) -> dict[str, Any]:
    state = scope.get("state", {})
    return {
        "method": scope["method"],
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "key": state.get("key_name", "anonymous"),
        "request_id": rid,
    }


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's `log_config`: its own lines as before, and ours as JSON lines on stderr
    (`access_log=False` silences ours; uvicorn's plain access lines are always off, ours
    replace them)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": JsonFormatter,
                # The worker's pid: with several workers, which one served the request.
                "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "process": "pid",
                },
            },
            "plain": {"format": "%(levelname)s:     %(message)s"},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json"},
            "plain": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["plain"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "newsdesk": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "newsdesk.access": {
                "handlers": ["json"],
                "level": "INFO" if access_log else "WARNING",
                "propagate": False,
            },
        },
    }
