"""Hostile input (issue 7): a corpus of XSS payloads, SQL fragments, control and invisible
characters, lone surrogates, strings at and just over each limit, huge numbers, deep JSON
and invalid UTF-8, pushed through every text field of every write and through the read
endpoints' parameters. Each is stored exactly (or in the documented normal form) or refused
with problem+json naming the field, never a 5xx, never half-stored; and every HTML we serve
(`body_html`, the feeds, ninjs) is checked with a real HTML parser for live markup."""

import copy
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import feedparser
import httpx
import lxml.html
import orjson
import pytest
from lxml import etree

from app.articles.body import plain_text
from app.articles.models import Article
from app.sources.models import fold
from tests.factories import article_data, make_article
from tests.helpers import assert_problem, count_rows, row_counts

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
NDJSON = {"Content-Type": "application/x-ndjson"}

# --- the corpus ----------------------------------------------------------------------------

XSS = [
    ("script-tag", "<script>alert(1)</script>"),
    ("script-upper", "<SCRIPT SRC=//evil.test/x.js></SCRIPT>"),
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("svg-onload", "<svg/onload=alert(1)>"),
    ("body-onload", "<body onload=alert(1)>"),
    ("iframe", '<iframe src="javascript:alert(1)"></iframe>'),
    ("object-embed", '<object data="data:text/html,<script>alert(1)</script>"></object><embed>'),
    ("style-tag", "<style>body{background:url(javascript:alert(1))}</style>"),
    ("style-attr", '<div style="width:expression(alert(1))">x</div>'),
    ("a-vbscript", '<a href="vbscript:msgbox(1)">v</a>'),
    ("attr-breakout", '"><script>alert(1)</script>'),
    ("attr-breakout-single", "'><img src=x onerror=alert(1)>"),
    ("md-link-js", "[click](javascript:alert(1))"),
    ("md-link-js-mixed-case", "[click](JaVaScRiPt:alert(1))"),
    ("md-link-js-entity", "[click](&#106;avascript:alert(1))"),
    ("md-link-js-hex-entity", "[click](&#x6A;&#x61;vascript:alert(1))"),
    ("md-link-js-tab", "[click](java\tscript:alert(1))"),
    ("md-link-js-escaped-tab", "[click](java&#9;script:alert(1))"),
    ("md-link-js-newline-entity", "[click](java&#10;script:alert(1))"),
    ("md-link-js-leading-space", "[click](<  javascript:alert(1)>)"),
    ("md-link-vbscript", "[v](vbscript:msgbox(1))"),
    ("md-link-data", "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("md-image-js", "![pic](javascript:alert(1))"),
    ("md-image-data", "![pic](data:image/svg+xml,<svg onload=alert(1)>)"),
    ("md-autolink-js", "<javascript:alert(1)>"),
    ("md-autolink-data", "<data:text/html,<script>alert(1)</script>>"),
    ("md-reference-js", "[x][r]\n\n[r]: javascript:alert(1)"),
    ("md-link-title-breakout", '[x](https://example.org "a\\" onmouseover=\\"alert(1))'),
    ("raw-a-js", '<a href="javascript:alert(1)">x</a>'),
    ("raw-a-entity-js", '<a href="&#x6A;avascript:alert(1)">x</a>'),
    ("html-comment", "<!-- --><script>alert(1)</script><!-- -->"),
    ("html-comment-breakout", "<!--<img src=--><img src=x onerror=alert(1)//-->"),
    ("cdata", "<![CDATA[<script>alert(1)</script>]]>"),
    ("math-mxss", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    ("template-literal", "${alert(1)}{{constructor.constructor('alert(1)')()}}"),
    ("html-block-fence", "```html\n<script>alert(1)</script>\n```"),
    ("md-html-block", "<div>\n<script>alert(1)</script>\n</div>"),
]
SQL = [
    ("sql-drop", "'; DROP TABLE article; --"),
    ("sql-or", '" OR 1=1 --'),
    ("sql-union", "' UNION SELECT key_hash FROM api_key --"),
    ("sql-like-percent", "100% _real_ %"),
    ("sql-like-escape", "a\\%b/_c"),
    ("sql-semicolon", "x'); DELETE FROM claim; --"),
    ("fts-operators", 'NEAR(a b) OR "x" AND -y * ^z'),
]
CONTROL = [
    ("nul", "before\x00after"),
    ("nul-only", "\x00"),
    ("c0-controls", "a\x01\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x1f"),
    ("del-c1", "a\x7f\x85\x9fb"),
    ("crlf-injection", "line\r\nSet-Cookie: x=1\r\n\r\n<script>alert(1)</script>"),
]
UNICODE = [
    ("rtl-override", "\u202egnp.exe\u202c file"),
    ("bidi-isolates", "\u2066a\u2069\u2067b\u2069\u2068c\u2069\u200e\u200f"),
    ("zero-width", "zero\u200bwidth\u200c\u200d\u2060joiner\ufeff"),
    ("lone-high-surrogate", "a\ud800b"),
    ("lone-low-surrogate", "\udfff"),
    ("noncharacters", "\ufffe\uffff\U0010ffff"),
    ("combining-zalgo", "Z\u0351\u0344\u0313\u0306a\u0489\u0336l\u0337g\u0335o"),
    ("emoji-zwj", "\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f3f3\ufe0f\u200d\U0001f308"),
    ("fullwidth-lt", "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e"),
    ("unicode-whitespace", "\u3000\u00a0spaced\u2028\u2029\u00a0"),
    ("json-escapes", '\\u0000 \\" \\\\ </script>'),
]
CORPUS: list[tuple[str, str]] = [*XSS, *SQL, *CONTROL, *UNICODE]
CORPUS_IDS = [name for name, _ in CORPUS]
assert len(set(CORPUS_IDS)) == len(CORPUS_IDS)

# What pydantic's `strip_whitespace` removes (Rust's `str::trim`: Unicode White_Space).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def storable(value: str) -> bool:
    """Whether any text field may hold `value` at all: no NUL (PostgreSQL cannot store it)
    and no lone surrogate (not Unicode text)."""
    return "\x00" not in value and not re.search("[\ud800-\udfff]", value)


def dumps(payload: Any) -> bytes:
    """JSON as a client may send it: ASCII with `\\uXXXX` escapes, so that lone surrogates
    travel as the escapes JSON allows."""
    return json.dumps(payload, ensure_ascii=True).encode()


# --- the HTML checker ----------------------------------------------------------------------

FORBIDDEN_ELEMENTS = {"script", "iframe", "object", "embed", "style", "frame", "applet", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background"}
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def unsafe_markup(html: str) -> list[str]:
    """What a browser would act on in `html`, parsed as it parses it: forbidden elements,
    event-handler or style attributes, and URLs with a javascript:, vbscript: or data:
    scheme (after dropping whitespace and control characters, in any case)."""
    if not html.strip():
        return []
    found = []
    fragments = lxml.html.fragments_fromstring(html)
    for fragment in fragments:
        if isinstance(fragment, str):
            continue
        for element in fragment.iter():
            if not isinstance(element.tag, str):
                continue
            if element.tag.lower() in FORBIDDEN_ELEMENTS:
                found.append(f"<{element.tag}>")
            for name, value in element.attrib.items():
                lowered = name.lower()
                if lowered.startswith("on") or lowered == "style":
                    found.append(f"{element.tag}[{name}]")
                if lowered in URL_ATTRIBUTES:
                    scheme = CONTROL_OR_SPACE.sub("", value).lower()
                    if scheme.startswith(("javascript:", "vbscript:", "data:")):
                        found.append(f"{element.tag}[{name}={value!r}]")
    return found


def assert_sanitised(html: str, context: str = "") -> None:
    assert unsafe_markup(html) == [], (context, html)


@pytest.mark.parametrize(
    ("html", "finding"),
    [
        ("<p>x</p><script>alert(1)</script>", "<script>"),
        ("<iframe src=//evil.test></iframe>", "<iframe>"),
        ("<object data=x></object>", "<object>"),
        ("<embed src=x>", "<embed>"),
        ("<style>p{}</style>", "<style>"),
        ("<img src=x onerror=alert(1)>", "img[onerror]"),
        ("<p><svg onload=alert(1)></svg></p>", "svg[onload]"),
        ('<a href="javascript:alert(1)">x</a>', "a[href='javascript:alert(1)']"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "a[href='JaVaScRiPt:alert(1)']"),
        ('<a href=" java\tscript:alert(1)">x</a>', "a[href=' java\\tscript:alert(1)']"),
        ('<a href="&#x6A;avascript:alert(1)">x</a>', "a[href='javascript:alert(1)']"),
        ('<a href="vbscript:x">x</a>', "a[href='vbscript:x']"),
        ('<img src="data:image/svg+xml,x">', "img[src='data:image/svg+xml,x']"),
        ('<p style="color:red">x</p>', "p[style]"),
    ],
    ids=lambda value: value if len(value) < 30 else None,
)
def test_the_html_checker_flags_live_markup(html, finding):
    assert finding in unsafe_markup(html)


def test_the_html_checker_passes_inert_markup():
    inert = (
        '<p>&lt;script&gt;alert(1)&lt;/script&gt; <a href="https://example.org/javascript:x" '
        'rel="noopener nofollow">ok</a> <span class="claim" data-claim-id="1">c</span></p>'
    )
    assert unsafe_markup(inert) == []


def assert_inert_body(article: dict[str, Any], context: str = "") -> None:
    assert_sanitised(article["body_html"], context)


# --- fields and what each keeps ------------------------------------------------------------


class Field:
    """One text field of a write: where it sits in the request, where it comes back, its
    length limits, and whether surrounding whitespace is trimmed (`text()` fields)."""

    def __init__(
        self,
        name: str,
        path: tuple[str | int, ...],
        max_length: int,
        *,
        min_length: int = 0,
        strip: bool = True,
        read_path: tuple[str | int, ...] | None = None,
        loc: tuple[str | int, ...] | None = None,
        list_item: bool = False,
        matched: bool = False,
    ) -> None:
        self.name = name
        # Matched to an existing row by its folded form (bylines to authors): what reads
        # back is that row's spelling, the same once folded.
        self.matched = matched
        self.path = path
        self.max_length = max_length
        self.min_length = min_length
        self.strip = strip
        self.read_path = read_path or path
        self.loc = ["body", *(loc or path)]
        self.list_item = list_item

    def expected(self, value: str) -> str | None:
        """What a read gives back, or None when the value must be refused."""
        if not storable(value):
            return None
        kept = value.strip(WHITESPACE) if self.strip else value
        if not self.min_length <= len(kept) <= self.max_length:
            return None
        return kept.lower() if self.name == "tags" else kept


ARTICLE_FIELDS = [
    Field("headline", ("headline",), 300, min_length=1),
    Field("deck", ("deck",), 600),
    Field("body", ("body",), 200_000, strip=False),
    Field("tags", ("tags", 0), 64, min_length=1, list_item=True),
    Field("authors.name", ("authors", 0, "name"), 200, min_length=1, matched=True),
    Field("syndication.usage_terms", ("syndication", "usage_terms"), 1000),
]
CLAIM = ("claims", 0)
ATTRIBUTION = (*CLAIM, "attributions", 0)
SOURCE = (*ATTRIBUTION, "source")
CLAIM_FIELDS = [
    Field("claim.statement", (*CLAIM, "statement"), 1000, min_length=1),
    Field("claim.quote", (*CLAIM, "quote"), 2000, min_length=1),
    Field("claim.review.rating", (*CLAIM, "review", "rating"), 100, min_length=1),
    Field("claim.review.reviewed_by", (*CLAIM, "review", "reviewed_by"), 200, min_length=1),
    Field("attribution.cue", (*ATTRIBUTION, "cue"), 200),
    Field("attribution.anonymous_description", (*ATTRIBUTION, "anonymous_description"), 300),
    Field("source.name", (*SOURCE, "name"), 300, min_length=1, loc=(*SOURCE, "value", "name")),
    Field(
        "source.description",
        (*SOURCE, "description"),
        1000,
        loc=(*SOURCE, "value", "description"),
    ),
    Field(
        "source.affiliation",
        (*SOURCE, "affiliation"),
        300,
        loc=(*SOURCE, "value", "affiliation"),
    ),
]
TEXT_FIELDS = ARTICLE_FIELDS + CLAIM_FIELDS
# Fields with a pattern or a URL format: a hostile string is refused (422 naming the field)
# or, if it happens to be valid, kept exactly.
PATTERNED = [
    Field("slug", ("slug",), 120, strip=False),
    Field("section", ("section",), 64, strip=False),
    Field("language", ("language",), 35, strip=False),
    Field("canonical_url", ("canonical_url",), 2048),
    Field("claim.review.url", (*CLAIM, "review", "url"), 2048),
    Field("source.url", (*SOURCE, "url"), 2048, loc=(*SOURCE, "value", "url")),
]


def base_article(**overrides: Any) -> dict[str, Any]:
    """A valid article whose first claim is a quote with a review and a described source,
    so that every text field exists in it; no anchors (the body changes under test)."""
    data = article_data(**overrides)
    data["syndication"] = {"allowed": True, "usage_terms": "Partners only."}
    claim = data["claims"][0]
    claim.pop("anchor")
    claim.update(
        kind="quote",
        quote="The pier will close.",
        review={"rating": "True", "reviewed_by": "The desk", "url": "https://example.org/r"},
    )
    claim["attributions"][0].update(anonymous_description="harbour officials")
    claim["attributions"][0]["source"].update(
        description="The port's operator", affiliation="Calder Bay", url="https://example.org"
    )
    return data


def put_at(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def get_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def locs(problem: dict[str, Any]) -> set[tuple[str | int, ...]]:
    return {tuple(error["loc"]) for error in problem["errors"]}


def check_round_trip(article: dict[str, Any], fields: list[Field], value: str) -> list[str]:
    """The fields of `article` (as read back) that do not hold what `value` should become."""
    wrong = []
    for field in fields:
        got = get_at(article, field.read_path)
        expected = field.expected(value)
        if field.matched and got is not None and expected is not None:
            got, expected = fold(got), fold(expected)
        if got != expected:
            wrong.append(f"{field.name}: sent {value!r}, read {got!r}")
    return wrong


def check_refusal(response: httpx.Response, fields: list[Field], value: str) -> list[str]:
    """A 422 naming exactly the fields that may not hold `value`."""
    if response.status_code != 422:
        return [f"{response.status_code} for {value!r}: {response.text[:300]}"]
    problem = assert_problem(response, 422)
    wanted = {tuple(f.loc) for f in fields if f.expected(value) is None}
    named = locs(problem)
    if named != wanted:
        return [
            f"422 for {value!r} named {sorted(map(str, named))}, not {sorted(map(str, wanted))}"
        ]
    return []


def hostile_article(value: str, fields: list[Field]) -> dict[str, Any]:
    data = base_article()
    for field in fields:
        put_at(data, field.path, value)
    return data


# --- create, replace, patch: every text field at once, one request per string ------------


CATEGORIES = {"xss": XSS, "sql": SQL, "control": CONTROL, "unicode": UNICODE}


@pytest.mark.parametrize("category", list(CATEGORIES))
async def test_create_keeps_or_refuses_every_text_field(client, session, writer, category):
    """One POST per string with every text field of the article, its claim, attribution and
    source set to it: all kept (in their documented normal form) and read back so, or a 422
    naming exactly the fields that cannot hold it, with nothing stored."""
    problems: list[str] = []
    # Sources are matched by folded name (case, width, spaces): a string that folds like an
    # earlier one is attributed to the source that one created, as documented.
    sources: dict[str, str] = {}
    for case, value in CATEGORIES[category]:
        before = await row_counts(session)
        data = hostile_article(value, TEXT_FIELDS)
        response = await client.post(
            "/v1/articles", content=dumps(data), headers={**writer, **JSON}
        )
        if any(f.expected(value) is None for f in TEXT_FIELDS):
            problems += [f"{case}: {p}" for p in check_refusal(response, TEXT_FIELDS, value)]
            if await row_counts(session) != before:
                problems.append(f"{case}: a refused create stored something")
            continue
        if response.status_code != 201:
            problems.append(f"{case}: {response.status_code} {response.text[:300]}")
            continue
        created = response.json()
        fetched = (await client.get(f"/v1/articles/{created['id']}", headers=writer)).json()
        source_id = fetched["claims"][0]["attributions"][0]["source"]["id"]
        source = (await client.get(f"/v1/sources/{source_id}", headers=writer)).json()
        earlier = sources.setdefault(fold(value), value)
        for read in (created, fetched):
            problems += [f"{case}: {p}" for p in check_round_trip(read, ARTICLE_FIELDS, value)]
            problems += [f"{case}: {p}" for p in check_round_trip(read, CLAIM_FIELDS[:-3], value)]
            problems += [f"{case}: {p}" for p in unsafe_markup(read["body_html"])]
            attributed = read["claims"][0]["attributions"][0]["source"]
            for name in ("name", "description", "affiliation"):
                field = next(f for f in CLAIM_FIELDS if f.name == f"source.{name}")
                for where, got in (("claim", attributed[name]), ("GET source", source[name])):
                    if got != field.expected(earlier):
                        problems.append(f"{case}: {where} {name} is {got!r}")
    assert problems == [], "\n".join(problems)


async def test_put_and_patch_keep_or_refuse_every_text_field(client, session, writer):
    """PUT with every text field hostile, then PATCH with the article's own fields, for the
    whole corpus on one article; refusals leave it as it was. (Sources are matched to the
    ones earlier strings created, by folded name, so their fields are checked on create.)"""
    article = await make_article(session, published=False)
    url = f"/v1/articles/{article.id}"
    problems: list[str] = []
    kept = [f for f in TEXT_FIELDS if not f.name.startswith("source.")]
    current = (await client.get(url, headers=writer)).json()
    for case, value in CORPUS:
        put = dumps(hostile_article(value, TEXT_FIELDS))
        patch = {
            "headline": value,
            "deck": value,
            "body": value,
            "tags": [value],
            "authors": [{"name": value}],
            "syndication": {"usage_terms": value},
        }
        for method, body, fields, headers in (
            ("PUT", put, TEXT_FIELDS, JSON),
            ("PATCH", dumps(patch), ARTICLE_FIELDS, MERGE_PATCH),
        ):
            response = await client.request(
                method, url, content=body, headers={**writer, **headers}
            )
            if any(f.expected(value) is None for f in fields):
                problems += [
                    f"{method} {case}: {p}" for p in check_refusal(response, fields, value)
                ]
                if (await client.get(url, headers=writer)).json() != current:
                    problems.append(f"{method} {case}: a refused write changed the article")
            elif response.status_code != 200:
                problems.append(f"{method} {case}: {response.status_code} {response.text[:200]}")
            else:
                current = response.json()
                checked = [f for f in kept if f in fields]
                problems += [
                    f"{method} {case}: {p}" for p in check_round_trip(current, checked, value)
                ]
                problems += [f"{method} {case}: {p}" for p in unsafe_markup(current["body_html"])]
    assert current == (await client.get(url, headers=writer)).json()
    assert problems == [], "\n".join(problems)


# --- lengths at and just over each documented limit ----------------------------------------

LIMITED = [f for f in TEXT_FIELDS if f.name != "body"]


async def test_strings_at_each_limit_are_kept_and_one_over_refused(client, session, writer):
    """Each text field at its limit (in multi-byte and combining characters, which count as
    code points) is kept; one more is a 422 naming it. The body's 200,000 is checked once."""
    problems: list[str] = []
    for field in LIMITED:
        for unit in ("x", "\u00e9", "\U0001f600"):
            at = unit * field.max_length
            data = base_article()
            # A source of its own each time (an existing one would be matched by name).
            put_at(data, (*SOURCE, "name"), f"Source {uuid.uuid4()}")
            put_at(data, field.path, at)
            response = await client.post(
                "/v1/articles", content=dumps(data), headers={**writer, **JSON}
            )
            if response.status_code != 201:
                problems.append(f"{field.name} at {field.max_length}: {response.status_code}")
            elif get_at(response.json(), field.read_path) != field.expected(at):
                problems.append(f"{field.name} at {field.max_length}: not kept")
        before = await row_counts(session)
        data = base_article()
        put_at(data, field.path, "x" * (field.max_length + 1))
        response = await client.post(
            "/v1/articles", content=dumps(data), headers={**writer, **JSON}
        )
        problems += [
            f"{field.name}+1: {p}"
            for p in check_refusal(response, [field], "x" * (field.max_length + 1))
        ]
        if await row_counts(session) != before:
            problems.append(f"{field.name}+1 stored something")
    assert problems == [], "\n".join(problems)


# --- bulk NDJSON: the whole corpus in one upload ---------------------------------------------


async def test_bulk_lines_keep_or_refuse_each_string_alone(client, session, writer):
    lines = []
    for index, (_, value) in enumerate(CORPUS):
        lines.append(dumps(hostile_article(value, TEXT_FIELDS) | {"slug": f"hostile-{index}"}))
    lines.append(
        b'{"headline": "NaN number", "body": "x", "claims": [{"statement": "s", '
        b'"review": {"rating": "r", "reviewed_by": "d", "rating_value": NaN}}]}'
    )
    lines.append(b'{"headline": "\xc0\xaf overlong", "slug": "overlong"}')
    lines.append(b"[" * 10_000 + b"]" * 10_000)
    response = await client.post(
        "/v1/articles/bulk", content=b"\n".join(lines), headers={**writer, **NDJSON}
    )
    assert response.status_code == 200, response.text
    report = {line["line"]: line for line in response.json()["lines"]}
    problems: list[str] = []
    for index, (case, value) in enumerate(CORPUS):
        line = report[index + 1]
        if any(f.expected(value) is None for f in TEXT_FIELDS):
            named = {tuple(e["loc"]) for e in line["errors"]}
            wanted = {tuple(f.loc[1:]) for f in TEXT_FIELDS if f.expected(value) is None}
            # orjson refuses a lone surrogate escape as invalid JSON: the line's error has no loc.
            if line["status"] != "error" or (named != wanted and named != {()}):
                problems.append(f"{case}: {line}")
            continue
        if line["status"] != "created":
            problems.append(f"{case}: {line}")
            continue
        read = (await client.get(f"/v1/articles/{line['id']}", headers=writer)).json()
        kept = [f for f in TEXT_FIELDS if not f.name.startswith("source.")]
        problems += [f"{case}: {p}" for p in check_round_trip(read, kept, value)]
        problems += [f"{case}: {p}" for p in unsafe_markup(read["body_html"])]
    for number in range(len(CORPUS) + 1, len(CORPUS) + 4):
        if report[number]["status"] != "error":
            problems.append(f"line {number}: {report[number]}")
    assert problems == [], "\n".join(problems)
    assert await count_rows(session, Article) == sum(
        1 for line in report.values() if line["status"] == "created"
    )


# --- claims, notices, webhooks, keys ------------------------------------------------------

CLAIM_ENDPOINT_FIELDS = [
    Field("statement", ("statement",), 1000, min_length=1),
    Field("quote", ("quote",), 2000, min_length=1),
    Field("review.rating", ("review", "rating"), 100, min_length=1),
    Field("review.reviewed_by", ("review", "reviewed_by"), 200, min_length=1),
    Field("cue", ("attributions", 0, "cue"), 200),
    Field("anonymous_description", ("attributions", 0, "anonymous_description"), 300),
]


def hostile_claim(value: str) -> dict[str, Any]:
    claim = copy.deepcopy(base_article()["claims"][0])
    claim["attributions"][0]["source"] = {"name": "Harbour Authority", "kind": "organization"}
    for field in CLAIM_ENDPOINT_FIELDS:
        put_at(claim, field.path, value)
    return claim


async def test_claims_endpoints_keep_or_refuse_every_text_field(client, session, writer):
    article = await make_article(session, published=False)
    problems: list[str] = []
    claim_id = None
    for case, value in CORPUS:
        before = await row_counts(session)
        response = await client.post(
            f"/v1/articles/{article.id}/claims",
            content=dumps(hostile_claim(value)),
            headers={**writer, **JSON},
        )
        refuse = any(f.expected(value) is None for f in CLAIM_ENDPOINT_FIELDS)
        if refuse:
            problems += [
                f"POST {case}: {p}" for p in check_refusal(response, CLAIM_ENDPOINT_FIELDS, value)
            ]
            if await row_counts(session) != before:
                problems.append(f"POST {case}: stored something")
        elif response.status_code != 201:
            problems.append(f"POST {case}: {response.status_code} {response.text[:200]}")
        else:
            claim_id = response.json()["id"]
            read = (await client.get(f"/v1/claims/{claim_id}", headers=writer)).json()
            problems += [
                f"POST {case}: {p}" for p in check_round_trip(read, CLAIM_ENDPOINT_FIELDS, value)
            ]
        if claim_id is None:
            continue
        patch = {
            "statement": value,
            "kind": "quote",
            "quote": value,
            "review": hostile_claim(value)["review"],
        }
        response = await client.patch(
            f"/v1/claims/{claim_id}", content=dumps(patch), headers={**writer, **MERGE_PATCH}
        )
        fields = CLAIM_ENDPOINT_FIELDS[:4]
        if any(f.expected(value) is None for f in fields):
            problems += [f"PATCH {case}: {p}" for p in check_refusal(response, fields, value)]
        elif response.status_code != 200:
            problems.append(f"PATCH {case}: {response.status_code} {response.text[:200]}")
        else:
            problems += [
                f"PATCH {case}: {p}" for p in check_round_trip(response.json(), fields, value)
            ]
    assert problems == [], "\n".join(problems)


async def test_notices_webhooks_and_key_names_keep_or_refuse(client, session, publisher, admin):
    article = await make_article(session)
    url = f"/v1/articles/{article.id}"
    notice = Field("text", ("text",), 2000, min_length=1)
    description = Field("description", ("description",), 500)
    name = Field("name", ("name",), 100, min_length=1)
    problems: list[str] = []
    for case, value in CORPUS:
        expected = notice.expected(value)
        response = await client.post(
            f"{url}/corrections", content=dumps({"text": value}), headers={**publisher, **JSON}
        )
        if expected is None:
            problems += [
                f"correction {case}: {p}" for p in check_refusal(response, [notice], value)
            ]
        elif response.status_code != 201 or response.json()["corrections"][-1]["text"] != expected:
            problems.append(f"correction {case}: {response.status_code} {response.text[:200]}")

        body = {"url": "https://hooks.example.org/newsdesk", "description": value}
        response = await client.post("/v1/webhooks", content=dumps(body), headers={**admin, **JSON})
        if description.expected(value) is None:
            problems += [
                f"webhook {case}: {p}" for p in check_refusal(response, [description], value)
            ]
        elif response.status_code != 201:
            problems.append(f"webhook {case}: {response.status_code} {response.text[:200]}")
        else:
            read = await client.get(f"/v1/webhooks/{response.json()['id']}", headers=admin)
            if read.json()["description"] != description.expected(value):
                problems.append(f"webhook {case}: read {read.json()['description']!r}")

        response = await client.post(
            "/v1/keys",
            content=dumps({"name": value, "scopes": ["content:read"]}),
            headers={**admin, **JSON},
        )
        if name.expected(value) is None:
            problems += [f"key {case}: {p}" for p in check_refusal(response, [name], value)]
        elif response.status_code != 201 or response.json()["name"] != name.expected(value):
            problems.append(f"key {case}: {response.status_code} {response.text[:200]}")
    response = await client.post(
        f"{url}/retract", content=dumps({"text": XSS[0][1]}), headers={**publisher, **JSON}
    )
    assert response.status_code == 200, response.text
    assert response.json()["retraction"]["text"] == XSS[0][1]
    assert problems == [], "\n".join(problems)


async def test_media_keep_or_refuse_every_text_field(client, session, writer):
    fields = [
        Field("alt", ("alt",), 1000),
        Field("caption", ("caption",), 2000),
        Field("credit", ("credit",), 300),
        Field("copyright", ("copyright",), 300),
    ]
    problems: list[str] = []
    for case, value in CORPUS:
        for field in fields:
            body = {"url": "https://dam.example.org/pier.jpg", field.name: value}
            response = await client.post(
                "/v1/media", content=dumps(body), headers={**writer, **JSON}
            )
            expected = field.expected(value)
            if expected is None:
                problems += [
                    f"{field.name} {case}: {p}" for p in check_refusal(response, [field], value)
                ]
                continue
            read = await client.get(f"/v1/media/{response.json()['id']}")
            if read.json()[field.name] != (expected or None):  # empty is no text at all
                problems.append(f"{field.name} {case}: read {read.json()[field.name]!r}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt://alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https://exa\x00mple.org/",
        "https://example.org/\x00",
        "file:///etc/passwd",
        "//evil.test/x",
    ],
)
async def test_hostile_urls_are_refused_everywhere(client, session, writer, admin, url):
    before = await row_counts(session)
    for field in PATTERNED[3:]:
        data = base_article()
        put_at(data, field.path, url)
        response = await client.post(
            "/v1/articles", content=dumps(data), headers={**writer, **JSON}
        )
        assert tuple(field.loc) in locs(assert_problem(response, 422)), field.name
    for path in ("/v1/webhooks", "/v1/media"):
        headers = {**(admin if path == "/v1/webhooks" else writer), **JSON}
        response = await client.post(path, content=dumps({"url": url}), headers=headers)
        assert ("body", "url") in locs(assert_problem(response, 422)), path
    assert await row_counts(session) == before


@pytest.mark.parametrize("field", PATTERNED[:3], ids=lambda f: f.name)
async def test_patterned_fields_refuse_the_corpus(client, session, writer, field):
    before = await row_counts(session)
    for case, value in CORPUS:
        data = base_article()
        put_at(data, field.path, value)
        response = await client.post(
            "/v1/articles", content=dumps(data), headers={**writer, **JSON}
        )
        assert tuple(field.loc) in locs(assert_problem(response, 422)), case
    assert await row_counts(session) == before


# --- numbers, raw bytes, deep JSON --------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "accepted"),
    [
        (b"1e309", False),
        (b"-1e309", False),
        (b"NaN", False),
        (b"Infinity", False),
        (b"-Infinity", False),
        (b"-0", True),
        (b"18446744073709551616", True),
        (b"1e-400", True),
    ],
)
async def test_huge_and_non_finite_numbers(client, session, writer, literal, accepted):
    """A rating out of JSON's range (or NaN) is a 422, never stored as something else."""
    data = article_data()
    data["claims"][0]["review"] = {"rating": "r", "reviewed_by": "d", "rating_value": 12345}
    raw = dumps(data).replace(b"12345", literal)
    before = await row_counts(session)
    response = await client.post("/v1/articles", content=raw, headers={**writer, **JSON})
    if not accepted:
        assert ("body", "claims", 0, "review", "rating_value") in locs(
            assert_problem(response, 422)
        )
        assert await row_counts(session) == before
        return
    assert response.status_code == 201, response.text
    stored = response.json()["claims"][0]["review"]["rating_value"]
    assert stored == float(json.loads(literal))
    fetched = (await client.get(f"/v1/articles/{response.json()['id']}", headers=writer)).json()
    assert fetched["claims"][0]["review"]["rating_value"] == stored


@pytest.mark.parametrize(
    "field",
    ["limit", "count"],
)
@pytest.mark.parametrize("number", ["1e309", "NaN", "18446744073709551616", "-0", "0x10"])
async def test_huge_numbers_in_query_parameters(client, field, number):
    response = await client.get(f"/v1/articles?{field}={number}")
    if field == "limit" or number != "-0":
        assert ("query", field) in locs(assert_problem(response, 422))


RAW_BODIES = [
    ("overlong-slash", b'{"headline": "\xc0\xaf"}'),
    ("utf8-surrogate", b'{"headline": "\xed\xa0\x80"}'),
    ("invalid-byte", b'{"headline": "\xff\xfe"}'),
    ("truncated-sequence", b'{"headline": "\xe2\x82"}'),
    ("nested-arrays-10000", b"[" * 10_000 + b"]" * 10_000),
    ("nested-objects-10000", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
    ("nested-in-field", b'{"headline": "h", "tags": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
]
WRITES = [
    ("POST", "/v1/articles", JSON),
    ("PUT", "/v1/articles/{id}", JSON),
    ("PATCH", "/v1/articles/{id}", MERGE_PATCH),
    ("POST", "/v1/articles/{id}/claims", JSON),
    ("POST", "/v1/articles/{id}/corrections", JSON),
    ("POST", "/v1/webhooks", JSON),
    ("POST", "/v1/keys", JSON),
    ("POST", "/v1/ingest", JSON),
    ("POST", "/v1/ingest", {"Content-Type": "text/plain"}),
    ("POST", "/v1/ingest", {"Content-Type": "text/html"}),
    ("POST", "/v1/media", JSON),
]


@pytest.mark.parametrize(("case", "raw"), RAW_BODIES, ids=[c for c, _ in RAW_BODIES])
async def test_invalid_utf8_and_deep_json_are_refused_by_every_write(
    client, session, admin, editor, publisher, case, raw
):
    article = await make_article(session)
    before = await row_counts(session)
    for method, path, media in WRITES:
        headers = admin if path.startswith(("/v1/webhooks", "/v1/keys")) else editor
        headers = publisher if path.endswith("corrections") else headers
        response = await client.request(
            method, path.format(id=article.id), content=raw, headers={**headers, **media}
        )
        assert response.status_code in (400, 422), (
            method,
            path,
            response.status_code,
            response.text,
        )
        assert_problem(response, response.status_code)
    assert await row_counts(session) == before


# --- query parameters of the reads ----------------------------------------------------------

QUERY_CORPUS = [
    *SQL,
    *CONTROL,
    *UNICODE[:4],
    XSS[0],
    XSS[10],
    ("percent", "%"),
    ("underscore", "_"),
]
READS = {
    "/v1/articles": [
        "q",
        "section",
        "tag",
        "author",
        "language",
        "source",
        "cursor",
        "fields",
        "include",
        "published_after",
        "published_before",
        "sort",
        "status",
    ],
    "/v1/claims": ["q", "article", "source", "verification", "kind", "cursor"],
    "/v1/sources": ["q", "kind", "sort", "cursor"],
    "/v1/changes": ["since"],
    "/v1/feeds/rss": ["section", "tag"],
    "/v1/feeds/json": ["section", "tag"],
    "/v1/sections": ["cursor"],
    "/v1/tags": ["cursor"],
}


def encoded(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("path", list(READS))
async def test_hostile_query_parameters_are_never_5xx(client, session, writer, path):
    """Every parameter of every listing with every string: a 200 that finds nothing the
    string does not literally name, or a 4xx problem; the data is all still there."""
    await make_article(session, headline="Harbour pier closes", tags=["harbour"])
    before = await row_counts(session)
    problems = []
    for name in READS[path]:
        for case, value in QUERY_CORPUS:
            for headers in ({} if path != "/v1/articles" else writer,):
                response = await client.get(f"{path}?{name}={encoded(value)}", headers=headers)
                if response.status_code >= 500 or response.status_code not in (200, 400, 404, 422):
                    problems.append(f"{name}={case}: {response.status_code} {response.text[:200]}")
                elif response.status_code != 200:
                    assert_problem(response, response.status_code)
                    if "\x00" in value and ["query", name] not in [
                        e["loc"] for e in response.json().get("errors", [])
                    ]:
                        problems.append(f"{name}={case}: NUL refused without naming it")
                elif (
                    name in ("q", "author", "tag", "section")
                    and path.startswith("/v1/")
                    and "data" in response.text[:10]
                ):
                    found = response.json()["data"]
                    if case in ("percent", "underscore", "sql-like-percent") and found:
                        problems.append(f"{name}={case}: a LIKE wildcard matched {len(found)}")
    assert problems == [], "\n".join(problems)
    assert await row_counts(session) == before


@pytest.mark.parametrize(
    "reference", ["%00", "x%00y", "%ED%A0%80", "%C0%AF", "'%20OR%201=1--", "%3Cscript%3E"]
)
async def test_hostile_article_paths_are_404(client, writer, reference):
    for suffix in ("", "/claims", "/revisions"):
        response = await client.get(f"/v1/articles/{reference}{suffix}", headers=writer)
        assert_problem(response, 404)


# --- republished HTML: feeds, ninjs, JSON-LD, claim highlights ------------------------------


async def test_feeds_ninjs_and_jsonld_carry_only_sanitised_html(client, session):
    bodies = {case: f"Lead paragraph.\n\n{value}\n\nLast words." for case, value in XSS}
    articles = {}
    for case, body in bodies.items():
        articles[case] = await make_article(
            session,
            headline=f"{case} {XSS[0][1]}",
            deck=XSS[2][1],
            body=body,
            claims=[],
            tags=[case],
        )
    problems: list[str] = []
    rss = etree.fromstring((await client.get("/v1/feeds/rss?limit=100")).content)
    contents = [e.text for e in rss.iter("{http://purl.org/rss/1.0/modules/content/}encoded")]
    atom = etree.fromstring((await client.get("/v1/feeds/atom?limit=100")).content)
    contents += [e.text for e in atom.iter("{http://www.w3.org/2005/Atom}content")]
    feed = orjson.loads((await client.get("/v1/feeds/json?limit=100")).content)
    contents += [item["content_html"] for item in feed["items"]]
    assert len(contents) == 3 * len(XSS)
    for html in contents:
        problems += unsafe_markup(html or "")
    for case, article in articles.items():
        ninjs = (await client.get(f"/v1/articles/{article.id}?format=ninjs")).json()
        [html_body] = [b["value"] for b in ninjs["bodies"] if b["contentType"] == "text/html"]
        problems += [f"ninjs {case}: {p}" for p in unsafe_markup(html_body)]
        jsonld = (await client.get(f"/v1/articles/{article.id}?format=jsonld")).json()
        news = jsonld["@graph"][0]
        # JSON-LD carries the body as plain text only, never as markup to render.
        if news["articleBody"] != plain_text(bodies[case]):
            problems.append(f"jsonld {case}: articleBody is not the plain text")
        if news["headline"] != f"{case} {XSS[0][1]}":
            problems.append(f"jsonld {case}: headline changed")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("case", "value"), XSS[:12] + SQL[:2], ids=[c for c, _ in XSS[:12] + SQL[:2]]
)
async def test_claims_anchored_on_hostile_text_stay_inside_their_span(client, writer, case, value):
    """A claim anchored on text that looks like markup is wrapped in its span, with that
    text (escaped) as the span's whole content: nothing escapes into the markup."""
    body = f"First paragraph.\n\nThe minister said {value} on Monday.\n\nClosing words."
    exact = f"said {value} on"
    data = article_data(body=body, claims=[{"statement": "S", "anchor": {"exact": exact}}])
    response = await client.post("/v1/articles", content=dumps(data), headers={**writer, **JSON})
    if exact not in plain_text(body):
        # Markdown turned part of it into syntax: the anchor is not in the text.
        assert ("body", "claims", 0, "anchor", "exact") in locs(assert_problem(response, 422))
        return
    assert response.status_code == 201, response.text
    article = response.json()
    claim = article["claims"][0]
    assert claim["anchor"]["exact"] == exact and claim["anchor_status"] == "anchored"
    assert_sanitised(article["body_html"], case)
    root = lxml.html.fragment_fromstring(article["body_html"], create_parent="div")
    [span] = root.xpath("//span[@class='claim']")
    assert span.get("data-claim-id") == claim["id"]
    assert span.text_content() == exact
    assert len(span) == 0, "no element inside the highlighted text"


async def test_surrogate_keys_hold_any_tag_safely(client, session):
    tags = ["local news", "line\r\nSet-Cookie: x=1", "caf\u00e9 \u202e", "100%"]
    article = await make_article(session, tags=tags)
    for path in (f"/v1/articles/{article.id}", "/v1/articles"):
        response = await client.get(path)
        assert response.status_code == 200, response.text
        keys = response.headers["surrogate-key"].split(" ")
        assert f"article-{article.id}" in keys
        for tag in tags:
            assert "tag-" + quote(tag.lower(), safe="") in keys
        assert "set-cookie" not in response.headers


# --- feeds: plain text stays text ----------------------------------------------------------

RSS_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
ATOM = "{http://www.w3.org/2005/Atom}"


def as_html(text: str) -> tuple[list[str], str]:
    """`text` read as HTML, as an RSS reader reads a field: the elements it makes and the
    text it shows."""
    root = lxml.html.fragment_fromstring(text, create_parent="div")
    return [element.tag for element in root.iterdescendants()], root.text_content()


def hostile_text(value: str, *, tag: bool = False) -> str:
    """What a text field keeps of `value`, and a tag of it (at most 64 characters)."""
    return value.strip(WHITESPACE)[:64].strip(WHITESPACE).lower() if tag else value


async def test_feeds_keep_hostile_plain_text_as_text(client, session):
    """Every plain-text field of every feed, for articles whose headline, deck, byline, tag
    and usage terms are each a hostile string: RSS fields read as HTML (as readers do) show
    exactly the stored text and make no element; Atom's are text constructs of type text;
    JSON Feed's are the text itself; the body HTML has no live markup anywhere; the feed
    filtered by hostile `section` and `tag` names them as text too."""
    given: dict[str, str] = {}  # article id → the hostile string in its every text field
    tags: dict[str, str] = {}
    bylines: dict[str, str] = {}  # article id → its author's name (the first spelling stored)
    spellings: dict[str, str] = {}
    for case, value in XSS:
        tag = hostile_text(value, tag=True)
        article = await make_article(
            session,
            slug=case,
            headline=value,
            deck=value,
            authors=[{"name": value}],
            tags=[tag],
            syndication={"allowed": True, "usage_terms": value},
            claims=[],
        )
        given[str(article.id)], tags[str(article.id)] = value, tag
        bylines[str(article.id)] = spellings.setdefault(fold(value), value)
    problems: list[str] = []

    def shown_as_text(field: str, text: str | None, expected: set[str] | str) -> None:
        elements, shown = as_html(text or "")
        if elements:
            problems.append(f"{field}: {text!r} makes {elements}")
        if shown not in (expected if isinstance(expected, set) else {expected}):
            problems.append(f"{field}: {text!r} shows as {shown!r}")

    filters = {"section": XSS[2][1], "tag": XSS[0][1]}
    for query in ({"limit": 100}, filters):
        # JSON Feed's title and description are plain text: what the others must show.
        named = orjson.loads((await client.get("/v1/feeds/json", params=query)).content)
        if query is filters:
            assert all(v in named["title"] for v in filters.values())
        rss_raw = (await client.get("/v1/feeds/rss", params=query)).content
        assert feedparser.parse(rss_raw).bozo == 0
        channel = etree.fromstring(rss_raw).find("channel")
        shown_as_text("rss channel title", channel.findtext("title"), named["title"])
        shown_as_text(
            "rss channel description", channel.findtext("description"), named["description"]
        )
        atom_raw = (await client.get("/v1/feeds/atom", params=query)).content
        assert feedparser.parse(atom_raw).bozo == 0
        atom = etree.fromstring(atom_raw)
        for name, expected in (("title", named["title"]), ("subtitle", named["description"])):
            assert atom.find(f"{ATOM}{name}").get("type") in (None, "text")
            assert atom.findtext(f"{ATOM}{name}") == expected

    # RSS: each item's text fields, read as HTML.
    rss_raw = (await client.get("/v1/feeds/rss", params={"limit": 100})).content
    items = etree.fromstring(rss_raw).findall("channel/item")
    assert len(items) == len(XSS)
    for item in items:
        article_id = item.findtext("guid").removeprefix("urn:uuid:")
        value = given[article_id]
        for field in ("title", "description"):
            shown_as_text(f"rss {field}", item.findtext(field, namespaces=RSS_NAMESPACES), value)
        creator = item.findtext("dc:creator", namespaces=RSS_NAMESPACES)
        shown_as_text("rss dc:creator", creator, bylines[article_id])
        for category in item.findall("category"):
            shown_as_text("rss category", category.text, {"local", tags[article_id]})
        problems += unsafe_markup(item.findtext("content:encoded", namespaces=RSS_NAMESPACES))
    # feedparser: the RSS fields are HTML that shows the text, nothing to sanitise away.
    parsed = feedparser.parse(rss_raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    for entry in parsed.entries:
        value = given[entry.id.removeprefix("urn:uuid:")]
        for field, text in (("title", entry.title), ("summary", entry.summary)):
            shown_as_text(f"feedparser rss {field}", text, value)
        byline = bylines[entry.id.removeprefix("urn:uuid:")]
        shown_as_text("feedparser rss author", entry.author, byline)

    # Atom: text constructs say they are text, and are the text.
    atom_raw = (await client.get("/v1/feeds/atom", params={"limit": 100})).content
    entries = etree.fromstring(atom_raw).findall(f"{ATOM}entry")
    assert len(entries) == len(XSS)
    for entry in entries:
        value = given[entry.findtext(f"{ATOM}id").removeprefix("urn:uuid:")]
        for name in ("title", "summary", "rights"):
            element = entry.find(f"{ATOM}{name}")
            assert element.get("type") in (None, "text"), name
            assert element.text == value, name
        byline = bylines[entry.findtext(f"{ATOM}id").removeprefix("urn:uuid:")]
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == byline
        assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == [
            "local",
            tags[entry.findtext(f"{ATOM}id").removeprefix("urn:uuid:")],
        ]
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        problems += unsafe_markup(content.text)
    parsed = feedparser.parse(atom_raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    for entry in parsed.entries:
        value = given[entry.id.removeprefix("urn:uuid:")]
        for detail in (entry.title_detail, entry.summary_detail):
            assert (detail.type, detail.value) == ("text/plain", value)

    # JSON Feed: title and summary are plain text by its spec; content_html is the body.
    document = orjson.loads((await client.get("/v1/feeds/json?limit=100")).content)
    assert len(document["items"]) == len(XSS)
    for item in document["items"]:
        value = given[item["id"].removeprefix("urn:uuid:")]
        assert item["title"] == item["summary"] == value
        assert [a["name"] for a in item["authors"]] == [
            bylines[item["id"].removeprefix("urn:uuid:")]
        ]
        assert item["tags"] == ["local", tags[item["id"].removeprefix("urn:uuid:")]]
        problems += unsafe_markup(item["content_html"])
    assert problems == [], "\n".join(problems)
