from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app import errors
from app.auth.dependencies import Reader, Writer, require_scope
from app.auth.scopes import Scope
from app.db import Session
from app.http import cached_json, cached_page, json_response
from app.idempotency.dependencies import Idempotency
from app.pagination import DEFAULT_LIMIT, Count, Cursor, Limit, Page
from app.routing import (
    AuthFirstRoute,
    MergePatch,
    merge_patch_body,
    require_json,
    require_merge_patch,
)

from . import service
from .schemas import AuthorCreate, AuthorPatch, AuthorRead

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/authors", tags=["authors"])
CanWrite = Depends(require_scope(Scope.write))
WRITE_ERRORS = errors.responses(
    errors.Unauthorized, errors.Forbidden, errors.UnsupportedMediaType, errors.Invalid
)
TAKEN = errors.responses(service.AuthorSlugTaken, service.AuthorNameTaken)


def _written(author: AuthorRead, status_code: int = status.HTTP_200_OK) -> Response:
    headers = {"Location": f"/v1/authors/{author.id}"} if status_code == 201 else None
    return json_response(author.model_dump(mode="json"), status_code=status_code, headers=headers)


@router.get("", response_model=Page[AuthorRead], responses=errors.responses(errors.Invalid))
async def list_authors(
    request: Request,
    session: Session,
    caller: Reader,
    q: Annotated[str | None, Query(max_length=200, description="Words in the name.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: Count = False,
) -> Response:
    """Authors in name order, with how many published articles carry each. Without
    `content:write`, only authors of published articles are listed."""
    authors, next_cursor, total = await service.list_authors(
        session, sees_drafts=caller.sees_drafts, q=q, limit=limit, cursor=cursor, count=count
    )
    return cached_page(
        request,
        [a.model_dump(mode="json") for a in authors],
        next_cursor,
        total=total,
        public=not caller.sees_drafts,
        surrogate_keys=["authors"],
    )


@router.get(
    "/{author}", response_model=AuthorRead, responses=errors.responses(service.AuthorNotFound)
)
async def get_author(author: str, request: Request, session: Session, caller: Reader) -> Response:
    """One author, by id or slug, with how many published articles carry them."""
    found = await service.get(session, author, sees_drafts=caller.sees_drafts)
    return cached_json(
        request,
        found.model_dump(mode="json"),
        public=not caller.sees_drafts,
        surrogate_keys=[f"author-{found.id}"],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthorRead,
    dependencies=[CanWrite, Depends(require_json)],
    responses={**WRITE_ERRORS, **TAKEN},
)
async def create_author(
    idem: Idempotency, data: AuthorCreate, session: Session, caller: Writer
) -> Response:
    """Create an author; bylines given by name then match them."""
    author = await service.create(session, data)
    return idem.keep(_written(author, status.HTTP_201_CREATED))


@router.patch(
    "/{author_id}",
    response_model=AuthorRead,
    dependencies=[CanWrite, Depends(require_merge_patch)],
    responses={**WRITE_ERRORS, **TAKEN, **errors.responses(service.AuthorNotFound)},
    openapi_extra=merge_patch_body(),
)
async def update_author(
    author_id: str, data: MergePatch[AuthorPatch], session: Session, caller: Writer
) -> Response:
    """Change some of the author's fields (JSON Merge Patch). A new name, slug, URL or job
    title changes every article that carries the author: each gets a new version and an
    `article.updated` event, and where readers see one of them it needs `content:publish`."""
    updated = await service.update(
        session, author_id, data, caller.name, may_publish=caller.may_publish
    )
    return _written(updated)
