"""Request-level dependencies for writes that target an article."""

from typing import Annotated

from fastapi import Depends

from app.db import Session
from app.http import IfMatch, check_if_match, etag_of

from . import service
from .models import Article
from .schemas import representation


async def writable(article: str, session: Session, if_match: IfMatch = None) -> Article:
    """The article a write targets, locked for the write and checked against `If-Match`.
    Routes using it authorise the caller first, in their `dependencies`."""
    found = await service.get(session, article, sees_drafts=True, for_update=True)
    check_if_match(if_match, etag_of(representation(found)))
    return found


WritableArticle = Annotated[Article, Depends(writable)]
