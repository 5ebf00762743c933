import enum
import unicodedata
import uuid
from datetime import datetime

from sqlalchemy import Enum as SAEnum
from sqlalchemy import String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class SourceKind(enum.StrEnum):
    person = "person"
    organization = "organization"
    publication = "publication"
    government = "government"
    anonymous = "anonymous"
    document = "document"


def match_key(name: str, affiliation: str | None = None) -> str:
    """How sources are matched on write: case-, width- and space-insensitive name (plus the
    affiliation, which is what tells one group of unnamed officials from another)."""

    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    key = fold(name)
    if affiliation:
        key += " @ " + fold(affiliation)
    return key


class Source(Base):
    __tablename__ = "source"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[SourceKind] = mapped_column(
        SAEnum(SourceKind, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str] = mapped_column(String(300))
    match_key: Mapped[str] = mapped_column(String(700))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    affiliation: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "match_key"),)
