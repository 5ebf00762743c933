import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Medium(Base):
    """An image: uploaded (its bytes in the media store under `digest`, with renditions made
    from them) or registered by URL (it lives in a newsroom's DAM or CDN; `url`)."""

    __tablename__ = "medium"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # SHA-256 of the uploaded file (hex), the key of its bytes; None for an external image.
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    # Required before an article showing the image is published (not before).
    alt: Mapped[str | None] = mapped_column(String(1000))
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(300))
    copyright: Mapped[str | None] = mapped_column(String(300))
    license: Mapped[str | None] = mapped_column(String(2048))
    focal_x: Mapped[float] = mapped_column(Float, default=0.5)
    focal_y: Mapped[float] = mapped_column(Float, default=0.5)
    format: Mapped[str | None] = mapped_column(String(8))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(Integer)
    # Each rendition made: {name, width, height, type, bytes, digest}; the digest is its ETag.
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def focal_point(self) -> dict[str, float]:
        return {"x": self.focal_x, "y": self.focal_y}


class ArticleImage(Base):
    """An image shown in an article's body (`![alt](media:ID)`), derived from the body on
    every write: what tells which articles a medium is in."""

    __tablename__ = "article_image"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    medium_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("medium.id", ondelete="CASCADE"), primary_key=True, index=True
    )
