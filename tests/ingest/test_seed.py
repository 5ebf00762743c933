"""The seed page ingests exactly as its annotation says: every attribution with its source,
kind, role and cue, nothing more, the furniture gone and the unattributed facts kept."""

import json

import pytest

from app.ingest import service
from tests.ingest.scorer import GOLD, extracted, same_source, score

RAW = (GOLD / "seed-raw.txt").read_text("utf-8")
EXPECTED = json.loads((GOLD / "seed-expected.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def draft():
    return service.draft(service.Raw(RAW))


def test_the_page_is_cleaned(draft):
    assert draft.headline == EXPECTED["headline"]
    assert draft.deck.startswith(EXPECTED["deck_starts_with"])
    paragraphs = draft.body.split("\n\n")
    assert len(paragraphs) == EXPECTED["body_paragraphs"]
    assert draft.body.startswith(EXPECTED["body_starts_with"])
    for furniture in EXPECTED["body_must_not_contain"]:
        assert furniture not in draft.body
    assert draft.headline not in draft.body, "the repeated headline is kept once"


@pytest.mark.parametrize("expected", EXPECTED["attributions"], ids=lambda e: e["cue"])
def test_each_attribution_is_found(draft, expected):
    claims = [c for c in draft.claims if expected["in_claim"] in f"{c.statement} {c.quote}"]
    assert claims, f"no claim holds {expected['in_claim']!r}"
    found = [
        (claim, a)
        for claim in claims
        for a in claim.attributions
        if same_source(a.source.name, expected["source"]) and a.role == expected["role"]
    ]
    assert found, [(a.source.name, a.role) for c in claims for a in c.attributions]
    claim, attribution = found[0]
    assert attribution.source.kind == expected["kind"]
    assert expected["cue"] in attribution.cue
    assert claim.kind == expected.get("claim_kind", "statement")
    assert claim.anchor is not None, "every claim is anchored in the body"


def test_nothing_else_is_attributed():
    pairs, cues = score(RAW, EXPECTED)
    assert (pairs.found, pairs.matched) == (len(EXPECTED["attributions"]),) * 2
    assert cues.matched == len(EXPECTED["attributions"])


def test_titles_are_not_names_and_surnames_resolve(draft):
    sources = {a.source.name: a.source for c in draft.claims for a in c.attributions}
    assert "Vladimir Putin" in sources
    assert sources["Vladimir Putin"].description == "Russian President"
    assert "Putin" not in sources, "the later 'Putin' is the same source"
    assert not any(name.startswith(("Russian", "President")) for name in sources)


@pytest.mark.parametrize("fragment", EXPECTED["unattributed"])
def test_unattributed_facts_are_claims_without_sources(draft, fragment):
    [claim] = [c for c in draft.claims if fragment in c.statement]
    assert claim.attributions == []


def test_analysis_is_not_a_claim(draft):
    assert not any("stark departure" in c.statement for c in draft.claims)


def test_every_found_source_is_annotated():
    for found in extracted(RAW):
        assert any(same_source(found.source, e["source"]) for e in EXPECTED["attributions"])


def test_the_sources_are_named_exactly(draft):
    names = {a.source.name for c in draft.claims for a in c.attributions}
    assert names == {
        "senior U.S. officials",
        "The New York Times",
        "Officials",
        "Le Figaro",
        "Vladimir Putin",
        "Trump",
        "Advisers close to Trump",
        "critics",
    }
