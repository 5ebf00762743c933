"""Claim rows built, anchored and patched in memory, their attributions resolved to
sources: what an article's writes do to its claims. Nothing here commits or saves; the
article's save (app/articles/service.py) does, in the request's transaction."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from app.sources.service import SourceResolver

from . import anchoring
from .models import AnchorStatus, Attribution, Claim, ClaimKind
from .schemas import (
    MAX_CLAIMS_PER_ARTICLE,
    AnchorWrite,
    AttributionWrite,
    ClaimPatch,
    ClaimRead,
    ClaimWrite,
    check_quote,
)


class TooManyClaims(Invalid):
    def __init__(self) -> None:
        super().__init__(
            f"An article holds at most {MAX_CLAIMS_PER_ARTICLE} claims, and this one has "
            "as many; remove one before adding another.",
            ["body"],
            "too_many_claims",
        )


def check_room_for_one_more(current: Sequence[Claim]) -> None:
    """The per-article cap for claims added one at a time; whole lists are capped by their
    schema (ArticleWrite.claims) with the same number."""
    if len(current) >= MAX_CLAIMS_PER_ARTICLE:
        raise TooManyClaims()


def anchor_claim(claim: Claim, text: str, given: AnchorWrite | None, loc: list[str | int]) -> None:
    """Set the claim's selectors from what the writer gave, or from its quote; a given anchor
    that is not in the body is the writer's mistake (422)."""
    if given is not None:
        found = anchoring.locate(text, given.exact, given.prefix, given.suffix, given.start)
        if found is None:
            raise Invalid(
                "The anchor's exact text does not occur in the article body.",
                [*loc, "anchor", "exact"],
                "anchor_not_found",
            )
        if given.start is not None and found.start != given.start:
            raise Invalid(
                "The anchor's start and end do not select its exact text.",
                [*loc, "anchor", "start"],
                "anchor_mismatch",
            )
        _set_anchor(claim, found)
    elif claim.kind is ClaimKind.quote and claim.quote:
        _set_anchor(claim, anchoring.locate(text, claim.quote))
    else:
        _set_anchor(claim, None)


def _set_anchor(claim: Claim, found: anchoring.Selector | None) -> None:
    if found is None:
        claim.anchor_exact = claim.anchor_prefix = claim.anchor_suffix = None
        claim.anchor_start = claim.anchor_end = None
        claim.anchor_status = None
        return
    claim.anchor_exact, claim.anchor_prefix, claim.anchor_suffix = (
        found.exact,
        found.prefix,
        found.suffix,
    )
    claim.anchor_start, claim.anchor_end = found.start, found.end
    claim.anchor_status = AnchorStatus.anchored


def reanchor(claims: Sequence[Claim], text: str) -> None:
    """After a body edit, find each anchored claim again by its quote selector; one that is no
    longer there keeps its quote selector and is marked orphaned, never dropped."""
    for claim in claims:
        if claim.anchor_exact is None:
            continue
        found = anchoring.locate(
            text, claim.anchor_exact, claim.anchor_prefix, claim.anchor_suffix, claim.anchor_start
        )
        if found is None:
            claim.anchor_start = claim.anchor_end = None
            claim.anchor_status = AnchorStatus.orphaned
        else:
            _set_anchor(claim, found)


async def _attributions(
    resolver: SourceResolver, given: Sequence[AttributionWrite], loc: list[str | int]
) -> list[Attribution]:
    built = []
    for i, attribution in enumerate(given):
        source = await resolver.resolve(attribution.source, [*loc, "attributions", i, "source"])
        built.append(
            Attribution(
                position=i,
                source=source,
                role=attribution.role,
                cue=attribution.cue,
                anonymous_description=attribution.anonymous_description,
            )
        )
    return built


async def build(
    resolver: SourceResolver,
    data: ClaimWrite,
    *,
    position: int,
    text: str,
    loc: list[str | int],
    claim: Claim | None = None,
) -> Claim:
    """A claim as `data` describes it, for an article whose plain text is `text`: `claim`
    rewritten in place (keeping its id), or a new one (not yet added to a session)."""
    now = datetime.now(UTC)
    if claim is None:
        if data.id is not None:
            raise Invalid("Claim ids are assigned by the server.", [*loc, "id"])
        claim = Claim(id=uuid.uuid4(), created_at=now)
        before = None
    else:
        before = _content(claim)
    claim.position = position
    claim.statement = data.statement
    claim.kind = data.kind
    claim.quote = data.quote
    claim.verification = data.verification
    claim.review = data.review.model_dump(mode="json") if data.review else None
    claim.attributions = await _attributions(resolver, data.attributions, loc)
    anchor_claim(claim, text, data.anchor, loc)
    if before is None or _content(claim) != before:
        claim.updated_at = now
    return claim


def _content(claim: Claim) -> dict[str, Any]:
    """What a claim says, as readers get it, but for when it last changed: a rewrite that
    leaves this the same is no change."""
    return ClaimRead.model_validate(claim).model_dump(exclude={"updated_at"})


async def replace_all(
    session: AsyncSession, current: list[Claim], given: Sequence[ClaimWrite], text: str
) -> None:
    """Make an article's claim list (`current`, changed in place) the `given` claims: one
    given with the id of a current claim rewrites it and keeps the id; one without an id is
    new; current claims not given are removed."""
    resolver = SourceResolver(session)
    await resolver.prefetch(a.source for data in given for a in data.attributions)
    existing = {claim.id: claim for claim in current}
    kept: set[uuid.UUID] = set()
    result = []
    for i, data in enumerate(given):
        loc: list[str | int] = ["body", "claims", i]
        claim = None
        if data.id is not None:
            claim = existing.get(data.id)
            if claim is None or data.id in kept:
                reason = "is given twice" if data.id in kept else "is not a claim of this article"
                raise Invalid(f"Claim {data.id} {reason}.", [*loc, "id"])
            kept.add(data.id)
        result.append(await build(resolver, data, position=i, text=text, loc=loc, claim=claim))
    current[:] = result


async def apply_patch(session: AsyncSession, claim: Claim, patch: ClaimPatch, text: str) -> None:
    """Merge a patch into a claim; `null` clears `quote`, `anchor` and `review`."""
    before = _content(claim)
    given = patch.model_fields_set
    for field in ("statement", "kind", "verification"):
        if field in given:
            setattr(claim, field, getattr(patch, field))
    if "quote" in given:
        claim.quote = patch.quote
    try:
        check_quote(claim.kind, claim.quote)
    except ValueError as error:
        raise Invalid(str(error), ["body", "quote"]) from None
    if "review" in given:
        claim.review = patch.review.model_dump(mode="json") if patch.review else None
    if "attributions" in given:
        claim.attributions = await _attributions(
            SourceResolver(session), patch.attributions or [], ["body"]
        )
    if "anchor" in given:
        anchor_claim(claim, text, patch.anchor, ["body"])
    elif "quote" in given and claim.anchor_exact is None:
        anchor_claim(claim, text, None, ["body"])
    if _content(claim) != before:
        claim.updated_at = datetime.now(UTC)
