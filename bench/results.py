"""What a run measured and what it is judged by: scenarios, measurements, the targets and
their outcomes, and the runs of each backend and scale size."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.common import BACKENDS
from bench.wrk import Load, WrkResult


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    load: Load
    baseline: str | None = None  # the nginx file it is compared with
    unit: str = "req/s"


@dataclass
class Measurement:
    scenario: Scenario
    result: WrkResult
    command: str
    baseline_rps: float | None = None

    @property
    def key(self) -> str:
        return self.scenario.key

    @property
    def rps(self) -> float:
        return self.result.rps

    @property
    def ratio(self) -> float | None:
        return self.rps / self.baseline_rps if self.baseline_rps else None

    @property
    def p50_ms(self) -> float:
        return self.result.p50_ms

    @property
    def p99_ms(self) -> float:
        return self.result.p99_ms


@dataclass(frozen=True)
class Target:
    """A target of the issue: `metric` of scenario `key` compared with `threshold`."""

    text: str
    key: str
    metric: str  # a Measurement property, or "slowdown" in scale mode
    op: str  # ">=" or "<="
    threshold: float
    backends: tuple[str, ...] = BACKENDS
    size: int | None = None  # scale targets: the corpus size it is set at

    def met(self, value: float) -> bool:
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


@dataclass(frozen=True)
class Outcome:
    target: Target
    backend: str
    value: float | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        return "met" if self.target.met(self.value) else "**missed**"


TARGETS = (
    Target("Scenario 1 ≥ 0.2x nginx", "1", "ratio", ">=", 0.2),
    Target("Scenario 2 ≥ 0.3x nginx", "2", "ratio", ">=", 0.3),
    Target("Scenario 3 ≥ 0.1x nginx", "3", "ratio", ">=", 0.1),
    Target("Scenario 3 (section) ≥ 0.1x nginx", "3s", "ratio", ">=", 0.1),
    Target("Scenario 3 (tag) ≥ 0.1x nginx", "3t", "ratio", ">=", 0.1),
    Target("Scenario 6 ≥ 300 articles/s", "6", "rps", ">=", 300, backends=("postgresql",)),
    Target("Scenario 1 p99 under scenario 6's load ≤ 50 ms", "7", "p99_ms", "<=", 50),
)
SCALE_TARGETS = (
    Target("Scenario 4 p50 ≤ 20 ms at 1M articles", "4", "p50_ms", "<=", 20, size=1_000_000),
    Target("Scenario 1 at 1M within 1.5x of 10k", "1", "slowdown", "<=", 1.5, size=1_000_000),
    Target("Scenario 3 at 1M within 1.5x of 10k", "3", "slowdown", "<=", 1.5, size=1_000_000),
)
SCALE_BASE_SIZE = 10_000


def evaluate(
    targets: Sequence[Target], backend: str, measurements: Sequence[Measurement]
) -> list[Outcome]:
    """Each target that applies to `backend`, with the measured value (None if missing)."""
    by_key = {m.key: m for m in measurements}
    outcomes = []
    for target in targets:
        if backend not in target.backends:
            continue
        measurement = by_key.get(target.key)
        value = getattr(measurement, target.metric) if measurement else None
        outcomes.append(Outcome(target, backend, value))
    return outcomes


def slowdown(base: Measurement | None, large: Measurement | None) -> float | None:
    """How many times fewer requests per second the larger archive serves."""
    if base is None or large is None or not large.rps:
        return None
    return base.rps / large.rps


def evaluate_scale(runs: Sequence["ScaleRun"]) -> list[Outcome]:
    by_size = {run.size: {m.key: m for m in run.measurements} for run in runs}
    outcomes = []
    for target in SCALE_TARGETS:
        at_size = by_size.get(target.size or 0, {})
        if target.metric == "slowdown":
            base = by_size.get(SCALE_BASE_SIZE, {})
            value = slowdown(base.get(target.key), at_size.get(target.key))
        else:
            measurement = at_size.get(target.key)
            value = getattr(measurement, target.metric) if measurement else None
        outcomes.append(Outcome(target, "postgresql", value))
    return outcomes


@dataclass
class BackendRun:
    backend: str
    articles: int
    database_version: str
    load_seconds: float
    measurements: list[Measurement] = field(default_factory=list)
    nginx: list[Measurement] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


@dataclass
class ScaleRun:
    size: int
    database_version: str
    load_seconds: float | None  # None: an earlier run's corpus, reused
    measurements: list[Measurement] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
