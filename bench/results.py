"""What results.json holds: the run's setting, every run, the medians and the targets."""

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from bench.config import Params
from bench.runs import CpuSeconds, E2eRun, MatrixRun, Scenario
from harness.meters import RolePeak

# Absent from results.json rather than null, as they always were.
OMITTED_WHEN_NONE = frozenset({"drain", "e2e_error", "journey", "journey_error"})


@dataclass
class RunInfo:
    """Date, command, machine, server settings: what the README quotes beside the numbers."""

    date_utc: str
    command: str
    machine: str
    web: str
    wrk_threads: int
    repeat: int
    duration_s: int
    warmup_s: int
    signups: int
    e2e_concurrency: int
    mongo: str
    loadavg_before: str
    background_busy_cores_before: float | None = None
    e2e_error: str | None = None
    journey_error: str | None = None
    background_busy_cores_after: float | None = None
    loadavg_after: str = ""


@dataclass
class Cell:
    """One scenario at one concurrency: medians, except errors, which are totals."""

    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    web_cpu_ms_per_request: float | None
    machine_busy_cores: float | None
    non2xx: int
    socket_errors: int
    runs: int
    cpu_ms_per_request: CpuSeconds
    persisted_rps: float | None = None  # (c) only: rows stored during the run, per second
    total_cpu_ms_per_row: float | None = None  # (c) only: the stack's CPU per row stored
    nginx_cpu_ms_per_request: float | None = None  # via nginx only
    signups_per_message: float | None = None  # without workers only (MatrixRun's)


@dataclass
class Ratio:
    """Ingest-only req/s over the bare run's of its repetition (direct, or both via nginx),
    per repetition, and the median."""

    median: float | None
    runs: list[float]


@dataclass
class ChallengeCost:
    """(b) + challenge beside (b) at one concurrency: what verifying a solution per sign-up
    costs the web. Medians; each ratio and difference is paired by repetition (the challenge
    run over the (b) run of its own repetition), then its median taken."""

    plain_accepted_rps: float | None  # (b): 202s per second
    challenge_accepted_rps: float | None
    accepted_ratio: float | None  # challenge over plain
    plain_web_cpu_ms: float | None  # web CPU per request (each a sign-up when all are 202s)
    challenge_web_cpu_ms: float | None
    web_cpu_ratio: float | None
    web_cpu_added_ms: float | None  # challenge minus plain
    non202: int  # totals over the challenge runs: refused solutions show here
    unsolved: int  # of which sent without one (the run outran its solutions)
    socket_errors: int
    runs: int


@dataclass
class DrainCell:
    """Medians of the drains after the ingest-only runs at one concurrency."""

    backlog: float | None
    rows_per_s: float | None
    seconds: float | None
    worker_cpu_ms_per_row: float | None
    all_drained: bool
    runs: int
    cpu_ms_per_row: CpuSeconds


@dataclass
class E2eSummary:
    """Medians of the end-to-end repetitions, and what must hold for every one."""

    accepted: float | None
    rows: float | None
    missing: float | None
    ingest_rps: float | None
    persisted_during_load_rps: float | None
    backlog_at_load_end: float | None
    drain_s: float | None
    drain_rps: float | None
    worker_cpu_ms_per_row: float | None
    web_cpu_ms_per_request: float | None
    mongo_documents: float | None
    attempts_ready: float | None
    mongo_docs_per_s: float | None
    max_missing: int
    all_drained: bool
    kept_up_runs: int
    runs: int
    total_cpu_ms_per_row: float | None = None


@dataclass
class Target:
    """What a target asks, what we measured (a median), and PASS or FAIL."""

    target: str
    measured: Any
    result: str


@dataclass
class Results:
    """Everything results.json keeps."""

    run: RunInfo
    params: Params
    matrix: dict[Scenario, dict[int, Cell]]
    ratios: dict[int, Ratio]  # (b)/(a), straight at gunicorn
    drain: dict[int, DrainCell]
    e2e: E2eSummary | None
    memory: dict[str, RolePeak]
    targets: list[Target] = field(default_factory=list)
    runs: list[MatrixRun] = field(default_factory=list)
    challenge: dict[int, ChallengeCost] = field(default_factory=dict)
    e2e_runs: list[E2eRun] = field(default_factory=list)
    # bench.journey's section (its settings and every run, as journey.json holds them).
    journey: dict | None = None
    # (b)/(a) both via nginx, paired as ratios are; a results.json from before has none.
    nginx_ratios: dict[int, Ratio] = field(default_factory=dict)

    def cell(self, scenario: Scenario, concurrency: int) -> Cell | None:
        """The medians of scenario at concurrency, if it was measured."""
        return self.matrix.get(scenario, {}).get(concurrency)

    def to_json(self) -> dict:
        """What json.dumps writes to results.json."""
        return asdict(self, dict_factory=_without_absent)

    @classmethod
    def from_json(cls, data: dict) -> "Results":
        """Results back from what to_json made of them (a results.json read back)."""
        return _load(cls, data)


def _without_absent(pairs: list[tuple[str, Any]]) -> dict:
    return {k: v for k, v in pairs if v is not None or k not in OMITTED_WHEN_NONE}


def _load(kind: Any, value: Any) -> Any:
    """value, a JSON type, as kind: dataclasses, their lists and dicts, enums, int keys."""
    origin, args = get_origin(kind), get_args(kind)
    if value is None:
        return None
    if origin in (Union, UnionType):
        return _load(next(arg for arg in args if arg is not type(None)), value)
    if origin is list:
        return [_load(args[0], item) for item in value]
    if origin is tuple:
        return tuple(value)
    if origin is dict:
        return {_load(args[0], k): _load(args[1], v) for k, v in value.items()}
    if is_dataclass(kind):
        hints = get_type_hints(kind)  # a key results.json leaves out is None
        return kind(**{f.name: _load(hints[f.name], value.get(f.name)) for f in fields(kind)})
    if kind is int or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind(value)  # JSON's keys are strings; a scenario is its letter
    return value
