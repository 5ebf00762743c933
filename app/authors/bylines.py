"""Bylines on write: each `{id}` or `{name}` an article names, turned into an author row."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from app.slugs import free_slug, slugify
from app.sources.models import fold

from .models import Author
from .schemas import Byline


async def new_author(
    session: AsyncSession, name: str, slug: str | None = None, **fields: str | None
) -> Author:
    """An author row for `name`, its slug derived from the name unless given."""
    slug = slug or await free_slug(session, slugify(name, "author"), [Author.slug])
    author = Author(slug=slug, name=name, name_key=fold(name), **fields)
    session.add(author)
    return author


async def _by_keys(session: AsyncSession, keys: set[str]) -> dict[str, Author]:
    found = await session.scalars(select(Author).where(Author.name_key.in_(keys)))
    return {author.name_key: author for author in found}


async def _create(session: AsyncSession, name: str) -> Author:
    try:
        async with session.begin_nested():
            author = await new_author(session, name)
    except IntegrityError:
        # Another writer created the same author since we looked: use theirs.
        found = await _by_keys(session, {fold(name)})
        if not found:
            raise
        return next(iter(found.values()))
    return author


async def resolve(
    session: AsyncSession, bylines: Sequence[Byline], loc: Sequence[str | int] = ("body",)
) -> list[Author]:
    """The authors `bylines` name, in order: by id (unknown is a 422 at `authors[i].id`),
    or by name, matched or created. New ones are created in name order, so two writes
    creating the same new authors in different orders cannot wait on each other."""
    ids = {b.id for b in bylines if b.id is not None}
    by_id = (
        {a.id: a for a in await session.scalars(select(Author).where(Author.id.in_(ids)))}
        if ids
        else {}
    )
    names = {fold(b.name): b.name for b in bylines if b.name is not None}
    by_key = await _by_keys(session, set(names)) if names else {}
    for key in sorted(names.keys() - by_key.keys()):
        by_key[key] = await _create(session, names[key])
    authors = []
    for i, byline in enumerate(bylines):
        if byline.id is not None:
            if byline.id not in by_id:
                raise Invalid(
                    f"Author {byline.id} does not exist.", [*loc, "authors", i, "id"], "not_found"
                )
            authors.append(by_id[byline.id])
        else:
            assert byline.name is not None
            authors.append(by_key[fold(byline.name)])
    return authors
