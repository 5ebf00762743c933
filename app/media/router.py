import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from app import errors
from app.articles import service as articles
from app.auth.dependencies import Reader, Writer, require_scope
from app.auth.scopes import Scope
from app.db import Session
from app.fields import OpaqueId, parse_id
from app.http import (
    IfMatch,
    cached_json,
    cached_page,
    check_if_match,
    etag_of,
    json_response,
    none_match,
)
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.routing import AuthFirstRoute, MergePatch, merge_patch_body, require_merge_patch

from . import cache, service
from .schemas import ExternalMediumCreate, MediumFields, MediumPatch, MediumRead
from .storage import MediaStore

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/media", tags=["media"])
CanWrite = Depends(require_scope(Scope.write))
NOT_FOUND = errors.responses(service.MediumNotFound)
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)
FORM_FIELDS = frozenset(MediumFields.model_fields) | {"file"}
EXTERNAL_MEDIUM_SCHEMA = {
    name: value
    for name, value in ExternalMediumCreate.model_json_schema(
        ref_template="#/components/schemas/{model}"
    ).items()
    if name != "$defs"
}
# A form without a file part comes url-encoded: read, and refused for the file it lacks.
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _store(request: Request) -> MediaStore:
    store: MediaStore = request.app.state.media_store
    return store


def _limits(request: Request) -> service.Limits:
    settings = request.app.state.settings
    return service.Limits(settings.media_max_bytes, settings.media_max_pixels)


Store = Annotated[MediaStore, Depends(_store)]
Limits = Annotated[service.Limits, Depends(_limits)]


def _read(medium: Any) -> dict[str, Any]:
    read = MediumRead.model_validate(service.representation(medium))
    payload: dict[str, Any] = read.model_dump(mode="json")
    return payload


def _validated(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise errors.Invalid.first_of(error) from None


def _json(body: bytes) -> Any:
    # Parsed as FastAPI parses every other JSON body, so that the same text gets the same
    # answer here (a lone surrogate is refused naming its field, not the body).
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past all sense
        message = f"The body is not valid JSON: {error}."
        raise errors.Invalid(message, ["body"], "json_invalid") from None


def _focal_point(raw: str) -> Any:
    """A form's focal point, `x,y` (e.g. `0.3,0.4`), as the JSON object it stands for."""
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) != 2:
        return raw  # refused by validation, naming the field
    return {"x": parts[0], "y": parts[1]}


async def _from_form(request: Request) -> tuple[bytes, MediumFields]:
    # The form's file parts are spooled to temporary files, closed on leaving.
    async with request.form(max_files=1, max_fields=len(FORM_FIELDS)) as form:
        unknown = sorted(set(form.keys()) - FORM_FIELDS)
        if unknown:
            raise errors.Invalid(
                f"Unknown form field {unknown[0]!r}; the fields are "
                f"{', '.join(sorted(FORM_FIELDS))}.",
                ["body", unknown[0]],
                "extra_forbidden",
            )
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise errors.Invalid("Send the image as the form's `file` part.", ["body", "file"])
        given: dict[str, Any] = {
            name: value for name, value in form.items() if isinstance(value, str)
        }
        if "focal_point" in given:
            given["focal_point"] = _focal_point(given["focal_point"])
        fields = _validated(MediumFields, given)
        return await upload.read(), fields


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MediumRead,
    responses={**WRITE_ERRORS, **errors.responses(errors.PayloadTooLarge)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "alt": {"type": "string", "maxLength": 1000},
                            "caption": {"type": "string", "maxLength": 2000},
                            "credit": {"type": "string", "maxLength": 300},
                            "copyright": {"type": "string", "maxLength": 300},
                            "license": {"type": "string", "format": "uri"},
                            "focal_point": {"type": "string", "examples": ["0.5,0.3"]},
                        },
                    }
                },
                # Inline (nothing else puts it among the components), its focal point
                # referring to the component that the medium's own schema publishes.
                "application/json": {"schema": EXTERNAL_MEDIUM_SCHEMA},
            },
        }
    },
)
async def create_medium(
    request: Request,
    idem: Idempotency,
    session: Session,
    caller: Writer,
    store: Store,
    limits: Limits,
) -> Response:
    """Upload an image (`multipart/form-data`: the file as `file`, with `alt`, `caption`,
    `credit`, `copyright`, `license` and `focal_point` as `x,y`), or register one that lives
    elsewhere (`application/json`: `{"url", "alt", …}`). An upload is judged by its content:
    JPEG, PNG, WebP or GIF (its first frame), at most `NEWSDESK_MEDIA_MAX_BYTES` (25 MiB) and
    80 megapixels; SVG is refused. Its renditions are made at once; the same file uploaded
    again is stored once. An external URL must be http(s) on a public host."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_TYPES:
        data, fields = await _from_form(request)
        medium = await service.upload(session, store, limits, data, fields)
    elif media_type == "application/json":
        external = _validated(ExternalMediumCreate, _json(await request.body()))
        allow_private = request.app.state.settings.webhooks_allow_private
        medium = await service.register(session, external, allow_private=allow_private)
    else:
        raise errors.UnsupportedMediaType(
            "Upload the image as multipart/form-data (the file in `file`), or register an "
            f"external one as application/json (got {media_type or 'none'})."
        )
    headers = {"Location": f"/v1/media/{medium.id}"}
    created = json_response(_read(medium), status_code=status.HTTP_201_CREATED, headers=headers)
    return idem.keep(created)


@router.get(
    "",
    response_model=Page[MediumRead],
    dependencies=[CanWrite],
    responses=errors.responses(errors.Unauthorized, errors.Forbidden, errors.Invalid),
)
async def list_media(
    request: Request,
    session: Session,
    q: Annotated[
        str | None, Query(max_length=300, description="Words in the alt text, caption or credit.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The media library, newest first (`content:write`: it holds pictures for stories not
    yet published, which must not be found before their time)."""
    found, next_cursor = await service.list_media(session, q, limit, cursor)
    return cached_page(request, [_read(medium) for medium in found], next_cursor, public=False)


@router.get("/{medium_id}", response_model=MediumRead, responses=NOT_FOUND)
async def get_medium(
    medium_id: OpaqueId, request: Request, session: Session, caller: Reader
) -> Response:
    """One image with its renditions. Anyone with its id may read it, as anyone with an
    image's URL may fetch it from a CDN; only the library listing needs a key."""
    medium = await service.get(session, parse_id(medium_id, service.MediumNotFound))
    return cached_json(request, _read(medium), public=True, surrogate_keys=[f"medium-{medium.id}"])


@router.patch(
    "/{medium_id}",
    response_model=MediumRead,
    dependencies=[CanWrite, Depends(require_merge_patch)],
    responses={**NOT_FOUND, **WRITE_ERRORS, **errors.responses(errors.PreconditionFailed)},
    openapi_extra=merge_patch_body(),
)
async def update_medium(
    medium_id: OpaqueId,
    data: MergePatch[MediumPatch],
    session: Session,
    caller: Writer,
    store: Store,
    limits: Limits,
    if_match: IfMatch = None,
) -> Response:
    """Change what is said about the image (JSON Merge Patch). Every article showing it
    shows the change: each gets a new version (an `article.updated` for partners), and
    changing one that readers see needs `content:publish`. Clearing the alt text of an
    image that such an article shows is refused."""
    medium = await service.get(session, parse_id(medium_id, service.MediumNotFound))
    check_if_match(if_match, etag_of(_read(medium)))
    shown_by = await articles.showing(session, medium.id)
    if await service.patch(session, store, limits, medium, data):
        await articles.show_changed_medium(
            session, shown_by, caller.name, may_publish=caller.may_publish
        )
    return json_response(_read(medium))


@router.delete(
    "/{medium_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CanWrite],
    responses={
        **NOT_FOUND,
        **errors.responses(errors.Unauthorized, errors.Forbidden, service.MediumInUse),
    },
)
async def delete_medium(
    medium_id: OpaqueId, request: Request, session: Session, caller: Writer
) -> None:
    """Delete the image: refused (409, naming them) while any article that is not deleted
    shows it, drafts included. Its renditions stop being served at once here, and within
    `NEWSDESK_MEDIA_CACHE_SECONDS` by every worker."""
    medium = await service.get(session, parse_id(medium_id, service.MediumNotFound))
    await service.delete(session, medium, await articles.showing(session, medium.id))
    cache.forget(request.app.state.rendition_cache, str(medium.id))


@router.get(
    "/{medium_id}/{name}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/webp": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The rendition's bytes: immutable, cached for a year.",
        },
        **errors.responses(service.MediumNotFound, service.RenditionNotFound),
    },
)
async def get_rendition(
    medium_id: OpaqueId, name: str, request: Request, session: Session, caller: Reader, store: Store
) -> Response:
    """One rendition, as its `url` in `renditions` names it (e.g. `640.webp`)."""
    found = parse_id(medium_id, service.MediumNotFound)
    listed = await service.rendition(session, found, name)
    etag = f'"{listed["digest"]}"'
    if none_match(request.headers.get("if-none-match"), etag):
        # Known from the row alone: the store is not asked.
        return cache.Kept(b"", listed["type"], etag).response(request)
    try:
        body = await store.get(listed["key"])
    except FileNotFoundError:
        raise service.RenditionNotFound(found, name) from None
    kept = cache.Kept(body, listed["type"], etag)
    cache.keep(request.app.state.rendition_cache, medium_id, name, kept)
    return kept.response(request)
