"""POST /v1/ingest refuses pages and stories too large to store before the work that costs
per line, tag, paragraph or claim (reading the page, splitting sentences, finding claims)."""

from collections.abc import Callable
from typing import Any

import pytest

from app.claims.schemas import MAX_CLAIMS_PER_ARTICLE
from app.ingest import attribution, page, service
from tests.helpers import assert_problem, row_counts

pytestmark = pytest.mark.anyio

TEXT = {"Content-Type": "text/plain; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
HEADLINE = "Pier closes after storm damage on the coast"
# Each paragraph a sentence of prose that is not a claim, and one that is.
PROSE = "The light over the harbour was grey and the gulls stayed in all morning long."
CLAIM = "Officials said the north pier would stay closed for repairs until spring."


def text_page(paragraphs: list[str]) -> bytes:
    return "\n\n".join([HEADLINE, *paragraphs]).encode()


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of `module.name` (still made)."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def forbid(monkeypatch: pytest.MonkeyPatch, module: Any, *names: str) -> None:
    for name in names:

        def refuse(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            raise AssertionError(f"{_name} ran on a page that was to be refused before it")

        monkeypatch.setattr(module, name, refuse)


async def post(client, writer, content: bytes, headers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/ingest", content=content, headers={**writer, **headers})
    return assert_problem(response, 422)


async def test_a_text_page_of_35000_tiny_paragraphs_is_refused_before_it_is_read(
    client, session, writer, monkeypatch
):
    forbid(monkeypatch, page, "read_text", "read_html")
    before = await row_counts(session)
    content = text_page(["He said yes." if n % 2 else "It rained." for n in range(35_000)])
    assert 400_000 < len(content) < 1024 * 1024
    problem = await post(client, writer, content, TEXT)
    assert problem["errors"][0]["loc"] == ["body"]
    assert problem["errors"][0]["type"] == "page_too_large"
    assert str(service.MAX_PAGE_LINES) in problem["detail"]
    assert await row_counts(session) == before


async def test_an_html_page_of_35000_paragraphs_is_refused_before_it_is_read(
    client, writer, monkeypatch
):
    forbid(monkeypatch, page, "read_text", "read_html")
    paragraphs = "".join(f"<p>He said yes {n}.</p>" for n in range(35_000))
    content = f"<html><title>{HEADLINE}</title><body>{paragraphs}</body></html>".encode()
    assert len(content) < 1024 * 1024
    problem = await post(client, writer, content, HTML)
    assert problem["errors"][0]["type"] == "page_too_large"
    assert str(service.MAX_PAGE_ELEMENTS) in problem["detail"]


async def test_a_story_of_too_many_paragraphs_is_refused_before_claims_are_looked_for(
    client, writer, monkeypatch
):
    forbid(monkeypatch, attribution, "read_paragraph")
    content = text_page([PROSE] * (service.MAX_STORY_PARAGRAPHS + 2))  # one is the deck
    problem = await post(client, writer, content, TEXT)
    assert problem["errors"][0]["type"] == "story_too_long"
    assert str(service.MAX_STORY_PARAGRAPHS) in problem["detail"]


async def test_a_body_over_200000_characters_is_refused_before_claims_are_looked_for(
    client, writer, monkeypatch
):
    forbid(monkeypatch, attribution, "read_paragraph")
    long_paragraph = " ".join([PROSE] * 30)
    content = text_page([long_paragraph] * 90)
    problem = await post(client, writer, content, TEXT)
    assert problem["errors"][0]["loc"] == ["body", "body"]
    assert problem["errors"][0]["type"] == "string_too_long"


async def test_a_story_of_too_many_claims_stops_at_the_first_claim_too_many(
    client, session, writer, monkeypatch
):
    calls = counting(monkeypatch, attribution, "read_paragraph")
    before = await row_counts(session)
    content = text_page([CLAIM] * (MAX_CLAIMS_PER_ARTICLE + 300))
    problem = await post(client, writer, content, TEXT)
    assert problem["errors"][0]["loc"] == ["body", "claims"]
    assert problem["errors"][0]["type"] == "too_long"
    assert str(MAX_CLAIMS_PER_ARTICLE) in problem["detail"]
    assert len(calls) == MAX_CLAIMS_PER_ARTICLE + 1
    assert await row_counts(session) == before


async def test_a_story_at_the_limits_is_still_read(client, writer):
    content = text_page([CLAIM] * (MAX_CLAIMS_PER_ARTICLE + 1))  # the first is the deck
    response = await client.post(
        "/v1/ingest?dry_run=true", content=content, headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["claims"]) == MAX_CLAIMS_PER_ARTICLE


STORY = [
    CLAIM,
    PROSE,
    "Repair crews began lifting the broken deck boards on Monday, working from two barges.",
    "The harbour authority said ferries would use the south quay while the work went on.",
    "Fishing boats moored at the pier were moved to the marina before the storm arrived.",
    "A local historian said the pier had been rebuilt twice since it opened in 1887.",
]


def heavy_page(megabytes: float) -> bytes:
    """A story page as big sites serve it: the story is a few kilobytes, the rest is
    inline data, styles, drawings and menus."""
    story = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    menu = "<nav><ul>" + "".join(f'<li><a href="/s/{n}">Section {n}</a></li>' for n in range(800))
    menu += "</ul></nav>"
    icons = "<svg>" + "".join(f'<path d="M{n} {n}L{n + 1} 0"/>' for n in range(3000)) + "</svg>"
    head = f"<html><head><title>{HEADLINE}</title><style>a{{color:red}}</style></head><body>"
    tail = f"{menu}{icons}<article><h1>{HEADLINE}</h1>{story}</article>{menu}</body></html>"
    filler = int(megabytes * 1024 * 1024) - len(head) - len(tail)
    data = "<script>window.data=[" + "0," * (filler // 2 - 20) + "0]</script>"
    return (head + data + tail).encode()


async def test_a_real_sized_page_of_several_megabytes_is_read(client, writer):
    # Its inline data a single text node of over 9 MB, past libxml2's default limit.
    content = heavy_page(9.9)
    assert 9.8 * 1024 * 1024 < len(content) < 10 * 1024 * 1024
    response = await client.post(
        "/v1/ingest?dry_run=true", content=content, headers={**writer, **HTML}
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["headline"] == HEADLINE
    assert len(draft["body"].split("\n\n")) == 6
    assert "window.data" not in draft["body"] and "Section 12" not in draft["body"]


async def test_a_page_over_ten_mebibytes_is_refused_and_other_writes_keep_one(
    client, writer, session
):
    before = await row_counts(session)
    response = await client.post(
        "/v1/ingest", content=heavy_page(10.01), headers={**writer, **HTML}
    )
    problem = assert_problem(response, 413)
    assert str(10 * 1024 * 1024) in problem["detail"]
    article = b'{"headline": "Pier", "body": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/v1/articles", content=article, headers={**writer, "Content-Type": "application/json"}
    )
    assert assert_problem(response, 413)["detail"] == (
        f"The request body is larger than {1024 * 1024} bytes."
    )
    assert await row_counts(session) == before


async def test_a_sentence_of_20000_characters_is_stored_but_not_searched_for_claims(
    client, writer, monkeypatch
):
    # It once made a claim no anchor can hold (a 500), after seconds of searching.
    calls = counting(monkeypatch, attribution, "attributions")
    clause = "officials said that the council would weigh the plan and critics argued "
    endless = "The " + (clause * 300)[:19_990].rstrip() + "."
    content = text_page([endless, CLAIM])
    response = await client.post(
        "/v1/ingest?dry_run=true", content=content, headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["body"].startswith(endless)
    assert [claim["statement"] for claim in draft["claims"]] == [CLAIM]
    assert len(calls) == 1, "only the ordinary sentence is searched"
