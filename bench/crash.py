"""The crash test: a write load against `newsdesk serve`, SIGKILLed mid-load and restarted
several times, then a check that every acknowledged write survived whole.

    .venv/bin/python -m bench.crash [--backends sqlite,postgresql] [--kills 5]
        [--duration 45] [--writers 6] [--workers 2] [--seed 1]

Per backend: a fresh database (PostgreSQL: `newsdesk_crash`, dropped and created; SQLite: a
file under var/crash/), `newsdesk migrate`, a write+publish key, and `newsdesk serve` on a
free loopback port in its own process group. Several writers (httpx) create articles with
claims, attributions and sources, edit them (PATCH with If-Match, PUT), publish them, add
claims and corrections, and upload NDJSON in bulk; every write answered 2xx is recorded in a
ledger with what was sent and what came back. Meanwhile the server's whole process group
(the master and its workers) is SIGKILLed several times and restarted. A write whose answer
was lost is in doubt: a POST is retried with its Idempotency-Key once the server is back
(a replay or a single new write, never two), anything else may or may not have happened.

At the end `check` compares the database with the ledger, and `check_api` the API with the
database: every acknowledged write must be there as it was answered (or superseded by a
later version), revisions gapless, live rows equal to the latest revision, claims with their
attributions and sources, changes-feed rows for acknowledged changes to public articles, and
nothing half-written. Any loss or half-written state is exit code 1.
"""

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.articles import revision_store
from app.articles.models import Article, ArticleAuthor, ArticleRevision, ArticleTag, Correction
from app.authors.models import Author
from app.changes.models import ChangeEvent
from app.claims.models import Attribution, Claim
from app.db import create_engine
from app.sources.models import Source, fold
from bench.common import BACKEND_NAMES, BACKENDS, REPO, BenchError, backend_list, log
from bench.databases import fresh_postgres, fresh_sqlite
from bench.processes import free_port, run_command, tail

VAR = REPO / "var" / "crash"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/newsdesk_crash"
KEY_NAME = "crash-test"
# The servers run unthrottled: the load is the point, not the rate limiter.
SERVER_ENV = {
    "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
    "NEWSDESK_RATE_LIMIT_PER_KEY": "0",
    "NEWSDESK_PUBLIC_READ": "true",
}
START_TIMEOUT = 60
REQUEST_TIMEOUT = 30
# A retried POST whose first attempt is still held (409) is tried again this often.
IN_FLIGHT_RETRIES = 20
LOAD_AFTER_LAST_RESTART = 2.0
MIN_UP_SECONDS = 4.0


# --- the ledger -----------------------------------------------------------------------------


@dataclass
class Ack:
    """One write answered 2xx: what was sent and what came back."""

    op: str  # create, patch, put, publish, correction, claim, bulk
    article_id: str
    slug: str
    sent: dict[str, Any]
    version: int | None = None  # the article's version the answer gave (None: a claim)
    response: dict[str, Any] | None = None  # the article (or claim) as answered
    claim_id: str | None = None
    replayed: bool = False  # answered by an Idempotency-Key replay after a lost answer


@dataclass
class Ledger:
    acks: list[Ack] = field(default_factory=list)
    # Writes whose answer never came: per article id, and the slugs of creates in doubt.
    doubts: Counter[str] = field(default_factory=Counter)
    doubtful_slugs: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)

    def acked_ids(self) -> set[str]:
        return {ack.article_id for ack in self.acks}


@dataclass(frozen=True)
class Problem:
    kind: str  # "lost" or "half-written"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


# --- what an article says -------------------------------------------------------------------


def _attribution(a: dict[str, Any]) -> tuple[Any, ...]:
    source = a["source"]
    return (
        source.get("id"),
        source["name"],
        source["kind"],
        a["role"],
        a.get("cue"),
        a.get("anonymous_description"),
    )


def _claim(c: dict[str, Any]) -> tuple[Any, ...]:
    return (
        c["id"],
        c["statement"],
        c["kind"],
        c.get("quote"),
        c["verification"],
        tuple(_attribution(a) for a in c["attributions"]),
    )


def content(article: dict[str, Any]) -> dict[str, Any]:
    """What matters of an article as the API shows it (a write's answer, a GET, a revision's
    snapshot): its text, state, version, claims with attributions and sources."""
    return {
        "id": article["id"],
        "slug": article["slug"],
        "headline": article["headline"],
        "deck": article["deck"],
        "body": article["body"],
        "section": article["section"],
        "tags": list(article["tags"]),
        "authors": [a["name"] for a in article["authors"]],
        "status": article["status"],
        "version": article["version"],
        "corrections": [c["text"] for c in article["corrections"]],
        "sourcing": dict(article["sourcing"]),
        "claims": [_claim(c) for c in article["claims"] or []],
    }


def sent_differences(sent: dict[str, Any], article: dict[str, Any]) -> list[str]:
    """The fields of a write that the article does not show as sent (claims compared by
    statement and attributions, sources by kind and folded name)."""
    differences = [
        name
        for name in ("slug", "headline", "deck", "body", "section", "tags")
        if name in sent and sent[name] != article[name]
    ]
    if "claims" in sent:
        want = [_sent_claim(c) for c in sent["claims"]]
        have = [_stored_claim(c) for c in article["claims"] or []]
        if want != have:
            differences.append("claims")
    return differences


def _sent_claim(claim: dict[str, Any]) -> tuple[Any, ...]:
    return (
        claim["statement"],
        tuple(
            (a["source"]["kind"], fold(a["source"]["name"]), a["role"], a.get("cue"))
            for a in claim.get("attributions", [])
        ),
    )


def _stored_claim(claim: dict[str, Any]) -> tuple[Any, ...]:
    return (
        claim["statement"],
        tuple(
            (a["source"]["kind"], fold(a["source"]["name"]), a["role"], a.get("cue"))
            for a in claim["attributions"]
        ),
    )


# --- the checker ----------------------------------------------------------------------------


@dataclass
class Tables:
    """Every row the check needs, read in one go."""

    articles: dict[str, dict[str, Any]]
    tags: dict[str, list[str]]
    authors: dict[str, list[str]]
    corrections: dict[str, list[str]]
    claims: dict[str, dict[str, Any]]
    attributions: list[dict[str, Any]]
    sources: dict[str, dict[str, Any]]
    revisions: dict[str, dict[int, dict[str, Any]]]
    changes: dict[str, list[dict[str, Any]]]


def _key(value: Any) -> str:
    return str(value)


async def read_tables(url: str) -> Tables:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            async def rows(
                *columns: Any, order: Sequence[Any] = (), join: tuple[Any, Any] | None = None
            ) -> list[dict[str, Any]]:
                query = select(*columns).order_by(*order)
                if join is not None:
                    query = query.join(*join)
                result = await connection.execute(query)
                return [dict(row._mapping) for row in result]

            articles = await rows(Article.__table__)
            tags = await rows(ArticleTag.__table__, order=[ArticleTag.position])
            authors = await rows(
                ArticleAuthor.article_id,
                Author.name,
                order=[ArticleAuthor.position],
                join=(Author, Author.id == ArticleAuthor.author_id),
            )
            corrections = await rows(
                Correction.__table__, order=[Correction.created_at, Correction.id]
            )
            claims = await rows(Claim.__table__, order=[Claim.position])
            attributions = await rows(Attribution.__table__, order=[Attribution.position])
            sources = await rows(Source.__table__)
            async with AsyncSession(bind=connection) as session:
                stored = list(await session.scalars(select(ArticleRevision)))
                snapshots = await revision_store.Reader(session).snapshots(stored)
            revisions = [
                {"article_id": r.article_id, "version": r.version, "snapshot": snapshot}
                for r, snapshot in zip(stored, snapshots, strict=True)
            ]
            changes = await rows(ChangeEvent.__table__, order=[ChangeEvent.seq])
    finally:
        await engine.dispose()
    tables = Tables(
        articles={_key(a["id"]): a for a in articles},
        tags=defaultdict(list),
        authors=defaultdict(list),
        corrections=defaultdict(list),
        claims={_key(c["id"]): c for c in claims},
        attributions=attributions,
        sources={_key(s["id"]): s for s in sources},
        revisions=defaultdict(dict),
        changes=defaultdict(list),
    )
    for row in tags:
        tables.tags[_key(row["article_id"])].append(row["tag"])
    for row in authors:
        tables.authors[_key(row["article_id"])].append(row["name"])
    for row in corrections:
        tables.corrections[_key(row["article_id"])].append(row["text"])
    for row in revisions:
        tables.revisions[_key(row["article_id"])][row["version"]] = row["snapshot"]
    for row in changes:
        tables.changes[_key(row["article_id"])].append(row)
    return tables


def live_content(tables: Tables, article_id: str) -> dict[str, Any]:
    """The article as its rows now stand, in the shape of `content`."""
    article = tables.articles[article_id]
    by_claim: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for attribution in tables.attributions:
        by_claim[_key(attribution["claim_id"])].append(attribution)
    claims = sorted(
        (c for c in tables.claims.values() if _key(c["article_id"]) == article_id),
        key=lambda c: c["position"],
    )

    def attribution(a: dict[str, Any]) -> tuple[Any, ...]:
        source = tables.sources.get(_key(a["source_id"]), {})
        return (
            _key(a["source_id"]),
            source.get("name"),
            str(source.get("kind")),
            str(a["role"]),
            a["cue"],
            a["anonymous_description"],
        )

    return {
        "id": article_id,
        "slug": article["slug"],
        "headline": article["headline"],
        "deck": article["deck"],
        "body": article["body"],
        "section": article["section"],
        "tags": tables.tags.get(article_id, []),
        "authors": tables.authors.get(article_id, []),
        "status": str(article["status"]),
        "version": article["version"],
        "corrections": tables.corrections.get(article_id, []),
        "sourcing": dict(article["sourcing"]),
        "claims": [
            (
                _key(c["id"]),
                c["statement"],
                str(c["kind"]),
                c["quote"],
                str(c["verification"]),
                tuple(attribution(a) for a in by_claim.get(_key(c["id"]), [])),
            )
            for c in claims
        ],
    }


def _sourcing(article: dict[str, Any]) -> dict[str, int]:
    """The sourcing summary the claims of `content(...)` add up to."""
    claims = article["claims"]
    attributed = [c for c in claims if c[5]]
    sources = {a[0]: a[2] for c in attributed for a in c[5]}
    anonymous = sum(1 for kind in sources.values() if kind == "anonymous")
    return {
        "claims": len(claims),
        "attributed_claims": len(attributed),
        "unattributed_claims": len(claims) - len(attributed),
        "named_sources": len(sources) - anonymous,
        "anonymous_sources": anonymous,
    }


def _is_public(article: dict[str, Any]) -> bool:
    return (
        article["status"] in ("published", "retracted") and article.get("published_at") is not None
    )


def check_tables(tables: Tables, ledger: Ledger) -> list[Problem]:
    """Everything wrong with the database against the ledger of acknowledged writes."""
    problems: list[Problem] = []

    def half(detail: str) -> None:
        problems.append(Problem("half-written", detail))

    def lost(detail: str) -> None:
        problems.append(Problem("lost", detail))

    # Nothing half-written, anywhere.
    for claim_id, claim in tables.claims.items():
        if _key(claim["article_id"]) not in tables.articles:
            half(f"claim {claim_id} without its article {claim['article_id']}")
    for attribution in tables.attributions:
        if _key(attribution["claim_id"]) not in tables.claims:
            half(f"attribution {attribution['id']} without its claim {attribution['claim_id']}")
        if _key(attribution["source_id"]) not in tables.sources:
            half(f"attribution {attribution['id']} without its source {attribution['source_id']}")
    for article_id in tables.revisions.keys() - tables.articles.keys():
        half(f"revisions of article {article_id}, which does not exist")
    explained: Counter[str] = Counter(ack.article_id for ack in ledger.acks)
    for article_id, article in tables.articles.items():
        slug, version = article["slug"], article["version"]
        versions = set(tables.revisions.get(article_id, {}))
        missing = sorted(set(range(1, version + 1)) - versions)
        beyond = sorted(v for v in versions if v > version)
        if missing:
            half(f"article {slug} is at version {version} but has no revision {missing}")
        if beyond:
            half(f"article {slug} is at version {version} but has revisions {beyond}")
        snapshot = tables.revisions.get(article_id, {}).get(version)
        live = live_content(tables, article_id)
        if snapshot is not None and content(snapshot) != live:
            fields = [k for k, v in content(snapshot).items() if live.get(k) != v]
            half(f"article {slug}: rows differ from revision {version} in {fields}")
        if live["sourcing"] != _sourcing(live):
            half(f"article {slug}: sourcing {live['sourcing']} does not add up to its claims")
        for change in tables.changes.get(article_id, []):
            if change["version"] > version or change["version"] not in versions:
                half(f"article {slug}: change {change['seq']} names version {change['version']}")
        doubtful = ledger.doubts[article_id] + (slug in ledger.doubtful_slugs)
        if not explained[article_id] and not doubtful:
            half(f"article {slug} was never acknowledged nor in doubt")
        elif version > explained[article_id] + doubtful:
            half(
                f"article {slug} is at version {version}, more than its "
                f"{explained[article_id]} acknowledged and {doubtful} doubtful writes explain"
            )

    # Every acknowledged write there, as it was answered.
    for ack in ledger.acks:
        what = f"{ack.op} of {ack.slug}" + (f" v{ack.version}" if ack.version else "")
        article = tables.articles.get(ack.article_id)
        if article is None:
            lost(f"{what}: the article {ack.article_id} is gone")
            continue
        revisions = tables.revisions.get(ack.article_id, {})
        if ack.claim_id is not None:
            found = [
                claim
                for snapshot in revisions.values()
                for claim in snapshot["claims"] or []
                if claim["id"] == ack.claim_id
            ]
            if not found:
                lost(f"{what}: claim {ack.claim_id} is in no revision")
            elif any(_stored_claim(c) != _sent_claim(ack.sent) for c in found[:1]):
                lost(f"{what}: claim {ack.claim_id} is not as sent")
            claim = tables.claims.get(ack.claim_id)
            if claim is not None and not any(
                _key(a["claim_id"]) == ack.claim_id for a in tables.attributions
            ):
                half(f"{what}: claim {ack.claim_id} has lost its attributions")
            continue
        assert ack.version is not None
        if article["version"] < ack.version:
            lost(f"{what}: the article is back at version {article['version']}")
        snapshot = revisions.get(ack.version)
        if snapshot is None:
            lost(f"{what}: revision {ack.version} is missing")
            continue
        if ack.response is not None and content(ack.response) != content(snapshot):
            fields = [k for k, v in content(ack.response).items() if content(snapshot)[k] != v]
            lost(f"{what}: revision {ack.version} differs from the answer in {fields}")
        differences = sent_differences(ack.sent, snapshot)
        if differences:
            lost(f"{what}: revision {ack.version} differs from what was sent in {differences}")
        if ack.op == "publish" and snapshot["status"] != "published":
            lost(f"{what}: revision {ack.version} is not published")
        if ack.op == "correction" and ack.sent["text"] not in [
            c["text"] for c in snapshot["corrections"]
        ]:
            lost(f"{what}: revision {ack.version} lacks the correction")
        if _is_public(snapshot) and not any(
            change["version"] == ack.version and change["in_public"]
            for change in tables.changes.get(ack.article_id, [])
        ):
            lost(f"{what}: no changes-feed event for version {ack.version}")
    return problems


async def check(url: str, ledger: Ledger) -> list[Problem]:
    """The database at `url` against the ledger: a list of what is lost or half-written."""
    return check_tables(await read_tables(url), ledger)


async def check_api(client: httpx.AsyncClient, url: str, ledger: Ledger) -> list[Problem]:
    """Each acknowledged article as the API serves it: its latest revision, at a version no
    older than the newest acknowledged one."""
    tables = await read_tables(url)
    newest: dict[str, int] = defaultdict(int)
    for ack in ledger.acks:
        newest[ack.article_id] = max(newest[ack.article_id], ack.version or 0)
    problems = []
    for article_id, version in sorted(newest.items()):
        response = await client.get(f"/v1/articles/{article_id}")
        if response.status_code != 200:
            problems.append(Problem("lost", f"GET article {article_id}: {response.status_code}"))
            continue
        served = response.json()
        if served["version"] < version:
            problems.append(
                Problem("lost", f"article {served['slug']} served at v{served['version']}")
            )
        snapshot = tables.revisions.get(article_id, {}).get(served["version"])
        if snapshot is None or content(snapshot) != content(served):
            problems.append(
                Problem("half-written", f"article {served['slug']} is served unlike its revision")
            )
    return problems


# --- the load -------------------------------------------------------------------------------


SOURCES = [
    {"name": "City Council", "kind": "government"},
    {"name": "Port Authority", "kind": "organization"},
    {"name": "Maria Keller", "kind": "person"},
    {"name": "The Harbour Gazette", "kind": "publication"},
    {"name": "Ministry of Transport", "kind": "government"},
    {"name": "Dr. Amal Nasser", "kind": "person"},
    {"name": "Riverside Residents' Association", "kind": "organization"},
    {"name": "Annual Budget Report", "kind": "document"},
    {"name": "senior officials", "kind": "anonymous", "affiliation": "City Council"},
]
ROLES = ["asserted_by", "confirmed_by", "reported_by", "first_reported_by", "disputed_by"]
CUES = ["said", "confirmed", "according to", "as reported by", "disputed"]
SUBJECTS = ["The bridge", "The ferry", "The budget", "The school", "The harbour", "The tram"]
VERBS = ["reopens on", "closes on", "grows by", "is delayed until", "costs", "serves"]
SECTIONS = ["local", "politics", "business", "transport"]
TAGS = ["infrastructure", "council", "budget", "ferries", "schools", "weather", "trams"]


class Story:
    """Random but valid article content; `rng` makes a run repeatable."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def statement(self) -> str:
        rng = self.rng
        return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.randint(2, 9999)} units."

    def claim(self, statement: str | None = None) -> dict[str, Any]:
        """A claim with one or two attributions, anchored to `statement` in the body if
        given (a claim added later has no anchor: its words are not in the body)."""
        rng = self.rng
        attributions = []
        for source in rng.sample(SOURCES, rng.randint(1, 2)):
            attribution: dict[str, Any] = {
                "source": dict(source),
                "role": rng.choice(ROLES),
                "cue": rng.choice(CUES),
            }
            if source["kind"] == "anonymous":
                attribution["anonymous_description"] = "senior officials"
            attributions.append(attribution)
        claim: dict[str, Any] = {
            "statement": statement or self.statement(),
            "attributions": attributions,
        }
        if statement:
            claim["anchor"] = {"exact": statement.rstrip(".")}
        return claim

    def article(self, slug: str) -> dict[str, Any]:
        rng = self.rng
        statements = [self.statement() for _ in range(rng.randint(2, 4))]
        body = "\n\n".join(f"{s} Officials spoke on {rng.randint(1, 28)} May." for s in statements)
        return {
            "slug": slug,
            "headline": f"{rng.choice(SUBJECTS)} story {slug}",
            "deck": f"Deck {rng.randint(0, 10**6)}",
            "body": body,
            "section": rng.choice(SECTIONS),
            "tags": rng.sample(TAGS, rng.randint(1, 3)),
            "authors": [{"name": "Crash Test Desk"}],
            "claims": [self.claim(s) for s in statements],
        }

    def patch(self) -> dict[str, Any]:
        rng = self.rng
        patch: dict[str, Any] = {"deck": f"Updated deck {rng.randint(0, 10**6)}"}
        if rng.random() < 0.5:
            patch["tags"] = rng.sample(TAGS, rng.randint(1, 3))
        if rng.random() < 0.3:
            patch["headline"] = f"Revised headline {rng.randint(0, 10**6)}"
        return patch


@dataclass
class Known:
    """What a writer knows of one of its articles."""

    id: str
    slug: str
    etag: str | None
    status: str


class ServerDown(Exception):
    """The request may or may not have been carried out."""


@dataclass
class Load:
    """Writers sharing a ledger; each owns the articles it creates, so its view of them is
    exact except after a write whose answer was lost (then it reads them again)."""

    client: httpx.AsyncClient
    ledger: Ledger
    stopping: asyncio.Event
    seed: int
    in_flight: int = 0
    requests: int = 0

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; ServerDown when its answer is lost (connection refused is retried:
        such a request never reached the server)."""
        while True:
            self.in_flight += 1
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.ConnectError:
                response = None
            except httpx.TransportError as error:
                self.ledger.statuses["lost answer"] += 1
                raise ServerDown(str(error)) from error
            finally:
                self.in_flight -= 1
            if response is None:
                await asyncio.sleep(0.1)  # down: the controller is restarting it
                continue
            self.requests += 1
            self.ledger.statuses[str(response.status_code)] += 1
            if response.status_code >= 500:
                raise ServerDown(f"{response.status_code}: {response.text[:200]}")
            return response

    async def post_surely(self, path: str, **kwargs: Any) -> httpx.Response | None:
        """A POST with an Idempotency-Key, tried again with the same key until it has an
        answer (the first attempt's stored answer, or the first and only run of it). None
        if the key stays held by an attempt that died mid-write."""
        headers = {**kwargs.pop("headers", {}), "Idempotency-Key": f'"{uuid.uuid4()}"'}
        for _ in range(IN_FLIGHT_RETRIES):
            try:
                response = await self.send("POST", path, headers=headers, **kwargs)
            except ServerDown:
                await asyncio.sleep(0.2)
                continue
            if response.status_code != 409 or "Idempotent-Replayed" in response.headers:
                return response
            await asyncio.sleep(0.5)
        return None

    async def writer(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)  # noqa: S311 (repeatable, not secret)
        story = Story(rng)
        mine: list[Known] = []
        serial = 0
        while not self.stopping.is_set():
            serial += 1
            slug = f"w{number}-{self.seed}-{serial}"
            choice = rng.random()
            target = rng.choice(mine) if mine else None
            try:
                if target is None or choice < 0.22:
                    await self.create(story, slug, mine)
                elif choice < 0.30:
                    await self.bulk(story, slug, mine)
                elif choice < 0.48:
                    await self.edit(target, "PATCH", story.patch())
                elif choice < 0.56:
                    sent = story.article(target.slug)
                    await self.edit(target, "PUT", sent)
                elif choice < 0.70:
                    await self.add_claim(target, story.claim())
                elif target.status == "draft":
                    await self.publish(target)
                else:
                    await self.correct(target, f"Correction {rng.randint(0, 10**6)}.")
            except ServerDown:
                continue

    def acknowledge(self, op: str, known: Known, response: httpx.Response, sent: Any) -> None:
        answer = response.json()
        self.ledger.acks.append(
            Ack(
                op,
                answer["id"],
                answer["slug"],
                sent,
                version=answer["version"],
                response=answer,
                replayed="Idempotent-Replayed" in response.headers,
            )
        )
        known.etag = response.headers.get("etag")
        known.status = answer["status"]

    async def resync(self, known: Known) -> None:
        """Read an article again after a write to it whose answer was lost."""
        while True:
            try:
                response = await self.send("GET", f"/v1/articles/{known.id}")
            except ServerDown:
                continue
            if response.status_code == 200:
                known.etag = response.headers.get("etag")
                known.status = response.json()["status"]
            return

    async def create(self, story: Story, slug: str, mine: list[Known]) -> None:
        sent = story.article(slug)
        self.ledger.doubtful_slugs.add(slug)  # until its answer is in
        response = await self.post_surely("/v1/articles", json=sent)
        if response is not None and response.status_code == 201:
            known = Known(response.json()["id"], slug, None, "draft")
            self.acknowledge("create", known, response, sent)
            self.ledger.doubtful_slugs.discard(slug)
            mine.append(known)

    async def bulk(self, story: Story, slug: str, mine: list[Known]) -> None:
        """Three new articles in one NDJSON upload; each line is its own write. An upload
        whose answer is lost is not retried (its key stays held while the lines it did
        write are kept), so its lines are in doubt."""
        lines = [story.article(f"{slug}-b{n}") for n in range(3)]
        self.ledger.doubtful_slugs.update(line["slug"] for line in lines)
        body = b"".join(httpx.Request("POST", "/", json=line).content + b"\n" for line in lines)
        headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": f'"{uuid.uuid4()}"'}
        response = await self.send("POST", "/v1/articles/bulk", content=body, headers=headers)
        if response.status_code != 200:
            return
        for line, sent in zip(response.json()["lines"], lines, strict=True):
            if line["status"] == "created":
                known = Known(line["id"], line["slug"], None, "draft")
                self.ledger.acks.append(Ack("bulk", line["id"], line["slug"], sent, version=1))
                self.ledger.doubtful_slugs.discard(line["slug"])
                mine.append(known)

    async def edit(self, known: Known, method: str, sent: dict[str, Any]) -> None:
        headers = {"If-Match": known.etag} if known.etag else {}
        if method == "PATCH":
            headers["Content-Type"] = "application/merge-patch+json"
        try:
            response = await self.send(
                method, f"/v1/articles/{known.id}", json=sent, headers=headers
            )
        except ServerDown:
            self.ledger.doubts[known.id] += 1
            await self.resync(known)
            raise
        if response.status_code == 200:
            self.acknowledge(method.lower(), known, response, sent)
        elif response.status_code == 412:
            await self.resync(known)

    async def add_claim(self, known: Known, sent: dict[str, Any]) -> None:
        response = await self.post_surely(f"/v1/articles/{known.id}/claims", json=sent)
        if response is None:
            self.ledger.doubts[known.id] += 1
        elif response.status_code == 201:
            answer = response.json()
            self.ledger.acks.append(
                Ack(
                    "claim",
                    known.id,
                    known.slug,
                    sent,
                    response=answer,
                    claim_id=answer["id"],
                    replayed="Idempotent-Replayed" in response.headers,
                )
            )
        await self.resync(known)  # the article's version moved on

    async def publish(self, known: Known) -> None:
        response = await self.post_surely(f"/v1/articles/{known.id}/publish")
        if response is None:
            self.ledger.doubts[known.id] += 1
            await self.resync(known)
        elif response.status_code == 200:
            self.acknowledge("publish", known, response, {})

    async def correct(self, known: Known, text: str) -> None:
        sent = {"text": text}
        response = await self.post_surely(f"/v1/articles/{known.id}/corrections", json=sent)
        if response is None:
            self.ledger.doubts[known.id] += 1
            await self.resync(known)
        elif response.status_code == 201:
            self.acknowledge("correction", known, response, sent)


# --- the server -----------------------------------------------------------------------------


@dataclass
class Server:
    """`newsdesk serve` in a process group of its own, killed and restarted at will."""

    url: str
    workers: int
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "serve.log"

    def env(self) -> dict[str, str]:
        metrics = self.directory / "metrics"
        return {
            **os.environ,
            **SERVER_ENV,
            "NEWSDESK_DATABASE_URL": self.url,
            "NEWSDESK_PUBLIC_BASE_URL": self.base,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }

    def start(self) -> None:
        # A killed worker's metric files would be summed with the new ones: start afresh.
        shutil.rmtree(self.directory / "metrics", ignore_errors=True)
        (self.directory / "metrics").mkdir(parents=True)
        newsdesk = str(Path(sys.executable).parent / "newsdesk")
        command = [newsdesk, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--no-access-log"]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 (our own, fixed command)
                command,
                cwd=REPO,
                env=self.env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    async def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as probe:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise BenchError(f"serve exited ({self.process.returncode}):\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise BenchError(f"serve did not answer within {START_TIMEOUT} s:\n{self.tail()}")

    async def kill(self) -> None:
        """SIGKILL the master and every worker at once, and wait until none is left."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.05)
        raise BenchError(f"processes of group {self.process.pid} outlived SIGKILL")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self) -> str:
        return tail(self.log_path)


# --- one backend ----------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    acknowledged: int
    replayed: int
    in_doubt: int
    kills: int
    restarts: int
    in_flight_at_kills: list[int]
    requests: int
    statuses: Counter[str]
    problems: list[Problem]
    seconds: float
    ledger_acks: list[Ack] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(1 for p in self.problems if p.kind == "lost")

    @property
    def half_written(self) -> int:
        return sum(1 for p in self.problems if p.kind == "half-written")

    def summary(self) -> str:
        ops = Counter(ack.op for ack in self.ledger_acks)
        return (
            f"{BACKEND_NAMES[self.backend]}: {self.acknowledged} writes acknowledged "
            f"({', '.join(f'{op} {n}' for op, n in sorted(ops.items()))}; "
            f"{self.replayed} answered by replay after a lost answer), {self.in_doubt} in "
            f"doubt, {self.kills} kills (requests in flight: {self.in_flight_at_kills}), "
            f"{self.restarts} restarts, lost = {self.lost}, half-written = "
            f"{self.half_written}, {self.requests} requests in {self.seconds:.0f} s "
            f"(answers: {', '.join(f'{k} {n}' for k, n in sorted(self.statuses.items()))})"
        )


def prepare(url: str) -> str:
    """Migrate the database at `url` and create a write+publish key; returns the key."""
    env = {**SERVER_ENV, "NEWSDESK_DATABASE_URL": url}
    newsdesk = str(Path(sys.executable).parent / "newsdesk")
    run_command([newsdesk, "migrate"], env)
    scopes = ["--scope", "content:write", "--scope", "content:publish"]
    output = run_command([newsdesk, "keys", "create", "--name", KEY_NAME, *scopes], env)
    return output.strip().splitlines()[-1].strip()


async def _kill_schedule(
    server: Server, load: Load, kills: int, duration: float, rng: random.Random
) -> list[int]:
    """Kill the server `kills` times, spread over `duration`, each while requests are in
    flight, restarting it each time. Returns how many requests were in flight at each."""
    began = time.monotonic()
    slot = duration / (kills + 1)
    in_flight = []
    up_since = began
    for n in range(kills):
        at = began + slot * (n + 1) + rng.uniform(-0.3, 0.3) * slot
        # However slow the restarts, each server takes some load before it is killed.
        at = max(at, up_since + MIN_UP_SECONDS)
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        for _ in range(200):  # up to 2 s for a moment with requests in flight
            if load.in_flight:
                break
            await asyncio.sleep(0.01)
        in_flight.append(load.in_flight)
        await server.kill()
        killed = time.monotonic()
        server.start()
        await server.wait_until_up()
        up_since = time.monotonic()
        log(
            f"kill {n + 1}: SIGKILL with {in_flight[-1]} requests in flight; serve answers "
            f"again {time.monotonic() - killed:.1f} s later"
        )
    # Some load on the last restarted server too, however short the run.
    await asyncio.sleep(max(LOAD_AFTER_LAST_RESTART, began + duration - time.monotonic()))
    return in_flight


def crash_run(
    backend: str,
    url: str,
    *,
    kills: int,
    duration: float,
    writers: int,
    workers: int = 2,
    seed: int = 1,
    directory: Path = VAR,
) -> Result:
    """The crash test on the (empty) database at `url`, with serve's log in `directory`."""
    began = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    log(f"{BACKEND_NAMES[backend]}: migrating, creating a key")
    key = prepare(url)
    server = Server(url, workers, directory)
    server.log_path.write_bytes(b"")
    try:
        ledger, load, in_flight, problems = asyncio.run(
            _load_and_check(server, key, kills=kills, duration=duration, writers=writers, seed=seed)
        )
    finally:
        server.stop()
    return Result(
        backend=backend,
        acknowledged=len(ledger.acks),
        replayed=sum(1 for ack in ledger.acks if ack.replayed),
        in_doubt=sum(ledger.doubts.values()) + len(ledger.doubtful_slugs),
        kills=len(in_flight),
        restarts=server.starts - 1,
        in_flight_at_kills=in_flight,
        requests=load.requests,
        statuses=ledger.statuses,
        problems=problems,
        seconds=time.monotonic() - began,
        ledger_acks=ledger.acks,
    )


async def _load_and_check(
    server: Server, key: str, *, kills: int, duration: float, writers: int, seed: int
) -> tuple[Ledger, Load, list[int], list[Problem]]:
    ledger = Ledger()
    server.start()
    await server.wait_until_up()
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=writers * 2)
    async with httpx.AsyncClient(
        base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
    ) as client:
        load = Load(client, ledger, asyncio.Event(), seed)
        log(f"{writers} writers for {duration:g} s, {kills} kills")
        tasks = [asyncio.create_task(load.writer(n)) for n in range(writers)]
        try:
            rng = random.Random(seed)  # noqa: S311
            in_flight = await _kill_schedule(server, load, kills, duration, rng)
        finally:
            load.stopping.set()
            done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT * 2)
            for task in pending:
                task.cancel()
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
        log(f"checking {len(ledger.acks)} acknowledged writes")
        problems = await check(server.url, ledger)
        problems += await check_api(client, server.url, ledger)
    return ledger, load, in_flight, problems


def fresh_database(backend: str, postgres_url: str) -> str:
    if backend == "postgresql":
        return fresh_postgres(postgres_url).url
    return fresh_sqlite(VAR / "newsdesk-crash.db").url


# --- the command ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--backends", type=backend_list, default=list(BACKENDS))
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per backend")
    parser.add_argument("--duration", type=float, default=45, help="seconds of load per backend")
    parser.add_argument("--writers", type=int, default=6, help="concurrent writing clients")
    parser.add_argument("--workers", type=int, default=2, help="newsdesk serve --workers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NEWSDESK_CRASH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="the database to drop and create (env NEWSDESK_CRASH_POSTGRES_URL)",
    )
    options = parser.parse_args(argv)
    if options.kills < 0 or options.duration <= 0 or options.writers < 1 or options.workers < 1:
        parser.error("--duration, --writers and --workers must be positive, --kills not negative")
    return options


def report(result: Result, show: Callable[[str], None] = print) -> None:
    show(result.summary())
    for problem in result.problems[:50]:
        show(f"  {problem}")
    if len(result.problems) > 50:
        show(f"  … and {len(result.problems) - 50} more")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    results = []
    try:
        for backend in options.backends:
            url = fresh_database(backend, options.postgres_url)
            result = crash_run(
                backend,
                url,
                kills=options.kills,
                duration=options.duration,
                writers=options.writers,
                workers=options.workers,
                seed=options.seed,
                directory=VAR / backend,
            )
            report(result)
            results.append(result)
    except BenchError as error:
        print(f"\ncrash test: {error}", file=sys.stderr)
        return 1
    print()
    for result in results:
        print(result.summary())
    failed = [r for r in results if r.problems or r.kills < options.kills]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
