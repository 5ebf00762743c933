"""How routes take their requests: the auth-first route class (a caller without a key hears
so before anything about their JSON), and the checks on a body's media type (JSON, JSON
Merge Patch, NDJSON) with how a PATCH body is documented."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Body
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from app.errors import UnsupportedMediaType, mark_malformed_json

MERGE_PATCH = "application/merge-patch+json"

T = TypeVar("T")


class _LenientJsonRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
            return mark_malformed_json(self, error)


class AuthFirstRoute(APIRoute):
    """FastAPI rejects a body that is not JSON before it runs any dependency, so a caller
    without a key would learn about their JSON before hearing they need a key. This route
    hands malformed bodies on to validation instead, which runs after the auth checks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_LenientJsonRequest(request.scope, request.receive))

        return route


def media_type_of(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def accepting(
    *media_types: str, patch: bool = False
) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency refusing a body of any other media type (415 naming those taken; for a
    PATCH also in `Accept-Patch`, RFC 5789)."""
    names = " or ".join(media_types)

    async def check(request: Request) -> None:
        media_type = media_type_of(request)
        if media_type not in media_types:
            error = UnsupportedMediaType(
                f"Send the body as {names} (got {media_type or 'no Content-Type'})."
            )
            if patch:
                error.headers = {"Accept-Patch": ", ".join(media_types)}
            raise error

    return check


# Write bodies are JSON; a PATCH is a JSON Merge Patch (RFC 7396), also taken as plain JSON.
# A JSON Patch (RFC 6902, application/json-patch+json) is another language, refused.
require_json = accepting("application/json")
require_merge_patch = accepting(MERGE_PATCH, "application/json", patch=True)


NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq")


async def require_ndjson(request: Request) -> None:
    media_type = media_type_of(request)
    if media_type not in NDJSON_TYPES:
        raise UnsupportedMediaType(
            f"Send one JSON object per line as application/x-ndjson (got {media_type or 'none'})."
        )


# A PATCH body: documented under merge-patch+json alone, as one schema under two media types
# makes generated clients fail (openapi-python-client); `require_json` takes plain JSON too.
MergePatch = Annotated[T, Body(media_type=MERGE_PATCH)]


def merge_patch_body() -> dict[str, Any]:
    """OpenAPI `openapi_extra` for a PATCH whose body is a `MergePatch`."""
    return {
        "requestBody": {
            "description": "A JSON Merge Patch (RFC 7396): members sent replace, `null` "
            "clears, members left out stay as they are. `application/json` is accepted too, "
            "with the same meaning."
        }
    }
