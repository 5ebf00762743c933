"""Domain errors carry their HTTP status; one set of handlers renders every error as RFC 9457
problem details (`application/problem+json`), including the framework's own 404/405/422."""

import json
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app import problems
from app.db import is_database_unavailable

logger = logging.getLogger("newsdesk")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Set by `app.middleware.HeadAsGet` in the scope of a GET that answers a HEAD request.
HEAD_REQUEST = "newsdesk.head"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    """Base of every error the API answers on purpose; `code` names its problem type."""

    status_code = 400
    code = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="newsdesk"'}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not-found"


class Gone(AppError):
    status_code = 410
    code = "gone"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition-failed"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload-too-large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported-media-type"


class Invalid(AppError):
    """A request that is well-formed but breaks a rule; `loc` points at the offending input."""

    status_code = 422
    code = "validation-error"

    def __init__(
        self, detail: str, loc: Sequence[str | int], error_type: str = "value_error"
    ) -> None:
        super().__init__(detail)
        self.errors = [FieldError(loc=list(loc), msg=detail, type=error_type)]

    @classmethod
    def first_of(
        cls, error: ValidationError, within: Sequence[str | int] = ("body",), detail: str = "{}"
    ) -> "Invalid":
        """The first error of input validated by hand (not by FastAPI), at `within` and the
        error's own place, as FastAPI names the fields it validates; `detail` says it."""
        first = error.errors()[0]
        loc = [*within, *[str(part) for part in first["loc"]]]
        return cls(detail.format(field_message(first)), loc, first["type"])


def problem_type(request: Request | None, code: str) -> str:
    """The `type` URI of the problem `code`: a page explaining it (see app/problems.py)."""
    if code not in problems.TYPES:
        raise ValueError(f"{code!r} is not a problem type of app/problems.py")
    base = request.app.state.settings.public_base_url.rstrip("/") if request else ""
    return f"{base}/problems/{code}"


def problem_response(
    status: int,
    *,
    type_: str = "about:blank",
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    members: dict[str, Any] | None = None,
) -> Response:
    """A problem details response; `members` are the problem type's extension members."""
    body: dict[str, Any] = {"type": type_, "title": HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = [error.model_dump() for error in errors]
    if members:
        body.update(members)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def problem_details(description: str) -> dict[str, Any]:
    """An OpenAPI response that is problem details: under `application/problem+json` only,
    the media type sent (a `model` would also list it under the route's application/json).
    app/openapi.py publishes the schema."""
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors an endpoint can raise."""
    return {
        error.status_code: problem_details(HTTPStatus(error.status_code).phrase) for error in errors
    }


# Every route documents that its client errors are problem details; this also replaces
# FastAPI's default 422 schema, which does not describe what we send.
ANY_CLIENT_ERROR: dict[int | str, dict[str, Any]] = {
    "4XX": problem_details("RFC 9457 problem details naming what was wrong."),
    503: problem_details(
        "The database cannot be reached or did not answer in time; nothing was changed. "
        "See Retry-After."
    ),
}


# A body that is not JSON is judged after the route's dependencies (who may call), so the
# parser hands validation this marker instead of failing and keeps what broke on the request.
# The marker is a plain string because no JSON-body model takes one: pydantic reads the
# fields of any other object as attributes, so an all-optional model (a merge patch, a
# publish request) would take it as an empty body and a truncated write would go through.
MALFORMED_JSON = "(not JSON)"
_MALFORMED_JSON_STATE = "malformed_json"


def mark_malformed_json(request: Request, error: ValueError) -> str:
    """Note on the request why its body is not JSON; the marker to validate instead."""
    if isinstance(error, json.JSONDecodeError):
        why = f"{error.msg.lower()} at line {error.lineno}, column {error.colno}"
    else:
        why = "it is not UTF-8 text"
    setattr(request.state, _MALFORMED_JSON_STATE, f"The body is not valid JSON: {why}.")
    return MALFORMED_JSON


# Pydantic names the model class in these messages; clients know no such names.
_OBJECT_EXPECTED = {"model_type", "model_attributes_type", "dataclass_type"}


def field_message(error: Mapping[str, Any]) -> str:
    """A validation error's message, in the API's terms rather than the code's."""
    if error.get("type") in _OBJECT_EXPECTED:
        return "Input should be a JSON object"
    return str(error.get("msg", ""))


def _field_errors(request: Request, exc: RequestValidationError) -> list[FieldError]:
    broken = getattr(request.state, _MALFORMED_JSON_STATE, None)
    if broken:
        return [FieldError(loc=["body"], msg=broken, type="json_invalid")]
    found = []
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
        found.append(FieldError(loc=loc, msg=field_message(error), type=str(error["type"])))
    return found


async def _render_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    headers = exc.headers
    if isinstance(exc, Gone):
        headers = {**(headers or {}), "Cache-Control": _gone_cache_control(request)}
    return problem_response(
        exc.status_code,
        type_=problem_type(request, exc.code),
        detail=exc.detail,
        errors=getattr(exc, "errors", None),
        headers=headers,
    )


def _gone_cache_control(request: Request) -> str:
    """A deletion stays a deletion: caches may keep a public 410 as long as any public read
    (a purge of the article makes it a 404 later, hence not for ever)."""
    settings = request.app.state.settings
    if "authorization" in request.headers or not settings.public_read:
        return "private, no-store"
    return f"public, max-age={settings.cache_max_age}"


async def _render_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(request, exc)
    summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
    return problem_response(
        422, type_=problem_type(request, "validation-error"), detail=summary, errors=errors
    )


def _default_detail(request: Request, exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return f"There is nothing at {request.url.path}."
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        method = "HEAD" if request.scope.get(HEAD_REQUEST) else request.method
        return f"{method} is not allowed on {request.url.path}; use {allowed}."
    return HTTPStatus(exc.status_code).description


async def _render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    allowed = (exc.headers or {}).get("Allow")
    if allowed is not None and "GET" in allowed.split(", ") and "HEAD" not in allowed:
        exc.headers = {**(exc.headers or {}), "Allow": f"{allowed}, HEAD"}  # see HeadAsGet
    detail = exc.detail
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = _default_detail(request, exc)
    return problem_response(
        exc.status_code,
        type_=problem_type(request, problems.code_for_status(exc.status_code)),
        detail=detail,
        headers=exc.headers,
    )


# How long a client should wait before trying again when the database is out of reach.
DATABASE_RETRY_AFTER = 5


async def _render_database_error(request: Request, exc: Exception) -> Response:
    """503 while the database is out of reach (the request's transaction, if any, never
    committed); any other database error is a bug, a 500."""
    if not is_database_unavailable(exc):
        return await _render_unexpected(request, exc)
    logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        503,
        type_=problem_type(request, "database-unavailable"),
        detail=(
            "The database cannot be reached or did not answer in time; nothing was changed. "
            "Try again shortly."
        ),
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


async def _render_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        type_=problem_type(request, "server-error"),
        detail="The server failed to answer this request.",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _render_app_error)
    app.add_exception_handler(RequestValidationError, _render_validation_error)
    app.add_exception_handler(StarletteHTTPException, _render_http_error)
    for database_error in (DBAPIError, ConnectionError, TimeoutError):
        app.add_exception_handler(database_error, _render_database_error)
    app.add_exception_handler(Exception, _render_unexpected)
