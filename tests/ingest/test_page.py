"""How a raw page is cleaned into headline, deck and story paragraphs."""

from app.ingest import page, service

STORY = (
    "The council approved the new tram line on Tuesday by 31 votes to 12, ending a year "
    "of argument over its route through the harbour district."
)


def test_a_browser_title_loses_its_site_name() -> None:
    for title in (
        "Council approves harbour tram line | Local | The Calder Gazette",
        "Council approves harbour tram line - BBC News",
    ):
        read = page.read_text(f"{title}\n\n{STORY}\n\n{STORY.replace('31', '29')}")
        assert read.headline == "Council approves harbour tram line"


def test_a_dash_in_a_headline_stays_when_no_outlet_follows_it() -> None:
    read = page.read_text(f"Tram talks stall - again\n\n{STORY}\n\n{STORY.replace('31', '29')}")
    assert read.headline == "Tram talks stall - again"


def test_an_html_title_loses_its_site_name() -> None:
    html = (
        "<html><head><title>Council approves harbour tram line | City | Calder Gazette</title>"
        f"</head><body><article><p>{STORY}</p><p>{STORY.replace('31', '29')}</p>"
        "</article></body></html>"
    )
    draft = service.draft(service.Raw(html, html=True))
    assert draft.headline == "Council approves harbour tram line"


LISTED = """Senate passes the harbour funding bill after long debate

Feb. 23, 2015 -- The Senate passed the harbour bill on Monday by 61 votes to 38.

The bill does three things, its sponsor said:

• It funds dredging of the main channel
• It creates a harbour safety board
• It caps port fees for five years

Medically reviewed by Dr. Ana Lopes, MD.

The governor is expected to sign it next week, aides said.

© 2015 Calder Gazette. All rights reserved.
"""


def test_a_dateline_paragraph_and_a_list_with_its_lead_in_are_story() -> None:
    read = page.read_text(LISTED)
    assert read.paragraphs == [
        "Feb. 23, 2015 -- The Senate passed the harbour bill on Monday by 61 votes to 38.",
        "The bill does three things, its sponsor said:",
        "- It funds dredging of the main channel\n- It creates a harbour safety board\n"
        "- It caps port fees for five years",
        "The governor is expected to sign it next week, aides said.",
    ]


def test_a_short_dated_line_is_still_a_timestamp() -> None:
    read = page.read_text(f"Harbour bill signed into law\n\nFeb. 24, 2015\n\n{STORY}\n\n{STORY}")
    assert read.paragraphs[0] == STORY


def test_bylines_become_clean_names() -> None:
    assert page.clean_names(
        ["Jane DoeNov. 3, 2016", "JANE DOE", "Sam Roe Updated 3:14 PM", "MA", "Ana Lopes, PhD"]
    ) == ["Jane Doe", "Sam Roe", "Ana Lopes"]


def test_a_page_byline_gives_each_author_once() -> None:
    text = f"Harbour bill signed into law\n\nBy ANA LOPES and Ana Lopes\n\n{STORY}\n\n{STORY}"
    assert page.read_text(text).authors == ["Ana Lopes"]


def test_a_marked_standfirst_is_the_deck_and_links_do_not_split_paragraphs() -> None:
    html = (
        "<html><head><title>Council approves harbour tram line | Calder Gazette</title></head>"
        "<body><header><h1>Council approves harbour tram line</h1>"
        '<div class="article__standfirst">The vote ends a year of argument over the route.</div>'
        "<nav><a href='/'>Home</a> <a href='/city'>City</a></nav></header><article>"
        f"<p>{STORY[:40]}<a href='/council'>{STORY[40:60]}</a>{STORY[60:]}</p>"
        "<p>Work on the line starts in the spring and should end by 2029, the mayor said.</p>"
        '<div itemprop="description">' + "Far more than a deck. " * 40 + "</div>"
        "</article></body></html>"
    )
    read = page.read_html(page.content_of(html))
    assert read.deck == "The vote ends a year of argument over the route."
    assert read.paragraphs[0] == STORY
    assert "The vote ends" not in " ".join(read.paragraphs)


def test_an_archive_copy_loses_its_labels_and_keeps_quotations_typed_as_apostrophes() -> None:
    read = page.read_text(
        "Council approves harbour tram line\n\nFULL TEXT.\n\n"
        f"{STORY}\n\n"
        "The line will be known locally as the ''harbour loop.''\n\n"
        "''We have waited long enough,'' said Mara Lind, the harbour director.\n"
    )
    assert read.paragraphs == [
        STORY,
        'The line will be known locally as the "harbour loop."',
        '"We have waited long enough," said Mara Lind, the harbour director.',
    ]
    draft = service.draft(
        service.Raw("Tram line approved\n\n" + STORY + "\n\n''It is done,'' said Mara Lind.\n")
    )
    quote = draft.claims[-1]
    assert (quote.kind.value, quote.attributions[0].source.name) == ("quote", "Mara Lind")  # type: ignore[union-attr]
