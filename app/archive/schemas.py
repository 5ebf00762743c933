"""The lines of a `newsdesk-export/2` file (and of the `/1` files before it): the stored rows,
read from the ORM on export and validated on import. Field names are the column names, so
nothing is renamed on the way."""

import uuid
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from app.articles.models import ArticleStatus
from app.claims.models import AnchorStatus, AttributionRole, ClaimKind, Verification
from app.sources.models import SourceKind

FORMAT = "newsdesk-export/2"
# Before authors and sections were resources: a byline was names alone.
FORMAT_1 = "newsdesk-export/1"


class Stored(BaseModel):
    """Every field required (nullable ones too) and nothing unknown: an archive that does
    not say everything is not one of ours."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class ArchivedSource(Stored):
    id: uuid.UUID
    kind: SourceKind
    name: str
    # The matching keys are stored as they were, not worked out again.
    name_key: str
    affiliation_key: str
    description: str | None
    url: str | None
    affiliation: str | None
    created_at: AwareDatetime


class ArchivedAttribution(Stored):
    source: ArchivedSource
    role: AttributionRole
    cue: str | None
    anonymous_description: str | None


class ArchivedClaim(Stored):
    id: uuid.UUID
    position: int
    statement: str
    kind: ClaimKind
    quote: str | None
    verification: Verification
    review: dict[str, Any] | None
    anchor_exact: str | None
    anchor_prefix: str | None
    anchor_suffix: str | None
    anchor_start: int | None
    anchor_end: int | None
    anchor_status: AnchorStatus | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    attributions: list[ArchivedAttribution]


class ArchivedCorrection(Stored):
    id: uuid.UUID
    text: str
    created_at: AwareDatetime


class ArchivedSection(Stored):
    slug: str
    name: str
    description: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ArchivedAuthor(Stored):
    id: uuid.UUID
    slug: str
    name: str
    # The matching key is stored as it was, not worked out again.
    name_key: str
    bio: str | None
    url: str | None
    job_title: str | None
    avatar_id: uuid.UUID | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class FormerByline(Stored):
    name: str


class ArchivedArticle(Stored):
    id: uuid.UUID
    slug: str
    headline: str
    deck: str | None
    body: str
    # Derived on every write, and kept as stored so a restored article reads back the same.
    body_html: str
    sourcing: dict[str, int]
    language: str
    section: str | None
    canonical_url: str | None
    status: ArticleStatus
    published_at: AwareDatetime | None
    first_published_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None
    version: int
    syndication_allowed: bool
    syndication_usage_terms: str | None
    retraction_text: str | None
    retracted_at: AwareDatetime | None
    featured_image_id: uuid.UUID | None
    featured_image_caption: str | None
    # The byline: the authors' ids, in order (each author is a line of its own).
    authors: list[uuid.UUID]
    tags: list[str]
    corrections: list[ArchivedCorrection]
    claims: list[ArchivedClaim]

    @field_validator("authors", mode="before")
    @classmethod
    def _ids(cls, authors: Any) -> Any:
        # From the ORM, the article's authors themselves.
        return [getattr(author, "id", author) for author in authors]


class ArchivedArticleV1(ArchivedArticle):
    authors: list[FormerByline]  # type: ignore[assignment]
    # `/1` came before media: no article showed one.
    featured_image_id: None = None
    featured_image_caption: None = None


class ArchivedRevision(Stored):
    version: int
    created_at: AwareDatetime
    actor: str
    change: str
    snapshot: dict[str, Any]


class ArchivedMedium(Stored):
    id: uuid.UUID
    digest: str | None
    url: str | None
    alt: str | None
    caption: str | None
    credit: str | None
    copyright: str | None
    license: str | None
    focal_x: float
    focal_y: float
    format: str | None
    width: int | None
    height: int | None
    bytes: int | None
    renditions: list[dict[str, Any]]
    created_at: AwareDatetime
    updated_at: AwareDatetime
    # The uploaded file, base64: its renditions are made again on import. None when the
    # export left the bytes in the media store (`--media keys`), for an import beside it.
    data: str | None


class MediumLine(Stored):
    format: Literal["newsdesk-export/2"]
    medium: ArchivedMedium


class SectionLine(Stored):
    format: Literal["newsdesk-export/2"]
    section: ArchivedSection


class AuthorLine(Stored):
    format: Literal["newsdesk-export/2"]
    author: ArchivedAuthor


class ArchiveLine(Stored):
    format: Literal["newsdesk-export/2"]
    article: ArchivedArticle
    revisions: list[ArchivedRevision]


class ArchiveLineV1(Stored):
    format: Literal["newsdesk-export/1"]
    article: ArchivedArticleV1
    revisions: list[ArchivedRevision]


AnyLine = SectionLine | AuthorLine | MediumLine | ArchiveLine | ArchiveLineV1
