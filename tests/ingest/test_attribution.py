"""Who said what, read from the parse: speakers are the subjects of cue verbs, what they
said is the clause the cue takes, and a cue inside someone else's words is content."""

from app.articles.schemas import ArticleWrite
from app.ingest import service
from app.sources.models import SourceKind

HEADLINE = "Council weighs the harbour plan\n\n"
OPENING = "The council met on Tuesday to vote on the harbour plan, its third vote this year.\n\n"


def draft(*paragraphs: str) -> ArticleWrite:
    """The draft of a story made of these paragraphs, after a headline and an opening."""
    return service.draft(service.Raw(HEADLINE + OPENING + "\n\n".join(paragraphs) + "\n"))


def attributed(*paragraphs: str) -> list[tuple[str, str, SourceKind, str]]:
    """(start of the claim, source name, source kind, cue) for each attribution."""
    return [
        (" ".join(c.statement.split()[:3]), a.source.name, a.source.kind, a.cue)  # type: ignore[union-attr]
        for c in draft(*paragraphs).claims
        for a in c.attributions
    ]


def claims_of(*paragraphs: str) -> list[tuple[str, str, list[str]]]:
    """(kind, anchored text, source names) for each claim."""
    return [
        (
            c.kind.value,
            c.anchor.exact if c.anchor else c.statement,
            [a.source.name for a in c.attributions],  # type: ignore[union-attr]
        )
        for c in draft(*paragraphs).claims
    ]


def test_any_noun_the_parse_makes_the_subject_of_a_speech_verb_is_a_source() -> None:
    found = attributed(
        "Ella Lindqvist's campaign said it would appeal against the vote.",
        "The campaign says the average donation was 27 euros.",
        "Some advocates for the old quay said the plan ignored the fishing fleet.",
        "Around that time, 47 percent said they would vote against the plan.",
    )
    assert found == [
        ("Ella Lindqvist's campaign", "Ella Lindqvist's campaign", SourceKind.organization, "said"),
        ("The campaign says", "Ella Lindqvist's campaign", SourceKind.organization, "says"),
        (
            "Some advocates for",
            "Some advocates for the old quay",
            SourceKind.anonymous,
            "said",
        ),
        ("Around that time,", "47 percent", SourceKind.anonymous, "said"),
    ]


def test_a_thing_that_signals_is_no_source() -> None:
    # "signal" is a cue, but a move or a vote can signal too: only a kind of source counts.
    assert attributed("The vote signals a shift in the council's thinking on the port.") == []


def test_a_title_alone_refers_to_the_person_who_held_it() -> None:
    found = attributed(
        "Deputy Mayor Lena Ortiz opened the debate with a plea for patience.",
        "Later the deputy mayor said the plan would be revised before any work began.",
    )
    assert found == [("Later the deputy", "Lena Ortiz", SourceKind.person, "said")]


def test_they_is_the_group_or_body_last_cited() -> None:
    found = attributed(
        "Fishing crews said the new quay would cut them off from the market.",
        "They said they had not been consulted on the plan at any point.",
    )
    assert [(name, kind) for _, name, kind, _ in found] == [
        ("Fishing crews", SourceKind.anonymous),
        ("Fishing crews", SourceKind.anonymous),
    ]


def test_a_participle_after_a_comma_speaks_for_the_main_clause_subject() -> None:
    found = attributed(
        "Mara Lind threw her support behind the plan on Wednesday, saying it is time the "
        "harbour earned its keep.",
    )
    assert found == [("Mara Lind threw", "Mara Lind", SourceKind.person, "saying")]


def test_a_cue_inside_what_someone_said_is_content_not_a_second_source() -> None:
    found = attributed(
        "Diplomats in Korva said several Western governments had privately urged the council "
        "to delay the vote.",
        "Mara Lind denied that the operator had threatened to move its ships elsewhere.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Diplomats", "said"),
        ("Mara Lind", "denied"),
    ]


def test_a_relay_keeps_both_who_told_and_who_said() -> None:
    found = attributed(
        "A council clerk told the Harbour Gazette that Mara Lind said the vote was rigged.",
    )
    assert {(name, cue) for _, name, _, cue in found} >= {("Mara Lind", "said")}


def test_a_verb_of_declaring_needs_words_for_content() -> None:
    found = attributed(
        "Mayor Ivo Brandt declared a state of emergency for the harbour district on Friday.",
        "Mayor Ivo Brandt declared that the harbour would reopen within a week.",
    )
    assert found == [("Mayor Ivo Brandt", "Ivo Brandt", SourceKind.person, "declared")]
    assert "emergency" not in found[0][0]


def test_speech_verbs_beyond_say_are_cues() -> None:
    found = attributed(
        "Mara Lind reiterated that the council had no money for dredging.",
        "Ivo Brandt demanded that the vote be postponed until the spring.",
        "Fishing crews complained that the plan had been drawn up in secret.",
    )
    assert [cue for _, _, _, cue in found] == ["reiterated", "demanded", "complained"]


def test_a_title_in_quotation_marks_is_no_quotation() -> None:
    [claim] = draft(
        "Appearing on “Harbour Hour Tonight,” Deputy Mayor Lena Ortiz said the quay would "
        "open in May."
    ).claims
    assert claim.kind.value == "statement"
    assert claim.statement.startswith("Appearing on")
    assert [a.source.name for a in claim.attributions] == ["Lena Ortiz"]  # type: ignore[union-attr]


def test_a_cue_joined_to_another_verb_speaks_for_that_verb_s_subject() -> None:
    found = attributed(
        "Councillor Ivo Brandt (Harbour Party) on Wednesday dismissed the protest and said "
        "the vote would go ahead.",
        "Mara Lind was asked to name one benefit of the plan. She ducked, pointing to the "
        "budget and saying that quays pay for themselves.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Ivo Brandt", "said"),
        ("Mara Lind", "saying"),
    ]


def test_a_belief_or_intention_is_a_cue_only_with_a_clause() -> None:
    found = attributed(
        "Fishing crews fear that the quay will silt up within a decade.",
        "Ivo Brandt plans to table the motion again in June.",
        "Mara Lind agreed a new timetable with the operator.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Fishing crews", "fear"),
        ("Ivo Brandt", "plans"),
    ]


def test_he_and_she_are_the_last_named_subject_who_takes_that_pronoun() -> None:
    found = attributed(
        "Councillor Ivo Brandt steered the plan through committee, as his party had asked.",
        "Lawyer Mara Lind told the inquiry that Brandt had approved the contract. "
        '"It was his decision," she said.',
        "He said the contract had been approved by the whole committee.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Mara Lind", "told"),
        ("Mara Lind", "said"),
        ("Ivo Brandt", "said"),
    ]


def test_polls_and_surveys_are_documents_that_show_and_find() -> None:
    found = attributed(
        "A new Harbour Gazette poll shows the plan trailing by seven points.",
        "Exit polls showed older voters backing the quay by wide margins.",
        "The vote showed how divided the council has become.",
    )
    assert [(name, kind, cue) for _, name, kind, cue in found] == [
        ("new Harbour Gazette poll", SourceKind.document, "shows"),
        ("Exit polls", SourceKind.document, "showed"),
    ]


def test_calling_something_something_is_a_cue_calling_someone_is_not() -> None:
    found = attributed(
        "In a statement, the Brandt campaign called the vote a victory for the harbour.",
        "Mara Lind called the harbour police after the meeting.",
    )
    assert found == [
        ("In a statement,", "Brandt campaign", SourceKind.organization, "called"),
    ]


def test_a_quotation_resumed_after_its_speaker_tag_is_one_claim() -> None:
    found = claims_of(
        "“We have waited long enough,” said Mara Lind, the harbour director, “and the "
        "ships are going elsewhere.”",
    )
    assert found == [
        (
            "quote",
            "We have waited long enough,” said Mara Lind, the harbour director, “and the ships "
            "are going elsewhere.",
            ["Mara Lind"],
        )
    ]


def test_a_quotation_over_several_paragraphs_keeps_its_speaker() -> None:
    found = claims_of(
        "Mara Lind, the harbour director, said the town could not wait. “Every month we wait "
        "costs the town money,” she said.",
        "“The fleet has shrunk by a third since 2019. The boatyard has closed.",
        "“If we do not act now, there will be no fleet left to save,” she added.",
    )
    assert found[-2:] == [
        (
            "quote",
            "The fleet has shrunk by a third since 2019. The boatyard has closed.",
            ["Mara Lind"],
        ),
        (
            "quote",
            "If we do not act now, there will be no fleet left to save,",
            ["Mara Lind"],
        ),
    ]


def test_a_document_seen_by_an_outlet_is_the_source() -> None:
    found = attributed(
        "The plan is a giveaway to the operator, according to a memo seen by the Harbour Gazette.",
    )
    assert found == [("The plan is", "memo", SourceKind.document, "according to")]


def test_a_stance_with_a_clause_is_attributed_to_who_holds_it() -> None:
    found = attributed(
        "Mara Lind is adamant that the quay can be saved without new taxes.",
        "Ivo Brandt is confident.",
        "We are making sure the quay stays open, the crews say.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Mara Lind", "is adamant"),
        ("crews", "say"),
    ]


def test_verb_forms_that_describe_or_take_no_words_are_no_cues() -> None:
    found = attributed(
        "The totals include pledged delegates and the mayor's own vote.",
        "That last figure is certain to rise once the harbour reopens.",
        "Mara Lind can add a new title to her long list of jobs.",
        "Fishing crews welcomed the vote but noted delays in the dredging.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [("Fishing crews", "noted")]


def test_who_in_a_relative_clause_is_the_noun_it_describes() -> None:
    found = attributed(
        "The plan was opposed by Ivo Brandt, who said the harbour could not pay for it.",
        "The quay won among the 30 percent of voters who said the harbour mattered most.",
        "Two crew members who asked not to be named said the vote had been rushed.",
    )
    assert [(name, cue) for _, name, _, cue in found] == [
        ("Ivo Brandt", "said"),
        ("30 percent of voters", "said"),
        ("Two crew members", "said"),
    ]


def test_a_quotation_mark_glued_to_the_cue_and_a_stray_subject_do_not_hide_the_speaker() -> None:
    found = claims_of(
        "Mara Lind said,“We have waited long enough for this quay to be mended.”",
        "Tuesday at the town hall in Berea, OH, after the vote, Mayor Ivo Brandt said, "
        "“This is a good day for the harbour and for the fleet.”",
    )
    assert [(kind, sources) for kind, _, sources in found[-2:]] == [
        ("quote", ["Mara Lind"]),
        ("quote", ["Ivo Brandt"]),
    ]


def test_two_sources_in_joined_clauses_make_a_claim_each() -> None:
    found = claims_of(
        "The operator said the ships would return, but fishing crews said they had heard "
        "that before.",
        "Mara Lind said the vote was fair and warned that delay would cost more.",
        "Marca reported a rival bid, but the club denied that it had made one.",
    )
    assert [(text, sources) for _, text, sources in found] == [
        ("The operator said the ships would return", ["operator"]),
        ("fishing crews said they had heard that before.", ["fishing crews"]),
        (
            "Mara Lind said the vote was fair and warned that delay would cost more.",
            ["Mara Lind", "Mara Lind"],
        ),
        (
            "Marca reported a rival bid, but the club denied that it had made one.",
            ["Marca", "club"],
        ),
    ]


def test_a_quotation_with_no_tag_is_the_last_speaker_s_not_a_document_s() -> None:
    found = claims_of(
        "Mara Lind said the quay would open in May. A Harbour Gazette poll shows most "
        "residents back the plan.",
        "“We always knew the town would come round to it.”",
    )
    assert found[-1] == ("quote", "We always knew the town would come round to it.", ["Mara Lind"])


def test_a_hyphenated_name_and_a_title_with_a_body_in_it_keep_the_person() -> None:
    found = attributed(
        "State Rep. Gilda Cobb-Hunter said the council had moved too fast.",
        "Campaign chair Paul Manafort dismissed the vote as absurd, saying it changed nothing.",
    )
    assert [(name, kind) for _, name, kind, _ in found] == [
        ("Gilda Cobb-Hunter", SourceKind.person),
        ("Paul Manafort", SourceKind.person),
    ]


def test_a_quotation_that_goes_on_after_its_tag_in_a_new_sentence_is_one_claim() -> None:
    found = claims_of(
        "“I am worried about the cost of the quay,” said Mara Lind. “It is more than the "
        "town can pay.” The meeting then ended.",
    )
    assert found[0] == (
        "quote",
        "I am worried about the cost of the quay,” said Mara Lind. “It is more than the "
        "town can pay.",
        ["Mara Lind"],
    )
    assert found[1:] == [("statement", "The meeting then ended.", [])]


def test_a_mark_the_parse_makes_a_subject_is_no_source_and_no_crash() -> None:
    # "Will" read as the modal leaves the clitic the subject of "call": that made a mention with
    # no word in it, and the source resolver failed on it (a 500).
    found = claims_of(
        "Despite Harold Will’s call to abandon the plan, he still leads the field, according "
        "to a new poll by the Courier.",
    )
    assert [names for _, _, names in found] == [["new poll by the Courier"]]


def test_a_poll_by_an_outlet_is_a_document_and_the_outlet_alone_a_publication() -> None:
    assert attributed(
        "A new poll by the Calder Gazette shows the mayor leads the field.",
        "The Calder Gazette reported that the council would meet again.",
    ) == [
        ("A new poll", "new poll by the Calder Gazette", SourceKind.document, "shows"),
        ("The Calder Gazette", "The Calder Gazette", SourceKind.publication, "reported"),
    ]


def test_a_share_of_people_is_an_anonymous_source_named_whole() -> None:
    assert attributed(
        "Nine in 10 registered voters say the harbour should stay open.",
        "Six in 10 say the vote was rushed.",
    ) == [
        ("Nine in 10", "Nine in 10 registered voters", SourceKind.anonymous, "say"),
        ("Six in 10", "Six in 10", SourceKind.anonymous, "say"),
    ]


def test_a_belief_inside_what_a_poll_shows_is_the_polls_content() -> None:
    found = attributed(
        "Almost two-thirds of renters believe they will never buy a home, a new poll shows."
    )
    assert [(name, kind) for _, name, kind, _ in found] == [("new poll", SourceKind.document)]


def test_a_cue_noun_with_a_clause_is_its_owners_claim() -> None:
    assert attributed(
        "Mara Lind’s claim that the quay would close drew laughs.",
        "The company issued a denial that it had sold the data.",
        "The claim that he made was false.",  # a relative clause: no content, no source
        "Ana Pell reiterated her claim that the quay would close.",  # one, by the verb
    ) == [
        ("Mara Lind’s claim", "Mara Lind", SourceKind.person, "claim"),
        ("The company issued", "company", SourceKind.organization, "denial"),
        ("Ana Pell reiterated", "Ana Pell", SourceKind.person, "reiterated"),
    ]
    [denial] = [c for c in draft("The company issued a denial that it had sold the data.").claims]
    assert denial.attributions[0].role.value == "denied_by"


def test_agreeing_that_is_a_claim_and_agreeing_to_buy_is_a_deal() -> None:
    assert attributed(
        "The analyst Ruth Amsel agreed that the shift was a matter of geography.",
        "Pellmarsh Foods has agreed to buy the dairy for 1.2 billion crowns.",
        "Harbour pilots know the channel is silting up.",
    ) == [
        ("The analyst Ruth", "Ruth Amsel", SourceKind.person, "agreed"),
        ("Harbour pilots know", "Harbour pilots", SourceKind.anonymous, "know"),
    ]
