"""Scores the ingest pipeline against PolNeAR (Newell, Margolin and Ruths, LREC 2018), read
at run time from ../shared/polnear: the corpus has no licence, so none of it is copied into
the repository. `python -m tests.ingest.polnear [--split dev|train] [--per-article]
[--errors N]` prints the table; `make ingest-eval` runs it on dev after the own-gold table.

Each article's `.txt` (its first line the headline) goes to `service.draft` as plain text.
The gold is every `E` line of the article's annotation: `Attribution` (source, cue,
content) and `Attribution-no-source` (cue and content: "it was reported that …"), which
counts for detection and cues but has no source to match. Gold whose content lies mostly
inside a `Discard` span (text that is not the article's) is left out, and so is a claim
that lies mostly inside one. An article annotated by several annotators is scored on the
first of their files in sorted order.

Offsets: a claim is anchored in the plain text of the body (headline dropped, lines joined,
Markdown removed), gold in the `.txt`. Both are normalised the same way (whitespace runs to
one space, curly quotes straight, Markdown's `*_\\`` dropped), keeping each normalised
character's offset in the `.txt`; a claim's anchored text is then searched for in the
normalised `.txt`, from where the previous claim was found, then from the start. A claim
that is not found (or has no anchor and a statement that is not found) is "unmapped": it
still counts as found, and can match nothing.

Only claims with an attribution are scored: they are ingest's attributions. A claim
detects a gold attribution when its span covers at least half of the gold content's
characters (the union of its content spans). Claims and gold are paired one to one by a
maximum matching (augmenting paths, trying the better-covering candidates first), once
per row with that row's condition: detection alone; or also the source (any of the
claim's attributions names the gold source: one contains the other, word for word,
ignoring case and punctuation, or both end in the same word); or also the cue (one
contains the other, word for word).
"""

import argparse
import os
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import AppError
from app.ingest import service
from tests.ingest.scorer import Tally

DEFAULT_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "polnear"
COVERAGE = 0.5
# A gold source that is only one of these is a pronoun: ingest names who it refers to.
PRONOUNS = frozenset(
    [
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "who",
        "whom",
        "which",
        "that",
        "this",
        "these",
        "those",
    ]
)
ROWS = (
    "detection",
    "detection+source (all gold with a source)",
    "detection+source (pronoun gold excluded)",
    "detection+source (pronoun gold only)",
    "detection+cue",
)

Span = tuple[int, int]


# Reading brat standoff.


@dataclass
class Gold:
    """One gold attribution: its spans over the `.txt`, and the text of source and cue."""

    key: str
    content: list[Span]
    cue: list[Span]
    source: list[Span]
    cue_text: str = ""
    source_text: str = ""

    @property
    def has_source(self) -> bool:
        return bool(self.source)

    @property
    def pronoun(self) -> bool:
        return self.has_source and is_pronoun(self.source_text)


@dataclass
class Annotation:
    attributions: list[Gold]
    discards: list[Span]
    malformed: list[str] = field(default_factory=list)


TEXT_BOUND = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$")
EVENT = re.compile(r"^(E\d+)\t(.*)$")
ID_LINE = re.compile(r"^[A-Z#*]\d*\t")


def parse(ann: str, text: str) -> Annotation:
    """The attributions and Discard spans of one `.ann` file over `text` (its `.txt`).

    A span's text continues on the following lines when it crosses a newline; the text used
    is read from `text` through the offsets, pieces of a discontinuous span joined by a space.
    """
    spans: dict[str, tuple[str, list[Span]]] = {}
    events: list[tuple[str, str]] = []
    for line in ann.split("\n"):
        bound = TEXT_BOUND.match(line)
        if bound:
            key, kind, offsets, _ = bound.groups()
            pieces = [tuple(int(n) for n in piece.split()) for piece in offsets.split(";")]
            spans[key] = (kind, [(start, end) for start, end in pieces])
            continue
        event = EVENT.match(line)
        if event:
            events.append((event[1], event[2]))
        # Anything else: notes, relations, or the continuation of a multi-line span's text.
    discards = [span for kind, pieces in spans.values() if kind == "Discard" for span in pieces]
    attributions, malformed = [], []
    for key, arguments in events:
        roles: dict[str, list[Span]] = {"Content": [], "Cue": [], "Source": []}
        for argument in arguments.split():
            role, _, target = argument.partition(":")
            if target not in spans:
                continue
            role = "Content" if role.startswith("Content") else role
            if role in roles:
                roles[role] += spans[target][1]
        if not roles["Content"]:
            malformed.append(key)
            continue
        attributions.append(
            Gold(
                key,
                sorted(roles["Content"]),
                roles["Cue"],
                roles["Source"],
                cue_text=_text(text, roles["Cue"]),
                source_text=_text(text, roles["Source"]),
            )
        )
    return Annotation(attributions, discards, malformed)


def _text(text: str, spans: list[Span]) -> str:
    return " ".join(text[start:end] for start, end in spans)


# Spans and coverage.


def union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def coverage(covering: Iterable[Span], covered: Iterable[Span]) -> float:
    """The share of `covered`'s characters that `covering` covers."""
    target = union(covered)
    size = sum(end - start for start, end in target)
    if not size:
        return 0.0
    inside = sum(
        max(0, min(end, c_end) - max(start, c_start))
        for start, end in target
        for c_start, c_end in union(covering)
    )
    return inside / size


# Mapping anchored text back to the `.txt`.

QUOTE_CHARACTERS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "″": '"'})
DROPPED = frozenset("*_`\\")


def normalise(text: str) -> tuple[str, list[int]]:
    """`text` with whitespace runs as one space, curly quotes straight, '' as ", and
    Markdown's emphasis and escape characters dropped; with the offset in `text` of each
    character."""
    out: list[str] = []
    offsets: list[int] = []
    straight = text.translate(QUOTE_CHARACTERS)
    for index, character in enumerate(straight):
        if character in DROPPED:
            continue
        if character == "'" and index and straight[index - 1] == "'" and out[-1:] == ["'"]:
            out[-1] = '"'  # '' typed for ", as ingest reads it
            continue
        if character.isspace():
            if not out or out[-1] == " ":
                continue
            character = " "
        out.append(character)
        offsets.append(index)
    while out and out[-1] == " ":
        out.pop()
        offsets.pop()
    return "".join(out), offsets


class Locator:
    """Finds pieces of the body in the original text, in order."""

    def __init__(self, text: str) -> None:
        self.haystack, self.offsets = normalise(text)
        self.cursor = 0

    def find(self, exact: str) -> Span | None:
        needle = normalise(exact)[0].strip()
        if not needle:
            return None
        at = self.haystack.find(needle, self.cursor)
        if at < 0:
            at = self.haystack.find(needle)
        if at < 0:
            return None
        self.cursor = at + 1  # a repeated sentence is found at its next occurrence
        return self.offsets[at], self.offsets[at + len(needle) - 1] + 1


# Comparing names and cues.

POSSESSIVE = re.compile(r"['’]s?\b")
NON_WORD = re.compile(r"[^\w]+")


def words(text: str) -> list[str]:
    bare = POSSESSIVE.sub("", text.translate(QUOTE_CHARACTERS).casefold())
    return NON_WORD.sub(" ", bare).split()


def _contains(longer: list[str], shorter: list[str]) -> bool:
    size = len(shorter)
    return size > 0 and any(longer[i : i + size] == shorter for i in range(len(longer) - size + 1))


def contained(a: str, b: str) -> bool:
    """One holds the other, word for word (ignoring case, punctuation and possessives)."""
    first, second = words(a), words(b)
    return _contains(first, second) or _contains(second, first)


def same_source(name: str, gold: str) -> bool:
    """The claim's source names the gold source: containment either way, or the same last
    word ("Clinton's campaign" and "the Clinton campaign")."""
    found, expected = words(name), words(gold)
    if not found or not expected:
        return False
    return contained(name, gold) or found[-1] == expected[-1]


def same_cue(cue: str, gold: str) -> bool:
    return contained(cue, gold)


def is_pronoun(source: str) -> bool:
    return " ".join(words(source)) in PRONOUNS


# Matching.


def max_matching(candidates: dict[int, list[int]]) -> dict[int, int]:
    """A maximum one-to-one matching {gold: claim}, by augmenting paths (Kuhn's algorithm).
    `candidates` lists each gold's possible claims, best first, which makes it deterministic
    and prefers the better pairs where the count allows."""
    owner: dict[int, int] = {}  # claim -> gold

    def augment(g: int, seen: set[int]) -> bool:
        for c in candidates[g]:
            if c in seen:
                continue
            seen.add(c)
            if c not in owner or augment(owner[c], seen):
                owner[c] = g
                return True
        return False

    for g in sorted(candidates):
        augment(g, set())
    return {g: c for c, g in owner.items()}


# Scoring one article.


@dataclass
class Found:
    """A claim with attributions, placed in the `.txt` (span None when unmapped)."""

    span: Span | None
    statement: str
    kind: str
    sources: list[str]
    cues: list[str]


@dataclass
class Result:
    article: str
    tallies: dict[str, Tally]
    status: str = "scored"  # or "refused" / "crashed"
    reason: str = ""
    unmapped: int = 0
    claims_without_attribution: int = 0
    misses: list[tuple[str, Gold]] = field(default_factory=list)
    false_positives: list[tuple[str, Found]] = field(default_factory=list)
    wrong_sources: list[tuple[Gold, Found]] = field(default_factory=list)
    wrong_cues: list[tuple[Gold, Found]] = field(default_factory=list)


def extract(text: str) -> tuple[list[Found], int, list[Span], int]:
    """Ingest's attributed claims placed in `text`, how many could not be placed, where the
    body's paragraphs are, and how many claims had no attribution."""
    draft = service.draft(service.Raw(text))
    locator = Locator(text)
    paragraphs = [span for p in draft.body.split("\n\n") if (span := locator.find(p))]
    locator.cursor = 0
    found, unmapped, bare = [], 0, 0
    for claim in draft.claims:
        if not claim.attributions:
            bare += 1
            continue
        exact = claim.anchor.exact if claim.anchor else claim.statement
        span = locator.find(exact)
        unmapped += span is None
        found.append(
            Found(
                span,
                claim.statement,
                claim.kind.value,
                [a.source.name for a in claim.attributions if a.source is not None],  # type: ignore[union-attr]
                [a.cue for a in claim.attributions if a.cue],
            )
        )
    return found, unmapped, paragraphs, bare


SCOPES: dict[str, Callable[[Gold], bool]] = {
    ROWS[0]: lambda g: True,
    ROWS[1]: lambda g: g.has_source,
    ROWS[2]: lambda g: g.has_source and not g.pronoun,
    ROWS[3]: lambda g: g.pronoun,
    ROWS[4]: lambda g: True,
}


def score(
    article: str, text: str, annotation: Annotation, found: list[Found], paragraphs: list[Span]
) -> Result:
    """The tallies of one article, and its misses and false positives by kind."""
    gold = [g for g in annotation.attributions if coverage(annotation.discards, g.content) < 0.5]
    found = [
        f for f in found if f.span is None or coverage(annotation.discards, [f.span]) < COVERAGE
    ]
    cover = [
        [coverage([f.span], g.content) if f.span else 0.0 for g in gold] for f in found
    ]  # cover[claim][gold]

    def detects(c: int, g: int) -> bool:
        return cover[c][g] >= COVERAGE

    def names(c: int, g: int) -> bool:
        return any(same_source(name, gold[g].source_text) for name in found[c].sources)

    def cues(c: int, g: int) -> bool:
        return any(same_cue(cue, gold[g].cue_text) for cue in found[c].cues)

    conditions: dict[str, Callable[[int, int], bool]] = {
        ROWS[0]: detects,
        ROWS[1]: lambda c, g: detects(c, g) and names(c, g),
        ROWS[2]: lambda c, g: detects(c, g) and names(c, g),
        ROWS[3]: lambda c, g: detects(c, g) and names(c, g),
        ROWS[4]: lambda c, g: detects(c, g) and cues(c, g),
    }

    def candidates(scope: Iterable[int], allowed: Callable[[int, int], bool]) -> dict:
        claims = range(len(found))
        return {
            g: sorted((c for c in claims if allowed(c, g)), key=lambda c: (-cover[c][g], c))
            for g in scope
        }

    detected = max_matching(candidates(range(len(gold)), detects))
    tallies = {}
    for row, test in SCOPES.items():
        scope = {i for i, g in enumerate(gold) if test(g)}
        matching = max_matching(candidates(scope, conditions[row]))
        if row == ROWS[3]:
            # Pronoun gold is a subset: its "found" are the claims that detected one of them.
            claims = sum(1 for g in detected if g in scope)
        else:
            claims = len(found) - sum(1 for g in detected if g not in scope)
        tallies[row] = Tally(len(scope), claims, len(matching))
    result = Result(article, tallies)
    result.misses = [
        (_miss_kind(g, i, text, found, cover, detected, paragraphs), g)
        for i, g in enumerate(gold)
        if i not in detected
    ]
    used = {c: g for g, c in detected.items()}
    result.false_positives = [
        (_false_positive_kind(c, f, cover), f) for c, f in enumerate(found) if c not in used
    ]
    result.wrong_sources = [
        (gold[g], found[c]) for g, c in detected.items() if gold[g].has_source and not names(c, g)
    ]
    result.wrong_cues = [(gold[g], found[c]) for g, c in detected.items() if not cues(c, g)]
    return result


def _miss_kind(
    g: Gold,
    index: int,
    text: str,
    found: list[Found],
    cover: list[list[float]],
    detected: dict[int, int],
    paragraphs: list[Span],
) -> str:
    if g.content[0][0] < text.find("\n") or "\n" not in text:
        return "gold in the headline"
    if coverage(paragraphs, g.content) < COVERAGE:
        return "content not in the body (dropped by the page reader)"
    covers = [cover[c][index] for c in range(len(found))]
    if any(value >= COVERAGE for value in covers):
        return "its claim detected another gold attribution (one claim, several attributions)"
    if any(covers):
        return "a claim overlaps it but covers less than half its content"
    return "no claim overlaps it"


def _false_positive_kind(c: int, claim: Found, cover: list[list[float]]) -> str:
    if claim.span is None:
        return "unmapped claim"
    if any(value >= COVERAGE for value in cover[c]):
        return "covers gold another claim matched"
    if any(cover[c]):
        return "overlaps gold but covers less than half of it"
    return f"no gold there ({claim.kind} claim{', no cue' if not claim.cues else ''})"


# The corpus.


@dataclass
class Article:
    name: str
    text: Path
    annotation: Path
    annotators: int


def articles(root: Path, split: str) -> list[Article]:
    """The split's articles, each with the first of its annotators' files in sorted order."""
    texts = sorted((root / split / "text").glob("*.txt"))
    files: dict[str, list[Path]] = {}
    for path in sorted((root / split / "attributions").glob("*.ann")):
        files.setdefault(path.stem.rsplit("_", 1)[0], []).append(path)
    return [
        Article(text.stem, text, files[text.stem][0], len(files[text.stem]))
        for text in texts
        if text.stem in files
    ]


def score_article(article: Article) -> Result:
    """Never raises: a refusal or a crash is recorded, and the gold counted as missed."""
    text = article.text.read_text("utf-8")
    annotation = parse(article.annotation.read_text("utf-8"), text)
    try:
        found, unmapped, paragraphs, bare = extract(text)
    except AppError as error:
        return _unscored(
            article.name, text, annotation, "refused", f"{type(error).__name__}: {error.detail}"
        )
    except Exception as error:  # a crash is a finding, not the end of the run
        reason = traceback.format_exception_only(error)[-1].strip()
        return _unscored(article.name, text, annotation, "crashed", reason)
    result = score(article.name, text, annotation, found, paragraphs)
    result.unmapped, result.claims_without_attribution = unmapped, bare
    return result


def _unscored(name: str, text: str, annotation: Annotation, status: str, reason: str) -> Result:
    result = score(name, text, annotation, [], [])
    result.status, result.reason = status, reason
    result.misses = [(f"article {status}", gold) for _, gold in result.misses]
    return result


@dataclass
class Run:
    results: list[Result]
    seconds: float

    def total(self) -> dict[str, Tally]:
        totals = {row: Tally() for row in ROWS}
        for result in self.results:
            for row, tally in result.tallies.items():
                totals[row].add(tally)
        return totals


def evaluate(root: Path, split: str = "dev") -> Run:
    started = time.perf_counter()
    results = [score_article(article) for article in articles(root, split)]
    return Run(results, time.perf_counter() - started)


# Printing.


def table(run: Run, split: str) -> str:
    totals = run.total()
    lines = [
        f"PolNeAR {split}: {len(run.results)} articles, {run.seconds:.1f} s",
        f"{'':<44} {'gold':>5} {'found':>6} {'matched':>8} {'P':>6} {'R':>6} {'F1':>6}",
    ]
    for row in ROWS:
        t = totals[row]
        lines.append(
            f"{row:<44} {t.expected:>5} {t.found:>6} {t.matched:>8} "
            f"{t.precision:>6.3f} {t.recall:>6.3f} {t.f1:>6.3f}"
        )
    refused = [r for r in run.results if r.status == "refused"]
    crashed = [r for r in run.results if r.status == "crashed"]
    unmapped = sum(r.unmapped for r in run.results)
    claims = totals[ROWS[0]].found
    bare = sum(r.claims_without_attribution for r in run.results)
    lines += [
        "(pronoun-only row: found = claims that detected pronoun gold, so P is the share of "
        "them naming it)",
        f"articles refused {len(refused)}, crashed {len(crashed)}; claims unmapped {unmapped} "
        f"of {claims} scored; claims without attribution (not scored) {bare}",
    ]
    lines += [f"  {r.status} {r.article}: {r.reason}" for r in refused + crashed]
    return "\n".join(lines)


def per_article(run: Run) -> str:
    lines = [f"{'article':<56} {'gold':>5} {'found':>6} {'det':>4} {'src':>4} {'cue':>4}  status"]
    for r in run.results:
        det, src, cue = r.tallies[ROWS[0]], r.tallies[ROWS[1]], r.tallies[ROWS[4]]
        lines.append(
            f"{r.article[:56]:<56} {det.expected:>5} {det.found:>6} {det.matched:>4} "
            f"{src.matched:>4} {cue.matched:>4}  {r.status}"
            + (f", {r.unmapped} unmapped" if r.unmapped else "")
        )
    return "\n".join(lines)


def _excerpt(text: str, spans: list[Span], limit: int = 160) -> str:
    words = " ".join(" ".join(text[start:end] for start, end in spans).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def errors(run: Run, root: Path, split: str, samples: int) -> str:
    """Counts of each kind of miss and false positive, with `samples` examples of each:
    PolNeAR text, for the terminal only."""
    texts = {a.name: a.text.read_text("utf-8") for a in articles(root, split)}
    lines: list[str] = []

    def section(title: str, items: list[tuple[str, str, str]]) -> None:
        kinds = Counter(kind for kind, _, _ in items)
        lines.append(f"\n{title}: {len(items)}")
        for kind, count in kinds.most_common():
            lines.append(f"  {count:>5}  {kind}")
            for _, article, line in [i for i in items if i[0] == kind][:samples]:
                lines.append(f"         [{article[:40]}] {line}")

    misses = [
        (
            kind,
            r.article,
            f"{g.source_text!r} {g.cue_text!r}: {_excerpt(texts[r.article], g.content)}",
        )
        for r in run.results
        for kind, g in r.misses
    ]
    positives = [
        (kind, r.article, f"{f.sources} {f.cues}: {f.statement[:160]}")
        for r in run.results
        for kind, f in r.false_positives
    ]
    sources = [
        (
            "pronoun gold source" if g.pronoun else "named gold source",
            r.article,
            f"gold {g.source_text!r}, found {f.sources}",
        )
        for r in run.results
        for g, f in r.wrong_sources
    ]
    cues = [
        (
            "claim has no cue" if not f.cues else "different cue",
            r.article,
            f"gold {g.cue_text!r}, found {f.cues}",
        )
        for r in run.results
        for g, f in r.wrong_cues
    ]
    section("Missed gold (not detected)", misses)
    cues_missed = Counter(
        " ".join(words(g.cue_text))
        for r in run.results
        for kind, g in r.misses
        if kind == "no claim overlaps it"
    )
    lines.append(
        "  cues most often missed: "
        + ", ".join(f"{cue or '(punctuation)'} {n}" for cue, n in cues_missed.most_common(25))
    )
    section("False positives (claims that detect no gold)", positives)
    section("Detected, but the source differs", sources)
    section("Detected, but the cue differs", cues)
    return "\n".join(lines)


def default_root() -> Path:
    return Path(os.environ.get("NEWSDESK_POLNEAR") or DEFAULT_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.ingest.polnear", description="Score ingest against PolNeAR."
    )
    parser.add_argument("--polnear", type=Path, default=None, help="the corpus directory")
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    parser.add_argument("--per-article", action="store_true", help="one line per article")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="N examples per kind")
    args = parser.parse_args(argv)
    root = args.polnear or default_root()
    if not (root / args.split / "text").is_dir():
        print(
            f"PolNeAR not found at {root} (set NEWSDESK_POLNEAR or pass --polnear PATH)",
            file=sys.stderr,
        )
        return 2
    run = evaluate(root, args.split)
    print(table(run, args.split))
    if args.per_article:
        print()
        print(per_article(run))
    if args.errors:
        print(errors(run, root, args.split, args.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
