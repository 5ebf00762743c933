"""Ingest: a raw story page in, a draft article with its attributed claims out."""

import re
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import service as articles
from app.articles import workflow
from app.articles.body import plain_text
from app.articles.models import Article
from app.articles.schemas import ArticleWrite, Body
from app.authors.schemas import Byline
from app.claims.schemas import MAX_CLAIMS_PER_ARTICLE, AnchorWrite, AttributionWrite, ClaimWrite
from app.errors import Invalid

from . import attribution, language, page
from .mentions import Resolver

# Text with more of these than this share of its characters is not text.
MAX_CONTROL_SHARE = 0.01
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Reading a page costs per line (text) or per element (HTML: trafilatura), finding claims
# costs per paragraph (parsing): pages and stories past these sizes are refused before that
# work. An HTML page is first parsed (cheap: lxml, about 0.1 s for 200,000 elements) and
# stripped of what holds no text (scripts, styles, drawings), which is most of a real
# page's megabytes; what is left is counted. Real stories are far smaller (a long read has
# a few hundred paragraphs); a body of more could not be stored anyway (see
# articles.body's MARKUP_BUDGET).
MAX_PAGE_LINES = 10_000
MAX_PAGE_TAGS = 250_000
MAX_PAGE_ELEMENTS = 20_000
MAX_STORY_PARAGRAPHS = 1_000
TAG = re.compile(r"<[A-Za-z]")  # an element opens
BODY = TypeAdapter(Body)


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
    controls = len(CONTROL.findall(content))
    if "\x00" in content or controls > MAX_CONTROL_SHARE * len(content):
        raise Invalid("The page is not text (it holds control bytes).", ["body"], "not_text")


def _check_page_size(raw: Raw) -> None:
    if raw.html:
        tags = len(TAG.findall(raw.content))
        if tags > MAX_PAGE_TAGS:
            raise _too_large(
                f"The page has {tags} HTML tags; ingest reads at most {MAX_PAGE_TAGS}."
            )
        return
    lines = max(raw.content.count("\n"), raw.content.count("\r")) + 1
    if lines > MAX_PAGE_LINES:
        raise _too_large(
            f"The page has {lines} lines; ingest reads pages of at most {MAX_PAGE_LINES}."
        )


def _too_large(detail: str) -> Invalid:
    return Invalid(detail, ["body"], "page_too_large")


def _read_html(html: str) -> page.Page:
    tree = page.content_of(html)
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_PAGE_ELEMENTS:
        raise _too_large(
            f"The page has {elements} HTML elements besides scripts and styles; ingest "
            f"reads pages of at most {MAX_PAGE_ELEMENTS}."
        )
    return page.read_html(tree)


def read(raw: Raw) -> page.Page:
    """The page's parts, or a 422 saying why there is no story in it."""
    _check_page_size(raw)
    _check_is_text(raw.content)
    try:
        story = _read_html(raw.content) if raw.html else page.read_text(raw.content)
    except page.NoStory as missing:
        raise Invalid(str(missing), ["body"], "no_story") from None
    if len(story.paragraphs) > MAX_STORY_PARAGRAPHS:
        raise Invalid(
            f"The story has {len(story.paragraphs)} paragraphs; ingest reads stories of at "
            f"most {MAX_STORY_PARAGRAPHS}.",
            ["body"],
            "story_too_long",
        )
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
    try:
        BODY.validate_python(body)  # its length and markup, before the claims are looked for
    except ValidationError as error:
        raise _cannot_store(error, ["body"]) from None
    projection = plain_text(body)
    reading = attribution.Reading()
    for paragraph in language.parse(story.paragraphs):
        attribution.read_paragraph(paragraph, reading)
        if len(reading.claims) > MAX_CLAIMS_PER_ARTICLE:
            raise Invalid(
                f"The story cannot be stored: it makes more than {MAX_CLAIMS_PER_ARTICLE} "
                "claims, the most an article holds.",
                ["body", "claims"],
                "too_long",
            )
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
                # A misparse can make a mark its subject ("Will's call": "'s"); no source.
                if any(character.isalnum() for character in found.mention)
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
            authors=[Byline(name=name) for name in story.authors],
            canonical_url=raw.url,
            claims=claims,
        )
    except ValidationError as error:
        raise _cannot_store(error) from None


def _cannot_store(error: ValidationError, loc: list[str] | None = None) -> Invalid:
    """The page made something the article cannot hold (e.g. a headline of 400 characters):
    say which part, as for any other invalid article."""
    return Invalid.first_of(error, ["body", *(loc or [])], "The story cannot be stored: {}.")


async def store(
    session: AsyncSession, draft: ArticleWrite, actor: str, *, publish: bool = False
) -> Article:
    """Save the draft (sources matched to existing ones), and publish it if asked."""
    article = await articles.create(session, draft, actor)
    if publish:
        await workflow.publish(session, article, actor)
    return article
