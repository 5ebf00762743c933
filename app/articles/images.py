"""The images an article shows: its featured image and the media its body shows
(`![alt](media:ID)`). Checked on every write: each must be in the library, and an article
readers can see must not show one without alt text."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from app.media import service as media
from app.media.models import Medium
from app.media.schemas import MediumRead

from .body import Picture, media_ids
from .models import PUBLIC_STATUSES, Article


def picture(medium: Medium) -> Picture:
    """How the body shows `medium`: its JPEG widths in `srcset`, the one shown by default
    as `src` (an external image: its URL alone)."""
    read = MediumRead.model_validate(media.representation(medium))
    widths = read.widths()
    shown = read.shown()
    srcset = (
        ", ".join(f"{r.url} {r.width}w" for r in reversed(widths)) if read.url is None else None
    )
    return Picture(
        str(medium.id),
        shown.url,
        srcset,
        shown.width,
        shown.height,
        medium.alt,
        medium.caption,
        medium.credit,
    )


def pictures(article: Article) -> dict[str, Picture]:
    return {str(medium.id): picture(medium) for medium in article.body_media}


async def attach_body_media(session: AsyncSession, article: Article) -> None:
    """The media the body shows, looked up: 422 naming the first that is not in the library
    (a body can only show an image uploaded or registered first)."""
    named = media_ids(article.body)
    ids: list[uuid.UUID] = []
    for raw in named:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            raise Invalid(
                f"The body shows media:{raw}, which is not a medium id.", ["body"], "unknown_medium"
            ) from None
    if [medium.id for medium in article.body_media] == ids:
        return
    found = await media.in_library(session, ids)
    for medium_id in ids:
        if medium_id not in found:
            raise Invalid(
                f"The body shows media:{medium_id}, which is not in the library.",
                ["body"],
                "unknown_medium",
            )
    article.body_media = [found[medium_id] for medium_id in ids]


def check_alt_text(article: Article) -> None:
    """Readers who cannot see an image need its alt text: an article that readers see (or
    will, once scheduled) may not show an image without it."""
    if article.status not in PUBLIC_STATUSES:
        return
    shown = [
        ("featured_image", article.featured_medium),
        *(("body", m) for m in article.body_media),
    ]
    for where, medium in shown:
        if medium is not None and not medium.alt:
            raise Invalid(
                f"Medium {medium.id} ({where.replace('_', ' ')}) has no alt text, which an "
                "article readers see must give for every image: set it with "
                f"PATCH /v1/media/{medium.id}.",
                [where],
                "alt_text_required",
            )
