"""POST /v1/ingest: a raw page in, a draft with its claims out; bad pages change nothing."""

import pytest

from tests.helpers import assert_problem, error_locs, row_counts
from tests.ingest.scorer import GOLD

pytestmark = pytest.mark.anyio

SEED = (GOLD / "seed-raw.txt").read_text("utf-8")
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
HTML_PAGE = """<!doctype html><html><head><title>Harbour pier to close for repairs</title>
<script>alert("owned")</script><style>body{color:red}</style></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article><h1>Harbour pier to close for repairs</h1>
<p>The north pier at Calder Bay will close for six months from Monday, the Harbour Authority
confirmed on Friday, after engineers found cracks in three of its supports.</p>
<p>"We cannot keep it open safely," harbour director Mara Lind told the Calder Gazette.
<img src=x onerror="alert(1)"></p>
<p>The pier carries about 4,000 passengers a day to the island ferries, according to the
authority. Critics argue the closure could have been avoided with earlier maintenance.</p>
</article><footer>© 2026 Calder Gazette. All rights reserved.</footer></body></html>"""


async def test_a_text_page_becomes_a_draft_with_its_claims(client, writer):
    response = await client.post("/v1/ingest", content=SEED.encode(), headers={**writer, **TEXT})
    assert response.status_code == 201, response.text
    article = response.json()
    assert response.headers["location"] == f"/v1/articles/{article['id']}"
    assert article["status"] == "draft"
    assert article["headline"].startswith("Biden authorizes Ukraine")
    assert len(article["claims"]) == 13
    assert all(c["anchor_status"] == "anchored" for c in article["claims"])
    highlighted = article["body_html"].count('class="claim"')
    assert highlighted == 13, "every claim is highlighted in the body"
    sources = {a["source"]["name"] for c in article["claims"] for a in c["attributions"]}
    assert {"Vladimir Putin", "Le Figaro", "The New York Times", "critics"} <= sources


async def test_a_dry_run_stores_nothing(client, writer, session):
    before = await row_counts(session)
    response = await client.post(
        "/v1/ingest?dry_run=true", content=SEED.encode(), headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["headline"].startswith("Biden authorizes Ukraine")
    assert len(draft["claims"]) == 13
    assert await row_counts(session) == before
    stored = await client.post("/v1/articles", json=draft, headers=writer)
    assert stored.status_code == 201, "a dry run's result can be posted as it is"


async def test_existing_sources_are_reused(client, writer, session):
    for _ in range(2):
        response = await client.post(
            "/v1/ingest", content=SEED.encode(), headers={**writer, **TEXT}
        )
        assert response.status_code == 201
    first = await row_counts(session)
    assert first["Article"] == 2
    sources = await client.get("/v1/sources?limit=100", headers=writer)
    names = [s["name"] for s in sources.json()["data"]]
    assert names.count("Vladimir Putin") == 1
    assert len(names) == len(set(names))


async def test_an_html_page_is_reduced_to_its_story(client, writer):
    response = await client.post(
        "/v1/ingest?section=local&tag=harbour",
        content=HTML_PAGE.encode(),
        headers={**writer, "Content-Type": "text/html"},
    )
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["headline"] == "Harbour pier to close for repairs"
    assert article["section"] == "local"
    assert article["tags"] == ["harbour"]
    for gone in ("alert", "<script", "onerror", "Home", "All rights reserved", "color:red"):
        assert gone not in article["body"]
        assert gone not in article["body_html"]
    cited = {(a["source"]["name"], a["role"]) for c in article["claims"] for a in c["attributions"]}
    assert ("Harbour Authority", "confirmed_by") in cited
    assert ("Mara Lind", "asserted_by") in cited
    assert ("Calder Gazette", "asserted_by") not in cited, "the outlet told is not the source"


async def test_the_json_form_carries_url_section_and_tags(client, writer):
    response = await client.post(
        "/v1/ingest",
        json={
            "text": SEED,
            "url": "https://news.example/ukraine-missiles",
            "section": "world",
            "tags": ["Ukraine", "Russia"],
        },
        headers=writer,
    )
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["canonical_url"] == "https://news.example/ukraine-missiles"
    assert (article["section"], article["tags"]) == ("world", ["ukraine", "russia"])


@pytest.mark.parametrize(
    ("content", "content_type", "loc", "error_type"),
    [
        (b"", "text/plain", ["body"], "empty"),
        (b"   \n\n  ", "text/plain", ["body"], "empty"),
        (b"\x00\x01\x02garbage\xff\xfe", "text/plain", ["body"], "not_text"),
        (bytes(range(256)) * 20, "text/plain", ["body"], "not_text"),
        (b"Top of page\nMenu\nShare\nSubscribe\n< Back", "text/plain", ["body"], "no_story"),
        (
            (
                "La mairie ferme le port\n\nLa mairie a annoncé lundi que le port de la ville "
                "restera fermé pendant six mois, selon un communiqué publié par ses services "
                "techniques après des fissures trouvées dans trois piliers du quai nord."
            ).encode(),
            "text/plain",
            ["body"],
            "unsupported_language",
        ),
        (b"<html><script>alert(1)</script></html>", "text/html", ["body"], "no_story"),
        (b'{"text": "x", "html": "<p>x</p>"}', "application/json", ["body"], "value_error"),
        (b'{"texte": "x"}', "application/json", ["body", "texte"], "extra_forbidden"),
        (b"{not json", "application/json", ["body"], "json_invalid"),
    ],
)
async def test_a_bad_page_is_422_and_stores_nothing(
    client, writer, session, content, content_type, loc, error_type
):
    before = await row_counts(session)
    response = await client.post(
        "/v1/ingest", content=content, headers={**writer, "Content-Type": content_type}
    )
    problem = assert_problem(response, 422)
    assert error_locs(problem) == [loc]
    assert problem["errors"][0]["type"] == error_type
    assert await row_counts(session) == before


async def test_a_body_of_50_mb_is_413(client, writer, session):
    before = await row_counts(session)
    response = await client.post(
        "/v1/ingest", content=b"a" * (50 * 1024 * 1024), headers={**writer, **TEXT}
    )
    assert_problem(response, 413)
    assert await row_counts(session) == before


async def test_other_media_types_are_415(client, writer):
    response = await client.post(
        "/v1/ingest", content=b"%PDF-1.7", headers={**writer, "Content-Type": "application/pdf"}
    )
    assert_problem(response, 415)


async def test_ingest_needs_a_key(client):
    response = await client.post("/v1/ingest", content=SEED.encode(), headers=TEXT)
    assert_problem(response, 401)


async def test_ingest_needs_content_write(client, reader):
    response = await client.post("/v1/ingest", content=SEED.encode(), headers={**reader, **TEXT})
    assert_problem(response, 403)


async def test_an_outlet_that_reported_is_a_publication_even_if_unlisted(client, writer):
    page = (
        "Ferry fares to rise next spring\n\n"
        "Ferry fares on the Calder Bay crossing will rise by 8% next spring, as first reported "
        "by Nordic Wire on Monday. The operator has not commented on the increase.\n\n"
        "The crossing carries about 4,000 passengers a day, Harbour director Mara Lind said "
        "on Tuesday, adding that the fleet would be renewed by 2028."
    )
    response = await client.post(
        "/v1/ingest?dry_run=true", content=page.encode(), headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    cited = {
        (a["source"]["name"], a["source"]["kind"], a["role"])
        for c in response.json()["claims"]
        for a in c["attributions"]
    }
    assert ("Nordic Wire", "publication", "first_reported_by") in cited
    assert ("Mara Lind", "person", "asserted_by") in cited


SHAKE_UP = """Bank shake-up

The bank named a new chief on Wednesday.

"We need answers," said Representative Jane Holt of Ohio, the ranking Democrat.

"We are reviewing it," said Spokeswoman Ana Pell.
"""


async def test_speakers_named_after_their_title_are_those_people(client, writer):
    # "Spokeswoman Ana Pell" once sent the source resolver round in circles (a 500).
    response = await client.post(
        "/v1/ingest?dry_run=true", content=SHAKE_UP.encode(), headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["headline"] == "Bank shake-up"
    sources = [
        [(a["source"]["name"], a["source"]["kind"]) for a in claim["attributions"]]
        for claim in draft["claims"]
    ]
    assert sources == [[("Jane Holt", "person")], [("Ana Pell", "person")]]


async def test_a_three_paragraph_brief_is_a_story(client, writer):
    brief = SHAKE_UP.replace(
        '"We are reviewing it," said Spokeswoman Ana Pell.', "The bank declined to comment."
    )
    response = await client.post(
        "/v1/ingest?dry_run=true", content=brief.encode(), headers={**writer, **TEXT}
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["headline"] == "Bank shake-up"
    assert draft["body"].split("\n\n")[0] == "The bank named a new chief on Wednesday."
    assert draft["body"].endswith("The bank declined to comment.")
