"""Medians over repetitions, and the benchmark's targets with PASS/FAIL."""

import statistics
from dataclasses import fields
from typing import Any

from bench.config import Context
from bench.results import Cell, DrainCell, E2eSummary, Ratio, Results, RunInfo, Target
from bench.runs import LANDING_SCENARIOS, DrainRun, E2eRun, MatrixRun, Scenario

P99_TARGET_MS = 50.0
RATIO_TARGET = 0.80
PERSISTED_TARGET_RPS = 2_000.0
P99_CONCURRENCY = 256


def median(values: list[float | None]) -> float | None:
    """The median of the values present, to 3 decimals; None when none is."""
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


def medians[T](kind: type[T], items: list, **given: Any) -> T:
    """kind with every field not given set to the median of that attribute over items."""
    names = [item.name for item in fields(kind) if item.name not in given]
    return kind(**{name: median([getattr(i, name) for i in items]) for name in names}, **given)


def summarise(
    info: RunInfo, context: Context, runs: list[MatrixRun], e2e_runs: list[E2eRun]
) -> Results:
    """Every run, the medians, and the targets: everything results.json keeps."""
    results = Results(
        run=info, params=context.params, matrix=matrix_medians(runs),
        ratios=paired_ratios(runs), drain=drain_medians(runs),
        e2e=e2e_medians(e2e_runs) if e2e_runs else None, memory=context.memory.summary(),
        runs=runs, e2e_runs=e2e_runs,
    )  # fmt: skip
    results.targets = targets(results)
    return results


def matrix_medians(runs: list[MatrixRun]) -> dict[Scenario, dict[int, Cell]]:
    """scenario -> concurrency -> medians (errors are totals: one is already too many)."""
    table: dict[Scenario, dict[int, list[MatrixRun]]] = {}
    for run in runs:
        table.setdefault(run.scenario, {}).setdefault(run.concurrency, []).append(run)
    return {s: {c: _cell(cell_runs) for c, cell_runs in by_c.items()} for s, by_c in table.items()}


def _cell(runs: list[MatrixRun]) -> Cell:
    wrk = median([_ms(r.wrk_cpu_s, r.requests) for r in runs])
    return medians(
        Cell, runs, machine_busy_cores=median([r.cpu_s["machine_busy_cores"] for r in runs]),
        non2xx=sum(r.non2xx for r in runs), socket_errors=sum(r.socket_errors for r in runs),
        runs=len(runs), cpu_ms_per_request={**_cpu_ms(runs, "requests"), "wrk": wrk},
    )  # fmt: skip


def _cpu_ms(items: list[MatrixRun] | list[DrainRun], per: str) -> dict[str, float | None]:
    """Median CPU milliseconds per request (or row: `per` names the count) of each tree."""
    names = [name for name in items[0].cpu_s if name != "machine_busy_cores"]
    return {n: median([_ms(i.cpu_s.get(n), getattr(i, per)) for i in items]) for n in names}


def _ms(seconds: float | None, count: int) -> float | None:
    return None if seconds is None or not count else seconds * 1000 / count


def paired_ratios(runs: list[MatrixRun]) -> dict[int, Ratio]:
    """Ingest only over bare Flask per concurrency, each repetition's over the run before it."""
    rps = {(r.scenario, r.concurrency, r.repetition): r.rps for r in runs}
    ratios: dict[int, list[float]] = {}
    for (scenario, c, rep), value in rps.items():
        bare = rps.get((Scenario.BARE_FLASK, c, rep))
        if scenario is Scenario.INGEST_ONLY and bare:
            ratios.setdefault(c, []).append(value / bare)
    return {c: Ratio(median(v), [round(x, 3) for x in v]) for c, v in ratios.items()}


def drain_medians(runs: list[MatrixRun]) -> dict[int, DrainCell]:
    """Drain only, per concurrency of the ingest-only run that left the backlog."""
    by_c: dict[int, list[DrainRun]] = {}
    for run in runs:
        if run.drain:
            by_c.setdefault(run.concurrency, []).append(run.drain)
    return {c: _drain_cell(drains) for c, drains in by_c.items()}


def _drain_cell(drains: list[DrainRun]) -> DrainCell:
    return medians(
        DrainCell, drains, all_drained=all(d.drained for d in drains), runs=len(drains),
        cpu_ms_per_row=_cpu_ms(drains, "timed_rows"),
    )  # fmt: skip


def e2e_medians(reps: list[E2eRun]) -> E2eSummary:
    """Medians of the end-to-end repetitions; the worst missing count; what held for all."""
    return medians(
        E2eSummary, reps, max_missing=max(rep.missing for rep in reps),
        all_drained=all(rep.drained for rep in reps),
        kept_up_runs=sum(rep.kept_up for rep in reps), runs=len(reps),
    )  # fmt: skip


def targets(results: Results) -> list[Target]:
    """Each target: what it asks, what we measured (medians), PASS or FAIL."""
    found = [
        _target(
            f"(b)/(a) >= {RATIO_TARGET:.0%} at c={c}", r.median, _at_least(r.median, RATIO_TARGET)
        )
        for c, r in sorted(results.ratios.items())
    ]
    found += _latency_targets(results)
    found += _error_targets(results)
    found.append(_promise_target(results.runs))
    found += _drain_targets(results)
    if results.e2e:
        found += _e2e_targets(results.e2e, results.e2e_runs)
    return found


def _latency_targets(results: Results) -> list[Target]:
    """p99 of (b) and (c) at c=256, or at the highest concurrency measured if not 256."""
    levels = sorted({c for s in LANDING_SCENARIOS for c in results.matrix.get(s, {})})
    if not levels:
        return []
    top = P99_CONCURRENCY if P99_CONCURRENCY in levels else levels[-1]
    found = []
    for scenario in LANDING_SCENARIOS:
        cell = results.cell(scenario, top)
        p99 = cell.p99_ms if cell else None
        ok = p99 is not None and p99 <= P99_TARGET_MS
        found.append(_target(f"({scenario}) p99 <= {P99_TARGET_MS:.0f} ms at c={top}", p99, ok))
    return found


def _error_targets(results: Results) -> list[Target]:
    """Not one non-2xx answer or socket error from landing, in the matrix or end to end."""
    ours = [cell for s in LANDING_SCENARIOS for cell in results.matrix.get(s, {}).values()]
    loads = [*ours, *(rep.wrk for rep in results.e2e_runs)]
    non2xx = sum(load.non2xx for load in loads)
    socket = sum(load.socket_errors for load in loads)
    return [
        _target("0 non-2xx from POST /api/register/ ((b), (c), e2e)", non2xx, non2xx == 0),
        _target("0 socket errors ((b), (c), e2e)", socket, socket == 0),
    ]


def _promise_target(runs: list[MatrixRun]) -> Target:
    """A 202 means RabbitMQ holds it: with no worker, (b)'s queue has every one (or more:
    requests wrk abandoned at the end were still accepted)."""
    short = sum(
        max(0, r.answered_202 - r.registrations_ready_end)
        for r in runs
        if r.scenario is Scenario.INGEST_ONLY
    )
    return _target("(b) every 202 is a message in RabbitMQ (202s not queued)", short, short == 0)


def _drain_targets(results: Results) -> list[Target]:
    """A spike's backlog shrinks: workers alone store faster than the web alone accepts."""
    found = []
    for c, drain in sorted(results.drain.items()):
        cell = results.cell(Scenario.INGEST_ONLY, c)
        ingest, rate = cell.rps if cell else None, drain.rows_per_s
        ok = drain.all_drained and ingest is not None and rate is not None and rate > ingest
        found.append(_target(f"(d) drain-only rows/s > (b) ingest req/s at c={c}", rate, ok))
    return found


def _at_least(value: float | None, floor: float) -> bool:
    return value is not None and value >= floor


def _e2e_targets(e2e: E2eSummary, reps: list[E2eRun]) -> list[Target]:
    persisted = e2e.persisted_during_load_rps
    drain_ok = all(r.kept_up or (r.drain_rps or 0) > r.ingest_rps for r in reps)
    drain = e2e.drain_rps if e2e.drain_rps is not None else "kept up"
    return [
        _target(
            f"e2e persisted >= {PERSISTED_TARGET_RPS:,.0f} rows/s while ingest runs",
            persisted,
            _at_least(persisted, PERSISTED_TARGET_RPS),
        ),
        _target("e2e drain rate > ingest rate (every run)", drain, drain_ok),
        _target(
            "e2e missing rows = 0 (every run drained)",
            e2e.max_missing,
            e2e.max_missing == 0 and e2e.all_drained,
        ),
    ]


def _target(name: str, measured: Any, ok: bool) -> Target:
    return Target(name, measured, "PASS" if ok else "FAIL")
