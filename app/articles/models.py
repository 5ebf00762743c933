import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    and_,
    inspect,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.media.service import representation as medium_representation

from .body import plain_text

if TYPE_CHECKING:
    from app.authors.models import Author
    from app.claims.models import Claim
    from app.media.models import Medium


class ArticleStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    retracted = "retracted"


# Who may see an article, written once. Readers without `content:write` see an article
# that is public: published or retracted, not deleted, and due (its publication time has
# come; a scheduled one becomes visible then with nothing having to run). Writers see
# every article that is not deleted. `Article.public_at` gives the rule in SQL too.
PUBLIC_STATUSES = (ArticleStatus.published, ArticleStatus.retracted)


class Dated(Protocol):
    """An article, its stamp or its representation: what its visibility depends on."""

    @property
    def status(self) -> ArticleStatus: ...
    @property
    def published_at(self) -> datetime | None: ...


class Deletable(Dated, Protocol):
    @property
    def deleted_at(self) -> datetime | None: ...


def is_due(article: Dated, now: datetime) -> bool:
    """Its publication time has come (whatever its status)."""
    return article.published_at is not None and article.published_at <= now


def is_live(article: Dated, now: datetime) -> bool:
    """Published and due: readers are seeing it as published (not retracted)."""
    return article.status is ArticleStatus.published and is_due(article, now)


def is_scheduled(article: Dated, now: datetime) -> bool:
    """Published for a time still to come: embargoed until then."""
    published_at = article.published_at
    return (
        article.status is ArticleStatus.published
        and published_at is not None
        and published_at > now
    )


class FirstPublished(Protocol):
    @property
    def first_published_at(self) -> datetime | None: ...


def went_live(article: FirstPublished, by: datetime) -> bool:
    """Whether readers could see the article at some point before `by` (so its deletion
    is a 410 to them, not a 404)."""
    return article.first_published_at is not None and article.first_published_at <= by


def is_public(article: Deletable, now: datetime) -> bool:
    """What readers without `content:write` may see at `now`."""
    return article.deleted_at is None and article.status in PUBLIC_STATUSES and is_due(article, now)


class Article(Base):
    __tablename__ = "article"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    headline: Mapped[str] = mapped_column(String(300))
    deck: Mapped[str | None] = mapped_column(String(600))
    body: Mapped[str] = mapped_column(Text)
    # Rendered on every write (Markdown → sanitised HTML with claim spans) so reads stay cheap.
    body_html: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    # The section's slug; the section row holds its name (see taxonomy.service.ensure).
    section: Mapped[str | None] = mapped_column(ForeignKey("section.slug"), index=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[ArticleStatus] = mapped_column(
        SAEnum(ArticleStatus, native_enum=False, length=16, validate_strings=True)
    )
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    first_published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    syndication_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    syndication_usage_terms: Mapped[str | None] = mapped_column(String(1000))
    retraction_text: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[datetime | None]
    # Counts derived from the claims on every write; see articles.service.refresh_derived.
    sourcing: Mapped[dict[str, int]] = mapped_column(JSON)
    # The picture at the top, and what its caption says here when not the medium's own.
    featured_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medium.id", ondelete="SET NULL"), index=True
    )
    featured_image_caption: Mapped[str | None] = mapped_column(Text)

    # lazy="raise": an unloaded relationship is a bug to fix with selectinload(), not a
    # hidden query (which async SQLAlchemy could not run anyway).
    author_rows: Mapped[list["ArticleAuthor"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ArticleAuthor.position"
    )
    tag_rows: Mapped[list["ArticleTag"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ArticleTag.position"
    )
    correction_rows: Mapped[list["Correction"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Correction.created_at"
    )
    claims: Mapped[list["Claim"]] = relationship(
        back_populates="article",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Claim.position",
    )
    featured_medium: Mapped["Medium | None"] = relationship(lazy="raise")
    # The images the body shows (`![alt](media:ID)`), derived from it on every write.
    body_media: Mapped[list["Medium"]] = relationship(secondary="article_image", lazy="raise")

    __table_args__ = (Index("ix_article_status_published_at", "status", "published_at", "id"),)

    @property
    def loaded_claims(self) -> list["Claim"] | None:
        """The claims when the query loaded them, else None (lists leave them out)."""
        return None if "claims" in inspect(self).unloaded else self.claims

    @property
    def body_text(self) -> str:
        """The plain text of the body, which claim anchors' offsets count in."""
        return plain_text(self.body)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def authors(self) -> list["Author"]:
        return [row.author for row in self.author_rows]

    @property
    def featured_image(self) -> dict[str, Any] | None:
        if self.featured_medium is None:
            return None
        return medium_representation(self.featured_medium, self.featured_image_caption)

    @property
    def loaded_body_images(self) -> list[dict[str, Any]] | None:
        """The media the body shows, when the query loaded them (lists leave them out)."""
        if "body_media" in inspect(self).unloaded:
            return None
        return [medium_representation(medium) for medium in self.body_media]

    @property
    def corrections(self) -> list["Correction"]:
        return self.correction_rows

    @property
    def retraction(self) -> dict[str, object] | None:
        if self.retraction_text is None:
            return None
        return {"text": self.retraction_text, "created_at": self.retracted_at}

    @property
    def syndication(self) -> dict[str, object]:
        return {"allowed": self.syndication_allowed, "usage_terms": self.syndication_usage_terms}

    def _is_public_at(self, now: datetime) -> bool:
        return is_public(self, now)

    @classmethod
    def _public_at_condition(cls, now: datetime) -> ColumnElement[bool]:
        return and_(
            cls.deleted_at.is_(None), cls.status.in_(PUBLIC_STATUSES), cls.published_at <= now
        )

    # `is_public` on a loaded article, and the same rule as a SQL condition:
    # `select(Article).where(Article.public_at(now))`.
    public_at = hybrid_method(_is_public_at, _public_at_condition)


class FormerSlug(Base):
    """A slug the article had before a rename: it answers with a permanent redirect to the
    current one, so links in feeds and on partners' pages keep working. It stays reserved
    for this article (renaming back to it simply drops the row)."""

    __tablename__ = "former_slug"

    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    renamed_at: Mapped[datetime]


class ArticleAuthor(Base):
    __tablename__ = "article_author"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("author.id"), index=True)

    author: Mapped["Author"] = relationship(lazy="raise")


class ArticleTag(Base):
    __tablename__ = "article_tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    tag: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_article_tag_tag_article_id", "tag", "article_id"),)


class Correction(Base):
    __tablename__ = "correction"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleRevision(Base):
    """The article with its claims as it stood at one version. Written in the transaction of
    the change; the primary key makes a version impossible to write twice. How the snapshot
    is kept (in pieces shared between versions) is `articles.revision_store`'s business."""

    __tablename__ = "article_revision"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(32))
    # The snapshot less its large parts, each replaced by the digest of its RevisionPiece.
    skeleton: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The whole snapshot, in rows written before pieces (migration 0008); None since.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class RevisionPiece(Base):
    """A part of an article's revisions (its body, its HTML, a claim, a list of digests),
    stored once however many revisions share it: its JSON, zlib-compressed, under the
    SHA-256 hex digest of that JSON."""

    __tablename__ = "revision_piece"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
