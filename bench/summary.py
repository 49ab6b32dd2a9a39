"""Medians over repetitions; the targets judged on them (bench.targets)."""

import statistics
from dataclasses import fields
from typing import Any

from bench.config import Context
from bench.results import Cell, ChallengeCost, DrainCell, E2eSummary, Ratio, Results, RunInfo
from bench.runs import DrainRun, E2eRun, MatrixRun, Scenario
from bench.targets import targets


def median(values: list[float | None]) -> float | None:
    """The median of the values present, to 3 decimals; None when none is."""
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


def medians[T](kind: type[T], items: list, **given: Any) -> T:
    """kind with every field not given set to the median of that attribute over items."""
    names = [item.name for item in fields(kind) if item.name not in given]
    return kind(**{name: median([getattr(i, name) for i in items]) for name in names}, **given)


def summarise(
    info: RunInfo, context: Context, runs: list[MatrixRun], e2e_runs: list[E2eRun],
    journey: dict | None = None,
) -> Results:  # fmt: skip
    """Every run, the medians, and the targets: everything results.json keeps."""
    results = Results(
        run=info, params=context.params, matrix=matrix_medians(runs),
        ratios=paired_ratios(runs), drain=drain_medians(runs),
        e2e=e2e_medians(e2e_runs) if e2e_runs else None, memory=context.memory.summary(),
        runs=runs, e2e_runs=e2e_runs, challenge=challenge_costs(runs), journey=journey,
        nginx_ratios=paired_ratios(runs, Scenario.INGEST_NGINX, Scenario.BARE_NGINX),
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


def paired_ratios(
    runs: list[MatrixRun], ingest: Scenario = Scenario.INGEST_ONLY,
    bare: Scenario = Scenario.BARE_FLASK,
) -> dict[int, Ratio]:  # fmt: skip
    """ingest over bare per concurrency (by default ingest only over bare Flask, both
    direct), each repetition's run over the bare run of the same repetition."""
    rps = {(r.scenario, r.concurrency, r.repetition): r.rps for r in runs}
    ratios: dict[int, list[float]] = {}
    for (scenario, c, rep), value in rps.items():
        ceiling = rps.get((bare, c, rep))
        if scenario is ingest and ceiling:
            ratios.setdefault(c, []).append(value / ceiling)
    return {c: Ratio(median(v), [round(x, 3) for x in v]) for c, v in ratios.items()}


def challenge_costs(runs: list[MatrixRun]) -> dict[int, ChallengeCost]:
    """(b) + challenge beside (b), per concurrency the challenge ran at; ratios and the added
    CPU paired by repetition."""
    plain = {(r.concurrency, r.repetition): r for r in runs if r.scenario is Scenario.INGEST_ONLY}
    by_c: dict[int, list[tuple[MatrixRun, MatrixRun | None]]] = {}
    for run in runs:
        if run.scenario is Scenario.INGEST_CHALLENGE:
            pair = (run, plain.get((run.concurrency, run.repetition)))
            by_c.setdefault(run.concurrency, []).append(pair)
    return {c: _challenge_cost(pairs) for c, pairs in by_c.items()}


def _challenge_cost(pairs: list[tuple[MatrixRun, MatrixRun | None]]) -> ChallengeCost:
    ours = [run for run, _ in pairs]
    paired = [(run, plain) for run, plain in pairs if plain is not None]
    cpu = [(run.web_cpu_ms_per_request, plain.web_cpu_ms_per_request) for run, plain in paired]
    return ChallengeCost(
        plain_accepted_rps=median([plain.accepted_rps for _, plain in paired]),
        challenge_accepted_rps=median([run.accepted_rps for run in ours]),
        accepted_ratio=median([_over(r.accepted_rps, p.accepted_rps) for r, p in paired]),
        plain_web_cpu_ms=median([plain for _, plain in cpu]),
        challenge_web_cpu_ms=median([run.web_cpu_ms_per_request for run in ours]),
        web_cpu_ratio=median([_over(ms, plain) for ms, plain in cpu]),
        web_cpu_added_ms=median([_minus(ms, plain) for ms, plain in cpu]),
        non202=sum(run.non202 for run in ours), unsolved=sum(run.unsolved for run in ours),
        socket_errors=sum(run.socket_errors for run in ours), runs=len(ours),
    )  # fmt: skip


def _over(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def _minus(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


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
