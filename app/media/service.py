"""Images: uploaded (checked by content, renditions made once, bytes in the media store) or
registered by URL; read, listed, described, and deleted when no article shows them."""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import anyio.to_thread
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from app.pagination import Keyset, fetch_page
from app.webhooks import addresses

from . import images
from .links import links
from .models import Medium
from .schemas import ExternalMediumCreate, MediumFields, MediumPatch
from .storage import MediaStore, digest_of, original_key, rendition_key


class MediumNotFound(NotFound):
    def __init__(self, medium_id: uuid.UUID | str) -> None:
        super().__init__(f"There is no medium {medium_id}.")


class RenditionNotFound(NotFound):
    def __init__(self, medium_id: uuid.UUID, name: str) -> None:
        super().__init__(
            f"Medium {medium_id} has no rendition {name!r}; its `renditions` lists those it has."
        )


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int


def representation(medium: Medium, caption: str | None = None) -> dict[str, Any]:
    """The medium as every format starts from it (MediumRead's fields), with `caption`
    standing in for its own when an article gives one."""
    return {
        "id": str(medium.id),
        "url": medium.url,
        "alt": medium.alt,
        "caption": caption if caption is not None else medium.caption,
        "credit": medium.credit,
        "copyright": medium.copyright,
        "license": medium.license,
        "width": medium.width,
        "height": medium.height,
        "format": medium.format,
        "bytes": medium.bytes,
        "focal_point": medium.focal_point,
        "renditions": renditions(medium),
        "created_at": medium.created_at,
        "updated_at": medium.updated_at,
    }


def renditions(medium: Medium) -> list[dict[str, Any]]:
    if medium.digest is None:
        assert medium.url is not None
        return [
            {
                "name": "external",
                "url": medium.url,
                "width": medium.width,
                "height": medium.height,
                "type": None,
                "bytes": None,
            }
        ]
    to = links()
    return [
        {
            "name": made["name"],
            "url": to.rendition(medium.id, medium.digest, made["name"]),
            "width": made["width"],
            "height": made["height"],
            "type": made["type"],
            "bytes": made["bytes"],
        }
        for made in medium.renditions
    ]


def _refused(loc: list[str | int], reason: str) -> Invalid:
    return Invalid(f"The file {reason}.", loc, "not_an_accepted_image")


async def store_upload(
    store: MediaStore, data: bytes, max_pixels: int, focal_x: float, focal_y: float
) -> tuple[images.Inspected, list[dict[str, Any]]]:
    """Put an accepted file and its renditions in the store (under content-addressed keys,
    so the same bytes again land on the same objects): what the file is, and its renditions
    as a medium lists them. Raises images.NotAcceptable for what is not an image Newsdesk
    publishes."""
    focus = images.FocalPoint(focal_x, focal_y)
    inspected, made = await anyio.to_thread.run_sync(images.render, data, max_pixels, focus)
    await store.put(original_key(inspected.digest), data, inspected.media_type)
    for rendition in made:
        await store.put(
            rendition_key(inspected.digest, rendition.name), rendition.data, rendition.media_type
        )
    return inspected, [_listed(rendition) for rendition in made]


def _listed(rendition: images.Rendition) -> dict[str, Any]:
    return {
        "name": rendition.name,
        "width": rendition.width,
        "height": rendition.height,
        "type": rendition.media_type,
        "bytes": len(rendition.data),
        "digest": rendition.digest,
    }


async def _same_upload(session: AsyncSession, digest: str, focus: Any) -> Medium | None:
    """An earlier medium of the same bytes and focal point: its renditions are ours."""
    return await session.scalar(
        select(Medium)
        .where(Medium.digest == digest, Medium.focal_x == focus.x, Medium.focal_y == focus.y)
        .limit(1)
    )


async def upload(
    session: AsyncSession,
    store: MediaStore,
    limits: Limits,
    data: bytes,
    fields: MediumFields,
) -> Medium:
    """A new medium from an uploaded file: refused (422, nothing stored) unless it is an
    image Newsdesk publishes."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(
            f"The file is {len(data)} bytes; an upload may be at most {limits.max_bytes}."
        )
    if not data:
        raise _refused(["body", "file"], "is empty")
    digest = hashlib.sha256(data).hexdigest()
    earlier = await _same_upload(session, digest, fields.focal_point)
    if (
        earlier is not None
        and (earlier.width or 0) * (earlier.height or 0) <= limits.max_pixels
        and await store.exists(original_key(digest))
    ):
        # These very bytes were accepted before: their size and renditions are known.
        size = {"format": earlier.format, "width": earlier.width, "height": earlier.height}
        made = list(earlier.renditions)
    else:
        focus = fields.focal_point
        try:
            inspected, made = await store_upload(store, data, limits.max_pixels, focus.x, focus.y)
        except images.NotAcceptable as refused:
            raise _refused(["body", "file"], str(refused)) from None
        size = {"format": inspected.format, "width": inspected.width, "height": inspected.height}
    return await _added(session, fields, digest=digest, bytes=len(data), renditions=made, **size)


async def _added(session: AsyncSession, fields: MediumFields, **columns: Any) -> Medium:
    """A new medium described by `fields`, with `columns` (what its file or URL says)."""
    now = datetime.now(UTC)
    medium = Medium(
        id=uuid.uuid4(), created_at=now, updated_at=now, **_described(fields), **columns
    )
    session.add(medium)
    await session.flush()
    return medium


def _described(fields: MediumFields) -> dict[str, Any]:
    return {
        "alt": fields.alt or None,
        "caption": fields.caption or None,
        "credit": fields.credit or None,
        "copyright": fields.copyright or None,
        "license": fields.license,
        "focal_x": fields.focal_point.x,
        "focal_y": fields.focal_point.y,
    }


def check_external_url(url: str, allow_private: bool) -> None:
    """The webhook rules: readers' browsers would fetch it, so it must be public http(s)."""
    try:
        addresses.check_url(url, allow_private=allow_private)
    except addresses.RefusedUrl as refused:
        raise Invalid(f"The URL {refused}.", ["body", "url"], "refused_url") from None


async def register(
    session: AsyncSession, data: ExternalMediumCreate, *, allow_private: bool
) -> Medium:
    check_external_url(data.url, allow_private)
    return await _added(
        session, data, url=data.url, width=data.width, height=data.height, renditions=[]
    )


async def in_library(
    session: AsyncSession, medium_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Medium]:
    """The media of the library among `medium_ids`, by id."""
    if not medium_ids:
        return {}
    # Asked mid-write (an article or author naming a medium): what is being written is not
    # ready to be flushed yet.
    with session.no_autoflush:
        found = await session.scalars(select(Medium).where(Medium.id.in_(medium_ids)))
    return {medium.id: medium for medium in found}


async def referenced(session: AsyncSession, medium_id: uuid.UUID, loc: list[str | int]) -> Medium:
    """The medium a write refers to (a featured image, an avatar): 422 at `loc` when the
    library has no such one."""
    found = (await in_library(session, [medium_id])).get(medium_id)
    if found is None:
        raise Invalid(f"There is no medium {medium_id} in the library.", loc, "unknown_medium")
    return found


async def get(session: AsyncSession, medium_id: uuid.UUID) -> Medium:
    medium = await session.get(Medium, medium_id)
    if medium is None:
        raise MediumNotFound(medium_id)
    return medium


MEDIA_ORDER = Keyset("media", [Medium.created_at, Medium.id], [datetime, uuid.UUID], True)


async def list_media(
    session: AsyncSession, q: str | None, limit: int, cursor: str | None
) -> tuple[list[Medium], str | None]:
    """Newest first; `q` finds words in the alt text, caption or credit."""
    query = select(Medium)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                *(
                    column.is_not(None) & column.ilike(pattern)
                    for column in (Medium.alt, Medium.caption, Medium.credit)
                )
            )
        )
    found, next_cursor = await fetch_page(
        session,
        query,
        MEDIA_ORDER,
        cursor=cursor,
        limit=limit,
        key=lambda medium: [medium.created_at, medium.id],
        scalars=True,
    )
    return list(found), next_cursor


async def patch(
    session: AsyncSession,
    store: MediaStore,
    limits: Limits,
    medium: Medium,
    data: MediumPatch,
) -> bool:
    """JSON Merge Patch of what is said about the image; whether anything changed. A new
    focal point makes new crops (under new names, so what caches hold stays right)."""
    given = data.model_dump(exclude_unset=True)
    before = representation(medium)
    for name in ("alt", "caption", "credit", "copyright", "license"):
        if name in given:
            setattr(medium, name, given[name] or None)
    if "focal_point" in given:
        focus = data.focal_point or images.FocalPoint()
        if (focus.x, focus.y) != (medium.focal_x, medium.focal_y):
            medium.focal_x, medium.focal_y = focus.x, focus.y
            await _recrop(store, limits, medium)
    if representation(medium) == before:
        return False
    medium.updated_at = datetime.now(UTC)
    await session.flush()
    return True


async def _recrop(store: MediaStore, limits: Limits, medium: Medium) -> None:
    if medium.digest is None:
        return
    focus = images.FocalPoint(medium.focal_x, medium.focal_y)
    data = await store.get(original_key(medium.digest))
    crops = await anyio.to_thread.run_sync(images.crops_of, data, limits.max_pixels, focus)
    for crop in crops:
        await store.put(rendition_key(medium.digest, crop.name), crop.data, crop.media_type)
    widths = [made for made in medium.renditions if not images.is_crop(made["name"])]
    medium.renditions = widths + [_listed(crop) for crop in crops]


class Shown(Protocol):
    """An article that shows a medium, as a refusal names it."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def slug(self) -> str: ...
    @property
    def status(self) -> str: ...


class MediumInUse(Conflict):
    def __init__(self, medium_id: uuid.UUID, articles: Sequence[Shown]) -> None:
        named = ", ".join(f"{a.slug} ({a.id}, {a.status})" for a in articles)
        super().__init__(
            f"Medium {medium_id} is shown by {len(articles)} article(s): {named}. "
            "Take it out of them first."
        )


async def delete(session: AsyncSession, medium: Medium, shown_by: Sequence[Shown]) -> None:
    """Gone for good, unless an article shows it. Its bytes stay in the store until
    `newsdesk purge` finds nothing refers to them (so a transaction that fails after this
    can never leave a medium without its bytes)."""
    if shown_by:
        raise MediumInUse(medium.id, shown_by)
    await session.delete(medium)
    await session.flush()


async def rendition(session: AsyncSession, medium_id: uuid.UUID, name: str) -> dict[str, Any]:
    """The rendition `name` of a stored medium: its key and validators."""
    row = await session.execute(
        select(Medium.digest, Medium.renditions).where(Medium.id == medium_id)
    )
    found = row.first()
    if found is None:
        raise MediumNotFound(medium_id)
    digest, made = found
    for listed in made or []:
        if listed["name"] == name:
            return {**listed, "key": rendition_key(digest, name)}
    raise RenditionNotFound(medium_id, name)


# An object younger than this is never swept: its medium may be in a transaction that has
# not committed yet (an upload stores the file first, then the row).
SWEEP_GRACE = timedelta(hours=1)


async def sweep(session: AsyncSession, store: MediaStore) -> int:
    """Remove from the store what no medium refers to: the files of deleted media, those of
    uploads whose transaction failed, and crops for focal points since moved. Returns how
    many objects went."""
    named: dict[str, set[str]] = {}
    for digest, made in await session.execute(
        select(Medium.digest, Medium.renditions).where(Medium.digest.is_not(None))
    ):
        named.setdefault(digest, set()).update(listed["name"] for listed in made)
    settled = datetime.now(UTC) - SWEEP_GRACE
    swept = 0
    for key, written in await store.listing("originals/") + await store.listing("renditions/"):
        digest = digest_of(key)
        unused = digest not in named or (
            key.startswith("renditions/") and key.rsplit("/", 1)[1] not in named[digest]
        )
        if unused and written < settled:
            await store.delete(key)
            swept += 1
    return swept
