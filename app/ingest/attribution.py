"""Finding who said what, sentence by sentence, from the parse and the cue vocabulary
(data/cues.toml):

- a cue is a word the parse makes a verb (or a stance adjective before a clause: "is
  adamant that"), some only with words for content ("declared that …") or with a known
  kind of source for subject ("the report shows");
- its speaker is its subject in the parse, without asides ("X, who leads …, said"), the
  noun a relative "who" describes, or the subject of the verb it is joined to ("X
  downplayed … and said", "…, saying"); "he" and "she" are named from the people the story
  made subjects before;
- phrases the parse does not make subjects are matched as patterns: "according to X", "as
  (first) reported by X", "… was confirmed by X", "quoted as saying", "…, said X.";
- "X told Reuters …": the outlet that was told is not the source; a cue inside what someone
  else said is content.

A direct quotation (“…” or "…", possibly over several sentences, resumed after its tag, or
running on over paragraphs) becomes a claim of kind `quote` attributed to the speaker named
beside it, or to the last speaker when none is. Two sources saying their own thing in
joined clauses make a claim each. Sentences without attribution become claims only when
they state a fact (a number, an event), not when they analyse.
"""

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from app.claims.models import AttributionRole, ClaimKind
from app.claims.schemas import MAX_ANCHOR_CHARS

from . import lexicon, mentions

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

    Words = dict[int, Token]

QUOTES = re.compile(r"“[^”]{3,}”|\"[^\"]{3,}\"")
TOKEN = re.compile(r"\S+")
BOUNDARY = re.compile(r"[,;:(—–]|\bthat\b|[“”\"]|\s-\s")
CAPITALISED = re.compile(r"^[A-Z][\w.'’&-]*$|^[A-Z]\.[A-Z]\.?")
CONNECTORS = {"of", "de", "du", "la", "le", "van", "von", "der", "al", "bin", "and", "for"}
MODIFIERS = {
    "a",
    "an",
    "the",
    "some",
    "several",
    "many",
    "other",
    "two",
    "three",
    "four",
    "five",
    "senior",
    "top",
    "former",
    "local",
    "independent",
    "unnamed",
    "anonymous",
    "western",
    "government",
    "military",
    "intelligence",
    "security",
    "industry",
    "party",
    "his",
    "her",
    "their",
    "its",
}
PRONOUNS = {"he", "she", "it", "they"}
BODY_HEADS = lexicon.BODY_NOUNS | lexicon.ORGANIZATION_WORDS | lexicon.GOVERNMENT_WORDS
FACTUAL = re.compile(
    r"\d|\b(?:is|are|was|were|has|have|had) (?:preparing|planning|expected|set|scheduled)\b"
    r"|\b(?:announced|approved|signed|voted|killed|arrested|launched|closed|opened|resigned"
    r"|elected|fired|struck|attacked|died|injured|follows|comes|came|began|ended|unclear)\b",
    re.IGNORECASE,
)
ANALYSIS = re.compile(
    r"\b(?:signals?|raising questions|suggests?|appears?|seems?|likely|perhaps|potential"
    r"|arguably|could|might)\b",
    re.IGNORECASE,
)
CUE_SPAN = re.compile(
    rf"\b(?P<aux>(?:(?:{lexicon.AUXILIARIES})\s+)*)(?P<verb>[A-Za-z]+)\b(?P<to>\s+to\b)?"
)
ACCORDING = re.compile(r"\baccording to\s+(?P<np>.+)", re.IGNORECASE)
REPORTED_BY = re.compile(
    r"\b(?P<cue>(?:as\s+|first\s+|originally\s+)*reported by)\s+(?P<np>.+)", re.IGNORECASE
)
PASSIVE = re.compile(
    r"\b(?:was|were|been|is|are|being)\s+(?P<verb>confirmed|denied|disputed|rejected|"
    r"verified|contested|challenged)\s+by\s+(?P<np>.+)",
    re.IGNORECASE,
)
BACKWARD_ROLES = {
    AttributionRole.denied_by,
    AttributionRole.disputed_by,
    AttributionRole.confirmed_by,
}
# "The deal was confirmed by …": a short definite subject that names an earlier claim.
DEFINITE_PASSIVE = re.compile(r"^(?:The|This|That|These|Those)\s+\w+(?:\s+\w+)?\s+(?:was|were)\s")
# A verb form describing a noun ("pledged delegates", "the claimed savings") is no cue.
MODIFIER_DEPS = {"amod", "compound"}
# Parts of speech a cue can have: "said" is a VERB, "has" in "has said" an AUX.
VERB_TAGS = {"VERB", "AUX"}
SUBJECT_TAGS = {"PROPN", "NOUN", "PRON", "NUM"}  # NUM: "Six in 10 say"
ANONYMITY_REQUEST = re.compile(
    r"\s+(?:not\s+to\s+be\s+(?:named|identified)|for\s+anonymity|that\s+(?:his|her|their)\s+names?)",
    re.IGNORECASE,
)
QUOTED_AS = re.compile(r"\b(?:was|were)\s+quoted\s+as\s+saying\b", re.IGNORECASE)


@dataclass
class Attributed:
    """A source as written in the text, and how the text attributes the claim to it."""

    mention: str
    role: AttributionRole
    cue: str
    # Cited as having reported it ("reported by X", "X reported"): X is an outlet.
    outlet: bool = False


@dataclass
class Finding:
    """A claim found in the body: its text (`exact` is what to anchor) and attributions."""

    statement: str
    exact: str
    kind: ClaimKind = ClaimKind.statement
    quote: str | None = None
    attributions: list[Attributed] = field(default_factory=list)


def sentences(paragraph: "Doc") -> list[tuple[int, str]]:
    """The paragraph's sentences as the parse splits it, each with where it starts; one that
    a quotation runs across is kept whole."""
    text = paragraph.text
    spans = [(s.start_char, s.end_char) for s in paragraph.sents]
    quotes = [(m.start(), m.end()) for m in QUOTES.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        inside = any(q_start < start < q_end for q_start, q_end in quotes)
        if merged and inside:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    merged = _with_resumed_quotations(text, merged)
    found = []
    for start, end in merged:
        piece = text[start:end]
        if piece.strip():
            found.append((start + len(piece) - len(piece.lstrip()), piece.strip()))
    return found


# A sentence that is a quotation stopped by its speaker's tag: “…,” said Mara Lind.
TAGGED_QUOTATION = re.compile(r"^[“\"][^“”\"]+,[”\"]\s+[^“”\"]{1,80}\.$")


def _with_resumed_quotations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """“…,” said Mara Lind. “…”: a quotation that goes on in the next sentence after its tag
    is read as one sentence, so that it becomes one claim."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined:
            previous = text[joined[-1][0] : joined[-1][1]].strip()
            resumes = text[start:end].lstrip()[:1] in OPENING_QUOTES
            if resumes and TAGGED_QUOTATION.match(previous):
                joined[-1] = (joined[-1][0], end)
                continue
        joined.append((start, end))
    return joined


FUNCTION_WORDS = {
    "the",
    "a",
    "an",
    "of",
    "for",
    "to",
    "in",
    "at",
    "on",
    "by",
    "with",
    "and",
    "or",
    "but",
    "that",
    "who",
    "which",
    "its",
    "his",
    "her",
    "their",
    "as",
    "than",
}
CONJUNCTIONS = {"and", "but", "while", "yet"}
RELATIVES = {"who", "which", "whom"}
# A cue word right after these is a noun ("the report", "on promises"), not a verb.
NOUN_MARKERS = {
    "the",
    "a",
    "an",
    "its",
    "his",
    "her",
    "their",
    "our",
    "this",
    "that",
    "these",
    "those",
    "on",
    "of",
    "for",
    "with",
    "by",
    "at",
    "from",
    "about",
    "in",
}
LEADING_NAME = re.compile(
    r"^(?:The\s+)?[A-Z][\w’'.-]*(?:\s+(?:of\s+|the\s+|and\s+|de\s+)?[A-Z][\w’'.-]*)*"
)
VERBISH = {"is", "are", "was", "were", "has", "have", "had", "to", "will", "would", "be"}
PASSIVE_AUXILIARIES = {"was", "were", "been", "being", "be", "is", "are"}
# Where a noun phrase after "by", "according to", "told" or "citing" ends.
NP_END = re.compile(
    r"[,;:()]|\s(?:on|last|this|earlier|later|late|that|who|which|as|after|before|but|when|"
    r"published|released|during|since|while|because|if)\s|\sin\s(?=[A-Z]?[a-z]+day\b)"
    # "a memo seen by Reuters": the memo is the source, the outlet only saw it.
    r"|\s(?:seen|obtained|reviewed)\s+by\s"
)


def _bare(token: str) -> str:
    return token.casefold().strip(".,;:!?“”\"'()").removesuffix("’s").removesuffix("'s")


def _is_head(tokens: list[str], index: int) -> bool:
    """A describing noun ("officials", "report", "the company") that is not a title before a
    name."""
    word = _bare(tokens[index])
    body = tokens[index].islower() and word in BODY_HEADS
    if word not in lexicon.ANONYMOUS_HEADS and word not in lexicon.DOCUMENT_WORDS and not body:
        return False
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return not (CAPITALISED.match(following) and following not in ("The", "A"))


def noun_phrase(piece: str) -> str | None:
    """The noun phrase that ends `piece` (the text before a cue), if it can name a source:
    a pronoun, a description ("senior U.S. officials", "a report by the inspectorate"), or
    a run of capitalised words (titles included; they are split off later)."""
    tokens = piece.split()
    if not tokens:
        return None
    if len(tokens) == 1 and _bare(tokens[0]) in PRONOUNS:
        return tokens[0]
    phrase: list[str] | None = None
    for index in range(len(tokens)):
        if _is_head(tokens, index):
            start = index
            # Back over modifiers: "senior U.S.", "two", "polling station" (a noun ending in
            # s stops it: in "terms critics" the source is the critics).
            while start > 0:
                before = tokens[start - 1]
                word = _bare(before)
                plural = word.endswith("s") and not word.endswith("ss") and len(word) > 3
                if word in FUNCTION_WORDS - {"a", "an", "the"} or (
                    plural and word not in MODIFIERS
                ):
                    break
                start -= 1
                if word in ("a", "an", "the"):
                    break
            phrase = tokens[start:]
            break
    if phrase is None:
        end = len(tokens)
        start = end
        while start > 0 and (
            CAPITALISED.match(tokens[start - 1])
            or (tokens[start - 1] in CONNECTORS and 1 < start < end)
        ):
            start -= 1
        while start < end and tokens[start] in CONNECTORS:
            start += 1
        if start > 0 and tokens[start - 1].casefold() == "the":
            start -= 1
        # "Spanish sports daily Marca": the outlet's description comes with it.
        described = start > 0 and tokens[start - 1].casefold() in lexicon.OUTLET_WORDS
        while described and start > 0 and _bare(tokens[start - 1]) not in FUNCTION_WORDS:
            start -= 1
        phrase = tokens[start:end]
    words = [_bare(token) for token in phrase]
    if not phrase or words[-1] in FUNCTION_WORDS or all(w in FUNCTION_WORDS for w in words):
        return None
    if all(w in lexicon.TIME_WORDS or w in FUNCTION_WORDS for w in words):
        return None
    return " ".join(phrase).strip(",;:")


def _appositive_name(pieces: list[str]) -> str | None:
    """'Harald Brink, chief executive of Ostmark Logistics, told …': the name, not the title."""
    if len(pieces) < 2:
        return None
    description = pieces[-1].split()
    if not description or _bare(description[0]) not in lexicon.TITLES | {"the", "a", "an"}:
        return None
    head = description[: next((i for i, w in enumerate(description) if w in RELATIVES), None)]
    if any(_bare(word) in VERBISH for word in head):
        return None  # a clause, not a description: "President-elect Trump is preparing to"
    name = noun_phrase(pieces[-2].strip())
    if name and len(name.split()) >= 2 and CAPITALISED.match(name.split()[-1]):
        return name
    return None


# Parts of a subject that are not its name: "X, the director,", "X (R-Ohio)", "X, who …,".
ASIDES = {"acl", "appos", "advcl", "parataxis", "punct"}
# A subject longer than this is a clause the parse took for a noun phrase, not a source.
MAX_DESCRIPTION_WORDS = 12
# Subjects that name no one: "who" and "which" point back, "that"/"this" is a thing.
NO_ONE = {"who", "which", "that", "this", "what", "there", "both", "all", "each"}


def _is_verb(token: "Token") -> bool:
    """A verb in the parse, or a root that takes a clause whatever its tag: in "…, a new
    poll shows." the tagger can make "shows" a noun, and the clause before it its own."""
    if token.pos_ in VERB_TAGS:
        return True
    return token.dep_ == "ROOT" and any(c.dep_ in CONTENT_DEPS for c in token.children)


def _describes_noun(cue: "Token") -> bool:
    """'The figures include pledged delegates': a verb form that describes a noun. After
    "but" or "and" the parse can take a verb for one ("… but noted irregularities")."""
    if cue.dep_ not in MODIFIER_DEPS:
        return False
    return cue.i == 0 or cue.nbor(-1).pos_ not in ("CCONJ", "PUNCT")


def _parsed_subject(cue: "Token", base: str) -> str | None:
    """The cue's subject in the parse, without its asides, as a source's mention: "" when
    the subject can be no source ("his approach signals", "Few would argue"), None when the
    parse gives the cue no subject (the patterns look for one then). Any noun the
    parse makes the subject of a speech verb is its source ("the campaign said", "some
    advocates of the plan say", "47 percent said"); of a verb that things do too
    ("signals"), only a known kind of source."""
    subjects = [child for child in cue.children if child.dep_ == "nsubj"]
    if not subjects:
        return None
    # Several is a parse gone wrong: "in Berea, OH, …, Gov. John Kasich said" makes "OH" a
    # subject too. The one nearest the cue is its subject.
    subject = min(subjects, key=lambda s: abs(cue.i - s.i))
    if any(child.dep_ == "conj" for child in subject.children):
        return None
    relative = subject.lower_ in RELATIVES and cue.dep_ == "relcl"
    if relative and cue.head.pos_ in ("PROPN", "NOUN"):
        subject = cue.head  # "Ted Cruz, who said …", "voters who said …": who they are
        while subject.dep_ == "pobj" and subject.head.lower_ == "of":
            subject = subject.head.head  # "30 percent of voters who said": the 30 percent
    elif subject.lower_ in NO_ONE:
        return None  # "this said", or a relative the parse did not tie to its antecedent
    clitic = subject.text[:1] in "’'"  # "Will's call": the parse can make "'s" a subject
    if (
        clitic
        or subject.pos_ not in SUBJECT_TAGS
        or (subject.pos_ == "PRON" and subject.lower_ not in PRONOUNS)
    ):
        return ""  # "Few would argue"; "we", "I" and "you" are the writer, or in a quotation
    named = next((c for c in subject.children if c.dep_ == "appos" and c.pos_ == "PROPN"), None)
    if named is not None and subject.pos_ == "NOUN":
        subject = named  # "The harbour director, Mara Lind, said": Mara Lind
    asides = {t.i for child in subject.subtree if _is_aside(child) for t in child.subtree} - {
        subject.i
    }
    if relative:
        asides |= {t.i for t in cue.subtree}
    phrase = "".join(t.text_with_ws for t in subject.subtree if t.i not in asides).strip(" ,")
    # The patterns' noun phrase tidies a description, but would cut a share of people
    # down to its noun ("Nine in 10 registered voters" is not "10 registered voters").
    known = noun_phrase(phrase) if subject.pos_ != "NUM" else None
    if known or base in lexicon.WEAK_CUES or subject.pos_ == "PRON":
        return known or ""
    return phrase if len(phrase.split()) <= MAX_DESCRIPTION_WORDS else ""


def _governing_subject(cue: "Token", base: str) -> str | None:
    """The subject of the clause a subjectless cue continues: "X downplayed … and said",
    "X ducked, pointing to … and saying": up through the verbs it is joined to (from the
    noun the parse hung it on, in "… but noted delays")."""
    verb = cue.head if cue.dep_ in MODIFIER_DEPS else cue
    for _ in range(3):
        if verb.dep_ not in ("conj", "advcl") or verb.head.pos_ not in VERB_TAGS:
            return None
        verb = verb.head
        mention = _parsed_subject(verb, base)
        if mention is not None:
            return mention or None
    return None


def _is_aside(token: "Token") -> bool:
    """Set off from the name: an appositive, a parenthesis, or a relative clause after a
    comma ("X, who leads …"; "engineers who worked on it" is a description, no aside)."""
    if token.dep_ == "relcl":
        first = min(t.i for t in token.subtree)
        return first > 0 and token.doc[first - 1].text in {",", "(", "—", "–"}
    if token.dep_ == "punct":
        # Inside a word ("Cobb-Hunter", "CNN/ORC"), a mark sets nothing off.
        glued = token.i > 0 and not token.nbor(-1).whitespace_ and not token.whitespace_
        return not glued or token.text in SEPARATORS
    return token.dep_ in ASIDES


# Marks that set an aside off even with no space around them.
SEPARATORS = {",", "(", ")", "[", "]", ";"}


def _subject(before: str) -> str | None:
    """The noun phrase ending `before` (the text preceding a cue), if it can be a source."""
    before = before.rstrip(" ,")
    # Only what follows the previous cue can be this one's subject.
    words = before.split()
    for index in range(len(words) - 1, 0, -1):
        if words[index] in lexicon.cue_forms() and _bare(words[index - 1]) not in NOUN_MARKERS:
            before = " ".join(words[index + 1 :])
            break
    pieces = BOUNDARY.split(before)
    # "A former housing officer, giving evidence on Tuesday, said", "Derek Haverford, 58,
    # denies": skip the aside.
    while len(pieces) > 1 and (
        (pieces[-1].split()[:1] and pieces[-1].split()[0].endswith(("ing", "ed")))
        or pieces[-1].strip().isdigit()
    ):
        pieces = pieces[:-1]
    return _appositive_name(pieces) or noun_phrase(pieces[-1].strip())


def leading_phrase(text: str) -> str | None:
    """The noun phrase that starts `text` (after "by", "according to", "told", "citing"),
    up to where the sentence moves on; an appositive name wins over its description."""
    text = text.strip()
    cut = NP_END.search(text)
    phrase = text[: cut.start()] if cut else text
    phrase = phrase.strip().rstrip(".!?")
    if cut and cut.group().startswith(","):
        appositive = noun_phrase(NP_END.split(text[cut.end() :])[0].strip().rstrip(".!?"))
        tokens = phrase.split()
        describes = tokens and _bare(tokens[-1]) in lexicon.TITLES | lexicon.ANONYMOUS_HEADS
        named = appositive and CAPITALISED.match(appositive.split()[0]) and " " in appositive
        if describes and named:
            return appositive
    return phrase or None


def _after_np(after: str) -> str | None:
    """The noun phrase right after an inverted cue ("…, said Ana Ribeiro, the minister.")."""
    piece = BOUNDARY.split(after)[0].strip().rstrip(".!?")
    tokens = piece.split()
    if not tokens or len(tokens) > 8:
        return None
    found = noun_phrase(piece)
    return found if found == piece.strip(",;: ") else None


def _role(verb: str, mention: str) -> AttributionRole:
    base, role = lexicon.cue_forms()[verb.casefold()]
    if base in lexicon.REPORTING_VERBS and lexicon.is_publication(mention):
        return AttributionRole.reported_by
    return role


def _is_document(mention: str) -> bool:
    """'A new Quinnipiac University poll', 'Exit polls', 'a report by the inspectorate': a
    document names itself before any "by" or "of"."""
    head = re.split(r"\s(?:by|of|from|for)\s", mention)[0]
    return any(_bare(word) in lexicon.DOCUMENT_WORDS for word in head.split())


def _cue_attributions(
    text: str, patterns: list[tuple[int, Attributed]], words: "Words"
) -> list[tuple[int, Attributed]]:
    """Subject-and-cue attributions in `text`, each with the position of its cue (a word
    the parse made a verb; `words` are the parsed words by where they start). Those the
    patterns found already can be what a later cue refers to ("according to X, which
    said")."""
    found: list[tuple[int, Attributed]] = []
    for match in CUE_SPAN.finditer(text):
        verb = match["verb"]
        if not verb.islower() or verb not in lexicon.cue_forms():
            continue  # "States" in "the United States" is no cue
        parsed = words.get(match.start("verb"))
        if parsed is None or not _is_verb(parsed) or _describes_noun(parsed):
            continue  # "Other states limit …", "the state of …", "pledged delegates"
        base = lexicon.cue_forms()[verb][0]
        if ANONYMITY_REQUEST.match(text, match.end()):
            continue  # "who asked not to be named": why a source is unnamed, not a claim
        if _reported_within(parsed):
            continue  # "X said Y had urged …": Y's urging is what X said
        if base in lexicon.CLAUSAL_CUES and not _takes_clause(parsed):
            continue  # "declared a state of emergency" reports no one's words
        if base in lexicon.FINITE_CUES and not any(c.dep_ == "ccomp" for c in parsed.children):
            continue  # "agreed to buy the dairy": a deal, no one's words
        hedges = [w for w in match["aux"].split() if w.casefold() in lexicon.HEDGES]
        cue = " ".join([*hedges, verb])
        before, after = text[: match.start()], text[match.end() :]
        if base == "cite":  # "…, citing an internal memo": the memo is the source
            cited = leading_phrase(after)
            if cited:
                found.append(
                    (match.start("verb"), Attributed(cited, AttributionRole.asserted_by, cue))
                )
            continue
        auxiliaries = [_bare(word) for word in match["aux"].split()]
        previous = _bare(before.split()[-1]) if before.split() else ""
        if previous == "to" or (auxiliaries and auxiliaries[-1] in PASSIVE_AUXILIARIES):
            continue  # "preparing to announce", "were told to boil": no one is cited
        if previous in NOUN_MARKERS and not auxiliaries:
            continue  # "by the state", "live on promises": a noun
        participle = verb.endswith("ing") and not auxiliaries  # ", saying", not "are saying"
        prior = sorted([f for f in found + patterns if f[0] < match.start()], key=lambda f: f[0])
        if previous in CONJUNCTIONS | RELATIVES and prior:
            # "X acknowledged …, but said …", "X, which said …": X again (and all of them).
            at = prior[-1][0]
            for earlier in [a for position, a in prior if position == at]:
                again = Attributed(earlier.mention, _role(verb, earlier.mention), cue)
                found.append((match.start("verb"), again))
            continue
        if previous in CONJUNCTIONS or (previous == "then" and not found):
            # "Sen. X (R-Iowa) downplayed … and said": the subject of the verb it joins.
            mention = _governing_subject(parsed, base)
            if mention is None:
                leading = LEADING_NAME.match(BOUNDARY.split(before)[-1].strip())
                mention = leading.group() if leading else None
        elif participle:
            # ", adding: …" continues the main clause, whose subject was cited already;
            # "X threw her support behind Y, saying …": the main clause's subject speaks.
            mention = None
            if not found and before.rstrip().endswith(","):
                mention = _governing_subject(parsed, base) or _subject(before)
        else:
            mention = _parsed_subject(parsed, base)
            if mention is None:
                mention = _subject(before)
            elif not mention:
                continue
        if mention is None and not participle and re.search(r"[,“”\"]\s*$", before):
            mention = _after_np(after)  # inverted: "…," said X.
        carried = (
            (participle and before.rstrip().endswith(","))
            or previous in CONJUNCTIONS
            or previous in RELATIVES  # "…, according to X, which said …"
        )
        if mention is None and carried and found:
            mention = found[-1][1].mention  # "X claimed …, stating …" / "… but said …": X
        if mention is None or (base in lexicon.DOCUMENT_CUES and not _is_document(mention)):
            continue
        if verb.casefold() == "reported" and re.match(r"\s*by\b", after):
            continue  # "reported by X" is its own pattern
        role = _role(verb, mention)
        if before.rstrip().endswith(("first", "originally")):
            role, cue = AttributionRole.first_reported_by, f"first {cue}"
        outlet = base in lexicon.REPORTING_VERBS
        for each in _coordinated(before, mention):
            found.append((match.start("verb"), Attributed(each, role, cue, outlet)))
    return _relays(found, text)


# How a cue's content hangs from it in the parse: a clause, a question, an open clause.
CONTENT_DEPS = {"ccomp", "xcomp", "parataxis"}
# Cues that pass on what someone else said ("X told Reuters that Z said …"): both count.
RELAYS = {"tell", "report"}


def _takes_clause(cue: "Token") -> bool:
    """'declared that …', 'declared: “…”', '“…,” he declared', 'called it a victory', not
    'declared an emergency' or 'called the police'."""
    if any(child.dep_ in CONTENT_DEPS for child in cue.children):
        return True
    if any(child.dep_ == "oprd" or child.lower_ == "for" for child in cue.children):
        return True  # "called the ruling a victory", "called for calm"
    if cue.dep_ in ("parataxis", "ccomp") and cue.head.i < cue.i:
        return True  # the quotation came first, and the cue hangs from it
    return any(child.text in ':“"' for child in cue.children)


def _reported_within(cue: "Token") -> bool:
    """Whether the cue is inside what another cue reports ("Diplomats said governments had
    urged …"; "He denied that the company had threatened …"), so belongs to its content.
    Only a cue with a subject of its own is: ", stating …" still speaks for the sentence's
    subject wherever the parse hangs it."""
    if not any(child.dep_ in ("nsubj", "nsubjpass") for child in cue.children):
        return False
    token = cue
    while token.head.i != token.i:
        if token.dep_ == "ccomp":
            outer = token.head
            form = lexicon.cue_forms().get(outer.lower_)
            if form is not None and _is_verb(outer) and form[0] not in RELAYS:
                return True
        token = token.head
    return False


def _coordinated(before: str, mention: str) -> list[str]:
    """'The Northern Democracy Monitor and the Helsinki Committee (both) said': each one."""
    piece = BOUNDARY.split(before.rstrip(" ,"))[-1]
    piece = re.sub(r"^\s*Both\s+|\s+both\s*$", "", piece)
    left, sep, right = piece.partition(" and ")
    if not sep:
        return [mention]
    names = [noun_phrase(left.strip()), noun_phrase(right.strip())]
    if all(name and CAPITALISED.match(name.split()[-1]) for name in names):
        return [name for name in names if name]
    return [mention]


def _relays(found: list[tuple[int, Attributed]], text: str) -> list[tuple[int, Attributed]]:
    """In "X told Y that Z said …" Z made the claim and X only passes it on (reported_by)."""
    for index, (at, attributed) in enumerate(found):
        if attributed.cue.split()[-1] != "told":
            continue
        later = [a for position, a in found[index + 1 :] if position > at]
        if any(a.mention != attributed.mention for a in later) and " that " in text[at:]:
            attributed.role = AttributionRole.reported_by
    return found


def _pattern_attributions(text: str) -> list[tuple[int, Attributed]]:
    found: list[tuple[int, Attributed]] = []
    for match in ACCORDING.finditer(text):
        mention = leading_phrase(match["np"]) or match["np"].strip()
        role = (
            AttributionRole.reported_by
            if lexicon.is_publication(mention)
            else AttributionRole.asserted_by
        )
        found.append((match.start(), Attributed(mention, role, "according to")))
    for match in REPORTED_BY.finditer(text):
        cue = " ".join(match["cue"].split()).casefold()
        first = "first" in cue or "originally" in cue
        role = AttributionRole.first_reported_by if first else AttributionRole.reported_by
        mention = leading_phrase(match["np"]) or match["np"].strip()
        found.append((match.start(), Attributed(mention, role, cue, outlet=True)))
    for match in PASSIVE.finditer(text):
        verb = match["verb"].casefold()
        mention = leading_phrase(match["np"]) or match["np"].strip()
        found.append((match.start(), Attributed(mention, _role(verb, mention), f"{verb} by")))
    for match in QUOTED_AS.finditer(text):
        mention = _subject(text[: match.start()])
        if mention:
            quoted = Attributed(mention, AttributionRole.asserted_by, "quoted as saying")
            found.append((match.start(), quoted))
    return found


def _without_told_outlets(found: list[tuple[int, Attributed]], text: str) -> list:
    """Drop an audience that was only told ("X told Reuters"): it reports nothing itself."""
    told = {
        leading_phrase(m["np"]) for m in re.finditer(r"\b(?:told|telling)\s+(?P<np>[^,.;:]+)", text)
    }
    return [(at, a) for at, a in found if a.mention not in told]


def attributions(text: str, words: "Words") -> list[tuple[int, Attributed]]:
    patterns = _pattern_attributions(text)
    found = sorted(
        patterns
        + _cue_attributions(text, patterns, words)
        + _stance_attributions(words)
        + _noun_attributions(words),
        key=lambda f: f[0],
    )
    unique: dict[tuple[str, AttributionRole, str], tuple[int, Attributed]] = {}
    for at, attributed in _without_told_outlets(found, text):
        key = (attributed.mention.casefold(), attributed.role, attributed.cue)
        unique.setdefault(key, (at, attributed))
    return list(unique.values())


# What a stance's content hangs by: a finite clause ("adamant that …"), not "certain to".
STANCE_DEPS = {"ccomp", "parataxis"}
COPULAS = {"be", "remain", "seem", "appear", "feel", "sound"}


def _stance_attributions(words: "Words") -> list[tuple[int, Attributed]]:
    """'X is adamant that …', 'X was confident the deal would hold': a stance with a clause
    for content, said of its subject."""
    found = []
    for at, token in words.items():
        if token.lower_ not in lexicon.STANCE_ADJECTIVES or token.dep_ != "acomp":
            continue
        if token.head.lemma_ not in COPULAS:
            continue  # "making sure the doors close" is no stance
        # The clause hangs from the adjective or from its "is"; "X is confident" alone
        # says nothing, and "the figure is certain to rise" is no one's stance.
        if not any(c.dep_ in STANCE_DEPS for c in (*token.children, *token.head.children)):
            continue
        mention = _parsed_subject(token.head, token.lower_)
        if mention:
            cue = f"{token.head.text} {token.text}"
            found.append((at, Attributed(mention, AttributionRole.asserted_by, cue)))
    return found


# A possessive pronoun as the source it stands for: "her warning" is hers.
POSSESSORS = {"his": "he", "her": "she", "its": "it", "their": "they"}
# What a content clause has that a relative one ("the claim that he made") lacks.
CLAUSE_PARTS = {"aux", "auxpass", "neg", "dobj", "attr", "acomp", "ccomp", "xcomp", "prep"}


def _noun_attributions(words: "Words") -> list[tuple[int, Attributed]]:
    """'Her warning that the dam could fail', 'the company's denial that it sold the data',
    'the claim by the inspectorate that …', 'he repeated the claim that …': a cue noun with
    a content clause, said by whoever the noun belongs to."""
    found = []
    for at, token in words.items():
        role = lexicon.CUE_NOUNS.get(token.lower_)
        if role is None or token.pos_ != "NOUN" or not _has_content_clause(token):
            continue
        if token.head.i != token.i and token.head.lower_ in lexicon.cue_forms():
            continue  # "she reiterated her claim that …": the verb's attribution
        mention = _owner(token)
        if mention:
            found.append((at, Attributed(mention, role, token.text)))
    return found


def _has_content_clause(noun: "Token") -> bool:
    for clause in noun.children:
        if clause.dep_ not in ("acl", "relcl", "ccomp"):
            continue
        opens = min(clause.subtree, key=lambda t: t.i)
        subject = any(c.dep_ in SUBJECT_DEPS and c.lower_ != "that" for c in clause.children)
        complete = any(c.dep_ in CLAUSE_PARTS for c in clause.children)
        if opens.lower_ == "that" and subject and complete:
            return True
    return False


def _owner(noun: "Token") -> str | None:
    """Whose the cue noun is: its possessor, who it is "by" or "from", or the subject of
    the verb that has it as object."""
    for child in noun.children:
        if child.dep_ == "poss":
            if child.pos_ == "PRON":
                return POSSESSORS.get(child.lower_)
            kept = [t for t in child.subtree if t.dep_ != "case"]
            return "".join(t.text_with_ws for t in kept).strip() or None
        if child.dep_ in ("prep", "agent") and child.lower_ in ("by", "from"):
            objects = [c for c in child.children if c.dep_ == "pobj"]
            if objects:
                return "".join(t.text_with_ws for t in objects[0].subtree).strip() or None
    if noun.dep_ == "dobj" and noun.head.pos_ in VERB_TAGS:
        return _parsed_subject(noun.head, noun.lower_) or None
    return None


def is_factual(sentence: str) -> bool:
    return bool(FACTUAL.search(sentence)) and not ANALYSIS.search(sentence)


@dataclass
class Reading:
    """What has been read of the article so far: its claims, and the last speaker (for a
    quotation that names none)."""

    claims: list[Finding] = field(default_factory=list)
    last_speaker: str | None = None
    # The last claim with attributions, which a later denial or confirmation points back to
    # (kept here rather than searched for on every sentence: that made reading quadratic).
    last_attributed: Finding | None = None
    # Who introduced what follows: the sources of a paragraph ending "X said:".
    introduced_by: list[Attributed] = field(default_factory=list)
    # The people the story has made subjects so far, most recent last: who "he" and "she"
    # can be. And what each surname has been called: "he", "she".
    people: list[str] = field(default_factory=list)
    pronouns: dict[str, str] = field(default_factory=dict)

    def antecedent(self, pronoun: str) -> str | None:
        """The person "he" or "she" refers to: the most recent subject the story named who
        has not been called by the other pronoun (and from now on is called by this one)."""
        for name in reversed(self.people):
            if self.pronouns.get(name.split()[-1], pronoun) == pronoun:
                self.pronouns[name.split()[-1]] = pronoun
                return name
        return None


OPENING_QUOTES = ("“", '"')
CLOSING_QUOTES = ("”", '"')
# An item of a Markdown list, as ingest writes lists: "- It funds dredging".
LIST_ITEM = re.compile(r"^- (?P<item>.+)$", re.MULTILINE)


def _points_back(sentence: str, at: int, attributed: Attributed) -> bool:
    """A denial, dispute or confirmation of an earlier claim: "denied that report", "The
    deal was confirmed by …"."""
    if DEFINITE_PASSIVE.match(sentence) and attributed.cue.endswith(" by"):
        return True
    if attributed.role not in BACKWARD_ROLES:
        return False
    after = sentence[at:].split(maxsplit=1)
    return len(after) == 2 and bool(lexicon.BACK_REFERENCES.match(after[1]))


def read_paragraph(paragraph: "Doc", reading: Reading) -> None:
    """Add the claims of one paragraph (parsed) to `reading`. A list after "X said:" is
    X's: each item a claim of the sources that introduced it."""
    items = LIST_ITEM.findall(paragraph.text)
    if items and reading.introduced_by:
        speakers = reading.introduced_by
        reading.claims += [
            Finding(item, item, attributions=[replace(a) for a in speakers]) for item in items
        ]
        return
    text = paragraph.text.strip()
    if text[:1] in OPENING_QUOTES and not any(mark in text[1:] for mark in CLOSING_QUOTES):
        # A quotation that runs on into the next paragraph (which opens with a quotation
        # mark again): the words of whoever was speaking.
        words = text[1:].strip()
        reading.claims.append(
            Finding(words, words, ClaimKind.quote, words, _fallback(reading.last_speaker))
        )
        reading.introduced_by = []
        return
    before = len(reading.claims)
    _read_sentences(paragraph, reading)
    introduced = paragraph.text.rstrip().endswith(":") and reading.claims[before:]
    reading.introduced_by = reading.claims[-1].attributions if introduced else []


def _read_sentences(paragraph: "Doc", reading: Reading) -> None:
    for start, sentence in sentences(paragraph):
        if len(sentence) > MAX_ANCHOR_CHARS:
            continue  # no claim could be anchored on it, and searching it costs per cue
        # The sentence's own words only: a scan of the paragraph's for each sentence would
        # grow with the square of a long paragraph.
        span = paragraph.char_span(start, start + len(sentence), alignment_mode="expand")
        words = {t.idx - start: t for t in span} if span is not None else {}
        cited = attributions(sentence, words)
        _resolve_pronouns(cited, words, reading)
        earlier = reading.last_attributed
        if earlier is not None:
            backward = [(at, a) for at, a in cited if _points_back(sentence, at, a)]
            earlier.attributions += [a for _, a in backward]
            cited = [c for c in cited if c not in backward]
            if backward and not cited:
                continue
        quotes = [q for q in QUOTES.finditer(sentence) if not is_title(q.group()[1:-1])]
        if quotes:
            found = _quote_findings(sentence, quotes, cited, reading.last_speaker)
        elif cited:
            found = _clause_findings(sentence, cited, words)
        elif is_factual(sentence):
            found = [Finding(sentence, sentence)]
        else:
            found = []
        reading.claims += found
        reading.last_attributed = next(
            (claim for claim in reversed(found) if claim.attributions), reading.last_attributed
        )
        # Who a quotation with no speaker of its own is by: the last who spoke, not a
        # document or an outlet that reported ("a poll shows", "Politico reported").
        speakers = [a for _, a in cited if not a.outlet and not _is_document(a.mention)]
        if speakers:
            reading.last_speaker = speakers[-1].mention


GENDERED = {"he", "she"}
SUBJECT_DEPS = {"nsubj", "nsubjpass"}


def _resolve_pronouns(
    cited: list[tuple[int, Attributed]], words: "Words", reading: Reading
) -> None:
    """Name who "he" and "she" are, from the people the story made subjects before them (in
    this sentence too: "After Lind arrived, she said"); then remember this sentence's."""
    subjects = _people(words, reading)
    for at, attributed in cited:
        pronoun = attributed.mention.casefold()
        if pronoun not in GENDERED:
            continue
        reading.people += [name for position, name in subjects if position < at]
        subjects = [(position, name) for position, name in subjects if position >= at]
        attributed.mention = reading.antecedent(pronoun) or attributed.mention
    reading.people += [name for _, name in subjects]


def _sentence_start(words: "Words") -> int:
    """Where the sentence of `words` (its parsed words by offset in it) starts in its
    paragraph, which is what the parse counts from."""
    offset, token = next(iter(words.items()))
    return token.idx - offset


def _people(words: "Words", reading: Reading) -> list[tuple[int, str]]:
    """The named subjects of a sentence that can be people, with where each starts, the
    main clause's last (the most salient: in "Pereira told the court that Haverford had
    approved it", Pereira). A sentence about one person that calls them "his" or "herself"
    says which pronoun is theirs."""
    found: list[tuple[int, str, bool]] = []
    if not words:
        return []
    start = _sentence_start(words)
    for token in words.values():
        if token.dep_ not in SUBJECT_DEPS or token.pos_ != "PROPN":
            continue
        run = [token]
        while run[0].i > 0 and run[0].nbor(-1).pos_ == "PROPN" and run[0].nbor(-1).head == token:
            run.insert(0, run[0].nbor(-1))
        name = " ".join(t.text for t in run)
        if mentions.could_be_person(name):
            found.append((run[0].idx - start, name, token.head.dep_ == "ROOT"))
    genders = {GENDER_WORDS[t.lower_] for t in words.values() if t.lower_ in GENDER_WORDS}
    if len({name for _, name, _ in found}) == 1 and len(genders) == 1:
        reading.pronouns.setdefault(found[0][1].split()[-1], genders.pop())
    found.sort(key=lambda f: f[2])
    return [(at, name) for at, name, _ in found]


# Words that show which pronoun a person takes ("his trial", "approved it herself").
GENDER_WORDS = {
    "his": "he", "him": "he", "himself": "he", "her": "she", "hers": "she", "herself": "she",
}  # fmt: skip


def _clause_findings(
    sentence: str, cited: list[tuple[int, Attributed]], words: "Words"
) -> list[Finding]:
    """The sentence as one claim of all its sources; or, when two sources each say their
    own thing in joined clauses ("X said …, but Y said …"; "X said …; Y argued …"), one
    claim per clause, each anchored on its clause's words. A denial or confirmation in the
    same sentence is of what the first clause says, and stays with it."""
    whole = [Finding(sentence, sentence, attributions=[a for _, a in cited])]
    cues = sorted({at for at, _ in cited})
    groups = [[a for at, a in cited if at == cue] for cue in cues]
    tokens = [words.get(at) for at in cues]
    if len(cues) != 2 or any(a.role in BACKWARD_ROLES for group in groups for a in group):
        return whole
    first, second = tokens
    if first is None or second is None or first.pos_ not in VERB_TAGS:
        return whole
    joined = second.dep_ in ("conj", "parataxis") and second.head.i == first.i
    has_subject = any(child.dep_ == "nsubj" for child in second.children)
    speakers = [{a.mention for a in group} for group in groups]
    if not joined or not has_subject or speakers[0] & speakers[1]:
        return whole
    split = second.left_edge.idx - _sentence_start(words)  # where the second clause starts
    head = re.sub(r"[\s,;:—–]*(?:and|but|while|yet)?[\s,;:—–]*$", "", sentence[:split])
    tail = sentence[split:].strip()
    return [
        Finding(head, head, attributions=groups[0]),
        Finding(tail, tail, attributions=groups[1]),
    ]


def _quote_findings(
    sentence: str,
    quotes: list[re.Match[str]],
    cited: list[tuple[int, Attributed]],
    last_speaker: str | None,
) -> list[Finding]:
    """The quotations of a sentence, and the statement around them when it makes one too.
    A whole quoted sentence is a claim of its own, attributed by the cue nearest to it; a
    partial quotation ("said there was "no evidence"") keeps the sentence as its claim."""
    runs = [run for run in _resumed(sentence, quotes) if run[0].group()[1:2].isupper()]
    whole = [quote for run in runs for quote in run]
    if not whole:
        speakers = [a for _, a in cited] or _fallback(last_speaker)
        words = " … ".join(q.group()[1:-1].strip() for q in quotes)
        return [Finding(sentence, sentence, ClaimKind.quote, words, speakers)]
    findings, used = [], set()
    for run in runs:
        first, last = run[0], run[-1]
        words = " ".join(q.group()[1:-1].strip() for q in run)
        # One quotation resumed after its tag is anchored across the tag, on the page's words.
        exact = sentence[first.start() + 1 : last.end() - 1].strip()
        nearest = min(cited, key=lambda f: _distance(f[0], first, last), default=None)
        speakers = [nearest[1]] if nearest else _fallback(last_speaker)
        if nearest:
            used.add(id(nearest[1]))
        findings.append(Finding(words, exact, ClaimKind.quote, words, speakers))
    others = [a for _, a in cited if id(a) not in used]
    if others:
        # What the sentence says besides the quotation: before it ("Putin claimed …,
        # stating, “…”") or after it ("“…,” said X, who told Y she had …").
        first_cue = min((at for at, a in cited if id(a) in used), default=len(sentence))
        before = sentence[: min(first_cue, whole[0].start())].strip(" ,:")
        after = sentence[whole[-1].end() :].strip(" ,:.")
        paraphrase = before if len(before.split()) >= 4 else after
        if len(paraphrase.split()) >= 4:
            findings.insert(0, Finding(paraphrase, paraphrase, attributions=others))
    return findings


# A speaker tag between two parts of one quotation: “…,” said the harbour director, “…”.
MAX_TAG_WORDS = 10


def _resumed(sentence: str, quotes: list[re.Match[str]]) -> list[list[re.Match[str]]]:
    """The quotations in runs: one that stops at a comma and resumes after a short speaker
    tag ("“We waited,” she said, “and waited.”") is one quotation, not two."""
    runs: list[list[re.Match[str]]] = []
    for quote in quotes:
        if runs:
            previous = runs[-1][-1]
            tag = sentence[previous.end() : quote.start()]
            paused = previous.group()[1:-1].rstrip().endswith(",")
            tagged = tag.rstrip().endswith((",", "."))  # “…,” she said, “…” / she said. “…”
            if paused and tagged and len(tag.split()) <= MAX_TAG_WORDS:
                runs[-1].append(quote)
                continue
        runs.append([quote])
    return runs


def is_title(quoted: str) -> bool:
    """A programme, a book or a nickname in quotation marks ("“Sunday Morning Futures,”",
    "“Blue House”"), no one's words: every word of it capitalised."""
    words = [w for w in re.findall(r"[\w’'-]+", quoted) if w.casefold() not in FUNCTION_WORDS]
    return 0 < len(words) <= MAX_TITLE_WORDS and all(w[:1].isupper() for w in words)


# A title in quotation marks is short; a longer capitalised quotation is a shout.
MAX_TITLE_WORDS = 6


def _fallback(last_speaker: str | None) -> list[Attributed]:
    """A quotation that names no speaker is the last speaker's."""
    if last_speaker is None:
        return []
    return [Attributed(last_speaker, AttributionRole.asserted_by, "")]


def _distance(position: int, first: re.Match[str], last: re.Match[str]) -> int:
    """How far a cue is from the quotation running from `first` to `last` (0 inside it)."""
    if position < first.start():
        return first.start() - position
    return max(position - last.end(), 0)
