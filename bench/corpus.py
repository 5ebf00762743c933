"""A benchmark corpus: N published articles shaped like real stories, loaded straight into
the tables (COPY on PostgreSQL, executemany on SQLite) instead of one API call each.

    .venv/bin/python -m bench.corpus --database-url URL --count N [--seed S]

The database must be migrated and empty. Each article has a 2-4 KB Markdown body of 5-7
paragraphs, a section, 3 tags, 1-2 authors and 6-10 claims, each a sentence of the body,
anchored in its plain text and attributed to 1-2 sources from a shared pool (some of them
anonymous). The rows are those the app's own write path stores for such an article: the
body rendered with its claim spans and the sourcing summary by the app's functions, one
revision (version 1, "created") holding the article's representation, and one
`article.published` event in the changes feed, in publication order.

Everything is derived from the seed and the article's number, so a seed always gives the
same corpus (ids included); `published_at` spreads the articles over the four years before
`END` in number order.
"""

import argparse
import asyncio
import bisect
import json
import multiprocessing
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect, make_url

from app.articles.body import Span, plain_text, render_html
from app.articles.service import slugify, summarise_sourcing
from app.claims.anchoring import select as anchor_at
from app.sources.models import SourceKind, fold

END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=4 * 365)
START = END - SPAN
BATCH = 2000
ACTOR = "bench-corpus"
# Processes that generate and write batches (the database uses the cores too).
WORKERS = max(1, min(4, os.cpu_count() or 1))

# --- vocabulary ------------------------------------------------------------------------------

SECTIONS = ("politics", "world", "business", "climate", "science", "culture")

# Headlines are "<subject> <verb> <object> <tail>": subjects and objects of exactly two words
# and verbs of one, so a headline's slug tells its parts apart and distinct parts give
# distinct slugs. Each article gets its own combination (see `_headline_parts`).
SUBJECTS = {
    "politics": (
        "City council", "Finance ministry", "Opposition leaders", "Coalition partners",
        "Election officials", "Housing minister", "Transport committee", "Local councillors",
        "Party members", "Cabinet ministers", "Regional assembly", "Budget committee",
    ),
    "world": (
        "Border officials", "Peace envoys", "Foreign ministers", "Aid agencies",
        "Rebel leaders", "Coastal states", "Trade negotiators", "Refugee agencies",
        "Neighbouring governments", "Summit hosts", "Island nations", "Military observers",
    ),
    "business": (
        "Central bank", "Retail chains", "Factory owners", "Energy firms",
        "Shipping companies", "Small businesses", "Bank regulators", "Airline bosses",
        "Tech startups", "Car makers", "Pension funds", "Property developers",
    ),
    "climate": (
        "Flood wardens", "Water companies", "Wind farms", "Climate scientists",
        "Farm groups", "Coastal towns", "Forest rangers", "Energy regulator",
        "Heat officials", "River authorities", "Solar installers", "Conservation groups",
    ),
    "science": (
        "Research teams", "Space agency", "Hospital doctors", "Vaccine makers",
        "University labs", "Marine biologists", "Health regulators", "Physics institute",
        "Medical researchers", "Genome scientists", "Observatory staff", "Science council",
    ),
    "culture": (
        "National museum", "Film festival", "Theatre company", "City orchestra",
        "Art gallery", "Book prize", "Music venues", "Heritage trust",
        "Opera house", "Dance company", "Arts council", "Poetry festival",
    ),
}  # fmt: skip
VERBS = (
    "approves", "rejects", "delays", "backs", "weighs", "unveils", "doubles", "cuts",
    "questions", "defends", "expands", "freezes", "scraps", "revives", "reviews", "extends",
    "blocks", "funds", "challenges", "welcomes", "criticises", "postpones", "accelerates",
    "abandons", "confirms", "announces", "launches", "pauses", "restores", "overhauls",
    "targets", "resists", "endorses", "secures", "drops", "raises", "lowers", "probes",
    "revisits", "embraces", "halts", "boosts", "tightens", "eases", "shelves", "wins",
    "loses", "debates", "signs", "redesigns",
)  # fmt: skip
# The topics of each section: headline objects, and the nouns its bodies talk about.
TOPICS = {
    "politics": (
        "housing plan", "transport budget", "council budget", "tax reform", "voting rules",
        "election timetable", "spending review", "school funding", "ferry subsidy",
        "parking charges", "planning rules", "pension reform", "welfare cuts", "police budget",
        "road tolls", "library closures", "bus routes", "rent controls", "party funding",
        "lobbying rules", "rates increase", "bridge repairs", "care funding", "water charges",
        "road repairs", "council tax", "housing targets", "youth services",
        "district boundaries", "ethics code",
    ),
    "world": (
        "ceasefire talks", "border crossing", "trade deal", "aid convoy", "peace plan",
        "visa rules", "fishing rights", "refugee camps", "export ban", "naval patrols",
        "embassy staff", "grain shipments", "water treaty", "prisoner exchange",
        "election monitors", "sanctions package", "port access", "pipeline deal",
        "security pact", "customs checks", "debt relief", "mining licences", "airspace rules",
        "migration deal", "relief fund", "troop withdrawal", "climate pledge", "cable project",
        "rail link", "diplomatic talks",
    ),
    "business": (
        "interest rates", "wage deal", "merger plan", "factory closure", "profit forecast",
        "share buyback", "export orders", "price rises", "job cuts", "store openings",
        "energy bills", "pension scheme", "rail fares", "shipping costs", "bank levy",
        "office move", "supply deal", "fuel prices", "bonus payments", "loan scheme",
        "chip plant", "takeover bid", "growth forecast", "pay freeze", "rent rises",
        "trade figures", "credit rules", "dividend payout", "startup fund", "insurance costs",
    ),
    "climate": (
        "flood defences", "emissions target", "drought plan", "sea wall", "carbon levy",
        "tree planting", "river cleanup", "heat plan", "wind turbines", "solar subsidy",
        "peat restoration", "water restrictions", "coastal erosion", "air quality",
        "plastic ban", "heat pumps", "storm warnings", "wildfire plan", "rewilding scheme",
        "green levy", "energy efficiency", "snow forecast", "methane rules", "wetland project",
        "cycle lanes", "glacier survey", "ocean survey", "climate fund", "fishing quotas",
        "drainage scheme",
    ),
    "science": (
        "vaccine trial", "telescope project", "genome study", "cancer screening",
        "drug approval", "lab funding", "satellite launch", "fusion experiment", "brain study",
        "antibiotic research", "ocean probe", "gene therapy", "malaria vaccine", "mars mission",
        "research grants", "clinical trial", "sleep study", "fossil find", "quantum computer",
        "robot surgery", "diet study", "virus tracking", "stem cells", "moon lander",
        "crop science", "bird survey", "weather model", "dementia drug", "hearing implant",
        "data rules",
    ),
    "culture": (
        "art prize", "museum expansion", "film budget", "festival lineup", "theatre season",
        "book awards", "concert series", "heritage site", "gallery opening", "opera season",
        "library archive", "music grants", "poetry prize", "dance festival", "ticket prices",
        "arts funding", "film studio", "statue plan", "orchestra tour", "exhibition plan",
        "comedy festival", "design museum", "craft fair", "street art", "jazz festival",
        "radio drama", "photo archive", "choir contest", "puppet theatre", "folk festival",
    ),
}  # fmt: skip
TAILS = (
    "after long delay", "despite local protests", "ahead of key vote", "amid rising costs",
    "as deadline nears", "in surprise move", "after heated debate", "under public pressure",
    "following review", "for second year", "amid funding gap", "as costs soar",
    "after court ruling", "in major shift", "despite warnings", "after months of talks",
    "at packed meeting", "ahead of winter", "before summer recess", "in late night session",
    "as critics object", "amid staff shortages", "after audit", "over safety fears",
    "amid legal challenge", "after record year", "despite objections", "as demand grows",
    "after public inquiry", "with cross party support", "in bid to cut costs",
    "after leaked memo", "amid budget squeeze", "as talks stall", "to widespread relief",
    "after expert warning", "in first for region", "following complaints",
    "ahead of election", "after storm damage", "amid price pressures", "as numbers rise",
    "after pilot scheme", "despite strong opposition", "in landmark decision",
    "amid growing anger", "as volunteers rally", "after survey results",
    "in response to report", "after summit", "as rules tighten", "in cautious step",
    "after funding boost", "despite market jitters", "amid heatwave", "as season opens",
    "after decade of debate", "in closely watched case", "following petition",
    "at last minute",
)  # fmt: skip
TAGS = {
    "politics": ("elections", "local-government", "housing", "transport", "taxation", "parliament"),
    "world": ("diplomacy", "conflict", "trade", "migration", "aid", "borders"),
    "business": ("markets", "economy", "jobs", "energy", "banking", "retail"),
    "climate": ("flooding", "emissions", "drought", "renewables", "wildlife", "weather"),
    "science": ("health", "space", "medicine", "research", "technology", "oceans"),
    "culture": ("arts", "film", "music", "books", "theatre", "heritage"),
}  # fmt: skip
GENERAL_TAGS = ("analysis", "explainer", "investigation", "long-read")
PLACES = (
    "Harwick", "Port Ellis", "Linden", "Marrow Bay", "Eastfield", "Carrow", "Stannard",
    "Brightwater", "Kestrel Vale", "Northmoor", "Ashby Cross", "Fennick", "Greystone",
    "Halden", "Irvale", "Juniper Point", "Kilbride", "Lowmarsh", "Merriton", "Oakhurst",
    "Pellham", "Queensford", "Rathmore", "Saltcombe", "Tarrow",
)  # fmt: skip
TIMES = (
    "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday",
    "on Sunday", "last week", "this week", "next month", "last month", "this year",
    "next year", "by the end of the year", "in the spring", "over the summer", "within weeks",
    "before the winter", "in the coming months", "by March",
)  # fmt: skip
GROUPS = (
    "residents", "business owners", "commuters", "parents", "teachers", "farmers", "nurses",
    "pensioners", "students", "landlords", "tenants", "shopkeepers", "drivers", "fishermen",
    "volunteers", "campaigners", "workers", "investors",
)  # fmt: skip
ADJECTIVES = (
    "controversial", "ambitious", "delayed", "long-awaited", "costly", "modest", "sweeping",
    "temporary", "revised", "emergency", "popular", "unpopular", "planned", "proposed",
    "expanded", "scaled-back", "record", "fragile", "urgent", "cautious",
)  # fmt: skip
CRITICISMS = ("slow", "costly", "vague", "timid", "rushed", "narrow", "complicated")
ACTIONS = (  # (infinitive, past, participle)
    ("approve", "approved", "approved"), ("delay", "delayed", "delayed"),
    ("review", "reviewed", "reviewed"), ("expand", "expanded", "expanded"),
    ("cut", "cut", "cut"), ("extend", "extended", "extended"), ("fund", "funded", "funded"),
    ("block", "blocked", "blocked"), ("scrap", "scrapped", "scrapped"),
    ("freeze", "froze", "frozen"), ("raise", "raised", "raised"),
    ("launch", "launched", "launched"), ("close", "closed", "closed"),
    ("reopen", "reopened", "reopened"), ("double", "doubled", "doubled"),
    ("revise", "revised", "revised"), ("pause", "paused", "paused"),
    ("restore", "restored", "restored"), ("overhaul", "overhauled", "overhauled"),
    ("protect", "protected", "protected"),
)  # fmt: skip
CHANGES = (("rise", "rose"), ("fall", "fell"), ("grow", "grew"), ("shrink", "shrank"),
           ("climb", "climbed"), ("drop", "dropped"))  # fmt: skip

FIRST_NAMES = (
    "Mara", "Tomas", "Aisha", "Daniel", "Ingrid", "Kwame", "Lucia", "Owen", "Priya", "Rafael",
    "Sofia", "Yusuf", "Elena", "Malik", "Hannah", "Jonas", "Amara", "Felix", "Nadia", "Theo",
    "Grace", "Ravi", "Leila", "Oscar", "Chloe", "Samuel", "Ines", "Viktor", "Zara", "Callum",
    "Noor", "Pietro", "Freya", "Ibrahim", "Rosa", "Ewan", "Mei", "Dominic", "Alba", "Kofi",
)  # fmt: skip
LAST_NAMES = (
    "Lind", "Okafor", "Brennan", "Castillo", "Hartley", "Nakamura", "Osei", "Petrov", "Quinn",
    "Reyes", "Sandoval", "Takahashi", "Varga", "Whitaker", "Adeyemi", "Bergstrom", "Calder",
    "Doyle", "Eriksen", "Farouk", "Gallagher", "Haddad", "Ivanova", "Jensen", "Kowalski",
    "Lambert", "Moreau", "Novak", "Oduya", "Pereira", "Rossi", "Sato", "Tanaka", "Usman",
    "Vance", "Weber", "Young", "Zielinski", "Abbott", "Marsh",
)  # fmt: skip
ORGANIZATION_TYPES = (
    "Port Authority", "Chamber of Commerce", "Residents Association", "Teachers Union",
    "Hospital Trust", "Farmers Union", "Rail Company", "Energy Cooperative",
    "Housing Association", "Business Forum", "Wildlife Trust", "Arts Foundation",
    "Research Institute",
)  # fmt: skip
MINISTRIES = (
    "Finance", "Health", "Transport", "Defence", "Education", "Environment", "Energy",
    "Culture", "Trade", "Justice", "Housing", "Foreign Affairs", "Science", "Agriculture",
)  # fmt: skip
PAPERS = ("Courier", "Gazette", "Herald", "Ledger", "Observer", "Chronicle")
ANONYMOUS = (
    "senior officials", "a government source", "people familiar with the talks",
    "two diplomats", "a senior adviser", "officials briefed on the plan",
    "a person close to the negotiations",
)  # fmt: skip
ANONYMOUS_DESCRIPTIONS = (
    "speaking on condition of anonymity", "not authorised to speak publicly",
    "familiar with the discussions", "who asked not to be named",
)  # fmt: skip
PERSON_ROLES = (
    "a spokesperson for the {org}", "the head of the {org}", "a senior figure at the {org}",
    "a researcher at the {org}", "the chair of the {org}",
)  # fmt: skip
RATINGS = (("False", 1.0), ("Misleading", 2.0), ("Unproven", 3.0))

FILLERS = (
    "The {adj} {n} in {p} was {vpp} {t}.",
    "{G} in {p} have followed the {n} closely for months.",
    "The {n} has been {vpp} {x} times since {y}.",
    "The {a} {vp} the {n} {t}, citing {adj} costs.",
    "Critics say the {n} is too {crit} and came too late for {g}.",
    "Supporters argue that the {n} will help {g} across {p}.",
    "The {n} accounts for about {x} per cent of spending on the {n2}.",
    "A final decision on the {n} is expected {t}.",
    "It was not immediately clear how the {n} would affect the {n2}.",
    "The debate over the {n} has divided {g} in {p}.",
    "Last year the {n} cost {p} roughly {x} million pounds.",
    "{p} has faced {adj} pressure over the {n} since {y}.",
    "The {a} will meet {g} from {p} to discuss the {n} {t}.",
    "The {n} was first proposed in {y}, when the {n2} was also under review.",
    "Figures published {t} showed the {n} had {cp} by {x} per cent.",
    "Some {g} in {p} said they had not been consulted about the {n}.",
    "The {a} has not said whether the {n2} will be affected.",
    "Questions remain over who will pay for the {n}.",
)


@dataclass(frozen=True)
class ClaimTemplate:
    text: str
    cue: str
    role: str = "asserted_by"
    quote: str | None = None  # the quoted words, for claims of kind "quote"
    looks_ahead: bool = False  # a forecast, when not a quote


CLAIM_TEMPLATES = {
    SourceKind.person: (
        ClaimTemplate(
            "{s}, {d}, said the {n} would {c} by {x} per cent {t}.", "said", looks_ahead=True
        ),
        ClaimTemplate(
            "According to {s}, the {n} in {p} will be {vpp} {t}.", "according to",
            looks_ahead=True,
        ),
        ClaimTemplate("{s} said the {a} had {vpp} the {n} without consulting {g}.", "said"),
        ClaimTemplate(
            "\u201cWe will {v} the {n} {t},\u201d {s} said.", "said",
            quote="We will {v} the {n} {t}",
        ),
        ClaimTemplate(
            "\u201cThe {n} is {adj} and {g} deserve better,\u201d {s} told reporters in {p}.",
            "told reporters",
            quote="The {n} is {adj} and {g} deserve better",
        ),
    ),
    SourceKind.organization: (
        ClaimTemplate("The {n} will be {vpp} {t}, the {s} said.", "said", looks_ahead=True),
        ClaimTemplate("According to the {s}, the {n} {cp} by {x} per cent {t}.", "according to"),
        ClaimTemplate(
            "The {s} said it expected the {n} to {c} by {x} per cent {t}.", "said",
            looks_ahead=True,
        ),
    ),
    SourceKind.publication: (
        ClaimTemplate("The {n} was {vpp} {t}, the {s} reported.", "reported", "reported_by"),
        ClaimTemplate(
            "The {s} first reported that the {n} would be {vpp} {t}.",
            "first reported",
            "first_reported_by",
        ),
    ),
    SourceKind.anonymous: (
        ClaimTemplate(
            "The {n} is likely to be {vpp} {t}, according to {s} at the {f}.",
            "according to",
            looks_ahead=True,
        ),
        ClaimTemplate("{S} at the {f} said the {n} would be {vpp} {t}.", "said", looks_ahead=True),
    ),
}  # fmt: skip
CLAIM_TEMPLATES[SourceKind.government] = CLAIM_TEMPLATES[SourceKind.organization]
SOURCE_KIND_WEIGHTS = (
    (SourceKind.person, 35),
    (SourceKind.organization, 20),
    (SourceKind.government, 20),
    (SourceKind.publication, 10),
    (SourceKind.anonymous, 15),
)
SECOND_ROLES = (("confirmed_by", "confirmed"), ("confirmed_by", "confirmed"),
                ("confirmed_by", "confirmed"), ("disputed_by", "disputed"),
                ("disputed_by", "disputed"), ("denied_by", "denied"))  # fmt: skip

# Headline combinations: subject x verb x object x tail.
_SUBJECT_LIST = [(section, s) for section in SECTIONS for s in SUBJECTS[section]]
HEADLINES = len(_SUBJECT_LIST) * len(VERBS) * len(TOPICS["politics"]) * len(TAILS)
_MULTIPLIER = 1_000_003  # prime, so i -> i * M + offset permutes 0..HEADLINES-1

# --- the source pool -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolSource:
    """A source of the shared pool: its row, its summary as embedded in representations,
    and how sentences name it."""

    id: uuid.UUID
    kind: SourceKind
    name: str
    description: str | None
    url: str | None
    affiliation: str | None
    summary: dict[str, Any]
    row: tuple[Any, ...]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _source(
    rng: random.Random,
    kind: SourceKind,
    name: str,
    description: str | None = None,
    url: str | None = None,
    affiliation: str | None = None,
) -> PoolSource:
    source_id = _uuid(rng)
    # As SourceResolver matches and stores them: the folded name, and for anonymous sources
    # the folded affiliation.
    affiliation_key = fold(affiliation or "") if kind is SourceKind.anonymous else ""
    summary = {
        "id": str(source_id),
        "name": name,
        "kind": kind.value,
        "description": description,
        "url": url,
        "affiliation": affiliation,
    }
    row = (
        source_id, kind.value, name, fold(name), affiliation_key, description, url, affiliation,
        START,
    )  # fmt: skip
    return PoolSource(source_id, kind, name, description, url, affiliation, summary, row)


def make_sources(seed: int) -> dict[SourceKind, list[PoolSource]]:
    """The shared pool, a few hundred sources by kind, most cited first."""
    rng = random.Random(f"{seed}:sources")  # noqa: S311 (a corpus, not secrets)
    organizations = [f"{p} {t}" for p in PLACES for t in ORGANIZATION_TYPES]
    rng.shuffle(organizations)
    organizations = organizations[:45]
    governments = [f"Ministry of {m}" for m in MINISTRIES] + [f"{p} City Council" for p in PLACES]
    rng.shuffle(governments)
    papers = [f"{p} {t}" for p in PLACES for t in PAPERS]
    rng.shuffle(papers)
    people = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(people)
    anonymous = [(n, a) for n in ANONYMOUS for a in (governments[:6] + organizations[:3])]
    rng.shuffle(anonymous)
    pool: dict[SourceKind, list[PoolSource]] = {
        SourceKind.person: [],
        SourceKind.organization: [_source(rng, SourceKind.organization, o) for o in organizations],
        SourceKind.government: [_source(rng, SourceKind.government, g) for g in governments],
        SourceKind.publication: [
            _source(
                rng,
                SourceKind.publication,
                p,
                f"Daily newspaper in {p.rsplit(' ', 1)[0]}",
                f"https://{slugify(p)}.example.com/",
            )
            for p in papers[:25]
        ],
        SourceKind.anonymous: [
            _source(rng, SourceKind.anonymous, n, affiliation=a) for n, a in anonymous[:35]
        ],
    }
    for name in people[:160]:
        org = rng.choice(organizations + governments)
        pool[SourceKind.person].append(
            _source(
                rng,
                SourceKind.person,
                name,
                rng.choice(PERSON_ROLES).format(org=org),
                affiliation=org if rng.random() < 0.5 else None,
            )
        )
    return pool


@dataclass(frozen=True)
class PoolAuthor:
    """An author every article of a load may carry: its row and its embedding."""

    id: uuid.UUID
    slug: str
    name: str

    @property
    def row(self) -> tuple[Any, ...]:
        return (self.id, self.slug, self.name, fold(self.name), None, None, None, START, START)

    @property
    def summary(self) -> dict[str, str]:
        return {"id": str(self.id), "slug": self.slug, "name": self.name}


@lru_cache(maxsize=1)
def make_authors() -> dict[str, PoolAuthor]:
    """Every byline name the corpus can give, by name: ids from the name, so that every
    worker process names the same author the same way."""
    authors = {}
    for first in FIRST_NAMES:
        for last in LAST_NAMES:
            name = f"{first} {last}"
            author_id = uuid.uuid5(uuid.NAMESPACE_URL, f"newsdesk-bench-author:{name}")
            authors[name] = PoolAuthor(author_id, slugify(name, "author"), name)
    assert len({a.slug for a in authors.values()}) == len(authors)
    return authors


def section_rows() -> list[tuple[Any, ...]]:
    return [(section, section.capitalize(), None, START, START) for section in SECTIONS]


# --- one article -----------------------------------------------------------------------------


@dataclass
class Batch:
    """The rows of some articles, table by table, in insertion order."""

    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {
            name: [] for name in COLUMNS if name not in ("source", "author", "section")
        }
    )
    articles: int = 0

    def count(self, table: str) -> int:
        return len(self.tables[table])


# Column order of the rows built below. The ids of authors, tags and attributions are left
# to the database, as the app leaves them; the changes feed's seq is the article's number
# plus one (in publication order, whichever batch commits first), and the sequence is moved
# past it at the end.
COLUMNS: dict[str, tuple[str, ...]] = {
    "source": (
        "id", "kind", "name", "name_key", "affiliation_key", "description", "url",
        "affiliation", "created_at",
    ),
    "article": (
        "id", "slug", "headline", "deck", "body", "body_html", "language", "section",
        "canonical_url", "status", "published_at", "first_published_at", "created_at",
        "updated_at", "deleted_at", "version", "syndication_allowed", "syndication_usage_terms",
        "retraction_text", "retracted_at", "sourcing",
    ),
    "author": (
        "id", "slug", "name", "name_key", "bio", "url", "job_title", "created_at", "updated_at",
    ),
    "section": ("slug", "name", "description", "created_at", "updated_at"),
    "article_author": ("article_id", "position", "author_id"),
    "article_tag": ("article_id", "position", "tag"),
    "claim": (
        "id", "article_id", "position", "statement", "kind", "quote", "verification", "review",
        "anchor_exact", "anchor_prefix", "anchor_suffix", "anchor_start", "anchor_end",
        "anchor_status", "created_at", "updated_at",
    ),
    "attribution": ("claim_id", "source_id", "position", "role", "cue", "anonymous_description"),
    "article_revision": ("article_id", "version", "created_at", "actor", "change", "snapshot"),
    "change_event": (
        "seq", "event", "article_id", "slug", "version", "occurred_at", "in_public",
        "in_syndicated",
    ),
}  # fmt: skip
JSON_COLUMNS = {("article", "sourcing"), ("claim", "review"), ("article_revision", "snapshot")}
# As SQLAlchemy's JSON type writes them (the app's engines keep the default serialiser).
to_json = json.dumps


@dataclass(frozen=True)
class _Attributed:
    """Just enough of a claim for `summarise_sourcing`."""

    attributions: list[Any]


@dataclass(frozen=True)
class _Attribution:
    source: PoolSource


class Context:
    """What every article of one load shares: the source pool and the headline permutation."""

    def __init__(self, seed: int, count: int) -> None:
        if count > HEADLINES:
            raise ValueError(f"At most {HEADLINES} articles have distinct headlines.")
        self.seed = seed
        self.count = count
        self.sources = make_sources(seed)
        rng = random.Random(f"{seed}:corpus")  # noqa: S311
        self.offset = rng.randrange(HEADLINES)
        self.step_us = SPAN / timedelta(microseconds=1) / max(count, 1)
        kinds, weights = zip(*SOURCE_KIND_WEIGHTS, strict=True)
        self.kinds = kinds
        self.kind_weights = _cumulative(weights)
        # Zipf-like: a few sources are cited often, most now and then.
        self.source_weights = {
            kind: _cumulative([1 / (rank + 1) ** 0.8 for rank in range(len(pool))])
            for kind, pool in self.sources.items()
        }

    def pick_source(self, rng: random.Random, kind: SourceKind | None = None) -> PoolSource:
        if kind is None:
            kind = self.kinds[_pick(rng, self.kind_weights)]
        return self.sources[kind][_pick(rng, self.source_weights[kind])]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def _iso(when: datetime) -> str:
    """A time as Pydantic's JSON mode writes it."""
    return when.isoformat().replace("+00:00", "Z")


def _headline_parts(context: Context, number: int) -> tuple[str, str, str, str, str]:
    """Section, subject, verb, object and tail of article `number`: a permutation of the
    combinations, so no two articles of a load share a headline."""
    p = (number * _MULTIPLIER + context.offset) % HEADLINES
    p, s = divmod(p, len(_SUBJECT_LIST))
    p, v = divmod(p, len(VERBS))
    t, o = divmod(p, len(TOPICS["politics"]))
    section, subject = _SUBJECT_LIST[s]
    return section, subject, VERBS[v], TOPICS[section][o], TAILS[t]


def _one(rng: random.Random, options: Sequence[Any]) -> Any:
    """rng.choice, faster (one call to random())."""
    return options[int(rng.random() * len(options))]


_FIELD = re.compile(r"{(\w+)}")


@cache
def _fields(template: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_FIELD.findall(template)))


class _Words:
    """Random fillings for the sentence templates of one article."""

    def __init__(self, rng: random.Random, section: str) -> None:
        self.rng = rng
        self.topics = TOPICS[section]
        self.focus = rng.sample(self.topics, 4)
        actors = [s.lower() for s in SUBJECTS[section]]
        r = rng.random

        def group() -> str:
            return GROUPS[int(r() * len(GROUPS))]

        self.makers: dict[str, Callable[[], str]] = {
            "n": self.noun,
            "n2": self.noun,
            "p": lambda: PLACES[int(r() * len(PLACES))],
            "t": lambda: TIMES[int(r() * len(TIMES))],
            "x": lambda: str(2 + int(r() * 59)),
            "y": lambda: str(2012 + int(r() * 10)),
            "adj": lambda: ADJECTIVES[int(r() * len(ADJECTIVES))],
            "crit": lambda: CRITICISMS[int(r() * len(CRITICISMS))],
            "g": group,
            "G": lambda: group().capitalize(),
            "a": lambda: actors[int(r() * len(actors))],
            "v": lambda: ACTIONS[int(r() * len(ACTIONS))][0],
            "vp": lambda: ACTIONS[int(r() * len(ACTIONS))][1],
            "vpp": lambda: ACTIONS[int(r() * len(ACTIONS))][2],
            "c": lambda: CHANGES[int(r() * len(CHANGES))][0],
            "cp": lambda: CHANGES[int(r() * len(CHANGES))][1],
        }

    def noun(self) -> str:
        r = self.rng.random
        options = self.focus if r() < 0.75 else self.topics
        return options[int(r() * len(options))]

    def values(self, template: str, given: dict[str, str] | None = None) -> dict[str, str]:
        """A value for each field of `template`: those `given`, random ones for the rest."""
        makers = self.makers
        values = {}
        for name in _fields(template):
            values[name] = given[name] if given and name in given else makers[name]()
        if "n2" in values and values["n2"] == values.get("n"):
            values["n2"] = self.topics[int(self.rng.random() * len(self.topics))]
        return values

    def fill(self, template: str) -> str:
        return template.format_map(self.values(template))


def _emphasise(rng: random.Random, sentence: str) -> str:
    """Some Markdown: one word of the sentence in italics."""
    words = sentence.split(" ")
    candidates = [i for i, w in enumerate(words[1:-1], 1) if w.isalpha()]
    if not candidates:
        return sentence
    i = _one(rng, candidates)
    words[i] = f"*{words[i]}*"
    return " ".join(words)


@dataclass
class _ClaimDraft:
    sentence: str
    template: ClaimTemplate
    quote: str | None
    attributions: list[tuple[PoolSource, str, str, str | None]]  # source, role, cue, anon desc


def _claim_draft(context: Context, rng: random.Random, words: _Words) -> _ClaimDraft:
    source = context.pick_source(rng)
    template = _one(rng, CLAIM_TEMPLATES[source.kind])
    names = {
        "s": source.name,
        "S": source.name[0].upper() + source.name[1:],
        "d": source.description or "",
        "f": source.affiliation or "",
    }
    values = words.values(template.text, names)
    sentence = template.text.format_map(values)
    # The quote is part of the sentence: the same words.
    quote = None if template.quote is None else template.quote.format_map(values)
    anonymous = source.kind is SourceKind.anonymous
    attributions = [
        (
            source,
            template.role,
            template.cue,
            _one(rng, ANONYMOUS_DESCRIPTIONS) if anonymous else None,
        )
    ]
    if rng.random() < 0.45:
        other = context.pick_source(rng)
        if other.id != source.id:
            role, cue = _one(rng, SECOND_ROLES)
            description = (
                _one(rng, ANONYMOUS_DESCRIPTIONS) if other.kind is SourceKind.anonymous else None
            )
            attributions.append((other, role, cue, description))
    return _ClaimDraft(sentence, template, quote, attributions)


def _kind_and_verification(
    rng: random.Random, draft: _ClaimDraft
) -> tuple[str, str, tuple[str, float] | None]:
    template = draft.template
    if template.quote is not None:
        kind = "quote"
    elif draft.attributions[0][0].kind is SourceKind.publication:
        kind = "report"
    elif template.looks_ahead and rng.random() < 0.4:
        kind = "forecast"
    else:
        kind = "opinion" if rng.random() < 0.1 else "statement"
    second = draft.attributions[1][1] if len(draft.attributions) > 1 else None
    r = rng.random()
    if second in ("disputed_by", "denied_by"):
        verification = "disputed" if r < 0.7 else ("refuted" if r < 0.85 else "unclear")
    elif second == "confirmed_by":
        verification = "confirmed"
    else:
        verification = "unverified" if r < 0.75 else ("confirmed" if r < 0.9 else "unclear")
    rating = None
    if verification in ("disputed", "refuted") and rng.random() < 0.5:
        rating = RATINGS[0] if verification == "refuted" else _one(rng, RATINGS[1:])
    return kind, verification, rating


def _body(
    rng: random.Random, words: _Words, claims: int
) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Paragraphs of sentences (2-4 KB in all), and the places of `claims` claim sentences."""
    paragraphs = rng.randint(5, 7)
    target = rng.randint(2300, 3600)
    per = target / (paragraphs - 0.4)  # a short lead paragraph
    body: list[list[str]] = []
    for p in range(paragraphs):
        limit = per * 0.6 if p == 0 else per
        sentences: list[str] = []
        length = 0
        while length < limit or not sentences:
            sentence = words.fill(_one(rng, FILLERS))
            sentence = sentence[0].upper() + sentence[1:]
            sentences.append(sentence)
            length += len(sentence) + 1
        body.append(sentences)
    places = [(p, s) for p, sentences in enumerate(body) for s in range(len(sentences))]
    return body, sorted(rng.sample(places, claims))


def _article(context: Context, number: int, batch: Batch) -> None:
    """Article `number` of the corpus, appended to `batch` as rows."""
    rng = random.Random(f"{context.seed}:{number}")  # noqa: S311
    section, subject, verb, topic, tail = _headline_parts(context, number)
    headline = f"{subject} {verb} {topic} {tail}"
    slug = slugify(headline)
    article_id = _uuid(rng)
    article_key = str(article_id)
    published_at = START + timedelta(microseconds=int((number + rng.random()) * context.step_us))
    stamp = _iso(published_at)
    words = _Words(rng, section)
    deck = words.fill(_one(rng, FILLERS)) if rng.random() < 0.85 else None
    if deck:
        deck = deck[0].upper() + deck[1:]

    # The body: filler sentences with claim sentences in some places, within 2-4 KB.
    while True:
        paragraphs, places = _body(rng, words, rng.randint(6, 10))
        drafts = [_claim_draft(context, rng, words) for _ in places]
        for (p, s), draft in zip(places, drafts, strict=True):
            paragraphs[p][s] = draft.sentence
        claimed = set(places)
        for p, sentences in enumerate(paragraphs):
            for s, sentence in enumerate(sentences):
                if (p, s) not in claimed and rng.random() < 0.08:
                    sentences[s] = _emphasise(rng, sentence)
        body = "\n\n".join(" ".join(sentences) for sentences in paragraphs)
        if 2000 <= len(body.encode()) <= 4000:
            break

    # Claims, anchored in the plain text as the claim service anchors them.
    text = plain_text(body)
    tables = batch.tables
    claim_rows = tables["claim"]
    attribution_rows = tables["attribution"]
    claims_json = []
    spans = []
    summarised = []
    cursor = 0
    for position, draft in enumerate(drafts):
        claim_id = _uuid(rng)
        claim_key = str(claim_id)
        start = text.find(draft.sentence, cursor)
        if start < 0:
            raise AssertionError(f"claim sentence not in the plain text: {draft.sentence!r}")
        anchor = anchor_at(text, start, start + len(draft.sentence))
        cursor = anchor.end
        kind, verification, rating = _kind_and_verification(rng, draft)
        spans.append(Span(claim_key, anchor.start, anchor.end, kind, verification))
        review = None
        if rating is not None:
            review = {
                "rating": rating[0],
                "rating_value": rating[1],
                "best_rating": 5.0,
                "worst_rating": 1.0,
                "reviewed_by": "Newsdesk Fact Check",
                "reviewed_at": stamp,
                "url": None,
            }
        attributions_json = []
        for i, (source, role, cue, description) in enumerate(draft.attributions):
            attribution_rows.append((claim_id, source.id, i, role, cue, description))
            attributions_json.append(
                {
                    "source": source.summary,
                    "role": role,
                    "cue": cue,
                    "anonymous_description": description,
                }
            )
        summarised.append(_Attributed([_Attribution(s) for s, *_ in draft.attributions]))
        claim_rows.append(
            (
                claim_id, article_id, position, draft.sentence, kind, draft.quote, verification,
                to_json(review), anchor.exact, anchor.prefix, anchor.suffix, anchor.start,
                anchor.end, "anchored", published_at, published_at,
            )
        )  # fmt: skip
        claims_json.append(
            {
                "id": claim_key,
                "article_id": article_key,
                "statement": draft.sentence,
                "kind": kind,
                "quote": draft.quote,
                "anchor": {
                    "exact": anchor.exact,
                    "prefix": anchor.prefix,
                    "suffix": anchor.suffix,
                    "start": anchor.start,
                    "end": anchor.end,
                },
                "anchor_status": "anchored",
                "verification": verification,
                "review": review,
                "attributions": attributions_json,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )

    # As articles.service.refresh_derived derives them.
    body_html = render_html(body, spans)
    sourcing = summarise_sourcing(summarised)  # type: ignore[arg-type]

    section_tags = TAGS[section]
    tags = rng.sample(section_tags, 2)
    third = _one(rng, section_tags + GENERAL_TAGS)
    while third in tags:
        third = _one(rng, section_tags + GENERAL_TAGS)
    tags.append(third)
    authors = [f"{_one(rng, FIRST_NAMES)} {_one(rng, LAST_NAMES)}"]
    if rng.random() < 0.35:
        second = f"{_one(rng, FIRST_NAMES)} {_one(rng, LAST_NAMES)}"
        if second != authors[0]:
            authors.append(second)

    tables["article"].append(
        (
            article_id, slug, headline, deck, body, body_html, "en", section, None, "published",
            published_at, published_at, published_at, published_at, None, 1, True, None, None,
            None, to_json(sourcing),
        )
    )  # fmt: skip
    pool = make_authors()
    tables["article_author"].extend(
        (article_id, i, pool[name].id) for i, name in enumerate(authors)
    )
    tables["article_tag"].extend((article_id, i, tag) for i, tag in enumerate(tags))
    # What app.articles.schemas.representation gives for this article (tests check it).
    snapshot = {
        "id": article_key,
        "slug": slug,
        "headline": headline,
        "deck": deck,
        "body": body,
        "body_html": body_html,
        "body_text": text,
        "language": "en",
        "section": section,
        "tags": tags,
        "authors": [make_authors()[name].summary for name in authors],
        "canonical_url": None,
        "status": "published",
        "published_at": stamp,
        "first_published_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
        "corrections": [],
        "retraction": None,
        "syndication": {"allowed": True, "usage_terms": None},
        "featured_image": None,
        "body_images": [],
        "sourcing": sourcing,
        "claims": claims_json,
    }
    tables["article_revision"].append(
        (article_id, 1, published_at, ACTOR, "created", to_json(snapshot))
    )
    # As changes.record writes it for an article that is visible and syndicable: one event
    # for both views.
    tables["change_event"].append(
        (number + 1, "article.published", article_id, slug, 1, published_at, True, True)
    )
    batch.articles += 1


@lru_cache(maxsize=2)
def _context(seed: int, count: int) -> Context:
    return Context(seed, count)


def generate(seed: int, count: int, start: int, stop: int) -> Batch:
    """The rows of articles `start` to `stop - 1` of the corpus `(seed, count)`."""
    context = _context(seed, count)
    batch = Batch()
    for number in range(start, stop):
        _article(context, number, batch)
    return batch


def batches(seed: int, count: int, batch_size: int = BATCH) -> list[tuple[int, int]]:
    """The article numbers of each batch, `[start, stop)`."""
    return [(start, min(count, start + batch_size)) for start in range(0, count, batch_size)]


# --- loading ---------------------------------------------------------------------------------


class NotEmpty(Exception):
    """The database already holds articles or sources."""


@dataclass
class Totals:
    articles: int = 0
    claims: int = 0
    attributions: int = 0
    sources: int = 0

    def add(self, counts: tuple[int, int, int]) -> None:
        self.articles += counts[0]
        self.claims += counts[1]
        self.attributions += counts[2]


def _backend(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"Unsupported database: {backend}")
    return backend


async def _connect_postgresql(database_url: str) -> Any:
    import asyncpg

    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host or "localhost",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )


async def _copy(connection: Any, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """One transaction of COPYs, parents before children."""
    async with connection.transaction():
        for table, rows in tables.items():
            await connection.copy_records_to_table(
                table, records=rows, columns=list(COLUMNS[table])
            )


def _encoders(table: Table, dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    """How SQLAlchemy converts each column's values for this dialect (the JSON columns come
    as text already, serialised as SQLAlchemy's JSON type serialises them)."""
    encoders = []
    for name in COLUMNS[table.name]:
        if (table.name, name) in JSON_COLUMNS:
            encoders.append(None)
            continue
        column_type = table.c[name].type
        encoders.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    return encoders


def _encoded(rows: list[tuple[Any, ...]], encoders: list[Any]) -> list[tuple[Any, ...]]:
    steps = [(i, f) for i, f in enumerate(encoders) if f is not None]
    if not steps:
        return rows
    encoded = []
    for row in rows:
        values = list(row)
        for i, f in steps:
            if values[i] is not None:
                values[i] = f(values[i])
        encoded.append(tuple(values))
    return encoded


async def _insert_sqlite(database_url: str, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """One write transaction (BEGIN IMMEDIATE, as the app's writes) of executemany inserts;
    the migrations' triggers fill the full-text index."""
    from app.db import WRITE_OPTION, create_engine
    from app.models import Base

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                for name, rows in tables.items():
                    columns = COLUMNS[name]
                    # Our own table and column names, no outside input.
                    placeholders = ", ".join("?" for _ in columns)
                    statement = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
                    encoders = _encoders(Base.metadata.tables[name], engine.dialect)
                    await connection.exec_driver_sql(statement, _encoded(rows, encoders))
    finally:
        await engine.dispose()


async def _write(database_url: str, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    if _backend(database_url) == "sqlite":
        await _insert_sqlite(database_url, tables)
        return
    connection = await _connect_postgresql(database_url)
    try:
        await _copy(connection, tables)
    finally:
        await connection.close()


async def _write_batch(
    database_url: str, seed: int, count: int, start: int, stop: int
) -> tuple[int, int, int]:
    batch = generate(seed, count, start, stop)
    await _write(database_url, batch.tables)
    return batch.articles, batch.count("claim"), batch.count("attribution")


def _write_batch_in_worker(
    database_url: str, seed: int, count: int, start: int, stop: int
) -> tuple[int, int, int]:
    """A worker process's job: generate one batch and write it in a transaction of its own.
    Batches are independent (ids and the changes feed's seq come from article numbers), so
    workers may commit them in any order."""
    return asyncio.run(_write_batch(database_url, seed, count, start, stop))


async def _held(database_url: str) -> int:
    query = "SELECT (SELECT count(*) FROM article) + (SELECT count(*) FROM source)"
    if _backend(database_url) == "postgresql":
        connection = await _connect_postgresql(database_url)
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()
    from sqlalchemy import text

    from app.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text(query)) or 0)
    finally:
        await engine.dispose()


async def _finish_postgresql(database_url: str) -> None:
    """Move the changes feed's sequence past the seqs given, and refresh the statistics."""
    connection = await _connect_postgresql(database_url)
    try:
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('change_event', 'seq'), max(seq)) "
            "FROM change_event HAVING max(seq) IS NOT NULL"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _run_batches(
    database_url: str, seed: int, count: int, workers: int, totals: Totals
) -> None:
    ranges = batches(seed, count)
    if workers <= 1 or len(ranges) <= 1:
        for start, stop in ranges:
            totals.add(await _write_batch(database_url, seed, count, start, stop))
        return
    # Generating a batch costs about as much CPU as the database's work to store it: worker
    # processes each generate and write batches, so both keep every core busy. Each holds
    # one batch in memory at a time.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    futures = [
        pool.submit(_write_batch_in_worker, database_url, seed, count, start, stop)
        for start, stop in ranges
    ]
    try:
        for done in asyncio.as_completed([asyncio.wrap_future(f) for f in futures]):
            totals.add(await done)
    finally:
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)


async def load(database_url: str, count: int, seed: int = 1) -> None:
    """Load `count` published articles, their claims and a shared pool of sources into the
    migrated, empty database at `database_url`; print a summary line to stderr."""
    began = time.perf_counter()
    backend = _backend(database_url)
    if await _held(database_url):
        raise NotEmpty("The database already holds articles or sources.")
    totals = Totals()
    sources = [s.row for pool in make_sources(seed).values() for s in pool]
    authors = [author.row for author in make_authors().values()]
    await _write(database_url, {"source": sources, "author": authors, "section": section_rows()})
    totals.sources = len(sources)
    await _run_batches(database_url, seed, count, WORKERS, totals)
    if backend == "postgresql":
        await _finish_postgresql(database_url)
    seconds = time.perf_counter() - began
    print(
        f"corpus: {totals.articles} articles, {totals.claims} claims, "
        f"{totals.attributions} attributions, {totals.sources} sources "
        f"in {seconds:.1f} s ({totals.articles / seconds:.0f} articles/s)",
        file=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus",
        description="Load a benchmark corpus of published articles into an empty database.",
    )
    parser.add_argument(
        "--database-url",
        required=True,
        help="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DB, migrated",
    )
    parser.add_argument("--count", type=int, required=True, help="how many articles")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same corpus")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    try:
        asyncio.run(load(args.database_url, args.count, args.seed))
    except NotEmpty as error:
        print(f"corpus: {error} Load into an empty database.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
