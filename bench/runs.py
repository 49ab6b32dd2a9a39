"""What one measurement saw: the scenarios, and a record per matrix run, drain and e2e run
(harness.wrk.LoadRun is one wrk run)."""

from dataclasses import dataclass
from enum import StrEnum

from harness.wrk import LoadRun


class Scenario(StrEnum):
    """What a matrix run measures. Its value, the letter, is how results.json and the report
    name it; the label and colour are the report's and the plot's."""

    def __new__(cls, letter: str, label: str, colour: str) -> "Scenario":
        member = str.__new__(cls, letter)
        member._value_ = letter
        member.label, member.colour = label, colour
        return member

    BARE_FLASK = "a", "(a) bare Flask", "#9e9e9e"  # parse JSON, 202, no I/O: the ceiling
    INGEST_ONLY = "b", "(b) ingest only", "#1f77b4"  # POST /api/register/, workers stopped
    # (a) and (b) through our nginx.conf, unchanged, in front of the same web (harness.door)
    BARE_NGINX = "a+nginx", "(a) bare Flask via nginx", "#616161"
    INGEST_NGINX = "b+nginx", "(b) ingest only via nginx", "#17becf"
    # (b) with CHALLENGE_MODE=always, each request carrying a fresh solution (bench/solutions.py)
    INGEST_CHALLENGE = "b+challenge", "(b) + challenge", "#9467bd"
    INGEST_AND_DRAIN = "c", "(c) ingest + drain", "#ff7f0e"  # the same, workers running
    DRAIN_ONLY = "d", "(d) drain only (rows/s)", "#2ca02c"  # workers alone on (b)'s backlog


# In the order each concurrency runs them: each via nginx right after its direct run.
MATRIX = (Scenario.BARE_FLASK, Scenario.BARE_NGINX, Scenario.INGEST_ONLY, Scenario.INGEST_NGINX,
          Scenario.INGEST_AND_DRAIN, Scenario.INGEST_CHALLENGE)  # fmt: skip
VIA_NGINX = frozenset({Scenario.BARE_NGINX, Scenario.INGEST_NGINX})
# Landing's sign-ups without the challenge: every answer must be a 202.
LANDING_SCENARIOS = (Scenario.INGEST_ONLY, Scenario.INGEST_NGINX, Scenario.INGEST_AND_DRAIN)
# No worker runs: every message the web published is still in the queue at the end.
WITHOUT_WORKERS = frozenset({Scenario.INGEST_ONLY, Scenario.INGEST_NGINX,
                             Scenario.INGEST_CHALLENGE})  # fmt: skip
CpuSeconds = dict[str, float | None]  # per process tree, plus "machine_busy_cores"


# What a persisted sign-up costs the stack: every tree we measure except the load generator
# (wrk's CPU is LoadRun.wrk_cpu_s; an entry named "wrk" is left out all the same) and the
# MongoDB stand-in, which costs far more than mongod would. These must all be present.
STACK_ROOTS = ("web", "worker-registrations", "worker-attempts", "rabbitmq", "redis",
               "postgresql")  # fmt: skip
NOT_THE_STACK = frozenset({"wrk", "mongo-standin", "machine_busy_cores"})


def ms_per(seconds: float | None, count: int) -> float | None:
    """CPU milliseconds per item, rounded; None when there were no items (or no seconds)."""
    return round(seconds * 1000 / count, 3) if count and seconds is not None else None


def stack_cpu_s(cpu_s: CpuSeconds, required: tuple[str, ...] = STACK_ROOTS) -> float | None:
    """CPU seconds of every tree but wrk and the stand-in; None if a required tree is
    missing or restarted meanwhile (a sum without it would flatter us)."""
    if any(cpu_s.get(name) is None for name in required):
        return None
    kept = [v for name, v in cpu_s.items() if name not in NOT_THE_STACK]
    return None if None in kept else round(sum(kept), 3)


@dataclass
class DrainRun:
    """The workers alone on a backlog the web accepted while no worker ran.

    backlog is in sign-ups (rows to expect), not messages: the web batches them.
    """

    backlog: int
    rows: int
    drained: bool
    timed_rows: int
    seconds: float
    rows_per_s: float
    worker_cpu_ms_per_row: float | None
    cpu_s: CpuSeconds


@dataclass
class MatrixRun(LoadRun):
    """A measured wrk run of one scenario at one concurrency."""

    drain: DrainRun | None  # ingest only: what the workers then did with its backlog
    scenario: Scenario
    concurrency: int
    cpu_s: CpuSeconds
    answered_202: int  # warm-up and run together
    registrations_ready_end: int  # messages (batches of sign-ups), for information
    web_cpu_ms_per_request: float | None
    repetition: int
    # With workers running ((c)): rows PostgreSQL gained during the measured run, per second,
    # and the stack's CPU (stack_cpu_s) per row. None in other scenarios and older runs.
    persisted_rows: int | None = None
    persisted_rps: float | None = None
    total_cpu_ms_per_row: float | None = None
    # Via nginx: nginx's CPU (master and workers) per request, apart from the web's.
    nginx_cpu_ms_per_request: float | None = None

    @property
    def signups_per_message(self) -> float | None:
        """Sign-ups the web put in each message it published: its 202s (warm-up included)
        over the messages still ready at the end; None where workers consumed them (or
        there were none)."""
        if self.scenario not in WITHOUT_WORKERS or not self.registrations_ready_end:
            return None
        return round(self.answered_202 / self.registrations_ready_end, 2)


@dataclass
class E2eRun:
    """One end-to-end repetition: sign-ups through the stack until PostgreSQL has them."""

    accepted: int  # 202s in gunicorn's access log
    wrk_2xx: int
    rows: int
    missing: int
    drained: bool
    load_s: float
    ingest_rps: float
    persisted_during_load_rps: float
    backlog_at_load_end: int
    drain_s: float | None  # None: kept up, or never drained
    drain_rps: float | None
    kept_up: bool
    worker_cpu_ms_per_row: float | None
    web_cpu_ms_per_request: float | None
    mongo_documents: int | None
    attempts_ready: int
    mongo_docs_per_s: float | None
    cpu_s: CpuSeconds
    wrk: LoadRun
    samples: list[tuple[float, int]]  # (seconds since load started, rows)
    total_cpu_ms_per_row: float | None = None  # stack_cpu_s over load and drain, per row
