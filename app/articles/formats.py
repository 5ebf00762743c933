"""The other representations of one article: schema.org JSON-LD and IPTC ninjs 3.1.

Pure functions from an `ArticleRead` (with its claims) and the settings to a JSON-ready
document; the router picks one with `choose` and serves it with `render`.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import WithJsonSchema

from app.authors.schemas import AuthorSummary
from app.claims.models import AttributionRole
from app.claims.schemas import ClaimRead, Review
from app.errors import Invalid
from app.fields import rfc3339
from app.media.schemas import MediumRead
from app.settings import Settings
from app.sources.models import SourceKind
from app.sources.schemas import SourceSummary

from .body import plain_text
from .models import ArticleStatus, is_due, is_live, is_scheduled
from .schemas import ArticleRead, ArticleView, article_payload, distinct_sources

Format = Literal["json", "jsonld", "ninjs"]
JsonObject = dict[str, Any]

JSONLD_MEDIA_TYPE = "application/ld+json"
NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
# The widest picture JSON-LD names: search engines want large images (at least 1200 wide).
MAX_JSONLD_WIDTH = 2048
# `format=ninjs` is application/json too; IPTC's schema describes it in full.
NinjsDocument = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "title": "NinjsDocument",
            "required": ["uri", "standard"],
            "description": f"An IPTC ninjs 3.1 document, valid against {NINJS_SCHEMA}.",
        }
    ),
]
# What `GET /v1/articles/{article}` answers as application/json.
ArticleDocument = ArticleView | NinjsDocument

SCHEMA_ORG_TYPES = {
    SourceKind.person: "Person",
    SourceKind.organization: "Organization",
    SourceKind.government: "GovernmentOrganization",
    SourceKind.publication: "NewsMediaOrganization",
    SourceKind.document: "CreativeWork",
    # Unnamed people ("two senior port officials"): a Person with a description, no name.
    SourceKind.anonymous: "Person",
}
ORGANISATION_KINDS = frozenset(
    {SourceKind.organization, SourceKind.government, SourceKind.publication}
)
# Who a claim comes from; a source that disputes or denies it is not its author.
CLAIMANT_ROLES = frozenset(
    {
        AttributionRole.asserted_by,
        AttributionRole.confirmed_by,
        AttributionRole.reported_by,
        AttributionRole.first_reported_by,
    }
)

# OpenAPI `responses=` for the single-article GET: the JSON-LD media type and the Link
# header that comes with ninjs (whose body is application/json like the default).
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The article. `format=json` (default): the schema below. "
        "`format=jsonld` or `Accept: application/ld+json`: schema.org JSON-LD, an `@graph` "
        "with the `NewsArticle` first, then one `ClaimReview` per reviewed claim. "
        "`format=ninjs`: an IPTC ninjs 3.1 document (application/json, valid against "
        f"{NINJS_SCHEMA}).",
        "headers": {
            "Link": {
                "description": 'With `format=ninjs`: the ninjs schema (`rel="describedby"`) '
                'and the article\'s claims (`rel="related"`).',
                "schema": {"type": "string"},
            }
        },
        "content": {
            JSONLD_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["@context", "@graph"],
                    "properties": {
                        "@context": {"type": "string", "const": "https://schema.org"},
                        "@graph": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "The NewsArticle, then its ClaimReviews.",
                        },
                    },
                }
            }
        },
    }
}


class Document(NamedTuple):
    payload: JsonObject
    media_type: str
    headers: dict[str, str]


def choose(
    format: Format | None,
    accept: str | None,
    *,
    fields: frozenset[str] | None,
    include: frozenset[str],
) -> Format:
    """The representation to send: `format` when given, else JSON-LD when `Accept` prefers
    it to plain JSON, else the default JSON. `fields` and `include` shape only the default
    JSON, so they are refused with the other formats rather than silently ignored."""
    chosen: Format = format or (
        "jsonld"
        if accept and _quality(accept, JSONLD_MEDIA_TYPE) > _quality(accept, "application/json")
        else "json"
    )
    if chosen != "json":
        for parameter, given in (("fields", fields is not None), ("include", bool(include))):
            if given:
                raise Invalid(
                    f"{parameter} applies to format=json only, not to format={chosen}.",
                    ["query", parameter],
                )
    return chosen


def _quality(accept: str, media_type: str) -> float:
    """The q that `accept` gives `media_type`: that of the most specific range matching it."""
    main_type = media_type.split("/")[0]
    specificity, quality = -1, 0.0
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        rank = {media_type: 2, f"{main_type}/*": 1, "*/*": 0}.get(media_range.lower())
        if rank is None or rank <= specificity:
            continue
        specificity, quality = rank, 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
    return quality


def render(
    chosen: Format,
    article: Any,
    settings: Settings,
    *,
    fields: frozenset[str] | None = None,
    include: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> Document:
    """One loaded article (with its claims) in the chosen format."""
    if chosen == "json":
        payload = article_payload(article, include=include | {"claims"}, fields=fields)
        return Document(payload, "application/json", {})
    read = ArticleRead.model_validate(article)
    now = now or datetime.now(UTC)
    if chosen == "jsonld":
        return Document(jsonld(read, settings, now), JSONLD_MEDIA_TYPE, {})
    base = _base(settings)
    links = (
        f'<{NINJS_SCHEMA}>; rel="describedby", <{base}/v1/articles/{read.id}/claims>; rel="related"'
    )
    return Document(ninjs(read, settings, now), "application/json", {"Link": links})


# --- schema.org JSON-LD ------------------------------------------------------------------


def jsonld(article: ArticleRead, settings: Settings, now: datetime) -> JsonObject:
    """schema.org JSON-LD: an `@graph` whose first node is the `NewsArticle`, followed by
    one `ClaimReview` per claim that has a `review`. A graph is what Google and other
    schema.org consumers read when a page describes several things; the ClaimReviews point
    back at the article by its `@id`. Each source goes where schema.org's ranges let it:
    documents are `citation` (CreativeWork), people and organisations `mentions`."""
    base = _base(settings)
    article_id = f"{base}/v1/articles/{article.id}"
    url = article.canonical_url or f"{base}/v1/articles/{article.slug}"
    claims = article.claims or []
    anonymous = _anonymous_descriptions(claims)
    documents, others = _by_range(distinct_sources(claims))
    plain = plain_text(article.body)
    news_article = _present(
        {
            "@type": "NewsArticle",
            "@id": article_id,
            "url": url,
            "mainEntityOfPage": url,
            "headline": article.headline,
            "alternativeHeadline": article.deck,
            "description": article.deck,
            "datePublished": _time(article.published_at),
            "dateModified": _time(article.updated_at),
            "dateCreated": _time(article.created_at),
            "inLanguage": article.language,
            "articleSection": article.section,
            "keywords": article.tags,
            "author": [_author_node(author, base) for author in article.authors],
            "image": _image_objects(article.featured_image) if article.featured_image else None,
            "publisher": {
                "@type": "NewsMediaOrganization",
                "name": settings.publisher_name,
                "url": settings.publisher_url or base,
            },
            "articleBody": plain,
            "wordCount": len(plain.split()),
            "version": article.version,
            "creativeWorkStatus": _work_status(article, now),
            "citation": [_source_node(source, base, anonymous) for source in documents],
            "mentions": [_source_node(source, base, anonymous) for source in others],
            "correction": _corrections(article),
        }
    )
    reviews = [
        _claim_review(claim, claim.review, base, article_id, url, anonymous)
        for claim in claims
        if claim.review
    ]
    return {"@context": "https://schema.org", "@graph": [news_article, *reviews]}


def _image_objects(image: MediumRead) -> list[JsonObject]:
    """The featured image as schema.org ImageObjects: the picture as shown, then its crops at
    16:9, 4:3 and 1:1 around the focal point, the ratios Google asks of article images."""
    about = {
        "caption": image.caption,
        "description": image.alt,
        "creditText": image.credit,
        "copyrightNotice": image.copyright,
        "license": image.license,
    }
    return [
        _present(
            {
                "@type": "ImageObject",
                "url": rendition.url,
                "contentUrl": rendition.url,
                "width": rendition.width,
                "height": rendition.height,
                "encodingFormat": rendition.type,
                **about,
            }
        )
        for rendition in (image.shown(MAX_JSONLD_WIDTH), *image.crops())
    ]


def _author_node(author: AuthorSummary, base: str) -> JsonObject:
    """An author as a schema.org `Person`: their own page as `url`, else theirs here."""
    return _present(
        {
            "@type": "Person",
            "name": author.name,
            "url": author.url or author_page(base, author),
            "jobTitle": author.job_title,
        }
    )


def author_page(base: str, author: AuthorSummary) -> str:
    return f"{base}/v1/authors/{author.slug}"


def _work_status(article: ArticleRead, now: datetime) -> str:
    if article.status is ArticleStatus.retracted:
        return "Retracted"
    if article.status is ArticleStatus.draft or article.published_at is None:
        return "Draft"
    return "Published" if is_due(article, now) else "Scheduled"


def _corrections(article: ArticleRead) -> list[JsonObject]:
    notes = [
        {
            "@type": "CorrectionComment",
            "name": "Correction",
            "text": correction.text,
            "datePublished": _time(correction.created_at),
        }
        for correction in article.corrections
    ]
    if article.retraction:
        notes.append(
            {
                "@type": "CorrectionComment",
                "name": "Retraction",
                "text": article.retraction.text,
                "datePublished": _time(article.retraction.created_at),
            }
        )
    return notes


def _anonymous_descriptions(claims: list[ClaimRead]) -> dict[uuid.UUID, str]:
    """How this article describes each unnamed source (`senior U.S. officials`)."""
    described: dict[uuid.UUID, str] = {}
    for claim in claims:
        for attribution in claim.attributions:
            if attribution.anonymous_description:
                described.setdefault(attribution.source.id, attribution.anonymous_description)
    return described


def _by_range(sources: Iterable[SourceSummary]) -> tuple[list[SourceSummary], list[SourceSummary]]:
    """The documents (CreativeWorks), and the people and organisations."""
    documents: list[SourceSummary] = []
    others: list[SourceSummary] = []
    for source in sources:
        (documents if source.kind is SourceKind.document else others).append(source)
    return documents, others


def _source_node(source: SourceSummary, base: str, anonymous: dict[uuid.UUID, str]) -> JsonObject:
    """A source as a schema.org node of the type its kind maps to. An unnamed source is a
    `Person` with only a description and an affiliation: a name (or a URL) would identify,
    or invent, someone."""
    unnamed = source.kind is SourceKind.anonymous
    affiliation_property = {
        SourceKind.person: "affiliation",
        SourceKind.anonymous: "affiliation",
        SourceKind.document: "sourceOrganization",
    }.get(source.kind, "parentOrganization")
    return _present(
        {
            "@type": SCHEMA_ORG_TYPES[source.kind],
            "@id": f"{base}/v1/sources/{source.id}",
            "name": None if unnamed else source.name,
            "description": (
                anonymous.get(source.id) or source.description or source.name
                if unnamed
                else source.description
            ),
            "url": None if unnamed else source.url,
            affiliation_property: (
                {"@type": "Organization", "name": source.affiliation}
                if source.affiliation
                else None
            ),
        }
    )


def _claim_review(
    claim: ClaimRead,
    review: Review,
    base: str,
    article_id: str,
    article_url: str,
    anonymous: dict[uuid.UUID, str],
) -> JsonObject:
    claim_id = f"{base}/v1/claims/{claim.id}"
    claimants = _distinct(a.source for a in claim.attributions if a.role in CLAIMANT_ROLES)
    # A Claim's author is a Person or an Organization; a document it comes from is cited.
    documents, authors = _by_range(claimants)
    return _present(
        {
            "@type": "ClaimReview",
            "@id": f"{claim_id}#review",
            "url": review.url or article_url,
            "claimReviewed": claim.statement,
            "itemReviewed": _present(
                {
                    "@type": "Claim",
                    "@id": claim_id,
                    "text": claim.quote or claim.statement,
                    "author": [_source_node(source, base, anonymous) for source in authors],
                    "citation": [_source_node(source, base, anonymous) for source in documents],
                    "appearance": {"@type": "NewsArticle", "@id": article_id, "url": article_url},
                }
            ),
            "reviewRating": _present(
                {
                    "@type": "Rating",
                    "ratingValue": review.rating_value,
                    "bestRating": review.best_rating,
                    "worstRating": review.worst_rating,
                    "alternateName": review.rating,
                }
            ),
            "author": {"@type": "Organization", "name": review.reviewed_by},
            "datePublished": _time(review.reviewed_at),
        }
    )


# --- IPTC ninjs 3.1 ----------------------------------------------------------------------


def ninjs(article: ArticleRead, settings: Settings, now: datetime) -> JsonObject:
    """IPTC ninjs 3.1, valid against the IPTC schema, which admits no other properties: the
    claims are not in it (the response links to them)."""
    plain = plain_text(article.body)
    counts = {"wordCount": len(plain.split()), "charCount": len(plain)}
    sources = distinct_sources(article.claims or [])
    base = _base(settings)
    embargoed = is_scheduled(article, now)
    headlines = [{"role": "main", "contentType": "text/plain", "value": article.headline}]
    if article.deck:
        headlines.append({"role": "subhead", "contentType": "text/plain", "value": article.deck})
    return _present(
        {
            "uri": f"{base}/v1/articles/{article.id}",
            "standard": {"name": "ninjs", "version": "3.1", "schema": f"{NINJS_SCHEMA}#"},
            "type": "text",
            "representationType": "full",
            "version": str(article.version),
            "firstCreated": _time(article.created_at),
            "versionCreated": _time(article.updated_at),
            "pubStatus": _pub_status(article, now),
            "embargoedUntil": _time(article.published_at) if embargoed else None,
            "language": article.language,
            "slugline": article.slug,
            "usageTerms": article.syndication.usage_terms,
            "edNote": f"Retracted: {article.retraction.text}" if article.retraction else None,
            "headlines": headlines,
            "descriptions": _notices(article),
            "bodies": [
                {"role": "main", "contentType": "text/html", "value": article.body_html, **counts},
                {"role": "main", "contentType": "text/plain", "value": plain, **counts},
            ],
            "by": byline([author.name for author in article.authors]),
            "people": [
                *(_author_person(author, base) for author in article.authors),
                *(
                    _mentioned(source, base)
                    for source in sources
                    if source.kind is SourceKind.person
                ),
            ],
            "organisations": [
                _mentioned(source, base) for source in sources if source.kind in ORGANISATION_KINDS
            ],
            "subjects": _subjects(article),
            "associations": _associations(article, base),
        }
    )


def _associations(article: ArticleRead, base: str) -> list[JsonObject]:
    """The featured image, then the images in the body, as picture objects."""
    pictures: list[tuple[str, str, MediumRead]] = []
    if article.featured_image:
        pictures.append(("featured-image", "featured", article.featured_image))
    pictures += [
        (f"body-image-{number}", "inline", image)
        for number, image in enumerate(article.body_images or [], start=1)
    ]
    return [_picture(name, rel, image, base) for name, rel, image in pictures]


def _picture(name: str, rel: str, image: MediumRead, base: str) -> JsonObject:
    descriptions = [("caption", image.caption), ("alternative-text", image.alt)]
    return _present(
        {
            "name": name,
            "rel": rel,
            "uri": f"{base}/v1/media/{image.id}",
            "type": "picture",
            "versionCreated": _time(image.updated_at),
            "descriptions": [
                {"role": role, "contentType": "text/plain", "value": text}
                for role, text in descriptions
                if text
            ],
            "by": image.credit,
            "copyrightNotice": image.copyright,
            "renditions": [
                _present(
                    {
                        "name": rendition.name,
                        "href": rendition.url,
                        "contentType": rendition.type,
                        "width": rendition.width,
                        "height": rendition.height,
                        "sizeInBytes": rendition.bytes,
                    }
                )
                for rendition in image.renditions
            ],
        }
    )


def _notices(article: ArticleRead) -> list[JsonObject]:
    """Corrections, then the retraction, as descriptions with their role: where a ninjs
    consumer reads notices to readers (`edNote` is for editors, and carries it too)."""
    notices = [("correction", correction.text) for correction in article.corrections]
    if article.retraction:
        notices.append(("retraction", article.retraction.text))
    return [{"role": role, "contentType": "text/plain", "value": text} for role, text in notices]


def _subjects(article: ArticleRead) -> list[JsonObject]:
    """The section and the tags, told apart by the prefix of their `literal`."""
    named = [("section", article.section)] if article.section else []
    named += [("tag", tag) for tag in article.tags]
    return [{"name": name, "rel": "about", "literal": f"{kind}:{name}"} for kind, name in named]


def _pub_status(article: ArticleRead, now: datetime) -> str:
    if article.status is ArticleStatus.retracted:
        return "canceled"
    return "usable" if is_live(article, now) else "withheld"


def _author_person(author: AuthorSummary, base: str) -> JsonObject:
    """An author among ninjs `people`: identified by their resource here (`uri`, by id:
    it never changes) and by their slug (`literal`)."""
    return {
        "name": author.name,
        "rel": "author",
        "uri": f"{base}/v1/authors/{author.id}",
        "literal": author.slug,
    }


def _mentioned(source: SourceSummary, base: str) -> JsonObject:
    return {"name": source.name, "rel": "mentions", "uri": f"{base}/v1/sources/{source.id}"}


def byline(names: list[str]) -> str | None:
    """Names joined as a byline is written: `A`, `A and B`, `A, B and C`."""
    if len(names) <= 1:
        return names[0] if names else None
    return f"{', '.join(names[:-1])} and {names[-1]}"


# --- shared ------------------------------------------------------------------------------


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def _time(when: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`."""
    return None if when is None else rfc3339(when)


def _present(members: JsonObject) -> JsonObject:
    """The members that have a value: neither None nor an empty list."""
    return {name: value for name, value in members.items() if value is not None and value != []}


def _distinct(sources: Iterable[SourceSummary]) -> list[SourceSummary]:
    return list({source.id: source for source in sources}.values())
