"""The words the ingest pipeline works with: page furniture, attribution cues and the roles
they signal, titles, and the words that tell a source's kind. Extend the lists here; the
rules in `page`, `attribution` and `sources` read nothing else."""

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from app.claims.models import AttributionRole

# Lines that are page furniture wherever they stand (matched whole, ignoring case and
# surrounding punctuation), and prefixes of furniture lines.
FURNITURE = {
    # Labels of news archives' copies of a story ("ABSTRACT.", "FULL TEXT.").
    "abstract.",
    "full text.",
    "correction appended.",
    "lead:",
    "top of page",
    "bottom of page",
    "back",
    "back to top",
    "skip to content",
    "skip to main content",
    "menu",
    "home",
    "search",
    "share",
    "share this",
    "share this article",
    "share this story",
    "subscribe",
    "subscribe now",
    "sign in",
    "log in",
    "print",
    "email",
    "comments",
    "advertisement",
    "sponsored",
    "related",
    "related stories",
    "related articles",
    "most read",
    "trending",
    "listen to this article",
    "follow us",
    "close",
}
FURNITURE_PREFIXES = (
    "share on ",
    "share via ",
    "read more",
    "see also",
    "related:",
    "sign up for",
    "subscribe to",
    "follow us on",
    "click here",
    "©",
    "copyright ",
    "all rights reserved",
    "photo:",
    "image:",
    "image caption",
    "watch:",
    "reporting by",
    "additional reporting by",
    "editing by",
    "writing by",
    "enter your email",
    "comments (",
    "weather alerts",
    "reviewed by ",
    "medically reviewed by ",
    "fact checked by ",
    "fact-checked by ",
)
# Furniture wherever it appears in a line: reading times and photo credits.
FURNITURE_PATTERNS = (
    re.compile(r"^\d+\s*min(?:ute)?s?\s+read$"),
    re.compile(r"\b(?:photo|photograph|image|picture):\s"),
)
# Datelines of the page itself ("Updated 3:14 PM", "20 April 2026", "Nov. 3, 2026"): like
# bylines, they stand between the headline and deck and the story.
TIMESTAMPS = (
    re.compile(r"^(?:posted|updated|published|last updated)\b"),
    re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)?[a-z]*\.?,?\s*\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4}\b"),
    re.compile(r"^[a-z]{3,9}\.?\s+\d{1,2},\s+\d{4}\b"),
)
_NAME = r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}"
# "By Jane Doe", "By Jane Doe and Sam Roe, Staff Reporters", "By JANE DOE | Reuters"
BYLINE = re.compile(rf"^(?:By|BY|by)\s+(?P<names>{_NAME}(?:\s+and\s+{_NAME})?)\s*(?:[,|–-].*)?$")


@cache
def _cues() -> dict[str, Any]:
    """data/cues.toml: the cue verbs by role, their irregular forms and special groups."""
    data = resources.files("app.ingest").joinpath("data/cues.toml").read_text("utf-8")
    return tomllib.loads(data)


def cue_verbs() -> dict[AttributionRole, list[str]]:
    """Every cue verb (base form) by the role it gives."""
    return {
        role: [verb for group in _cues()[role.value].values() for verb in group]
        for role in AttributionRole
        if role.value in _cues()
    }


# Verbs that report another outlet's reporting rather than a claim of the subject's own.
REPORTING_VERBS = frozenset(_cues()["groups"]["reporting"])
# Verbs that only documents take as cues ("the report found", "filings show").
DOCUMENT_CUES = frozenset(_cues()["groups"]["documents"])
# Verbs that report words only with a clause or quotation for content ("declared that …",
# not "declared a state of emergency").
CLAUSAL_CUES = frozenset(_cues()["groups"]["clausal"])
# Verbs that report words only with a finite clause ("agreed that …", not "agreed to buy").
FINITE_CUES = frozenset(_cues()["groups"]["finite"])
# Adjectives that attribute a stance with a clause: "X is adamant that …".
STANCE_ADJECTIVES = frozenset(_cues()["adjectives"]["stance"])
# Verbs that things do as well as people ("the move signals"): only a known kind of source
# is their subject.
WEAK_CUES = frozenset(_cues()["groups"]["weak"])
# Nouns that attribute a claim with a clause ("her warning that …") → the role they give.
CUE_NOUNS = {
    noun: AttributionRole(role) for role, nouns in _cues()["nouns"].items() for noun in nouns
}


def _inflections(verb: str) -> set[str]:
    if verb.endswith("y") and verb not in ("say",):
        stem = verb[:-1]
        forms = {verb, stem + "ies", stem + "ied", verb + "ing"}
    elif verb.endswith("e"):
        forms = {verb, verb + "s", verb + "d", verb[:-1] + "ing"}
    else:
        forms = {verb, verb + "s", verb + "ed", verb + "ing"}
        if verb == "say":
            forms = {"say", "says", "saying"}
    return forms | set(_cues()["irregular"].get(verb, ()))


@cache
def cue_forms() -> dict[str, tuple[str, AttributionRole]]:
    """Every inflected cue word → (its base verb, the role it signals)."""
    forms: dict[str, tuple[str, AttributionRole]] = {}
    for role, verbs in cue_verbs().items():
        for verb in verbs:
            for form in _inflections(verb):
                forms[form] = (verb, role)
    return forms


# Words between a subject and its cue verb that belong to the cue ("are reportedly urging",
# "has previously warned").
AUXILIARIES = (
    "has|have|had|is|are|was|were|been|being|be|will|would|could|also|previously|repeatedly|"
    "long|both|since|"
    "reportedly|publicly|privately|later|earlier|again|already|strongly|flatly|"
    "firmly|quickly|initially|separately|on \\w+day|in a statement"
)
HEDGES = {"reportedly", "allegedly"}

# Titles and offices: never part of a person's name, kept as the source's description.
TITLES = {
    "adviser",
    "advisor",
    "president",
    "president-elect",
    "vice",
    "prime",
    "minister",
    "chancellor",
    "secretary",
    "senator",
    "sen.",
    "representative",
    "rep.",
    "governor",
    "gov.",
    "mayor",
    "ambassador",
    "general",
    "gen.",
    "admiral",
    "colonel",
    "col.",
    "captain",
    "capt.",
    "judge",
    "justice",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "dr.",
    "dr",
    "mr",
    "mrs",
    "ms",
    "mr.",
    "mrs.",
    "ms.",
    "professor",
    "prof.",
    "chief",
    "executive",
    "ceo",
    "chair",
    "chairman",
    "chairwoman",
    "director",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "commissioner",
    "inspector",
    "superintendent",
    "leader",
    "lawmaker",
    "deputy",
    "foreign",
    "defence",
    "defense",
    "finance",
    "interior",
    "health",
    "economy",
    "state",
    "attorney",
    "officer",
    "head",
    "founder",
    "analyst",
    "economist",
    "researcher",
    "former",
    "councillor",
    "councilman",
    "councilwoman",
    "prosecutor",
    "barrister",
    "lawyer",
    "detective",
    "sergeant",
    "constable",
    "coach",
    "author",
    "co-author",
    "lead",
    "negotiator",
    "editor",
    "bishop",
    "archbishop",
    "sheriff",
    "commander",
    "marshal",
    "lieutenant",
    "major",
    "biologist",
    "scientist",
}
# Never a source: days, months and other words of time that end phrases like "on Monday".
TIME_WORDS = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "today",
    "yesterday",
    "meanwhile",
    "however",
    "additionally",
    "later",
    "earlier",
}

# Heads of noun phrases that describe unnamed people: an anonymous source.
ANONYMOUS_HEADS = {
    "official",
    "officials",
    "source",
    "sources",
    "critic",
    "critics",
    "adviser",
    "advisers",
    "advisor",
    "advisors",
    "aide",
    "aides",
    "analyst",
    "analysts",
    "diplomat",
    "diplomats",
    "expert",
    "experts",
    "people",
    "person",
    "witness",
    "witnesses",
    "residents",
    "observers",
    "economists",
    "investigators",
    "lawmakers",
    "insiders",
    "supporters",
    "opponents",
    "employees",
    "staff",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "executives",
    "chairman",
    "manager",
    "managers",
    "nurse",
    "nurses",
    "observer",
    "worker",
    "workers",
    "member",
    "members",
    "officer",
    "prosecutors",
    "forecasters",
    "engineers",
    "groups",
    "agents",
    "forwarders",
    "negotiators",
    "doctors",
    "police",
}
# Words for how many: "Six in 10 say", "Half said", "Most of those polled said". A mention
# headed by one describes a share of people, and its capital is only the sentence's.
QUANTITIES = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "half", "most", "many", "few", "some", "all", "none", "majority", "majorities",
}  # fmt: skip
# Nouns that stand for an organisation named before: "the company said".
BODY_NOUNS = {"company", "firm", "group", "operator", "carrier", "club", "maker", "airline"}
# Words for a body's spokesperson: "a SkyVista spokeswoman" speaks for SkyVista.
SPOKESPEOPLE = {"spokesperson", "spokesman", "spokeswoman", "representative"}
# Nouns after a denial or dispute that point back at an earlier claim ("denied that report").
BACK_REFERENCES = re.compile(
    r"^\s*(?:the|that|this|these|those|its|his|her|their)\s+(?:[\w’'-]+\s+){0,2}?"
    r"(?:report|reports|account|claim|claims|conclusion|result|results|figure|figures|"
    r"estimate|assessment|allegation|allegations|story|remark|remarks|finding|findings|"
    r"version|forecast|accusation|accusations)\b"
    r"|^\s*(?:that|this|it|them)\s*(?:[,.;]|$)|^\s*any\s+wrongdoing\b",
    re.IGNORECASE,
)
# Words that make a named body a government, an organisation or a document.
GOVERNMENT_WORDS = {
    "ministry",
    "government",
    "kremlin",
    "white house",
    "pentagon",
    "state department",
    "cabinet",
    "parliament",
    "congress",
    "senate",
    "council",
    "commission",
    "department",
    "administration",
    "embassy",
    "police",
    "army",
    "navy",
    "military",
    "city hall",
}
ORGANIZATION_WORDS = {
    "authority",
    "agency",
    "company",
    "corporation",
    "corp",
    "inc",
    "ltd",
    "group",
    "bank",
    "union",
    "party",
    "association",
    "institute",
    "university",
    "foundation",
    "federation",
    "committee",
    "court",
    "club",
    "board",
    "office",
    "organization",
    "organisation",
    "coalition",
    "alliance",
    "nato",
    "un",
    "united nations",
    "who",
    "imf",
    "fund",
    "airline",
    "airlines",
    "hospital",
    "network",
    "service",
    "trust",
    "society",
    "campaign",
    "administration",
}
DOCUMENT_WORDS = {
    "report",
    "filing",
    "filings",
    "document",
    "documents",
    "memo",
    "letter",
    "study",
    "survey",
    "statement",
    "records",
    "data",
    "figures",
    "audit",
    "indictment",
    "complaint",
    "ruling",
    "transcript",
    "minutes",
    "analysis",
    "review",
    "investigation",
    "inquiry",
    "papers",
    "poll",
    "polls",
    "surveys",
    "studies",
    "reports",
    "research",
    "statistics",
    "emails",
    "results",
}

# A few common English words: a text with almost none of them is not English.
ENGLISH_MARKERS = {
    "the",
    "and",
    "of",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "was",
    "with",
    "said",
    "by",
    "it",
    "as",
    "at",
    "from",
    "has",
    "have",
    "be",
    "are",
    "will",
    "its",
    "his",
    "her",
    "their",
    "after",
    "but",
    "not",
}


# Words naming a kind of outlet ("the regional daily Le Courrier alpin") or ending the names
# of newspapers ("The Calder Gazette").
OUTLET_WORDS = {
    "daily",
    "newspaper",
    "paper",
    "broadcaster",
    "agency",
    "magazine",
    "weekly",
    "outlet",
    "website",
    "tabloid",
    "channel",
    "radio",
    "television",
}
NEWSPAPER_NAME_ENDINGS = {
    "gazette",
    "herald",
    "times",
    "post",
    "journal",
    "tribune",
    "echo",
    "chronicle",
    "review",
    "courier",
    "courrier",
    "daily",
    "express",
    "mirror",
    "telegraph",
    "inquirer",
    "desportiva",
    "ledger",
    "news",
}


def _fold(name: str) -> str:
    name = name.strip().casefold()
    return name.removeprefix("the ").strip()


@cache
def publications() -> frozenset[str]:
    """The curated publication names (folded: lower case, no leading "the")."""
    text = resources.files("app.ingest").joinpath("data/publications.txt").read_text("utf-8")
    return frozenset(
        _fold(line) for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_publication(name: str) -> bool:
    """A known outlet, one described as such ("the regional daily X"), or a capitalised name
    ending like a newspaper's ("The Calder Gazette")."""
    words = name.split()
    if not words:
        return False
    if _fold(name) in publications():
        return True
    if any(word.casefold() in OUTLET_WORDS for word in words[:-1]):
        return True
    return words[-1][0].isupper() and words[-1].casefold() in NEWSPAPER_NAME_ENDINGS
