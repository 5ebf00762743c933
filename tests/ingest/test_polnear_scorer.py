"""The PolNeAR scorer's parts on small brat snippets written for these tests (no PolNeAR
text: the corpus has no licence), and one run on the real dev split when it is there."""

import pytest

from tests.ingest import polnear
from tests.ingest.polnear import Found, Gold, Locator, parse, score

TEXT = (
    "Mayor plans new bridge\n"
    "The city will build a bridge next year, Mayor Ann Lee said on Monday.\n"
    "He added that\n"
    "tolls would stay low. Subscribe to our newsletter, editors said.\n"
)
#        offsets: line 2 starts at 23; "The city ... next year" 23-61; "Mayor Ann Lee" 63-76;
#        "said" 77-81; "He" 93-95; "added" 96-101; "that\ntolls would stay low" 102-127


def at(piece: str) -> tuple[int, int]:
    start = TEXT.index(piece)
    return start, start + len(piece)


def t_line(key: str, kind: str, *pieces: str) -> str:
    spans = ";".join("{} {}".format(*at(piece)) for piece in pieces)
    return f"{key}\t{kind} {spans}\t{' '.join(pieces)}"


ANN = "\n".join(
    [
        t_line("T1", "Source", "Mayor Ann Lee"),
        t_line("T2", "Cue", "said"),
        t_line("T3", "Content", "The city will build a bridge next year"),
        t_line("T4", "Attribution", "said"),
        "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
        t_line("T5", "Source", "He"),
        t_line("T6", "Cue", "added"),
        # A span across a newline: its text goes on over the next line of the file.
        t_line("T7", "Content", "that\ntolls would stay low"),
        t_line("T8", "Attribution", "added"),
        "E2\tAttribution:T8 Content:T7 Cue:T6 Source:T5 ",
        t_line("T9", "Discard", "Subscribe to our newsletter, editors said."),
        t_line("T10", "Cue", "said."),
        t_line("T11", "Content", "Subscribe to our newsletter"),
        t_line("T12", "Attribution-no-source", "said."),
        "E3\tAttribution-no-source:T12 Content:T11 Cue:T10",
        "E4\tAttribution-no-source:T12",
        "#1\tAnnotatorNotes T3\ta note",
    ]
)


def test_parse_reads_events_spans_and_discards():
    annotation = parse(ANN, TEXT)
    assert [g.key for g in annotation.attributions] == ["E1", "E2", "E3"]
    first, second, third = annotation.attributions
    assert (first.source_text, first.cue_text) == ("Mayor Ann Lee", "said")
    assert first.content == [at("The city will build a bridge next year")]
    assert second.content == [at("that\ntolls would stay low")]
    assert second.pronoun and not first.pronoun
    assert not third.has_source and third.cue_text == "said."
    assert annotation.discards == [at("Subscribe to our newsletter, editors said.")]
    assert annotation.malformed == ["E4"]  # an event without content


def test_parse_joins_discontinuous_spans_and_all_contents():
    ann = "\n".join(
        [
            t_line("T1", "Content", "The city will build", "a bridge next year"),
            t_line("T2", "Content", "tolls would stay low"),
            t_line("T3", "Cue", "said"),
            t_line("T4", "Source", "Mayor", "Lee"),
            "E1\tAttribution:T3 Content:T1 Content2:T2 Cue:T3 Source:T4",
        ]
    )
    (gold,) = parse(ann, TEXT).attributions
    assert gold.content == sorted(
        [at("The city will build"), at("a bridge next year"), at("tolls would stay low")]
    )
    assert gold.source_text == "Mayor Lee"


def test_coverage_counts_the_union_of_content_characters():
    assert polnear.coverage([(0, 5)], [(0, 10)]) == 0.5
    assert polnear.coverage([(0, 3), (2, 5)], [(0, 4), (8, 10)]) == pytest.approx(4 / 6)
    assert polnear.coverage([(0, 10)], []) == 0.0


def test_locator_finds_body_text_across_reflowed_lines_and_quotes():
    text = (
        "Head line\nShe said \u201cno\u201d to\nthe *plan*.\nShe said \u201cno\u201d to the plan.\n"
    )
    locator = Locator(text)
    first = locator.find('She said "no" to the plan.')
    second = locator.find('She said "no" to the plan.')
    assert (
        first is not None and text[first[0] : first[1]] == "She said \u201cno\u201d to\nthe *plan*."
    )
    assert (
        second is not None and text[second[0] : second[1]] == "She said \u201cno\u201d to the plan."
    )
    assert locator.find("words that are not there") is None


def found(span: tuple[int, int] | None, source: str = "Ann Lee", cue: str = "said") -> Found:
    return Found(span, "claim", "statement", [source], [cue] if cue else [])


def test_half_of_the_content_is_enough_and_less_is_not():
    gold = Gold("E1", [(30, 40)], [(50, 54)], [(60, 65)], "said", "Lee")
    annotation = polnear.Annotation([gold], [])
    half = score("a", TEXT, annotation, [found((35, 60))], [(0, 100)])
    assert half.tallies["detection"].matched == 1
    less = score("a", TEXT, annotation, [found((36, 60))], [(0, 100)])
    assert less.tallies["detection"].matched == 0
    assert less.misses[0][0] == "a claim overlaps it but covers less than half its content"


def test_matching_is_one_to_one_and_maximal():
    # Claim 0 covers both golds, claim 1 only the first: a greedy pass that gave the first
    # gold to claim 0 would match one pair, the maximum matching finds two.
    candidates = {0: [0, 1], 1: [0]}
    assert polnear.max_matching(candidates) == {0: 1, 1: 0}
    golds = [
        Gold("E1", [(0, 10)], [], [(40, 45)], "", "Lee"),
        Gold("E2", [(10, 20)], [], [(46, 50)], "", "Lee"),
    ]
    result = score("a", TEXT, polnear.Annotation(golds, []), [found((0, 20))], [(0, 100)])
    assert result.tallies["detection"].expected == 2
    assert result.tallies["detection"].matched == 1
    assert result.tallies["detection"].found == 1


def test_sources_match_by_containment_or_head_word():
    assert polnear.same_source("Ann Lee", "Mayor Ann Lee")
    assert polnear.same_source("the Lee campaign", "Lee's campaign")
    assert polnear.same_source("Lee", "LEE,")
    assert not polnear.same_source("Ann Lee", "the mayor")
    assert not polnear.same_source("he", "the city")  # words, not letters
    assert polnear.same_cue("said on Monday", "said")
    assert not polnear.same_cue("sad", "said")


def test_pronoun_gold_is_scored_on_its_own_row():
    assert polnear.is_pronoun("He") and polnear.is_pronoun("they")
    assert not polnear.is_pronoun("Hewitt")
    annotation = parse(ANN, TEXT)
    claims = [
        found(at("The city will build a bridge next year, Mayor Ann Lee said")),
        found(at("He added that\ntolls would stay low."), source="Ann Lee", cue="added"),
    ]
    result = score("a", TEXT, annotation, claims, [(23, len(TEXT))])
    rows = result.tallies
    assert (rows["detection"].expected, rows["detection"].matched) == (2, 2)  # E3 is discarded
    assert rows["detection+source (all gold with a source)"].matched == 1
    assert rows["detection+source (pronoun gold excluded)"].expected == 1
    assert rows["detection+source (pronoun gold excluded)"].found == 1
    pronouns = rows["detection+source (pronoun gold only)"]
    assert (pronouns.expected, pronouns.found, pronouns.matched) == (1, 1, 0)
    assert rows["detection+cue"].matched == 2
    assert [g.pronoun for g, _ in result.wrong_sources] == [True]


def test_a_claim_inside_a_discard_span_is_not_scored():
    annotation = parse(ANN, TEXT)
    claims = [found(at("Subscribe to our newsletter, editors said."))]
    result = score("a", TEXT, annotation, claims, [(23, len(TEXT))])
    assert result.tallies["detection"].found == 0


def test_an_article_that_ingest_refuses_counts_its_gold_as_missed(tmp_path):
    (tmp_path / "dev" / "text").mkdir(parents=True)
    (tmp_path / "dev" / "attributions").mkdir()
    (tmp_path / "dev" / "text" / "a.txt").write_text("Too short\nNo.\n")
    (tmp_path / "dev" / "attributions" / "a_x.ann").write_text(
        "T1\tContent 10 13\tNo.\nT2\tCue 10 12\tNo\nE1\tAttribution-no-source:T2 Content:T1 Cue:T2"
    )
    (tmp_path / "dev" / "attributions" / "a_y.ann").write_text("")
    run = polnear.evaluate(tmp_path, "dev")
    (result,) = run.results
    assert result.status == "refused"
    assert result.tallies["detection"].expected == 1  # a_x.ann, the first annotator's file
    assert result.tallies["detection"].matched == 0


@pytest.mark.slow
def test_the_dev_split_is_scored_whole(capsys):
    root = polnear.default_root()
    if not (root / "dev" / "text").is_dir():
        pytest.skip(f"PolNeAR is not at {root} (set NEWSDESK_POLNEAR)")
    assert polnear.main(["--polnear", str(root), "--per-article"]) == 0
    run = polnear.evaluate(root, "dev")
    assert len(run.results) == 84
    for tally in run.total().values():
        assert 0 <= tally.precision <= 1 and 0 <= tally.recall <= 1 and 0 <= tally.f1 <= 1
    assert "detection+cue" in capsys.readouterr().out


def test_normalising_reads_two_apostrophes_as_a_quotation_mark_and_keeps_offsets() -> None:
    text = "He said ''no,''  then   left."
    normal, offsets = polnear.normalise(text)
    assert normal == 'He said "no," then left.'
    assert [text[offsets[i]] for i in (8, 12)] == ["'", "'"]
    assert offsets[normal.index("then")] == text.index("then")
