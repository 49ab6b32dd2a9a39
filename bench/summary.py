"""Medians over repetitions, and the issue's targets with PASS/FAIL."""

import statistics
from typing import Any

P99_TARGET_MS = 50.0
RATIO_TARGET = 0.80
PERSISTED_TARGET_RPS = 2_000.0
P99_CONCURRENCY = 256


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


def matrix_medians(runs: list[dict]) -> dict[str, dict[int, dict]]:
    """scenario -> concurrency -> medians (errors are totals: one is already too many)."""
    table: dict[str, dict[int, dict]] = {}
    for run in runs:
        table.setdefault(run["scenario"], {}).setdefault(run["concurrency"], []).append(run)
    return {
        scenario: {c: _cell(cell_runs) for c, cell_runs in by_c.items()}
        for scenario, by_c in table.items()
    }


def _cell(runs: list[dict]) -> dict[str, Any]:
    pick = {key: median([r[key] for r in runs]) for key in _MEDIAN_KEYS}
    pick["machine_busy_cores"] = median([r["cpu_s"]["machine_busy_cores"] for r in runs])
    pick["non2xx"] = sum(r["non2xx"] for r in runs)
    pick["socket_errors"] = sum(r["socket_errors"] for r in runs)
    pick["runs"] = len(runs)
    pick["cpu_ms_per_request"] = _cpu_per_request(runs)
    return pick


def _cpu_per_request(runs: list[dict]) -> dict[str, float | None]:
    """Median CPU milliseconds per request of each process tree we watched, and wrk's."""
    names = [name for name in runs[0]["cpu_s"] if name != "machine_busy_cores"]
    result = {
        name: median([_ms(r["cpu_s"].get(name), r["requests"]) for r in runs]) for name in names
    }
    result["wrk"] = median([_ms(r["wrk_cpu_s"], r["requests"]) for r in runs])
    return result


def _ms(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None or not requests else seconds * 1000 / requests


_MEDIAN_KEYS = ("rps", "p50_ms", "p99_ms", "max_ms", "web_cpu_ms_per_request")


def paired_ratios(runs: list[dict]) -> dict[int, dict]:
    """(b)/(a) per concurrency: each repetition's (b) over the (a) run just before it."""
    rps = {(r["scenario"], r["concurrency"], r["repetition"]): r["rps"] for r in runs}
    ratios: dict[int, list[float]] = {}
    for (scenario, c, rep), value in rps.items():
        if scenario == "b" and rps.get(("a", c, rep)):
            ratios.setdefault(c, []).append(value / rps[("a", c, rep)])
    return {c: {"median": median(v), "runs": [round(x, 3) for x in v]} for c, v in ratios.items()}


def drain_medians(runs: list[dict]) -> dict[int, dict]:
    """(d) per concurrency of the (b) run that left the backlog: medians of each drain."""
    by_c: dict[int, list[dict]] = {}
    for run in runs:
        if run.get("drain"):
            by_c.setdefault(run["concurrency"], []).append(run["drain"])
    table = {}
    for c, drains in by_c.items():
        names = [name for name in drains[0]["cpu_s"] if name != "machine_busy_cores"]
        table[c] = {
            **{key: median([d[key] for d in drains]) for key in _DRAIN_KEYS},
            "all_drained": all(d["drained"] for d in drains),
            "runs": len(drains),
            "cpu_ms_per_row": {
                name: median([_ms(d["cpu_s"].get(name), d["timed_rows"]) for d in drains])
                for name in names
            },
        }
    return table


_DRAIN_KEYS = ("backlog", "rows_per_s", "seconds", "worker_cpu_ms_per_row")


def e2e_medians(reps: list[dict]) -> dict[str, Any]:
    keys = (
        "accepted",
        "rows",
        "missing",
        "ingest_rps",
        "persisted_during_load_rps",
        "backlog_at_load_end",
        "drain_s",
        "drain_rps",
        "worker_cpu_ms_per_row",
        "web_cpu_ms_per_request",
        "mongo_documents",
        "attempts_ready",
        "mongo_docs_per_s",
    )
    result = {key: median([rep[key] for rep in reps]) for key in keys}
    result["max_missing"] = max(rep["missing"] for rep in reps)
    result["all_drained"] = all(rep["drained"] for rep in reps)
    result["kept_up_runs"] = sum(rep["kept_up"] for rep in reps)
    result["runs"] = len(reps)
    return result


def targets(
    runs: list[dict],
    cells: dict,
    ratios: dict,
    drains: dict,
    e2e: dict | None,
    e2e_reps: list[dict],
) -> list[dict]:
    """Each target: what it asks, what we measured (medians), PASS or FAIL."""
    found = []
    for c, ratio in sorted(ratios.items()):
        value = ratio["median"]
        found.append(
            _target(
                f"(b)/(a) >= {RATIO_TARGET:.0%} at c={c}", value, _at_least(value, RATIO_TARGET)
            )
        )
    found += _latency_targets(cells)
    ours = [cell for s in ("b", "c") for cell in cells.get(s, {}).values()]
    non2xx = sum(c["non2xx"] for c in ours) + sum(r["wrk"]["non2xx"] for r in e2e_reps)
    socket = sum(c["socket_errors"] for c in ours) + sum(
        r["wrk"]["socket_errors"] for r in e2e_reps
    )
    found.append(_target("0 non-2xx from POST /api/register/ ((b), (c), e2e)", non2xx, non2xx == 0))
    found.append(_target("0 socket errors ((b), (c), e2e)", socket, socket == 0))
    found.append(_promise_target(runs))
    found += _drain_targets(cells, drains)
    if e2e:
        found += _e2e_targets(e2e, e2e_reps)
    return found


def _latency_targets(cells: dict) -> list[dict]:
    """p99 of (b) and (c) at c=256, or at the highest concurrency measured if not 256."""
    levels = sorted({c for s in ("b", "c") for c in cells.get(s, {})})
    if not levels:
        return []
    top = P99_CONCURRENCY if P99_CONCURRENCY in levels else levels[-1]
    found = []
    for scenario in ("b", "c"):
        p99 = cells.get(scenario, {}).get(top, {}).get("p99_ms")
        ok = p99 is not None and p99 <= P99_TARGET_MS
        found.append(_target(f"({scenario}) p99 <= {P99_TARGET_MS:.0f} ms at c={top}", p99, ok))
    return found


def _promise_target(runs: list[dict]) -> dict:
    """A 202 means RabbitMQ holds it: with no worker, (b)'s queue has every one (or more:
    requests wrk abandoned at the end were still accepted)."""
    short = sum(
        max(0, r["answered_202"] - r["registrations_ready_end"])
        for r in runs
        if r["scenario"] == "b"
    )
    return _target("(b) every 202 is a message in RabbitMQ (202s not queued)", short, short == 0)


def _drain_targets(cells: dict, drains: dict) -> list[dict]:
    """A spike's backlog shrinks: workers alone store faster than the web alone accepts."""
    found = []
    for c, drain in sorted(drains.items()):
        ingest = cells.get("b", {}).get(c, {}).get("rps")
        rate = drain["rows_per_s"]
        ok = drain["all_drained"] and ingest is not None and rate is not None and rate > ingest
        found.append(_target(f"(d) drain-only rows/s > (b) ingest req/s at c={c}", rate, ok))
    return found


def _at_least(value: float | None, floor: float) -> bool:
    return value is not None and value >= floor


def _e2e_targets(e2e: dict, reps: list[dict]) -> list[dict]:
    persisted = e2e["persisted_during_load_rps"]
    drain_ok = all(r["kept_up"] or (r["drain_rps"] or 0) > r["ingest_rps"] for r in reps)
    drain = e2e["drain_rps"] if e2e["drain_rps"] is not None else "kept up"
    return [
        _target(
            f"e2e persisted >= {PERSISTED_TARGET_RPS:,.0f} rows/s while ingest runs",
            persisted,
            _at_least(persisted, PERSISTED_TARGET_RPS),
        ),
        _target("e2e drain rate > ingest rate (every run)", drain, drain_ok),
        _target(
            "e2e missing rows = 0 (every run drained)",
            e2e["max_missing"],
            e2e["max_missing"] == 0 and e2e["all_drained"],
        ),
    ]


def _target(name: str, measured: Any, ok: bool) -> dict:
    return {"target": name, "measured": measured, "result": "PASS" if ok else "FAIL"}
