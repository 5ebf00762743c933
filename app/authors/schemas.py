import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.fields import Slug, WebUrl, text
from app.media.schemas import MediumRead

Name = Annotated[str, text(200, 1)]
Bio = Annotated[str, text(2000)]
JobTitle = Annotated[str, text(200)]


class Byline(BaseModel):
    """One author of an article as written: an existing author by `id`, or by `name`
    (matched to an existing author case- and space-insensitively, else created)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="An existing author's id.")
    name: Name | None = Field(default=None, description="The author's name.")

    @model_validator(mode="after")
    def _one_of(self) -> "Byline":
        if (self.id is None) == (self.name is None):
            raise ValueError("give either the author's id or their name, not both")
        return self


class AuthorSummary(BaseModel):
    """An author as embedded in an article."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    # Not part of an article's JSON, but what its other formats (JSON-LD, ninjs, feeds)
    # say of the author: carried along so they render from the same read.
    url: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    job_title: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


class Avatar(BaseModel):
    """The author's picture: a medium of the library (POST /v1/media first)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID


class AuthorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    bio: str | None = Field(description="Plain text.")
    url: str | None = Field(description="The author's own page, an absolute http(s) URL.")
    job_title: str | None
    avatar: MediumRead | None = Field(description="The author's picture, with its renditions.")
    created_at: datetime
    updated_at: datetime
    article_count: int = Field(description="Published articles that carry the author.")


class AuthorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = Field(default=None, description="Derived from the name when omitted.")
    name: Name
    bio: Bio | None = None
    url: WebUrl | None = None
    job_title: JobTitle | None = None
    avatar: Avatar | None = None


class AuthorPatch(BaseModel):
    """JSON Merge Patch (RFC 7396): fields left out are kept, `null` clears an optional
    field."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = None
    name: Name | None = None
    bio: Bio | None = None
    url: WebUrl | None = None
    job_title: JobTitle | None = None
    avatar: Avatar | None = None

    @field_validator("slug", "name", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value
