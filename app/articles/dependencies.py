"""Request-level dependencies for writes that target an article."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentCaller
from app.db import Session
from app.http import IfMatch, check_if_match, etag_of

from . import service
from .models import Article
from .schemas import representation


async def writable(
    article: str, session: Session, caller: CurrentCaller, if_match: IfMatch = None
) -> Article:
    """The article a write targets, locked for the write, checked against `If-Match`, and
    refused to a caller who may not change it as it stands (live content needs
    `content:publish`). Routes using it authorise the caller first, in their `dependencies`."""
    found = await service.get(session, article, sees_drafts=True, for_update=True)
    service.check_changeable(found, may_publish=caller.may_publish)
    check_if_match(if_match, etag_of(representation(found)))
    return found


WritableArticle = Annotated[Article, Depends(writable)]
