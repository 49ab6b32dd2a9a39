"""What `make bench-scaling` keeps: runs by process count and by table size, their medians
and the Markdown table."""

from dataclasses import dataclass, field

from bench.report import _table
from bench.results import RunInfo
from bench.runs import CpuSeconds, DrainRun, ms_per
from bench.summary import median, medians


@dataclass
class ScalingRun:
    """One (c)-like run: web and worker process counts, workers running, c=64."""

    web_processes: int
    worker_processes: int
    repetition: int
    rps: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    persisted_rps: float
    total_cpu_ms_per_row: float | None  # every tree but wrk and mongo-standin, per row
    web_cpu_ms_per_request: float | None
    worker_cpu_ms_per_row: float | None
    cpu_s: CpuSeconds


@dataclass
class PreloadDrain:
    """Drain only with `preloaded` rows in the table before the backlog was accepted."""

    preloaded: int
    duplicates: int  # backlog sign-ups whose phone was already a row
    repetition: int
    drain: DrainRun


@dataclass
class ScalingCell:
    """Medians of the runs at one pair of process counts (errors: totals)."""

    web_processes: int
    worker_processes: int
    runs: int
    non2xx: int
    socket_errors: int
    rps: float | None = None
    p99_ms: float | None = None
    persisted_rps: float | None = None
    total_cpu_ms_per_row: float | None = None
    web_cpu_ms_per_request: float | None = None
    worker_cpu_ms_per_row: float | None = None


@dataclass
class DrainScaled:
    """Medians of the drains at one table size and share of duplicates."""

    preloaded: int
    duplicates: int
    runs: int
    all_drained: bool
    backlog: float | None = None
    rows_per_s: float | None = None  # new rows only
    worker_cpu_ms_per_row: float | None = None
    signups_per_s: float | None = None  # backlog sign-ups handled, duplicates included
    worker_cpu_ms_per_signup: float | None = None


@dataclass
class Scaling:
    """Everything scaling.json keeps."""

    run: RunInfo
    loads: list[ScalingCell]
    drains: list[DrainScaled]
    load_runs: list[ScalingRun] = field(default_factory=list)
    drain_runs: list[PreloadDrain] = field(default_factory=list)


def summarise(info: RunInfo, runs: list[ScalingRun], drains: list[PreloadDrain]) -> Scaling:
    """Medians per process counts and per table size, in the order first measured."""
    by_pair: dict[tuple[int, int], list[ScalingRun]] = {}
    for run in runs:
        by_pair.setdefault((run.web_processes, run.worker_processes), []).append(run)
    loads = [
        medians(ScalingCell, group, web_processes=web, worker_processes=workers,
                runs=len(group), non2xx=sum(r.non2xx for r in group),
                socket_errors=sum(r.socket_errors for r in group))
        for (web, workers), group in by_pair.items()
    ]  # fmt: skip
    by_size: dict[tuple[int, int], list[DrainRun]] = {}
    for item in drains:
        by_size.setdefault((item.preloaded, item.duplicates), []).append(item.drain)
    return Scaling(info, loads, [_drain(*key, group) for key, group in by_size.items()],
                   runs, drains)  # fmt: skip


def _drain(preloaded: int, duplicates: int, group: list[DrainRun]) -> DrainScaled:
    return DrainScaled(
        preloaded, duplicates, len(group), all(d.drained for d in group),
        median([d.backlog for d in group]), median([d.rows_per_s for d in group]),
        median([d.worker_cpu_ms_per_row for d in group]),
        median([d.backlog / d.seconds if d.seconds else None for d in group]),
        median([ms_per(d.cpu_s.get("worker-registrations"), d.backlog) for d in group]),
    )  # fmt: skip


def markdown(scaling: Scaling) -> str:
    """Two tables: cost by process count with workers running, drain by table size."""
    run = scaling.run
    loads = [[c.web_processes, c.worker_processes, c.rps, c.persisted_rps,
              c.total_cpu_ms_per_row, c.web_cpu_ms_per_request, c.worker_cpu_ms_per_row,
              c.p99_ms, c.non2xx, c.socket_errors] for c in scaling.loads]  # fmt: skip
    drains = [[d.preloaded, d.duplicates, d.backlog, d.signups_per_s, d.rows_per_s,
               d.worker_cpu_ms_per_signup, d.worker_cpu_ms_per_row,
               "yes" if d.all_drained else "**no**"] for d in scaling.drains]  # fmt: skip
    return "\n".join([
        f"# landing scaling, {run.date_utc}", "",
        f"`{run.command}` on {run.machine}. Medians of {run.repeat} runs of {run.duration_s} s "
        f"(+{run.warmup_s} s warm-up), wrk -t{run.wrk_threads} -c64 on the same cores.", "",
        "## With workers running, by process count", "",
        *_table(["web processes", "worker processes", "sign-ups/s", "persisted rows/s",
                 "stack CPU ms/row", "web CPU ms/req", "worker CPU ms/row", "p99 ms",
                 "non-2xx", "socket errors"], loads), "",
        "Stack CPU: every process tree but wrk and mongo-standin, per row stored.", "",
        "## Drain only, by rows already in `registrations`", "",
        *_table(["rows before", "duplicates in backlog", "backlog (sign-ups)", "sign-ups/s",
                 "new rows/s", "worker CPU ms/sign-up", "worker CPU ms/new row", "drained"],
                drains), "",
        f"Backlog: {run.signups:,} sign-ups accepted with no worker running; duplicates are "
        "backlog phones already stored before it was accepted (the duplicate path).", "",
    ])  # fmt: skip
