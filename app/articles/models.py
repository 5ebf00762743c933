import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

from .rendering import plain_text

if TYPE_CHECKING:
    from app.claims.models import Claim


class ArticleStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    retracted = "retracted"


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
    section: Mapped[str | None] = mapped_column(String(64), index=True)
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
    def authors(self) -> list[dict[str, str]]:
        return [{"name": row.name} for row in self.author_rows]

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


def publicly_visible(now: datetime) -> ColumnElement[bool]:
    """What readers without `content:write` may see: published or retracted, not deleted,
    and not scheduled for later."""
    return and_(
        Article.deleted_at.is_(None),
        Article.status.in_([ArticleStatus.published, ArticleStatus.retracted]),
        Article.published_at <= now,
    )


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
    name: Mapped[str] = mapped_column(String(200), index=True)


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
