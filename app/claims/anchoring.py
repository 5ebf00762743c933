"""W3C Web Annotation text selectors over an article's plain text: locate a quote selector
(`exact` with optional `prefix`/`suffix` and a position hint) and fill in the rest."""

from dataclasses import dataclass

CONTEXT_CHARS = 32


@dataclass(frozen=True)
class Selector:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def locate(
    text: str,
    exact: str,
    prefix: str | None = None,
    suffix: str | None = None,
    hint: int | None = None,
) -> Selector | None:
    """Find `exact` in `text`; among several hits prefer the one whose surroundings match the
    given prefix/suffix best, then the one nearest the hint. None when it is not there."""
    if not exact:
        return None
    if hint is not None and text[hint : hint + len(exact)] == exact:
        return select(text, hint, hint + len(exact))
    hits = []
    position = text.find(exact)
    while position != -1:
        hits.append(position)
        position = text.find(exact, position + 1)
    if not hits:
        return None

    def score(start: int) -> tuple[int, int]:
        context = 0
        if prefix:
            context += _common_suffix(text[max(0, start - len(prefix)) : start], prefix)
        if suffix:
            end = start + len(exact)
            context += _common_prefix(text[end : end + len(suffix)], suffix)
        distance = abs(start - hint) if hint is not None else 0
        return (-context, distance)

    best = min(hits, key=score)
    return select(text, best, best + len(exact))


def select(text: str, start: int, end: int) -> Selector:
    """The full selector for `text[start:end]`, with context on each side."""
    return Selector(
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
        start=start,
        end=end,
    )
