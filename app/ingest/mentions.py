"""From a mention as written to a source: its name without titles or descriptions, its kind,
and for an anonymous source its description and affiliation. The article is read for the
names it introduces, so that a later surname ("Putin"), pronoun ("she", "it") or short
reference ("the department", "the study") resolves to what it names."""

import itertools
import re
from functools import cache

from app.sources.models import SourceKind
from app.sources.schemas import SourceCreate

from . import lexicon

AFFILIATION = re.compile(r"\b(?:close to|familiar with|of|from|at|for|with)\s+(?P<who>.+)$")
# What an anonymous description says about why and where, left out of its name.
ANONYMITY = re.compile(
    r"\s+(?:who|, who)\s+(?:spoke|asked|requested|declined|were|was)\b.*$"
    r"|\s+in\s+(?:the\s+\w+\s+of\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*$"
)
COUNTRY_OFFICIALS = re.compile(r"\b(?P<country>[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)\s+officials\b")
ARTICLE = re.compile(r"^(?:a|an|the|one)\s+", re.IGNORECASE)
INITIALS = re.compile(r"(?:[A-Z]\.)+[A-Z]")
# Runs of capitalised words in the text: the names it introduces.
NAME_RUN = re.compile(
    r"(?:[A-Z][\w’'.-]*(?:\s+(?:of|the|and|de|van|von|al)\s+|\s+)){1,5}[A-Z][\w’'-]*"
)
# A company introduced with what it is: "Lumivia, the French maker of …", "the mine's
# operator, Nordhavn Metals".
_BODY_NOUN = "(?:maker|company|operator|firm|group|carrier|airline|club|manufacturer|chain)"
DESCRIBED_BODY = re.compile(
    rf"(?P<name>[A-Z][\w-]+(?:\s[A-Z][\w-]+)*),\s+(?:the|a|an)\s+[^,.]*?\b{_BODY_NOUN}\b"
    rf"|\b{_BODY_NOUN},\s+(?P<other>[A-Z][\w-]+(?:\s[A-Z][\w-]+)*)"
)
# What each pronoun can stand for: "they" is a group of people or a body.
_THINGS = {SourceKind.organization, SourceKind.government, SourceKind.document}
PRONOUN_KINDS = {
    "he": {SourceKind.person},
    "she": {SourceKind.person},
    "it": _THINGS,
    "they": {SourceKind.anonymous, SourceKind.organization, SourceKind.government},
}
# Bodies named after the person who leads them: "the Clinton campaign".
PERSONAL_BODIES = {"campaign", "administration", "team"}
# Words that make a title another office: "vice president", "deputy mayor".
OTHER_OFFICES = {"vice", "deputy", "assistant", "acting", "former", "associate", "under"}
# Words after the head of a description: "supporters of …", "advocates for …".
DESCRIPTION_LINKS = {"of", "for", "in", "at", "from", "with", "on", "who", "close"}
# Short references to something named before: "the department", "the company".
REFERENCE = re.compile(r"^the\s+(?P<noun>[a-z]+)$", re.IGNORECASE)


def _words(mention: str) -> list[str]:
    return mention.replace("’s", "").replace("'s", "").split()


def _folded(words: list[str]) -> set[str]:
    return {word.casefold().strip(".,") for word in words}


def _has(words: set[str], vocabulary: set[str]) -> bool:
    joined = " ".join(sorted(words))
    return bool(words & vocabulary) or any(" " in w and w in joined for w in vocabulary)


def _kind_of_body(words: list[str]) -> SourceKind | None:
    folded = _folded(words)
    if _has(folded, lexicon.GOVERNMENT_WORDS):
        return SourceKind.government
    if _has(folded, lexicon.ORGANIZATION_WORDS):
        return SourceKind.organization
    return None


def _is_document(words: list[str]) -> bool:
    """'Court filings', 'a report by the inspectorate', 'Minutes of the meeting'."""
    folded = [w.casefold() for w in words]
    linked = [i - 1 for i, w in enumerate(folded) if w in ("by", "of") and i > 0]
    head = folded[linked[0]] if linked else folded[-1]
    return head in lexicon.DOCUMENT_WORDS


def _is_description(words: list[str]) -> bool:
    """'the vice president', '47 percent', 'Six in 10', 'Majorities of Democrats in five
    states': a common noun or a quantity heads it (before any "of", "for", "in"), so it
    names no one."""
    head = words[-1]
    for index, word in enumerate(words[1:], start=1):
        if word.casefold() in DESCRIPTION_LINKS:
            head = words[index - 1]
            break
    return head[:1].islower() or head.isdigit() or head.casefold() in lexicon.QUANTITIES


def _holds(description: str, title: str) -> bool:
    """Whether "Russian Finance Minister" is "the minister": the title ends the description,
    and no word before it makes it another office ("Vice President" is not "the
    president")."""
    held, wanted = description.casefold().split(), title.casefold().split()
    if not wanted or held[-len(wanted) :] != wanted:
        return False
    before = held[: -len(wanted)]
    return not before or before[-1] not in OTHER_OFFICES


def _untitled(words: list[str]) -> tuple[list[str], list[str]]:
    """Split 'Russian President Vladimir Putin' into title and name."""
    titled = 0
    for index, word in enumerate(words[:-1]):
        if word.casefold().strip(",") in lexicon.TITLES:
            titled = index + 1
    return words[:titled], words[titled:]


# What news calls some countries besides their ISO names (and common names).
COUNTRY_ALIASES = {
    "us", "u.s.", "u.s", "usa", "america", "britain", "great britain", "uk", "u.k.", "u.k",
    "russia", "syria", "vietnam", "laos", "czech republic", "ivory coast", "palestine",
    "congo", "burma", "turkey", "holland",
}  # fmt: skip


@cache
def _country_names() -> frozenset[str]:
    import pycountry  # 30 ms to import: paid by the first story, not by start-up

    names = COUNTRY_ALIASES | {
        getattr(country, field).casefold()
        for country in pycountry.countries
        for field in ("name", "common_name", "official_name")
        if hasattr(country, field)
    }
    return frozenset(names)


def is_country(mention: str) -> bool:
    """'Russia', 'the United States', 'Britain': a state speaking (a government source),
    never a person."""
    return ARTICLE.sub("", mention).strip().casefold() in _country_names()


def could_be_person(name: str) -> bool:
    """Whether a capitalised name can be a person's: not a country, an outlet or a body."""
    words = _words(name)
    return bool(words) and not (
        is_country(name) or lexicon.is_publication(name) or _kind_of_body(words) is not None
    )


class Resolver:
    """Turns the mentions of one article into sources, consistently across the article."""

    def __init__(self, text: str = "") -> None:
        self.surnames: dict[str, str] = {}  # surname → full name
        self.persons: dict[str, SourceCreate] = {}  # full name → as first described
        self.bodies: list[str] = []  # organisations and governments named in the text
        self.recent: list[SourceCreate] = []
        self.titles: dict[str, str] = {}  # full name → the title it was introduced with
        for run in NAME_RUN.findall(text):
            self._learn(run.split())
        for described in DESCRIBED_BODY.finditer(text):
            self.bodies.append(described["name"] or described["other"])

    def _learn(self, words: list[str]) -> None:
        # A run may cross a sentence end ("… Moscow. As Trump …"): keep its last sentence,
        # less the capitalised common words that start sentences ("As", "In", "The").
        ends = [i for i, word in enumerate(words[:-1]) if word.endswith(".") and len(word) > 3]
        if ends:
            words = words[ends[-1] + 1 :]
        while words and words[0].casefold() in lexicon.ENGLISH_MARKERS | lexicon.TIME_WORDS:
            words = words[1:]
        if not words:
            return
        if words[0].endswith(("’s", "'s")):
            words = words[1:]  # "Velaria's Central Electoral Commission"
        if words and _kind_of_body(words):
            self.bodies.append(" ".join(ARTICLE.sub("", " ".join(words)).split()))
            return
        title, name = _untitled(words)
        if 2 <= len(name) <= 3 and all(w[:1].isupper() for w in name):
            self.surnames.setdefault(name[-1], " ".join(name))
            if title:
                self.titles.setdefault(" ".join(name), " ".join(title))

    def source(self, mention: str, *, outlet: bool = False) -> SourceCreate:
        """The source a mention names; remembered, for the references that follow. A name
        cited as having reported something ("as reported by Nordic Wire") is a publication."""
        mention = mention.strip().strip("“”\"'").rstrip(".,")
        found = self._resolve(mention)
        if outlet and found.kind in (SourceKind.person, SourceKind.organization):
            found = SourceCreate(
                name=self._outlet_name(_words(mention)), kind=SourceKind.publication
            )
        self.recent.append(found)
        return found

    def _resolve(self, mention: str) -> SourceCreate:
        folded = mention.casefold()
        if folded in PRONOUN_KINDS:
            return self._pronoun(mention)
        reference = REFERENCE.match(mention)
        if reference:
            earlier = self._referred(reference["noun"].casefold())
            if earlier is not None:
                return earlier
        words = _words(mention)
        lowered = _folded(words)
        # "a new poll by the Courier" is the Courier's poll: a document, not the paper.
        outlets_document = _is_document(words) and bool(lowered & {"by", "of"})
        if lexicon.is_publication(mention) and not outlets_document:
            return SourceCreate(name=self._outlet_name(words), kind=SourceKind.publication)
        unnamed = not self._is_named(words)
        if lowered & lexicon.SPOKESPEOPLE and unnamed:
            body = self._spoken_for(words)
            if body is not None:
                return body
        if lowered & lexicon.ANONYMOUS_HEADS and unnamed:
            return self._anonymous(mention)
        if _is_document(words):
            name = ARTICLE.sub("", mention)
            return SourceCreate(name=name, kind=SourceKind.document, description=mention)
        if is_country(mention) and mention not in self.surnames:  # not Michael Jordan
            name = ARTICLE.sub("", mention)
            if INITIALS.fullmatch(name):
                name += "."  # "U.S", its last full stop taken for the sentence's
            return SourceCreate(name=name, kind=SourceKind.government)
        # "Campaign chair Paul Manafort": a titled name is a person, whatever the title.
        title, name_words = _untitled(words)
        named = 2 <= len(name_words) <= 3 and all(w[:1].isupper() for w in name_words)
        if title and named and _kind_of_body(name_words) is None:
            return self._person(words)
        kind = _kind_of_body(words)
        if kind is None and _is_description(words):
            # "the vice president" (Joe Biden, met before), "some advocates of the plan".
            return self._titled(mention) or self._anonymous(mention)
        if kind is not None:
            label = ARTICLE.sub("", mention).split()
            if label[0].endswith(("’s", "'s")) and len(label) > 1:
                label = label[1:]  # "Velaria's Central Electoral Commission"
            capitalised = [i for i, word in enumerate(label) if word[:1].isupper()]
            if capitalised:
                label = label[capitalised[0] :]  # "governing Civic Union" → "Civic Union"
            # "the Force Métal union" → "Force Métal"; "Clinton's campaign" and "the Trump
            # administration" stay whole (the body is named by its person).
            described = len(label) > 1 and label[-1].islower() and label[-2][:1].isupper()
            if described and not (label[-2].endswith(("’s", "'s")) or label[-1] in PERSONAL_BODIES):
                label = label[:-1]
            return SourceCreate(name=" ".join(label), kind=kind)
        return self._person(words)

    def _pronoun(self, mention: str) -> SourceCreate:
        wanted = PRONOUN_KINDS[mention.casefold()]
        for earlier in reversed(self.recent):
            if earlier.kind in wanted:
                return earlier
        return SourceCreate(name=mention, kind=SourceKind.anonymous, description=mention)

    def _referred(self, noun: str) -> SourceCreate | None:
        """'the department' → the Regional Health Department met before."""
        for earlier in reversed(self.recent):
            name = earlier.name.casefold()
            if noun in name.split() or (
                noun in lexicon.BODY_NOUNS and earlier.kind is SourceKind.organization
            ):
                return earlier
        for body in reversed(self.bodies):
            if noun in body.casefold().split():
                return SourceCreate(
                    name=body, kind=_kind_of_body(body.split()) or SourceKind.organization
                )
        return None

    def _titled(self, mention: str) -> SourceCreate | None:
        """'the vice president', 'the senator': the person met before with that title."""
        title = ARTICLE.sub("", mention)
        for person in reversed(self.persons.values()):
            if person.description and _holds(person.description, title):
                return person
        # Someone the story introduced with that title, if only one person was.
        holders = [n for n, held in self.titles.items() if _holds(held, title)]
        if len(holders) == 1:
            return self._person([*self.titles[holders[0]].split(), *holders[0].split()])
        return None

    def _is_named(self, words: list[str]) -> bool:
        """'Ana Ribeiro' and 'Harbour Authority' are names; 'Advisers close to Trump' and 'a
        SkyVista spokeswoman' are descriptions."""
        first = words[0].strip(".,")
        return (
            first[:1].isupper()
            and first.casefold() not in lexicon.ANONYMOUS_HEADS | lexicon.DOCUMENT_WORDS
            and first.casefold() not in {"a", "an", "the", "two", "three", "several", "some"}
            and first.casefold() not in lexicon.SPOKESPEOPLE
            and not any(w.casefold() in lexicon.SPOKESPEOPLE for w in words)
            and not first.endswith(".")
        )

    @staticmethod
    def _outlet_name(words: list[str]) -> str:
        """'the regional daily Le Courrier alpin' → 'Le Courrier alpin'."""
        described = [i for i, w in enumerate(words[:-1]) if w.casefold() in lexicon.OUTLET_WORDS]
        if described and words[described[-1] + 1][:1].isupper():
            return " ".join(words[described[-1] + 1 :])
        return " ".join(words)

    def _spoken_for(self, words: list[str]) -> SourceCreate | None:
        """'A SkyVista spokeswoman', 'a spokesman for the Interior Ministry', 'a museum
        spokeswoman' (the museum named before): the body they speak for."""
        title, *rest = words
        if title.casefold() in lexicon.SPOKESPEOPLE and rest and rest[0][:1].isupper():
            # A title before a name ("Representative Jane Holt of Ohio") is that person.
            return self._person(list(itertools.takewhile(lambda w: w[:1].isupper(), rest)))
        text = " ".join(words)
        behalf = re.search(r"\b(?:for|of|at)\s+(?:the\s+)?(?:[a-z]+\s+)?(?P<body>[A-Z].*)$", text)
        if behalf:
            return self._resolve(behalf["body"])
        # The title itself is left out ("Spokeswoman Ana Pell" is Ana Pell), so each step
        # resolves fewer words than the one before.
        named = [
            w
            for w in words
            if w[:1].isupper()
            and w.casefold().strip(".,") not in lexicon.SPOKESPEOPLE | {"a", "an", "the"}
        ]
        if named:
            return self._resolve(" ".join(named))
        for word in words:
            if word.casefold() not in lexicon.SPOKESPEOPLE | {"a", "an", "the"}:
                earlier = self._referred(word.casefold())
                if earlier is not None:
                    return earlier
        return None

    def _anonymous(self, mention: str) -> SourceCreate:
        """Named by its description, less an article, where it is and why it is unnamed:
        'A senior official who spoke on condition of anonymity' → 'senior official'."""
        name = ARTICLE.sub("", ANONYMITY.sub("", mention)).strip(" ,")
        affiliation = None
        country = COUNTRY_OFFICIALS.search(name)
        related = AFFILIATION.search(name)
        if related:
            who = related["who"].strip()
            affiliation = self.surnames.get(who, who)
        elif country:
            affiliation = f"{country['country']} government"
        return SourceCreate(
            name=name, kind=SourceKind.anonymous, description=mention, affiliation=affiliation
        )

    def _person(self, words: list[str]) -> SourceCreate:
        title_words, name_words = _untitled(words)
        title = " ".join(title_words) or None
        name = " ".join(name_words)
        if len(name_words) == 1:
            name = self.surnames.get(name, name)
        else:
            self.surnames.setdefault(name_words[-1], name)
        known = self.persons.get(name)
        person = SourceCreate(
            name=name, kind=SourceKind.person, description=title or (known and known.description)
        )
        self.persons[name] = person
        return person
