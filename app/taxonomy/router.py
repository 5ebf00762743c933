from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app import errors
from app.auth.dependencies import Reader
from app.db import Session
from app.http import cached_page
from app.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from app.routing import AuthFirstRoute

from . import service

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["sections and tags"])


class Term(BaseModel):
    name: str
    article_count: int


@router.get("/sections", response_model=Page[Term], responses=errors.responses(errors.Invalid))
async def list_sections(
    request: Request,
    session: Session,
    caller: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Sections in alphabetical order, with how many published articles each holds."""
    found, next_cursor = await service.sections(session, limit, cursor)
    return cached_page(request, found, next_cursor, public=True, surrogate_keys=["sections"])


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
