"""Scores the ingest pipeline against the hand-annotated gold set in `gold/`: precision,
recall and F1 for (source, role) pairs and for cue detection. `make ingest-eval` prints the
table; the test suite fails if the scores drop below their floor.

A found attribution matches an annotated one when they name the same source (equal ignoring
case, or one is the other's surname), with the same role, on a claim whose text holds the
annotated fragment. A cue is detected when the matched attribution's cue holds the annotated
cue words.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.ingest import service

GOLD = Path(__file__).parent / "gold"
# Written after the rules were developed on GOLD and never used to tune them.
HELDOUT = Path(__file__).parent / "heldout"
# Written blind (by someone who never saw the rules) as a yardstick only: never used to tune them.
UNSEEN = Path(__file__).parent / "unseen"


@dataclass
class Found:
    source: str
    kind: str
    role: str
    cue: str
    claim: str


@dataclass
class Tally:
    expected: int = 0
    found: int = 0
    matched: int = 0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "Tally") -> None:
        self.expected += other.expected
        self.found += other.found
        self.matched += other.matched


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split()).casefold()


def same_source(found: str, expected: str) -> bool:
    """Equal ignoring case and a leading "the", or one is the other's surname (a full name
    being two or three plain words)."""
    a, b = _norm(found).removeprefix("the "), _norm(expected).removeprefix("the ")

    def surname_of(name: str, full: str) -> bool:
        words = full.split()
        plain = 2 <= len(words) <= 3 and all(word.isalpha() for word in words)
        return plain and " " not in name and words[-1] == name

    return a == b or surname_of(a, b) or surname_of(b, a)


def stories(directory: Path = GOLD) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, raw page, annotation) for every story of an annotated set."""
    found = []
    for expected in sorted(directory.glob("*-expected.json")):
        name = expected.name.removesuffix("-expected.json")
        raw = (directory / f"{name}-raw.txt").read_text("utf-8")
        found.append((name, raw, json.loads(expected.read_text("utf-8"))))
    return found


def extracted(raw: str) -> list[Found]:
    draft = service.draft(service.Raw(raw))
    return [
        Found(
            attribution.source.name,  # type: ignore[union-attr]
            attribution.source.kind.value,  # type: ignore[union-attr]
            attribution.role.value,
            attribution.cue or "",
            f"{claim.statement} {claim.quote or ''}",
        )
        for claim in draft.claims
        for attribution in claim.attributions
    ]


def page_errors(raw: str, annotation: dict[str, Any]) -> list[str]:
    """How the cleaned page differs from the annotation: headline, deck, body."""
    draft = service.draft(service.Raw(raw))
    paragraphs = draft.body.split("\n\n")
    errors = []
    if draft.headline != annotation["headline"]:
        errors.append(f"headline {draft.headline!r}")
    deck = annotation["deck_starts_with"]
    if not (draft.deck or "").startswith(deck) or (not deck and draft.deck):
        errors.append(f"deck {draft.deck!r}")
    if len(paragraphs) != annotation["body_paragraphs"]:
        errors.append(f"{len(paragraphs)} paragraphs, not {annotation['body_paragraphs']}")
    if not draft.body.startswith(annotation["body_starts_with"]):
        errors.append(f"body starts {draft.body[:60]!r}")
    errors += [
        f"kept {junk!r}" for junk in annotation["body_must_not_contain"] if junk in draft.body
    ]
    return errors


def score(raw: str, annotation: dict[str, Any]) -> tuple[Tally, Tally]:
    """The (source, role) and the cue tallies of one story."""
    found = extracted(raw)
    pairs, cues = Tally(len(annotation["attributions"]), len(found)), Tally()
    cues.expected = len(annotation["attributions"])
    cues.found = sum(1 for f in found if f.cue)
    unmatched = list(found)
    for expected in annotation["attributions"]:
        match = next(
            (
                f
                for f in unmatched
                if same_source(f.source, expected["source"])
                and f.role == expected["role"]
                and _norm(expected["in_claim"]) in _norm(f.claim)
            ),
            None,
        )
        if match is None:
            continue
        unmatched.remove(match)
        pairs.matched += 1
        if _norm(expected["cue"]) in _norm(match.cue):
            cues.matched += 1
    return pairs, cues


@dataclass
class Row:
    story: str
    pairs: Tally
    cues: Tally
    page: list[str]


def evaluate(directory: Path = GOLD) -> tuple[Tally, Tally, list[Row]]:
    pairs, cues, rows = Tally(), Tally(), []
    for name, raw, annotation in stories(directory):
        story_pairs, story_cues = score(raw, annotation)
        pairs.add(story_pairs)
        cues.add(story_cues)
        rows.append(Row(name, story_pairs, story_cues, page_errors(raw, annotation)))
    return pairs, cues, rows


def report(directory: Path) -> None:
    pairs, cues, rows = evaluate(directory)
    print(f"{directory.name}: {len(rows)} stories")
    print(f"{'story':<20} {'annotated':>9} {'found':>6} {'matched':>8} {'cues':>5}  page")
    for row in rows:
        print(
            f"{row.story:<20} {row.pairs.expected:>9} {row.pairs.found:>6} "
            f"{row.pairs.matched:>8} {row.cues.matched:>5}  {'; '.join(row.page) or 'as annotated'}"
        )
    print()
    clean = sum(not row.page for row in rows)
    print(f"{'page':<16} {clean} of {len(rows)} stories cleaned exactly as annotated")
    for label, tally in (("(source, role)", pairs), ("cue", cues)):
        print(
            f"{label:<16} precision {tally.precision:.3f}  recall {tally.recall:.3f}  "
            f"F1 {tally.f1:.3f}  ({tally.matched} of {tally.expected} annotated, "
            f"{tally.found} found)"
        )
    print()


def main() -> None:
    for directory in (GOLD, HELDOUT, UNSEEN):
        if any(directory.glob("*-expected.json")):
            report(directory)


if __name__ == "__main__":
    sys.exit(main())
