"""From a raw story page to its parts: headline, deck, byline and the story's paragraphs.

Text pages are read line by line: furniture lines go (the list in `lexicon`, plus short
lines without sentence punctuation, which on a news page are navigation, labels and
captions); the first substantial line is the headline and a later copy of it is dropped; a
teaser that repeats the story's opening becomes the deck. HTML pages are first reduced to
their main text by trafilatura, then read the same way.
"""

import re
from dataclasses import dataclass, field
from typing import cast

import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement

from . import lexicon

# A sentence can end in a closing quotation mark, including typed ones ('' and ').
SENTENCE_END = re.compile(r"[.!?…:;\"”’')\]]$")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Under this many words, a line without sentence punctuation is not story text.
SHORT_LINE_WORDS = 6
HEADLINE_MIN_WORDS = 4
# Fewer words make a headline only right before the story's first sentence.
SHORT_HEADLINE_MIN_WORDS = 2
# A line this long that ends like a sentence is where the story begins.
STORY_PARAGRAPH_WORDS = 15
HEADLINE_MAX_CHARS = 300
# A byline is short: "By Jane Doe and Sam Roe, Staff Reporters".
META_MAX_WORDS = 12
# A list item: "• It funds …", "- It funds …", "1. It funds …".
BULLET = re.compile(r"^(?:[•·▪●*–—-]|\d{1,2}[.)])\s+(?P<item>\S.*)$")
# How much of a teaser's vocabulary must recur in the story's opening for it to be the deck.
TEASER_OVERLAP = 0.7


class NoStory(ValueError):
    """The page holds no story to ingest; the message says what is missing."""


@dataclass
class Page:
    headline: str
    deck: str
    paragraphs: list[str]
    authors: list[str] = field(default_factory=list)


def _words(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def _is_furniture(line: str) -> bool:
    bare = line.strip().strip("<>|•·-–—»«›‹☰ ").casefold()
    if not bare or bare in lexicon.FURNITURE:
        return True
    pieces = line.split(" | ")
    if len(pieces) >= 3 and all(len(_words(piece)) < HEADLINE_MIN_WORDS for piece in pieces):
        return True  # "Home | News | Sport"; "Headline here | News | Site" is a title
    if any(pattern.search(bare) for pattern in lexicon.FURNITURE_PATTERNS):
        return True
    return bare.startswith(lexicon.FURNITURE_PREFIXES)


def _lines(text: str) -> list[str]:
    """Non-empty lines, with a paragraph that was wrapped over several lines joined again,
    and a quotation mark typed as two apostrophes ('') made one mark (")."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = " ".join(raw.split()).replace("''", '"')
        if not line:
            continue
        wrapped = lines and not SENTENCE_END.search(lines[-1]) and line[0].islower()
        if wrapped:
            lines[-1] += " " + line
        else:
            lines.append(line)
    return lines


def _is_prose(line: str) -> bool:
    return len(_words(line)) >= SHORT_LINE_WORDS or bool(SENTENCE_END.search(line))


def _same_line(a: str, b: str) -> bool:
    return _words(a) == _words(b)


def _repeats_opening(teaser: str, opening: str) -> bool:
    """The teaser is the story's first sentence again, word for word or nearly."""
    teaser_words, opening_words = _words(teaser), _words(opening)
    if not teaser_words:
        return False
    shared = len(set(teaser_words) & set(opening_words)) / len(set(teaser_words))
    return teaser_words[:8] == opening_words[:8] or shared >= TEASER_OVERLAP


def _headline_at(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        words = len(_words(line))
        wordy = words >= 0.6 * len(line.split())  # not a ticker or a list of figures
        if words >= HEADLINE_MIN_WORDS and len(line) <= HEADLINE_MAX_CHARS and wordy:
            return index
        if words >= SHORT_HEADLINE_MIN_WORDS and wordy and _opens_story(line, lines[index + 1 :]):
            return index
    raise NoStory("No headline found: the page has no line of four words or more.")


def _opens_story(line: str, after: list[str]) -> bool:
    """A short headline ("Bank shake-up"): a line that is not a sentence, right before one.
    A label ("Breaking news") is followed by a headline, which does not end like a sentence."""
    following = next((other for other in after if other), "")
    return (
        not SENTENCE_END.search(line)
        and _is_prose(following)
        and bool(SENTENCE_END.search(following))
    )


def _is_story_paragraph(line: str) -> bool:
    return len(_words(line)) >= STORY_PARAGRAPH_WORDS and bool(SENTENCE_END.search(line))


SITE_TITLE = re.compile(r"^(?P<title>.+?)\s+(?:\||-|–|—)\s+[^|–—]{2,60}$")


def _without_site_titles(lines: list[str]) -> list[str]:
    """A browser title ("Headline | Site") goes when the headline also stands alone."""
    plain = {" ".join(_words(line)) for line in lines}
    kept = []
    for line in lines:
        title = SITE_TITLE.match(line)
        if title and " ".join(_words(title["title"])) in plain:
            continue
        kept.append(line)
    return kept


# "Headline | CNN Politics", "Headline - BBC News": a browser title whose headline does not
# also stand alone. After a bar any short name is the site; after a dash only an outlet,
# as headlines hold dashes of their own ("Talks stall - again").
BAR_SUFFIX = re.compile(r"^(?P<title>.+?)\s+\|\s+(?P<site>[^|]{2,60})$")
DASH_SUFFIX = re.compile(r"^(?P<title>.+?)\s+[-–—]\s+(?P<site>[^-–—]{2,60})$")


def _without_site_name(headline: str) -> str:
    while (bar := BAR_SUFFIX.match(headline)) and len(_words(bar["title"])) >= 2:
        headline = bar["title"]
    dash = DASH_SUFFIX.match(headline)
    if dash and lexicon.is_publication(dash["site"]) and len(_words(dash["title"])) >= 2:
        headline = dash["title"]
    return headline


def _is_meta(line: str) -> bool:
    """A byline or a timestamp: page furniture that marks where the story begins. A line
    that goes on from a date into the story ("Feb. 23, 2015 -- The Senate …") is story."""
    if lexicon.BYLINE.match(line):
        return len(_words(line)) <= META_MAX_WORDS
    bare = line.strip().casefold()
    for pattern in lexicon.TIMESTAMPS:
        stamp = pattern.search(bare)
        if stamp:
            after = bare[stamp.end() :]
            return not (SENTENCE_END.search(line) and len(_words(after)) >= SHORT_LINE_WORDS)
    return False


def _authors(lines: list[str]) -> list[str]:
    authors = []
    for line in lines:
        byline = lexicon.BYLINE.match(line)
        if byline and len(_words(line)) <= META_MAX_WORDS:
            authors += re.split(r"\s+and\s+", byline["names"])
    return clean_names(authors)


# Where a name ends and a date begins when a page runs them together ("Jane DoeNov. 3,
# 2016", "Jane Doe Updated 3:14 PM").
NAME_THEN_DATE = re.compile(
    r"(?:\s*\b(?:updated|published|posted)\b|\s*\d|(?<=[a-z])(?=[A-Z][a-z]{2}\.?\s+\d)).*$",
    re.IGNORECASE,
)
# A byline that is only a degree or postal abbreviation ("MA", "PhD") names no one.
CREDENTIAL = re.compile(r"^(?:[A-Z]{1,3}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?)$")


def clean_names(names: list[str]) -> list[str]:
    """Bylines as names: no dates run into them, no degrees or state letters taken for a
    name, capitals as in a name, each once ("JANE DOE" and "Jane Doe" are one)."""
    cleaned: list[str] = []
    for raw in names:
        # What follows a comma is a degree or a job ("Ana Lopes, PhD"), not the name.
        name = NAME_THEN_DATE.sub("", raw).split(",")[0].strip(" ;|-–—")
        if CREDENTIAL.match(name):
            continue
        if name.isupper():
            name = name.title()
        if len(_words(name)) >= 1 and name.casefold() not in {n.casefold() for n in cleaned}:
            cleaned.append(name)
    return cleaned


def _deck_and_body(after: list[str], headline: str) -> tuple[str, list[str]]:
    """Split what follows the headline into the deck (a teaser, or "") and the story."""
    copy = next((i for i, line in enumerate(after) if _same_line(line, headline)), None)
    if copy is not None:
        # Headline, teaser, headline again, story: the teaser is the deck.
        return " ".join(line for line in after[:copy] if _is_prose(line)), after[copy + 1 :]
    # A teaser sits above the byline or timestamp; the story starts below them.
    prose_seen, last_meta = 0, None
    for index, line in enumerate(after):
        if _is_meta(line):
            last_meta = index
        elif _is_prose(line):
            prose_seen += 1
            if prose_seen > 2:
                break
    if last_meta is not None:
        teasers = [line for line in after[:last_meta] if _is_prose(line) and not _is_meta(line)]
        return (teasers[0] if teasers else ""), after[last_meta + 1 :]
    opening = next((i for i, line in enumerate(after) if _is_story_paragraph(line)), 0)
    teasers = [line for line in after[:opening] if _is_prose(line)]
    return (teasers[0] if teasers else ""), after[opening:]


def _story_paragraphs(lines: list[str]) -> list[str]:
    """Story paragraphs end like sentences; related headlines and labels do not. A list
    after its lead-in ("The bill does three things:") is kept, as one Markdown list."""
    body: list[str] = []
    in_list = False
    for line in lines:
        bullet = BULLET.match(line)
        if bullet and (in_list or (body and body[-1].endswith(":"))):
            item = f"- {bullet['item']}"
            body[-1:] = [f"{body[-1]}\n{item}"] if in_list else [body[-1], item]
            in_list = True
            continue
        in_list = False
        if _is_prose(line) and SENTENCE_END.search(line) and not _is_meta(line):
            body.append(line)
    return body


def read_text(text: str) -> Page:
    lines = _without_site_titles([line for line in _lines(text) if not _is_furniture(line)])
    start = _headline_at([line if not _is_meta(line) else "" for line in lines])
    headline = _without_site_name(lines[start])
    deck, rest = _deck_and_body(lines[start + 1 :], headline)
    body = _story_paragraphs(rest)
    if not deck and len(body) >= 2 and _repeats_opening(body[0], body[1]):
        deck, body = body[0], body[1:]  # a teaser that the story then repeats
    if sum(len(_words(p)) for p in body) < 20:
        raise NoStory("No story found: after the headline there is no paragraph of text.")
    return Page(headline=headline, deck=deck, paragraphs=body, authors=_authors(lines))


# What holds no story text; on a real page, most of its megabytes.
NOT_CONTENT = "//script|//style|//svg|//math|//canvas|//noscript|//template|//iframe|//object"


def content_of(html: str) -> "HtmlElement":
    """The page parsed, without the elements that hold no text."""
    try:
        # libxml2 stops at a text node of 10 MB unless told the document may be huge; inline
        # data can be that big, and the request was bounded (10 MiB) before this. A parser
        # serves one thread at a time: a new one for each page.
        parser = lxml.html.HTMLParser(huge_tree=True)
        tree = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError) as error:
        raise NoStory(f"No story found: the HTML cannot be read ({error}).") from None
    for element in cast("list[HtmlElement]", tree.xpath(NOT_CONTENT)):  # elements only
        element.drop_tree()
    return tree


# Class names (or schema.org's itemprop) that mark a standfirst: the deck under a headline.
STANDFIRST_CLASSES = {"standfirst", "dek", "deck", "subheadline", "sub-headline", "strapline"}
STANDFIRST_MAX_CHARS = 600  # an article's deck holds no more


def _standfirst(tree: "HtmlElement") -> str:
    """The page's standfirst, taken out of the tree so that the story does not repeat it."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("meta", "link"):
            continue
        classes = {c.casefold() for c in (element.get("class") or "").split()}
        marked = classes & STANDFIRST_CLASSES or any("standfirst" in c for c in classes)
        if marked or element.get("itemprop") == "description":
            text = " ".join(element.text_content().split())
            if 0 < len(text) <= STANDFIRST_MAX_CHARS:  # longer, it is more than a deck
                element.drop_tree()
                return text
    return ""


def read_html(tree: "HtmlElement") -> Page:
    """The main text of a parsed page (navigation and boilerplate left behind); a marked
    standfirst is the deck."""
    standfirst = _standfirst(tree)
    # Metadata first: extracting the text cleans the tree in place.
    metadata = trafilatura.extract_metadata(tree)
    text = trafilatura.extract(
        tree, include_comments=False, include_tables=False, favor_precision=True
    )
    title = metadata.title if metadata is not None and metadata.title else ""
    if not text:
        raise NoStory("No story found in the HTML: the page has no main text.")
    page = read_text(f"{title}\n\n{text}" if title else text)
    if metadata is not None and metadata.author and not page.authors:
        page.authors = clean_names(metadata.author.split(";"))
    if standfirst and not page.deck:
        page.deck = standfirst
    return page


def is_english(page: Page) -> bool:
    words = _words(" ".join(page.paragraphs))
    if not words:
        return False
    return sum(word in lexicon.ENGLISH_MARKERS for word in words) / len(words) >= 0.12
