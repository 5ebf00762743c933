"""JSON Feed 1.1 as the API sends it: described here for the OpenAPI document (the feed
itself is written from dicts in render.py)."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from app.articles.schemas import Sourcing, Syndication


class JsonFeedAuthor(BaseModel):
    name: str
    url: str | SkipJsonSchema[None] = None


class NewsdeskFeedExtension(BaseModel):
    """The `_newsdesk` extension of a JSON Feed item: where its claims are and how they
    are sourced."""

    about: str = Field(description="Where this extension is described.")
    article_id: uuid.UUID
    slug: str
    version: int
    section: str | None
    claims_url: str = Field(description="Absolute URL of `/v1/articles/{id}/claims`.")
    sourcing: Sourcing
    syndication: Syndication


class JsonFeedAttachment(BaseModel):
    url: str
    mime_type: str
    size_in_bytes: int | SkipJsonSchema[None] = None


class JsonFeedItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="Permanent: `urn:uuid:` and the article's id.")
    url: str = Field(description="The article's `canonical_url`, else its URL in this API.")
    title: str
    summary: str | SkipJsonSchema[None] = Field(
        default=None, description="The deck; left out without one."
    )
    content_html: str
    date_published: datetime
    date_modified: datetime
    authors: list[JsonFeedAuthor] | SkipJsonSchema[None] = Field(
        default=None, description="The byline; left out without one (the feed's authors apply)."
    )
    tags: list[str] = Field(default=[], description="The section, then the tags.")
    language: str
    image: str | SkipJsonSchema[None] = Field(
        default=None, description="The featured image (left out without one)."
    )
    attachments: list[JsonFeedAttachment] | SkipJsonSchema[None] = Field(
        default=None, description="The featured image as a file, with its type and size."
    )
    newsdesk: NewsdeskFeedExtension = Field(alias="_newsdesk")


class JsonFeed(BaseModel):
    """A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1), served as
    `application/feed+json`."""

    version: Literal["https://jsonfeed.org/version/1.1"]
    title: str
    home_page_url: str
    feed_url: str
    description: str
    authors: list[JsonFeedAuthor]
    items: list[JsonFeedItem]
