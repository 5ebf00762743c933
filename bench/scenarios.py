"""The scenarios: what they ask for (found through the API), the loads of scenarios 1 to 7,
measuring them with nginx as the baseline, and a whole run per backend or scale size."""

import argparse
import io
import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import httpx
from PIL import Image

from bench.common import BACKEND_NAMES, BenchError, log
from bench.databases import (
    Newsdesk,
    corpus_size,
    existing_postgres,
    fresh_postgres,
    fresh_sqlite,
    sized_url,
)
from bench.nginx import nginx_serving
from bench.processes import Tools, shell_line
from bench.report import SCENARIO_HEADER, scenario_row
from bench.results import BackendRun, Measurement, ScaleRun, Scenario
from bench.wrk import (
    CONNECTIONS,
    SCALE_SEARCH_CONNECTIONS,
    SCALE_SEARCH_TIMEOUT,
    THREADS,
    Load,
    run_wrk,
)


@dataclass(frozen=True)
class Fixture:
    """What the scenarios ask for, found through the API."""

    slug: str
    etag: str
    section: str
    tag: str
    words: tuple[str, str]


STOPWORDS = frozenset(
    ("after", "amid", "about", "from", "into", "over", "with", "their", "than", "that", "this")
)


def search_words(text: str) -> list[str]:
    """Words of a headline worth searching for: alphabetic, 4+ letters, not stopwords."""
    words = [word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)]
    return [word for word in dict.fromkeys(words) if word not in STOPWORDS]


def busiest(client: httpx.Client, path: str) -> str | None:
    """The section (slug) or tag with the most published articles on the first page of
    /v1/sections or /v1/tags."""
    items = get_json(client, path, {"limit": 100})["data"]
    found = max(items, key=lambda item: item["article_count"]) if items else None
    # A section is named by its slug (its `name` is what readers are shown); a tag by name.
    return (found.get("slug") or found["name"]) if found else None


def get_json(client: httpx.Client, path: str, params: dict | None = None) -> dict:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise BenchError(f"GET {response.url} answered {response.status_code}: {response.text}")
    return response.json()


def discover(base: str) -> Fixture:
    """An article with claims (its slug and ETag), the busiest section and tag, and two
    words of its headline that a search finds."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for summary in get_json(client, "/v1/articles", {"limit": 20})["data"]:
            response = client.get(f"/v1/articles/{summary['slug']}")
            article = response.json()
            if response.status_code == 200 and article.get("claims"):
                break
        else:
            raise BenchError("none of the 20 latest articles has claims: is the corpus loaded?")
        section = busiest(client, "/v1/sections") or article.get("section")
        tag = busiest(client, "/v1/tags") or (article.get("tags") or [None])[0]
        if not section or not tag:
            raise BenchError("the corpus has no sections or no tags")
        words = search_words(article["headline"])
        for pair in itertools.pairwise(words):
            if get_json(client, "/v1/articles", {"q": " ".join(pair)})["data"]:
                return Fixture(article["slug"], response.headers["etag"], section, tag, pair)
    raise BenchError(f"no two words of {article['headline']!r} are found by search")


def feature_an_image(base: str, key: str, slug: str) -> None:
    """Give the article the scenarios read a featured image (a 1600x1200 JPEG upload), as
    front ends' articles have: its JSON then carries the medium with its 13 renditions."""
    picture = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        uploaded = client.post(
            "/v1/media",
            files={"file": ("bench.jpg", out.getvalue(), "image/jpeg")},
            data={"alt": "A gradient for the bench", "caption": "Bench.", "credit": "Newsdesk"},
            headers=headers,
        )
        if uploaded.status_code != 201:
            raise BenchError(f"POST /v1/media answered {uploaded.status_code}: {uploaded.text}")
        featured = {"featured_image": {"id": uploaded.json()["id"]}}
        patched = client.patch(f"/v1/articles/{slug}", json=featured, headers=headers)
        if patched.status_code != 200:
            raise BenchError(f"PATCH {slug} answered {patched.status_code}: {patched.text}")


def read_scenarios(base: str, fixture: Fixture) -> list[Scenario]:
    """Scenarios 1 to 5."""
    article = f"{base}/v1/articles/{fixture.slug}"

    def articles(**params: str) -> str:
        return f"{base}/v1/articles?{urlencode(params)}"

    return [
        Scenario("1", "GET /v1/articles/{slug}", Load(article), "article"),
        Scenario(
            "2",
            "GET /v1/articles/{slug}, If-None-Match → 304",
            Load(article, "expect.lua", (f"If-None-Match: {fixture.etag}",), expect=304),
            "article",
        ),
        Scenario("3", "GET /v1/articles?limit=20", Load(articles(limit="20")), "list"),
        Scenario(
            "3s",
            f"… &section={fixture.section}",
            Load(articles(limit="20", section=fixture.section)),
            "list",
        ),
        Scenario(
            "3t", f"… &tag={fixture.tag}", Load(articles(limit="20", tag=fixture.tag)), "list"
        ),
        Scenario(
            "4",
            f"GET /v1/articles?q={'+'.join(fixture.words)}",
            Load(articles(q=" ".join(fixture.words))),
            "list",
        ),
        Scenario("5r", "GET /v1/feeds/rss", Load(f"{base}/v1/feeds/rss"), "list"),
        Scenario("5c", "GET /v1/changes", Load(f"{base}/v1/changes"), "list"),
    ]


def post_load(base: str, key: str, token: str, threads: int, connections: int) -> Load:
    """POST /v1/articles with 8 claims; `token` makes this run's slugs unique."""
    return Load(
        f"{base}/v1/articles",
        "post_article.lua",
        args=(token,),
        expect=201,
        threads=threads,
        connections=connections,
        api_key=key,
    )


def write_scenario(base: str, key: str, token: str) -> Scenario:
    """Scenario 6: write throughput."""
    load = post_load(base, key, token, THREADS, CONNECTIONS)
    return Scenario("6", "POST /v1/articles, 8 claims", load, None, "articles/s")


def mixed_scenarios(base: str, fixture: Fixture, key: str, token: str) -> tuple[Scenario, Scenario]:
    """Scenario 7: the article read (one wrk, -t1 -c16) while articles are written (another
    wrk, -t1 -c16)."""
    half = CONNECTIONS // 2
    read = Load(f"{base}/v1/articles/{fixture.slug}", threads=1, connections=half)
    write = post_load(base, key, token, 1, half)
    return (
        Scenario("7", "GET /v1/articles/{slug} during writes", read, "article"),
        Scenario("7w", "POST /v1/articles meanwhile", write, None, "articles/s"),
    )


@dataclass
class Bench:
    """Runs scenarios against one server, printing each row as it comes."""

    tools: Tools
    duration: float
    warmup: float
    baselines: dict[str, float] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)

    def measure(self, *scenarios: Scenario, warm: bool = True) -> list[Measurement]:
        """Warm up each scenario on its own (unless told not to), then measure them all at
        the same time."""
        loads = [scenario.load for scenario in scenarios]
        if warm and self.warmup > 0:
            for load in loads:
                run_wrk(self.tools, [load], self.warmup, check=False)
        results = run_wrk(self.tools, loads, self.duration)
        measurements = []
        for scenario, result in zip(scenarios, results, strict=True):
            command = shell_line(scenario.load.command(self.tools.wrk, self.duration))
            baseline = self.baselines.get(scenario.baseline) if scenario.baseline else None
            measurement = Measurement(scenario, result, command, baseline)
            self.commands.append(command)
            print_row(measurement)
            measurements.append(measurement)
        return measurements


def print_header(title: str) -> None:
    print(f"\n{title}", flush=True)
    print(console_row(list(SCENARIO_HEADER)), flush=True)


def console_row(cells: Sequence[str]) -> str:
    widths = (50, 18, 15, 9, 9, 9)
    first, *rest = cells
    return f"{first:<{widths[0]}}" + "".join(
        f"{cell:>{width}}" for cell, width in zip(rest, widths[1:], strict=True)
    )


def print_row(measurement: Measurement) -> None:
    print(console_row(scenario_row(measurement)), flush=True)


def fetch(url: str) -> bytes:
    """The body exactly as wrk gets it (no compression asked for)."""
    response = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=30)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return response.content


def measure_nginx(
    bench: Bench, files: dict[str, bytes], labels: dict[str, str], workers: int
) -> list[Measurement]:
    """nginx serving the same bytes; records each file's req/s as the baseline."""
    with nginx_serving(bench.tools, files, workers) as base:
        scenarios = [
            Scenario(f"nginx-{name.split('.')[0]}", labels[name], Load(f"{base}/{name}"))
            for name in files
        ]
        measurements = [m for scenario in scenarios for m in bench.measure(scenario)]
    for name, measurement in zip(files, measurements, strict=True):
        bench.baselines[name.split(".")[0]] = measurement.rps
        measurement.baseline_rps = measurement.rps
    return measurements


def run_backend(tools: Tools, backend: str, options: argparse.Namespace) -> BackendRun:
    log(f"{BACKEND_NAMES[backend]}: fresh database")
    database = fresh_sqlite() if backend == "sqlite" else fresh_postgres(options.postgres_url)
    newsdesk = Newsdesk.prepare(tools, database, options.articles)
    key = newsdesk.create_key()
    run = BackendRun(backend, options.articles, database.version, newsdesk.load_seconds)
    bench = Bench(tools, options.duration, options.warmup, commands=newsdesk.commands)
    with newsdesk.serve(options.workers) as base:
        feature_an_image(base, key, discover(base).slug)
        fixture = discover(base)  # the same article, its ETag now with the image
        print_header(f"{BACKEND_NAMES[backend]} {database.version}, {options.articles:,} articles")
        files = {
            "article.json": fetch(f"{base}/v1/articles/{fixture.slug}"),
            "list.json": fetch(f"{base}/v1/articles?limit=20"),
        }
        labels = {
            "article.json": "nginx: the article of 1, from disk",
            "list.json": "nginx: the list of 3, from disk",
        }
        run.nginx = measure_nginx(bench, files, labels, options.workers)
        token = str(int(time.time()))
        for scenario in read_scenarios(base, fixture):
            run.measurements += bench.measure(scenario)
        run.measurements += bench.measure(write_scenario(base, key, f"{token}s6"))
        # Both halves are warm by now (scenarios 1 and 6).
        run.measurements += bench.measure(
            *mixed_scenarios(base, fixture, key, f"{token}s7"), warm=False
        )
    run.commands = bench.commands
    return run


def scale_scenarios(base: str, fixture: Fixture) -> list[Scenario]:
    """Scenarios 1, 3 and 4 (4 with fewer connections, see bench/wrk.py)."""
    chosen = []
    for scenario in read_scenarios(base, fixture):
        if scenario.key == "4":
            load = replace(
                scenario.load,
                threads=1,
                connections=SCALE_SEARCH_CONNECTIONS,
                timeout=SCALE_SEARCH_TIMEOUT,
            )
            label = f"{scenario.label} ({SCALE_SEARCH_CONNECTIONS} connections)"
            scenario = replace(scenario, load=load, label=label)
        if scenario.key in {"1", "3", "4"}:
            chosen.append(scenario)
    return chosen


def run_scale_size(tools: Tools, size: int, options: argparse.Namespace) -> ScaleRun:
    url = sized_url(options.postgres_url, size)
    loaded = options.reuse and corpus_size(url) == size
    log(f"PostgreSQL at {size:,} articles: {'reusing' if loaded else 'fresh'} {url}")
    database = existing_postgres(url) if loaded else fresh_postgres(url)
    newsdesk = Newsdesk.prepare(tools, database, None if loaded else size)
    run = ScaleRun(size, database.version, None if loaded else newsdesk.load_seconds)
    bench = Bench(tools, options.duration, options.warmup, commands=newsdesk.commands)
    with newsdesk.serve(options.workers) as base:
        fixture = discover(base)
        print_header(f"PostgreSQL, {size:,} articles")
        for scenario in scale_scenarios(base, fixture):
            run.measurements += bench.measure(scenario)
    run.commands = bench.commands
    return run
