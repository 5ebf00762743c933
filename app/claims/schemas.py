import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from app.fields import NO_NUL, UTCTime, WebUrl, text
from app.sources.schemas import SourceCreate, SourceReference, SourceSummary

from .models import AnchorStatus, AttributionRole, ClaimKind, Verification

Statement = Annotated[str, text(1000, 1)]
# The most claims one article holds, however they are added (a whole list or one at a time).
MAX_CLAIMS_PER_ARTICLE = 500


# The longest text a claim can be anchored on: a sentence or two, never a page.
MAX_ANCHOR_CHARS = 2000


class AnchorWrite(BaseModel):
    """Where the claim stands in the body: `exact` is required; the server fills in the rest."""

    model_config = ConfigDict(extra="forbid")

    exact: Annotated[str, Field(min_length=1, max_length=MAX_ANCHOR_CHARS), NO_NUL]
    prefix: Annotated[str, Field(max_length=500), NO_NUL] | None = None
    suffix: Annotated[str, Field(max_length=500), NO_NUL] | None = None
    start: Annotated[int, Field(ge=0)] | None = None
    end: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _positions_agree(self) -> Self:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must be given together")
        if (
            self.start is not None
            and self.end is not None
            and (self.end - self.start != len(self.exact))
        ):
            raise ValueError("end - start must equal the length of exact")
        return self


class AnchorRead(BaseModel):
    exact: str
    prefix: str | None
    suffix: str | None
    start: int | None
    end: int | None


class Review(BaseModel):
    """A fact-check verdict on the claim (drives schema.org ClaimReview)."""

    model_config = ConfigDict(extra="forbid")

    rating: Annotated[str, text(100, 1)]
    # Finite numbers only: JSON has no Infinity or NaN to give them back as.
    rating_value: Annotated[float, Field(allow_inf_nan=False)] | None = None
    best_rating: Annotated[float, Field(allow_inf_nan=False)] | None = None
    worst_rating: Annotated[float, Field(allow_inf_nan=False)] | None = None
    reviewed_by: Annotated[str, text(200, 1)]
    reviewed_at: UTCTime | None = None
    url: WebUrl | None = None

    @model_validator(mode="after")
    def _value_in_scale(self) -> Self:
        low, high, value = self.worst_rating, self.best_rating, self.rating_value
        if low is not None and high is not None and low >= high:
            raise ValueError("worst_rating must be below best_rating")
        if value is not None and low is not None and high is not None and not low <= value <= high:
            raise ValueError("rating_value must lie between worst_rating and best_rating")
        return self


def _source_variant(value: Any) -> str:
    return "reference" if isinstance(value, dict) and "id" in value else "value"


class AttributionWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[
        Annotated[SourceReference, Tag("reference")] | Annotated[SourceCreate, Tag("value")],
        Discriminator(_source_variant),
    ]
    role: AttributionRole = AttributionRole.asserted_by
    cue: Annotated[str, text(200)] | None = None
    anonymous_description: Annotated[str, text(300)] | None = None


class ClaimWrite(BaseModel):
    """A claim as written: by POST, or inside an article."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(
        default=None,
        description="Only in an article's claim list on PUT or PATCH: the id of one of its "
        "claims, which is rewritten and keeps its id. Claims without an id are new.",
    )
    statement: Statement
    kind: ClaimKind = ClaimKind.statement
    quote: Annotated[str, text(2000, 1)] | None = None
    anchor: AnchorWrite | None = None
    verification: Verification = Verification.unverified
    review: Review | None = None
    attributions: Annotated[list[AttributionWrite], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _quote_matches_kind(self) -> Self:
        check_quote(self.kind, self.quote)
        return self


def check_quote(kind: ClaimKind, quote: str | None) -> None:
    if kind is ClaimKind.quote and not quote:
        raise ValueError("a claim of kind 'quote' needs the verbatim words in quote")
    if kind is not ClaimKind.quote and quote is not None:
        raise ValueError("quote is only for claims of kind 'quote'")


class ClaimPatch(BaseModel):
    """JSON Merge Patch of a claim: fields left out are kept; `attributions` is replaced whole."""

    model_config = ConfigDict(extra="forbid")

    statement: Statement | None = None
    kind: ClaimKind | None = None
    quote: Annotated[str, text(2000, 1)] | None = None
    anchor: AnchorWrite | None = None
    verification: Verification | None = None
    review: Review | None = None
    attributions: Annotated[list[AttributionWrite], Field(max_length=20)] | None = None

    @field_validator("statement", "kind", "verification", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class AttributionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: SourceSummary
    role: AttributionRole
    cue: str | None
    anonymous_description: str | None


class ClaimRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    article_id: uuid.UUID
    statement: str
    kind: ClaimKind
    quote: str | None
    anchor: AnchorRead | None
    anchor_status: AnchorStatus | None
    verification: Verification
    review: Review | None
    attributions: list[AttributionRead]
    created_at: datetime
    updated_at: datetime
