"""The body's plain-text projection, its HTML with claim spans, and text selectors: pure
functions, tested without a database; and the projection as the API returns it."""

from typing import Any

import lxml.html
import pytest

from app import demo
from app.articles.body import SPAN_ATTRIBUTES, Span, plain_text, render_html
from app.articles.search import fts5_terms
from app.claims.anchoring import CONTEXT_CHARS, locate, select
from app.media.storage import MediaStore
from tests.factories import article_data

BODY = "First *para* with `code`.\nSame para.\n\n## Heading\n\n- item one\n- item two"


def test_plain_text_removes_markdown_and_joins_blocks_with_blank_lines() -> None:
    assert plain_text(BODY) == (
        "First para with code. Same para.\n\nHeading\n\nitem one\n\nitem two"
    )


def test_plain_text_decodes_entities_and_keeps_raw_html_as_text() -> None:
    assert plain_text("Tom &amp; Jerry <b>bold</b>") == "Tom & Jerry <b>bold</b>"


def span(claim_id: str, start: int, end: int) -> Span:
    return Span(claim_id, start, end, "statement", "confirmed")


def opening(claim_id: str, kind: str = "statement", verification: str = "confirmed") -> str:
    return (
        f'<span class="claim" data-claim-id="{claim_id}" data-claim-kind="{kind}" '
        f'data-verification="{verification}">'
    )


def test_spans_wrap_exact_text_even_across_inline_markup() -> None:
    text = plain_text(BODY)
    start = text.index("para with")
    html = render_html(BODY, [span("c1", start, start + len("para with code"))])
    assert f"<em>{opening('c1')}para</span></em>" in html
    assert f"{opening('c1')} with </span>" in html
    assert f"{opening('c1')}<code>code</code></span>" in html


def test_overlapping_spans_nest_properly() -> None:
    body = "alpha beta gamma"
    html = render_html(
        body, [Span("a", 0, 10, "quote", "disputed"), Span("b", 6, 16, "opinion", "unclear")]
    )
    a, b = opening("a", "quote", "disputed"), opening("b", "opinion", "unclear")
    assert html == (f"<p>{a}alpha </span>{a}{b}beta</span></span>{b} gamma</span></p>\n")


def test_span_in_a_later_block_lands_in_that_block() -> None:
    text = plain_text(BODY)
    start = text.index("item two")
    html = render_html(BODY, [span("c9", start, start + 8)])
    assert f"<li>{opening('c9')}item two</span></li>" in html


def test_the_sanitiser_keeps_every_attribute_of_a_claim_span() -> None:
    """nh3's allow-list for span must hold what a claim span writes, or the attribute is
    silently stripped; raw HTML in a body never makes a span at all."""
    html = render_html("alpha beta", [Span("c1", 0, 5, "forecast", "refuted")])
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    [element] = root.iter("span")
    assert list(element.attrib) == list(SPAN_ATTRIBUTES)
    assert dict(element.attrib) == {
        "class": "claim",
        "data-claim-id": "c1",
        "data-claim-kind": "forecast",
        "data-verification": "refuted",
    }
    raw = render_html('<span class="claim" data-verification="confirmed">fake</span>')
    assert "<span" not in raw


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


@pytest.mark.anyio
async def test_body_text_is_the_text_claim_anchors_index(client, session):
    """Every anchored claim of every demo story: `body_text[start:end]` is its `exact`, as
    `body[start:end]` is not once Markdown syntax comes before it."""
    assert await demo.load(session, MediaStore("memory://")) == 5
    await session.commit()
    listed = (await client.get("/v1/articles?limit=25")).json()["data"]
    anchors, off_in_body = 0, 0
    for summary in listed:
        assert summary["body_text"] == plain_text(summary["body"])
        article = (await client.get(f"/v1/articles/{summary['id']}")).json()
        assert article["body_text"] == summary["body_text"]
        for claim in article["claims"]:
            anchor = claim["anchor"]
            if anchor is None:
                continue
            assert article["body_text"][anchor["start"] : anchor["end"]] == anchor["exact"]
            anchors += 1
            off_in_body += article["body"][anchor["start"] : anchor["end"]] != anchor["exact"]
    assert anchors >= 10 and off_in_body >= 1


@pytest.mark.anyio
async def test_body_text_follows_the_body_and_cannot_be_written(client, writer):
    body = "First *para*.\n\n## Heading\n\nThe **pier** closes."
    created = await client.post(
        "/v1/articles", json={"headline": "Pier", "body": body}, headers=writer
    )
    assert created.status_code == 201, created.text
    assert created.json()["body_text"] == "First para.\n\nHeading\n\nThe pier closes."
    article_id = created.json()["id"]

    patched = await client.patch(
        f"/v1/articles/{article_id}",
        json={"body": "Now *one* line."},
        headers={**writer, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["body_text"] == "Now one line."
    revision = await client.get(f"/v1/articles/{article_id}/revisions/1", headers=writer)
    assert revision.json()["body_text"] == "First para.\n\nHeading\n\nThe pier closes."
    only = await client.get(
        f"/v1/articles/{article_id}", params={"fields": "id,body_text"}, headers=writer
    )
    assert only.json() == {"id": article_id, "body_text": "Now one line."}

    refused = await client.post(
        "/v1/articles",
        json={"headline": "Pier", "body": body, "body_text": "Something else."},
        headers=writer,
    )
    assert refused.status_code == 422
    assert ["body", "body_text"] in [error["loc"] for error in refused.json()["errors"]]


@pytest.mark.anyio
async def test_claim_spans_in_body_html_follow_the_claim(client, writer):
    """A front end styles a claim's span by its kind and verification with no join: the
    attributes are on the span, and change with the claim."""
    data = article_data(
        body="The council said the pier will close in June.",
        claims=[
            {
                "statement": "The pier will close in June.",
                "anchor": {"exact": "the pier will close in June"},
                "kind": "forecast",
            }
        ],
    )
    created = await client.post("/v1/articles", json=data, headers=writer)
    assert created.status_code == 201, created.text
    [claim] = created.json()["claims"]

    def span_of(article: dict[str, Any]) -> dict[str, str]:
        root = lxml.html.fragment_fromstring(article["body_html"], create_parent="div")
        [element] = root.iter("span")
        assert element.text_content() == "the pier will close in June"
        return dict(element.attrib)

    assert span_of(created.json()) == {
        "class": "claim",
        "data-claim-id": claim["id"],
        "data-claim-kind": "forecast",
        "data-verification": "unverified",
    }
    patched = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={"verification": "refuted", "kind": "statement"},
        headers=writer,
    )
    assert patched.status_code == 200, patched.text
    article = (await client.get(f"/v1/articles/{created.json()['id']}", headers=writer)).json()
    assert span_of(article)["data-claim-kind"] == "statement"
    assert span_of(article)["data-verification"] == "refuted"
