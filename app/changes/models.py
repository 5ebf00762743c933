import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ChangeEvent(Base):
    """One change to public content, in commit order (`seq`). An event belongs to the
    public view (what readers see), to the syndicated view (what partners may take: the
    public view less articles with syndication.allowed=false), or to both."""

    __tablename__ = "change_event"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event: Mapped[str] = mapped_column(String(32))
    # No foreign key: the log outlives a purge of the article it speaks of.
    article_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    slug: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    in_public: Mapped[bool] = mapped_column(Boolean)
    in_syndicated: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_change_event_article_id_seq", "article_id", "seq"),)


class ScheduledChange(Base):
    """An article published for a later time: when that time comes it is recorded as
    published, by whichever comes first of the webhook dispatcher's leader (on a timer, so
    webhooks hear of it with no traffic) and a read of the changes feed (so the feed is right
    even where no dispatcher runs)."""

    __tablename__ = "scheduled_change"

    article_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
