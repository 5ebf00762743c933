"""The body's two derived forms: its plain-text projection, which claim anchors point into,
and the sanitised HTML that front ends show, with each anchored claim wrapped in a span.

Both come from one walk over the CommonMark tokens, so a character's offset in the plain
text is exactly where the HTML renderer meets it.
"""

import html
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import nh3
from cachetools import LRUCache
from markdown_it import MarkdownIt
from markdown_it.token import Token

BLOCK_SEPARATOR = "\n\n"
# markdown-it-py parses in pure Python and spends its time per line and per character that
# may start inline syntax (its "terminator" characters): bodies dense in them (28,000 links,
# `*a` 60,000 times, 200,000 `[`, 49,000 headings) cost seconds of CPU a save, while the
# time of prose barely depends on its length. A body may hold this many of them: at most
# about twice the cost of 200,000 characters of prose with a link and emphasis in every
# paragraph (11,000 of them); the densest ingest story, that long, would hold 3,300.
MARKUP_BUDGET = 20_000
MARKUP_CHARACTERS = "\n!#$%&*+-:<=>@[\\]^_`{}~"
_TEXT_TOKENS = {"text", "code_inline"}
_BREAKS = {"softbreak": " ", "hardbreak": "\n"}
# What a claim span carries, in the order written; nh3 keeps exactly these on a span.
SPAN_ATTRIBUTES = ("class", "data-claim-id", "data-claim-kind", "data-verification")
_ALLOWED_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "span": set(SPAN_ATTRIBUTES),
    "a": {"href", "hreflang", "title"},
    "img": {"src", "srcset", "sizes", "alt", "title", "width", "height", "loading", "decoding"},
    "figure": {"class", "data-medium-id"},
    "small": {"class"},
}
# An image in the body that is a medium of the library: `![alt](media:<id>)`.
MEDIA_SCHEME = "media:"
# How wide a body picture is laid out, for the browser to pick from `srcset`.
PICTURE_SIZES = "(max-width: 1280px) 100vw, 1280px"


@dataclass(frozen=True)
class Picture:
    """A medium as the body shows it: where its renditions are, and what it says."""

    medium_id: str
    src: str
    srcset: str | None
    width: int | None
    height: int | None
    alt: str | None
    caption: str | None
    credit: str | None

    def img(self, fallback_alt: str) -> str:
        attributes = {
            "src": self.src,
            "srcset": self.srcset,
            "sizes": PICTURE_SIZES if self.srcset else None,
            "width": None if self.width is None else str(self.width),
            "height": None if self.height is None else str(self.height),
            "alt": self.alt if self.alt is not None else fallback_alt,
            "loading": "lazy",
            "decoding": "async",
        }
        written = " ".join(
            f'{name}="{html.escape(value, quote=True)}"'
            for name, value in attributes.items()
            if value is not None
        )
        return f"<img {written}>"

    def figure(self, fallback_alt: str) -> str:
        caption = html.escape(self.caption) if self.caption else ""
        if self.credit:
            credit = f'<small class="credit">{html.escape(self.credit)}</small>'
            caption = f"{caption} {credit}" if caption else credit
        figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
        medium = html.escape(self.medium_id, quote=True)
        return (
            f'<figure class="image" data-medium-id="{medium}">'
            f"{self.img(fallback_alt)}{figcaption}</figure>\n"
        )


@dataclass(frozen=True)
class Span:
    """A claim's place in the plain text, `[start, end)` in code points, with what a front
    end styles it by: the claim's kind and verification."""

    claim_id: str
    start: int
    end: int
    kind: str
    verification: str

    def opening_tag(self) -> str:
        values = ("claim", self.claim_id, self.kind, self.verification)
        attributes = " ".join(
            f'{name}="{html.escape(value, quote=True)}"'
            for name, value in zip(SPAN_ATTRIBUTES, values, strict=True)
        )
        return f"<span {attributes}>"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Raw HTML in a body is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False})


def markup_cost(body: str) -> int:
    """How many lines and possible markup characters the body holds (see MARKUP_BUDGET)."""
    return sum(body.count(character) for character in MARKUP_CHARACTERS)


def _placed_tokens(tokens: Sequence[Token]) -> Iterator[tuple[Token, int, str]]:
    """Yield each token that contributes text, with its offset and the text it contributes."""
    offset = 0
    first_block = True
    for token in tokens:
        if token.type == "inline":
            pieces = [
                (child, child.content if child.type in _TEXT_TOKENS else _BREAKS[child.type])
                for child in token.children or []
                if child.type in _TEXT_TOKENS or child.type in _BREAKS
            ]
        elif token.type in ("code_block", "fence"):
            pieces = [(token, token.content.rstrip("\n"))]
        else:
            continue
        if not any(text for _, text in pieces):
            continue
        if not first_block:
            offset += len(BLOCK_SEPARATOR)
        first_block = False
        for piece, text in pieces:
            yield piece, offset, text
            offset += len(text)


# Plain texts already worked out, by body: every read of an article (and every item of a
# feed) derives it again, and parsing Markdown is most of a feed's time (measured: 60% of
# an RSS feed of 20 articles). Bounded by characters kept; shared by the ingest threads,
# hence the lock.
_PLAIN_TEXTS: LRUCache[str, str] = LRUCache(maxsize=8_000_000, getsizeof=len)
_PLAIN_TEXTS_LOCK = threading.Lock()


def plain_text(body: str) -> str:
    """Markdown syntax removed, blocks joined by a blank line (what anchors count in)."""
    with _PLAIN_TEXTS_LOCK:
        known = _PLAIN_TEXTS.get(body)
    if known is not None:
        return known
    text = _plain_text(body)
    if len(text) <= _PLAIN_TEXTS.maxsize:
        with _PLAIN_TEXTS_LOCK:
            _PLAIN_TEXTS[body] = text
    return text


def _plain_text(body: str) -> str:
    blocks: list[str] = []
    last_end = None
    for _, offset, text in _placed_tokens(_markdown().parse(body)):
        if last_end is not None and offset > last_end:
            blocks.append(BLOCK_SEPARATOR)
        blocks.append(text)
        last_end = offset + len(text)
    return "".join(blocks)


def _split_text_token(token: Token, offset: int, spans: Sequence[Span]) -> list[Token]:
    end = offset + len(token.content)
    inside = [s for s in spans if s.start < end and s.end > offset]
    if not inside:
        return [token]
    cuts = sorted({offset, end} | {p for s in inside for p in (s.start, s.end) if offset < p < end})
    pieces: list[Token] = []
    for left, right in itertools.pairwise(cuts):
        covering = sorted(
            (s for s in inside if s.start <= left and s.end >= right),
            key=lambda s: (s.start, -s.end),
        )
        pieces.extend(_raw(span.opening_tag()) for span in covering)
        piece = Token(
            token.type,
            token.tag,
            token.nesting,
            content=token.content[left - offset : right - offset],
        )
        pieces.append(piece)
        pieces.extend(_raw("</span>") for _ in covering)
    return pieces


def _raw(markup: str) -> Token:
    return Token("html_inline", "", 0, content=markup)


def _media_id(token: Token) -> str | None:
    source = str(token.attrs.get("src", ""))
    return source[len(MEDIA_SCHEME) :] if source.startswith(MEDIA_SCHEME) else None


def media_ids(body: str) -> list[str]:
    """The ids of the media the body shows, in order, each once."""
    found = (
        _media_id(child)
        for token in _markdown().parse(body)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    )
    return list(dict.fromkeys(medium for medium in found if medium is not None))


def _alone_in_paragraph(tokens: Sequence[Token], at: int) -> Token | None:
    """The medium image that is all of the paragraph opening at `at`, if it is one."""
    if at + 2 >= len(tokens) or tokens[at].type != "paragraph_open":
        return None
    children = [
        child
        for child in tokens[at + 1].children or []
        if not (child.type == "text" and not child.content.strip())
    ]
    if len(children) == 1 and children[0].type == "image" and _media_id(children[0]):
        return children[0]
    return None


def _with_pictures(tokens: list[Token], pictures: Mapping[str, Picture]) -> list[Token]:
    """A medium alone in its paragraph becomes a `<figure>` with its caption and credit; one
    within text, an `<img>`; one that is not (or no longer) in the library, its alt text."""
    shown: list[Token] = []
    at = 0
    while at < len(tokens):
        alone = _alone_in_paragraph(tokens, at)
        if alone is not None:
            picture = pictures.get(_media_id(alone) or "")
            alt = alone.content
            markup = picture.figure(alt) if picture else f"<p>{html.escape(alt)}</p>\n"
            shown.append(Token("html_block", "", 0, content=markup))
            at += 3
            continue
        token = tokens[at]
        if token.type == "inline" and token.children:
            for index, child in enumerate(token.children):
                medium = _media_id(child) if child.type == "image" else None
                if medium is not None:
                    picture = pictures.get(medium)
                    alt = child.content
                    markup = picture.img(alt) if picture else html.escape(alt)
                    token.children[index] = _raw(markup)
        shown.append(token)
        at += 1
    return shown


def render_html(
    body: str, spans: Sequence[Span] = (), pictures: Mapping[str, Picture] | None = None
) -> str:
    """CommonMark to sanitised HTML, each span's text wrapped in `<span class="claim">`
    with the claim's id, kind and verification as data attributes, and each medium the body
    shows (`![alt](media:ID)`) as its picture from `pictures`."""
    markdown = _markdown()
    tokens = markdown.parse(body)
    if spans:
        replacements: dict[int, list[Token]] = {}
        for token, offset, _ in _placed_tokens(tokens):
            if token.type in _TEXT_TOKENS:
                replacements[id(token)] = _split_text_token(token, offset, spans)
        for token in tokens:
            if token.type == "inline" and token.children:
                token.children = [
                    piece
                    for child in token.children
                    for piece in replacements.get(id(child), [child])
                ]
    if pictures is not None:
        tokens = _with_pictures(tokens, pictures)
    rendered = markdown.renderer.render(tokens, markdown.options, {})
    return nh3.clean(rendered, attributes=_ALLOWED_ATTRIBUTES, link_rel="noopener nofollow")
