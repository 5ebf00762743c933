from fastapi import APIRouter, Depends, Request, Response, status

from app import errors
from app.auth.dependencies import Reader, Writer, require_scope
from app.auth.scopes import Scope
from app.db import Session
from app.http import cached_json, cached_page, json_response
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.routing import (
    AuthFirstRoute,
    MergePatch,
    merge_patch_body,
    require_json,
    require_merge_patch,
)

from . import service
from .schemas import SectionCreate, SectionPatch, SectionRead, Term

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["sections and tags"])
CanWrite = Depends(require_scope(Scope.write))
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)


def _written(section: SectionRead, status_code: int = status.HTTP_200_OK) -> Response:
    headers = {"Location": f"/v1/sections/{section.slug}"} if status_code == 201 else None
    return json_response(section.model_dump(mode="json"), status_code=status_code, headers=headers)


@router.get(
    "/sections", response_model=Page[SectionRead], responses=errors.responses(errors.Invalid)
)
async def list_sections(
    request: Request,
    session: Session,
    caller: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Sections in alphabetical order of their slug, with how many published articles each
    holds. `slug` is what articles' `section` holds and `section=` filters by; `name` is
    for display. Without `content:write`, only sections with a published article are
    listed."""
    found, next_cursor = await service.sections(
        session, sees_drafts=caller.sees_drafts, limit=limit, cursor=cursor
    )
    return cached_page(
        request,
        [section.model_dump(mode="json") for section in found],
        next_cursor,
        public=not caller.sees_drafts,
        surrogate_keys=["sections"],
    )


@router.get(
    "/sections/{slug}",
    response_model=SectionRead,
    responses=errors.responses(service.SectionNotFound),
)
async def get_section(slug: str, request: Request, session: Session, caller: Reader) -> Response:
    """One section with how many published articles it holds."""
    found = await service.get(session, slug, sees_drafts=caller.sees_drafts)
    return cached_json(
        request,
        found.model_dump(mode="json"),
        public=not caller.sees_drafts,
        surrogate_keys=[f"section-{found.slug}"],
    )


@router.post(
    "/sections",
    status_code=status.HTTP_201_CREATED,
    response_model=SectionRead,
    dependencies=[CanWrite, Depends(require_json)],
    responses={**WRITE_ERRORS, **errors.responses(service.SectionExists)},
)
async def create_section(
    idem: Idempotency, data: SectionCreate, session: Session, caller: Writer
) -> Response:
    """Create a section with its name and description (an article naming a new section
    creates it too, named after its slug)."""
    section = await service.create(session, data)
    return idem.keep(_written(section, status.HTTP_201_CREATED))


@router.patch(
    "/sections/{slug}",
    response_model=SectionRead,
    dependencies=[CanWrite, Depends(require_merge_patch)],
    responses={**WRITE_ERRORS, **errors.responses(service.SectionNotFound)},
    openapi_extra=merge_patch_body(),
)
async def update_section(
    slug: str, data: MergePatch[SectionPatch], session: Session, caller: Writer
) -> Response:
    """Change the section's name or description (JSON Merge Patch); its slug never changes."""
    return _written(await service.update(session, slug, data))


@router.get("/tags", response_model=Page[Term], responses=errors.responses(errors.Invalid))
async def list_tags(
    request: Request,
    session: Session,
    caller: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Tags in alphabetical order, with how many published articles carry each."""
    found, next_cursor = await service.tags(session, limit, cursor)
    return cached_page(request, found, next_cursor, public=True, surrogate_keys=["tags"])
