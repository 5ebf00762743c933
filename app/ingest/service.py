"""Ingest: a raw story page in, a draft article with its attributed claims out."""

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import service as articles
from app.articles import workflow
from app.articles.models import Article
from app.articles.rendering import plain_text
from app.articles.schemas import ArticleWrite, Author
from app.claims.schemas import AnchorWrite, AttributionWrite, ClaimWrite
from app.errors import Invalid, field_message

from . import attribution, page
from .sources import Resolver

# Text with more of these than this share of its characters is not text.
MAX_CONTROL_SHARE = 0.01


@dataclass
class Raw:
    """What was sent: the page (text or HTML) and what the caller adds to it."""

    content: str
    html: bool = False
    url: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)


def _check_is_text(content: str) -> None:
    if not content.strip():
        raise Invalid("The page is empty.", ["body"], "empty")
    controls = sum(1 for c in content if c < " " and c not in "\n\r\t")
    if "\x00" in content or controls > MAX_CONTROL_SHARE * len(content):
        raise Invalid("The page is not text (it holds control bytes).", ["body"], "not_text")


def read(raw: Raw) -> page.Page:
    """The page's parts, or a 422 saying why there is no story in it."""
    _check_is_text(raw.content)
    try:
        story = page.read_html(raw.content) if raw.html else page.read_text(raw.content)
    except page.NoStory as missing:
        raise Invalid(str(missing), ["body"], "no_story") from None
    if not page.is_english(story):
        raise Invalid(
            "The story does not appear to be in English, the only language ingest reads.",
            ["body"],
            "unsupported_language",
        )
    return story


def _anchor(exact: str, projection: str) -> AnchorWrite | None:
    """Anchor a claim on its sentence, when the body's plain text holds it as written."""
    return AnchorWrite(exact=exact) if exact in projection else None


def draft(raw: Raw) -> ArticleWrite:
    """The draft article: clean text, and a claim for every attributed or factual sentence,
    anchored in the body, with its sources resolved across the article."""
    story = read(raw)
    body = "\n\n".join(story.paragraphs)
    projection = plain_text(body)
    reading = attribution.Reading()
    for paragraph in story.paragraphs:
        attribution.read_paragraph(paragraph, reading)
    resolver = Resolver(body)
    claims = [
        ClaimWrite(
            statement=finding.statement[:1000],
            kind=finding.kind,
            quote=finding.quote[:2000] if finding.quote else None,
            anchor=_anchor(finding.exact, projection),
            attributions=[
                AttributionWrite(
                    source=resolver.source(found.mention, outlet=found.outlet),
                    role=found.role,
                    cue=found.cue or None,
                )
                for found in finding.attributions
            ],
        )
        for finding in reading.claims
    ]
    try:
        return ArticleWrite(
            headline=story.headline,
            deck=story.deck or None,
            body=body,
            section=raw.section,
            tags=raw.tags,
            authors=[Author(name=name) for name in story.authors],
            canonical_url=raw.url,
            claims=claims,
        )
    except ValidationError as error:
        # The page made something the article cannot hold (e.g. a headline of 400
        # characters): say which part, as for any other invalid article.
        first = error.errors()[0]
        loc = ["body", *[str(part) for part in first["loc"]]]
        raise Invalid(
            f"The story cannot be stored: {field_message(first)}.", loc, first["type"]
        ) from None


async def store(
    session: AsyncSession, draft: ArticleWrite, actor: str, *, publish: bool = False
) -> Article:
    """Save the draft (sources matched to existing ones), and publish it if asked."""
    article = await articles.create(session, draft, actor)
    if publish:
        await workflow.publish(session, article, actor)
    return article
