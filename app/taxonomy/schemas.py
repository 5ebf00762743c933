from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.fields import text

SectionSlug = Annotated[
    str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64, examples=["world"])
]
SectionName = Annotated[str, text(200, 1)]
Description = Annotated[str, text(2000)]


class Term(BaseModel):
    name: str
    article_count: int


class SectionRead(BaseModel):
    slug: str = Field(description="What articles' `section` holds and `section=` filters by.")
    name: str = Field(description="The section's display name, e.g. `US Politics`.")
    description: str | None
    created_at: datetime
    updated_at: datetime
    article_count: int = Field(description="Published articles in the section.")


class SectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: SectionSlug
    name: SectionName | None = Field(
        default=None,
        description="Derived from the slug when omitted (`us-politics`: `Us Politics`).",
    )
    description: Description | None = None


class SectionPatch(BaseModel):
    """JSON Merge Patch (RFC 7396) of the name and description; the slug never changes."""

    model_config = ConfigDict(extra="forbid")

    name: SectionName | None = None
    description: Description | None = None
    slug: SkipJsonSchema[Any] = None

    @field_validator("slug", mode="before")
    @classmethod
    def _immutable(cls, value: Any) -> Any:
        raise ValueError(
            "a section's slug never changes (articles and links name the section by it)"
        )

    @field_validator("name", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value
