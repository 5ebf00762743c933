from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app import errors
from app.articles.responses import written
from app.articles.schemas import ArticleRead, ArticleWrite, Section, Tag
from app.auth.dependencies import Writer
from app.db import Session
from app.fields import WebUrl
from app.http import json_response
from app.idempotency.dependencies import Idempotency
from app.routing import AuthFirstRoute

from . import service

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["ingest"])

TEXT_TYPES = {"text/plain": False, "text/html": True}


class IngestRequest(BaseModel):
    """The JSON form: the page as `text` or as `html`, and what to add to the draft."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    html: str | None = None
    url: WebUrl | None = Field(None, description="Where the page was published.")
    section: Section | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _one_page(self) -> "IngestRequest":
        if (self.text is None) == (self.html is None):
            raise ValueError("give the page as exactly one of `text` or `html`")
        return self


async def _raw(request: Request, section: str | None, tags: list[str]) -> service.Raw:
    """The page from the request body, whatever form it came in."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if media_type in TEXT_TYPES:
        try:
            content = body.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.Invalid("The page is not UTF-8 text.", ["body"], "not_text") from None
        return service.Raw(content, html=TEXT_TYPES[media_type], section=section, tags=tags)
    if media_type == "application/json":
        try:
            data = IngestRequest.model_validate_json(body)
        except ValidationError as error:
            raise errors.Invalid.first_of(error) from None
        return service.Raw(
            data.html if data.html is not None else data.text or "",
            html=data.html is not None,
            url=data.url,
            section=data.section or section,
            tags=data.tags or tags,
        )
    raise errors.UnsupportedMediaType(
        "Send the page as text/plain or text/html, or as application/json "
        f"{{text|html, url?, section?, tags?}} (got {media_type or 'none'})."
    )


@router.post(
    "/ingest",
    status_code=status.HTTP_201_CREATED,
    response_model=ArticleRead,
    responses={
        200: {"model": ArticleWrite, "description": "With dry_run=true: the draft, not stored."},
        **errors.responses(errors.UnsupportedMediaType, errors.Invalid),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
                # Inline: nothing else puts IngestRequest among the components to refer to.
                "application/json": {"schema": IngestRequest.model_json_schema()},
            },
        }
    },
)
async def ingest(
    request: Request,
    idem: Idempotency,
    session: Session,
    caller: Writer,
    dry_run: Annotated[bool, Query(description="Return the draft without storing it.")] = False,
    section: Annotated[Section | None, Query(description="The draft's section.")] = None,
    tag: Annotated[list[Tag], Query(description="A tag for the draft; repeatable.")] = [],  # noqa: B006
) -> Response:
    """Turn a raw story page into a draft: page furniture dropped, headline, deck and body
    found, and each attributed sentence stored as a claim with its sources (matched to
    existing ones), anchored in the body. An editor reviews it before publishing."""
    # Reading and parsing the page is CPU work: in a thread, so other requests go on.
    draft = await anyio.to_thread.run_sync(service.draft, await _raw(request, section, tag))
    if dry_run:
        return idem.keep(json_response(draft.model_dump(mode="json", exclude_none=True)))
    article = await service.store(session, draft, caller.name)
    return idem.keep(written(article, status.HTTP_201_CREATED))
