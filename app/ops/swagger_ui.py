"""Swagger UI's files for `/docs`, served by the app itself so the page works offline and
behind firewalls. They come from the `fastapi-offline` package, which ships a Swagger UI 5
build (OpenAPI 3.1 needs 5; `swagger-ui-bundle` on PyPI still ships 4.15)."""

from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources

from app.http import entity_tag

PATH = "/docs/assets"
PACKAGE = "fastapi-offline"
# The URL changes with the package's version, so a browser may keep a file for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def version() -> str:
    return metadata.version(PACKAGE)


def url(name: str) -> str:
    return f"{PATH}/{version()}/{name}"


def asset(asked_version: str, name: str) -> Asset | None:
    """One of Swagger UI's files, or None for any other name or version."""
    if name not in MEDIA_TYPES or asked_version != version():
        return None
    return _read(name)


@cache  # only ever called with the names above
def _read(name: str) -> Asset:
    body = resources.files("fastapi_offline").joinpath("static", name).read_bytes()
    return Asset(body, MEDIA_TYPES[name], entity_tag(body))
