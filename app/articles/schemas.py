import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.authors.schemas import AuthorSummary, Byline
from app.claims.schemas import MAX_CLAIMS_PER_ARTICLE, ClaimRead, ClaimWrite
from app.errors import Invalid
from app.fields import NO_NUL, Slug, UTCTime, WebUrl, text
from app.media.schemas import Caption, MediumRead
from app.sources.schemas import SourceSummary

from .body import MARKUP_BUDGET, MARKUP_CHARACTERS, markup_cost
from .models import ArticleStatus

Headline = Annotated[str, text(300, 1)]
Deck = Annotated[str, text(600)]
BODY_MAX_CHARS = 200_000


def _within_markup_budget(body: str) -> str:
    cost = markup_cost(body)
    if cost > MARKUP_BUDGET:
        raise PydanticCustomError(
            "markup_too_dense",
            "The body holds {cost} line breaks and Markdown markup characters "
            "({characters}); at most {budget} are rendered.",
            {
                "cost": cost,
                "characters": " ".join(MARKUP_CHARACTERS.strip()),
                "budget": MARKUP_BUDGET,
            },
        )
    return body


Body = Annotated[
    str, Field(max_length=BODY_MAX_CHARS), NO_NUL, AfterValidator(_within_markup_budget)
]
Language = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$", max_length=35, examples=["en"])
]
Section = Annotated[
    str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64, examples=["world"])
]
Tag = Annotated[str, text(64, 1)]
BYLINE = (
    "The byline, in order: each author by `id`, or by `name` (matched to an existing author "
    "regardless of case and spacing, else created)."
)


class FeaturedImageWrite(BaseModel):
    """The picture at the top of the article: a medium of the library (POST /v1/media
    first), with what its caption says here when not the medium's own."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    caption: Caption | None = None


class FeaturedImage(MediumRead):
    """The featured medium with its renditions; `caption` is the article's own when it gives
    one."""


class Syndication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed: bool = True
    usage_terms: Annotated[str, text(1000)] | None = None


def _normalise_tags(tags: list[str]) -> list[str]:
    """Tags are lower-cased and unique, in the order first given."""
    return list(dict.fromkeys(tag.lower() for tag in tags))


class ArticleWrite(BaseModel):
    """An article with its claims, as created by POST or replaced by PUT."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = Field(default=None, description="Derived from the headline when omitted.")
    headline: Headline
    deck: Deck | None = None
    body: Body = ""
    language: Language = "en"
    section: Section | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] = []
    authors: Annotated[list[Byline], Field(max_length=20, description=BYLINE)] = []
    canonical_url: WebUrl | None = None
    syndication: Syndication = Syndication()
    featured_image: FeaturedImageWrite | None = None
    claims: Annotated[list[ClaimWrite], Field(max_length=MAX_CLAIMS_PER_ARTICLE)] = []

    _tags = field_validator("tags")(_normalise_tags)


class SyndicationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed: bool | None = None
    usage_terms: Annotated[str, text(1000)] | None = None


class ArticlePatch(BaseModel):
    """JSON Merge Patch (RFC 7396): fields left out are kept, `null` clears an optional field
    (lists go back to empty), and `claims`, when given, replaces the article's claims."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = None
    headline: Headline | None = None
    deck: Deck | None = None
    body: Body | None = None
    language: Language | None = None
    section: Section | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    authors: Annotated[list[Byline], Field(max_length=20, description=BYLINE)] | None = None
    canonical_url: WebUrl | None = None
    syndication: SyndicationPatch | None = None
    featured_image: FeaturedImageWrite | None = None
    claims: Annotated[list[ClaimWrite], Field(max_length=MAX_CLAIMS_PER_ARTICLE)] | None = None

    @field_validator("slug", "headline", "body", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else _normalise_tags(tags)


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    text: str
    created_at: datetime


class Retraction(BaseModel):
    text: str
    created_at: datetime


class Sourcing(BaseModel):
    """How the article's claims are sourced."""

    claims: int
    attributed_claims: int
    unattributed_claims: int
    named_sources: int
    anonymous_sources: int


class ArticleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    headline: str
    deck: str | None
    body: str
    body_html: str = Field(
        description="Sanitised HTML; each anchored claim is wrapped in "
        '`<span class="claim" data-claim-id="…" data-claim-kind="…" data-verification="…">`, '
        "the claim's id, kind and verification."
    )
    body_text: str = Field(
        description="Read-only: the plain text of `body` that claim anchors index: Markdown "
        "syntax removed, blocks joined by a blank line. A claim's anchor `start` and `end` are "
        "code-point offsets into it, so `body_text[start:end]` is the anchor's `exact`."
    )
    language: str
    section: str | None
    tags: list[str]
    authors: list[AuthorSummary] = Field(description="The byline, in order.")
    canonical_url: str | None
    status: ArticleStatus
    published_at: datetime | None
    first_published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    corrections: list[CorrectionRead]
    retraction: Retraction | None
    syndication: Syndication
    featured_image: FeaturedImage | None
    body_images: list[MediumRead] | None = Field(
        default=None,
        validation_alias="loaded_body_images",
        description="Read-only: the media the body shows (`![alt](media:ID)`), in order, with "
        "their renditions; on single-article reads (lists leave them out).",
    )
    sourcing: Sourcing
    claims: list[ClaimRead] | None = Field(
        default=None,
        validation_alias="loaded_claims",
        description="Embedded on single-article reads; on lists only with `include=claims`.",
    )
    sources: list[SourceSummary] | None = Field(
        default=None, description="Every source the claims cite; only with `include=sources`."
    )


def _nothing_required(schema: dict[str, Any]) -> None:
    schema.pop("required", None)


class FormerByline(BaseModel):
    """An author as revisions stored before authors were resources of their own keep them
    (the name alone): a revision is kept as it was written."""

    name: str


class ArticleRevisionRead(ArticleRead):
    """The article as it stood at one version."""

    # Wider than ArticleRead's (which is what it documents): what old revisions hold.
    authors: list[AuthorSummary | FormerByline] = Field(  # type: ignore[assignment]
        description="The byline, in order; revisions written before authors had ids and "
        "slugs (December 2026) give only each author's `name`."
    )


class ArticleFields(ArticleRead):
    """The article with only the fields that `fields=` named."""

    model_config = ConfigDict(json_schema_extra=_nothing_required)


# An article read in JSON: the whole article, or with `fields=` the fields asked for.
ArticleView = ArticleRead | ArticleFields
ARTICLE_FIELDS = frozenset(ArticleRead.model_fields)
INCLUDABLE = frozenset({"claims", "sources"})


def _names(raw: str | None, allowed: frozenset[str], parameter: str) -> frozenset[str] | None:
    if raw is None:
        return None
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(names - allowed)
    if unknown:
        raise Invalid(
            f"Unknown {parameter}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
            ["query", parameter],
        )
    return names


def projection_of(
    fields: str | None, include: str | None, *, claims_embedded: bool = False
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """`fields=` and `include=` as given in a query string: the fields to keep (None for
    all) and what to embed. Unknown names are a 422 naming the parameter, and so are a
    `fields=` naming nothing (it would leave empty objects) and one naming what only
    `include=` embeds (`claims` on lists, whose articles otherwise come without them, where
    one article always embeds them: `claims_embedded`; `sources` everywhere)."""
    chosen = _names(fields, ARTICLE_FIELDS, "fields")
    if chosen is not None and not chosen:
        raise Invalid("fields names no field; leave it out to get them all.", ["query", "fields"])
    embedded = _names(include, INCLUDABLE, "include") or frozenset()
    missing = sorted(
        (chosen or frozenset()) & INCLUDABLE - embedded - ({"claims"} if claims_embedded else set())
    )
    if missing:
        raise Invalid(
            f"fields names {', '.join(missing)}, which only include={','.join(missing)} "
            "embeds; add it to include.",
            ["query", "fields"],
        )
    return chosen, embedded


def article_payload(
    article: Any, *, include: frozenset[str], fields: frozenset[str] | None
) -> dict[str, Any]:
    """The JSON-ready dict for one article, honouring `include=` and `fields=`."""
    exclude = {name for name in INCLUDABLE if name not in include}
    read = ArticleRead.model_validate(article)
    if "sources" in include:
        read.sources = distinct_sources(read.claims or [])
    return read.model_dump(
        mode="json", exclude=exclude, include=set(fields) if fields is not None else None
    )


def representation(article: Any) -> dict[str, Any]:
    """The default JSON of one article (with its claims): what a GET returns, what
    `If-Match` is checked against, and what a revision keeps."""
    return article_payload(article, include=frozenset({"claims"}), fields=None)


def distinct_sources(claims: list[ClaimRead]) -> list[SourceSummary]:
    seen: dict[uuid.UUID, SourceSummary] = {}
    for claim in claims:
        for attribution in claim.attributions:
            seen.setdefault(attribution.source.id, attribution.source)
    return list(seen.values())


class BulkError(BaseModel):
    loc: list[str | int]
    msg: str


class BulkLine(BaseModel):
    line: int = Field(description="1-based line number in the upload.")
    status: Literal["created", "updated", "error"]
    id: uuid.UUID | None
    slug: str | None
    errors: list[BulkError]


class BulkReport(BaseModel):
    created: int
    updated: int
    error: int
    lines: list[BulkLine]


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_at: UTCTime | None = Field(
        default=None,
        description="When the article becomes public; in the future it is scheduled. "
        "Defaults to now.",
    )


class NoticeRequest(BaseModel):
    """The text of a retraction notice or of a correction."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, text(2000, 1)]


class RevisionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    created_at: datetime
    actor: str = Field(description="The name of the API key that made the change.")
    change: str = Field(
        description="created, updated, replaced, claim_added, claim_updated, claim_removed, "
        "published, unpublished, retracted, corrected, deleted or author_updated (a "
        "change to one of its authors: name, slug, URL or job title)."
    )
