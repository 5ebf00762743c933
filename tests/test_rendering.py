"""The body's plain-text projection, its HTML with claim spans, and text selectors: pure
functions, tested without a database."""

from app.articles.rendering import Span, plain_text, render_html
from app.articles.search import fts5_terms
from app.claims.anchoring import CONTEXT_CHARS, locate, select

BODY = "First *para* with `code`.\nSame para.\n\n## Heading\n\n- item one\n- item two"


def test_plain_text_removes_markdown_and_joins_blocks_with_blank_lines() -> None:
    assert plain_text(BODY) == (
        "First para with code. Same para.\n\nHeading\n\nitem one\n\nitem two"
    )


def test_plain_text_decodes_entities_and_keeps_raw_html_as_text() -> None:
    assert plain_text("Tom &amp; Jerry <b>bold</b>") == "Tom & Jerry <b>bold</b>"


def test_spans_wrap_exact_text_even_across_inline_markup() -> None:
    text = plain_text(BODY)
    start = text.index("para with")
    html = render_html(BODY, [Span("c1", start, start + len("para with code"))])
    assert '<em><span class="claim" data-claim-id="c1">para</span></em>' in html
    assert '<span class="claim" data-claim-id="c1"> with </span>' in html
    assert '<span class="claim" data-claim-id="c1"><code>code</code></span>' in html


def test_overlapping_spans_nest_properly() -> None:
    body = "alpha beta gamma"
    html = render_html(body, [Span("a", 0, 10), Span("b", 6, 16)])
    assert html == (
        '<p><span class="claim" data-claim-id="a">alpha </span>'
        '<span class="claim" data-claim-id="a"><span class="claim" data-claim-id="b">beta'
        '</span></span><span class="claim" data-claim-id="b"> gamma</span></p>\n'
    )


def test_span_in_a_later_block_lands_in_that_block() -> None:
    text = plain_text(BODY)
    start = text.index("item two")
    html = render_html(BODY, [Span("c9", start, start + 8)])
    assert '<li><span class="claim" data-claim-id="c9">item two</span></li>' in html


def test_html_is_sanitised() -> None:
    html = render_html(
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        "[ok](https://example.org)"
    )
    assert "<script" not in html and "javascript:" not in html.replace("[x](javascript:", "")
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert '<a href="https://example.org" rel="noopener nofollow">ok</a>' in html


def test_locate_fills_in_the_selector() -> None:
    text = "The council said the bridge will stay shut until June, pending a survey."
    found = locate(text, "will stay shut")
    assert found is not None
    assert text[found.start : found.end] == "will stay shut"
    assert found.prefix == text[max(0, found.start - CONTEXT_CHARS) : found.start]
    assert found.suffix == text[found.end : found.end + CONTEXT_CHARS]


def test_locate_prefers_matching_context_then_nearest_hint() -> None:
    text = "He said yes. She said no. They said yes."
    by_context = locate(text, "said yes", prefix="They ")
    assert by_context is not None and by_context.start == text.rindex("said yes")
    by_hint = locate(text, "said yes", hint=30)
    assert by_hint is not None and by_hint.start == text.rindex("said yes")
    assert locate(text, "said maybe") is None


def test_select_counts_code_points() -> None:
    text = "Emoji 🎉 then claim text"  # the emoji is one code point (two UTF-16 units)
    found = select(text, 13, 18)
    assert found.exact == "claim" and found.prefix == "Emoji 🎉 then "


def test_fts5_terms_quote_every_term() -> None:
    assert fts5_terms("ferry pier") == (['"ferry"', '"pier"'], [])
    assert fts5_terms('"north pier" -ferry') == (['"north pier"'], ['"ferry"'])
    assert fts5_terms('AND OR NOT * ( "') == (['"AND"', '"OR"', '"NOT"'], [])
    assert fts5_terms("-only") == ([], ['"only"'])
    assert fts5_terms('say "it""s" there') == (['"say"', '"it"', '"s"', '"there"'], [])
