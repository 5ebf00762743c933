"""How the mentions of a story become sources."""

from app.ingest import service
from app.ingest.mentions import Resolver
from app.sources.models import SourceKind


def test_a_country_speaking_is_its_government_never_a_person() -> None:
    resolver = Resolver("Michael Jordan spoke first.")
    found = {m: resolver.source(m) for m in ("Russia", "the United States", "the U.S.", "Iran")}
    assert {m: (s.name, s.kind) for m, s in found.items()} == {
        "Russia": ("Russia", SourceKind.government),
        "the United States": ("United States", SourceKind.government),
        "the U.S.": ("U.S.", SourceKind.government),
        "Iran": ("Iran", SourceKind.government),
    }
    # A surname met in the story is that person, whatever country shares it.
    assert resolver.source("Jordan").name == "Michael Jordan"


def test_a_story_quoting_a_country_gives_a_government_source() -> None:
    page = (
        "Talks on the grain corridor stall again\n\n"
        "Negotiators left Geneva on Friday without a deal on the grain corridor, the third "
        "round to end that way this year.\n\n"
        "Russia said the corridor could not reopen while sanctions on its banks remained.\n"
    )
    draft = service.draft(service.Raw(page))
    sources = [(a.source.name, a.source.kind) for c in draft.claims for a in c.attributions]
    assert sources == [("Russia", SourceKind.government)]


def test_a_title_alone_is_the_one_person_who_holds_that_office_not_a_deputy() -> None:
    resolver = Resolver(
        "Vice President Anna Holm opened the session. Finance Minister Pavel Rusu spoke next."
    )
    assert resolver.source("the minister").name == "Pavel Rusu"
    assert resolver.source("the vice president").name == "Anna Holm"
    # No president was introduced: a description, not the vice president.
    president = resolver.source("the president")
    assert (president.name, president.kind) == ("president", SourceKind.anonymous)
