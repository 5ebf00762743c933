"""The OpenAPI document: what FastAPI derives from the routes, completed with what it cannot
see in them. Who may call each operation comes from the route's auth dependencies, the
`If-None-Match` validator from the read helpers (app/http.py), and the meaning of a path
parameter from its name, which means the same thing on every route."""

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from app.auth.dependencies import current_caller, require_scope
from app.auth.scopes import Scope
from app.auth.service import KEY_PREFIX
from app.errors import FieldError, Problem

SECURITY_SCHEME = "bearer"
BEARER: dict[str, Any] = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": f"{KEY_PREFIX}…",
    "description": f"An API key (`{KEY_PREFIX}…`), sent as `Authorization: Bearer <key>`. "
    "Admins create keys with `POST /v1/keys` or `newsdesk keys create`.",
}

# GETs whose answers carry no ETag (so `If-None-Match` means nothing to them), by route name.
WITHOUT_VALIDATORS = frozenset({"metrics_exposition"})

IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "ETags of copies you already hold (comma-separated, or `*`). If one of them "
    "is current the answer is 304 Not Modified, without a body.",
}
NOT_MODIFIED: dict[str, Any] = {
    "description": "Not Modified: the copy named in `If-None-Match` is current.",
    "headers": {"ETag": {"description": "The current ETag.", "schema": {"type": "string"}}},
}

ARTICLE = "The article's id (a UUID) or its slug."
# Path parameters by name: what they are, and the format of the value in the path.
PATH_PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "article": (ARTICLE, {"type": "string", "minLength": 1}),
    "claim_id": ("The claim's id.", {"type": "string", "format": "uuid"}),
    "source_id": ("The source's id.", {"type": "string", "format": "uuid"}),
    "author": ("The author's id (a UUID) or their slug.", {"type": "string", "minLength": 1}),
    "author_id": ("The author's id.", {"type": "string", "format": "uuid"}),
    "slug": (
        "The section's slug, as articles' `section` holds it.",
        {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 64},
    ),
    "webhook_id": ("The webhook's id.", {"type": "string", "format": "uuid"}),
    "key_id": ("The API key's id (not the key itself).", {"type": "string", "format": "uuid"}),
    "medium_id": ("The medium's id.", {"type": "string", "format": "uuid"}),
    "name": (
        "The rendition's name, as the medium's `renditions` give it (`640.webp`).",
        {"type": "string", "pattern": r"^[0-9a-z-]+\.(jpg|webp)$"},
    ),
}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def required_scopes(route: Any) -> set[Scope] | None:
    """The scopes a route's dependencies ask for; None if it does not look at the caller."""
    checks = {require_scope(scope): scope for scope in Scope}
    calls = [dependant.call for dependant in _dependants(route.dependant)]
    scopes = {checks[call] for call in calls if call in checks}
    if not scopes and current_caller not in calls:
        return None
    return scopes


def _security(operation: dict[str, Any], scopes: set[Scope], public_read: bool) -> None:
    needed = sorted(scope.value for scope in scopes - {Scope.read})
    if not needed:
        anonymous: list[dict[str, list[str]]] = [{}] if public_read else []
        operation["security"] = [{SECURITY_SCHEME: []}, *anonymous]
        return
    operation["security"] = [{SECURITY_SCHEME: []}]
    named = " and ".join(f"`{scope}`" for scope in needed)
    plural = "s" if len(needed) > 1 else ""
    note = f"Needs an API key with the {named} scope{plural}."
    described = operation.get("description", "").rstrip()
    operation["description"] = f"{described}\n\n{note}" if described else note


def _describe_path_parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        known = PATH_PARAMETERS.get(parameter["name"])
        if parameter["in"] != "path" or known is None:
            continue
        description, schema = known
        parameter.setdefault("description", description)
        parameter["schema"] = {**parameter["schema"], **schema}


def _validators(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))
    operation["responses"].setdefault("304", NOT_MODIFIED)


def _operations(
    spec: dict[str, Any], routes: Sequence[BaseRoute]
) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """Each documented operation with its route, seen as FastAPI's document sees it (the
    routes of included routers, with those routers' dependencies)."""
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = spec["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, method, operation


def complete(
    spec: dict[str, Any], routes: Sequence[BaseRoute], *, public_read: bool
) -> dict[str, Any]:
    """Add to FastAPI's document (in place): the bearer scheme and who may call each
    operation, `If-None-Match` on reads, path parameters' meaning and format, and the
    problem details schema that every error response refers to."""
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = BEARER
    schemas = components.setdefault("schemas", {})
    for model in (Problem, FieldError):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        schemas[model.__name__].pop("$defs", None)
    for route, method, operation in _operations(spec, routes):
        scopes = required_scopes(route)
        if scopes is not None:
            _security(operation, scopes, public_read)
        if method in ("GET", "HEAD") and route.name not in WITHOUT_VALIDATORS:
            _validators(operation)
        _describe_path_parameters(operation)
    return spec


def install(app: FastAPI) -> None:
    """Serve the completed document as `app.openapi()` (built once, then kept)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            settings = app.state.settings
            complete(generate(), app.routes, public_read=settings.public_read)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
