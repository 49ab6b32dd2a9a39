"""The benchmark's targets: what each asks, what the medians say, PASS or FAIL."""

import statistics
from typing import Any

from bench.results import E2eSummary, Results, Target
from bench.runs import LANDING_SCENARIOS, MatrixRun, Scenario

# What a durable sign-up must cost on a 2-core machine, all at this concurrency (drain
# only: after (b) at every concurrency measured; the ratios at every concurrency, direct
# and via nginx). Each is judged on medians of repetitions.
TARGET_CONCURRENCY = 64
WEB_CPU_MS = 0.55  # (b) web CPU per durable sign-up
RATIO_TARGET = 0.6  # (b) req/s over (a)'s, paired by repetition, both direct or both via nginx
# (b)'s sign-ups per message at each higher concurrency, at least this share of what they
# are at the lowest: batches must not shrink as connections grow.
SIGNUPS_PER_MESSAGE_KEPT = 0.9
P99_TARGET_MS = 50.0  # (b)
PERSISTED_RPS = 1_000.0  # (c) rows stored per second while wrk runs
STACK_CPU_MS = 2.0  # (c) CPU of every tree but wrk and mongo-standin, per row stored
DRAIN_RPS = 3_000.0  # (d)
DRAIN_WORKER_CPU_MS = 0.35  # (d) worker-registrations CPU per row
# The journey (python -m bench.journey): polls' part of the web's CPU, with the workers
# keeping up and with a backlog that keeps every waiting visitor polling.
POLL_CPU_SHARE = 0.10
JOURNEY_CASES = ("keeping_up", "backlog")


def targets(results: Results) -> list[Target]:
    """Each target: what it asks, what we measured (medians), PASS or FAIL."""
    return [
        *_ingest_targets(results, TARGET_CONCURRENCY),
        *_ratio_targets(results),
        _batch_target(results),
        *_error_targets(results),
        *_challenge_targets(results),
        _promise_target(results.runs),
        *_persisted_targets(results, TARGET_CONCURRENCY),
        *_drain_targets(results),
        *(_e2e_targets(results.e2e) if results.e2e else []),
        *(journey_targets(results.journey) if results.journey else []),
    ]


def _ingest_targets(results: Results, c: int) -> list[Target]:
    """(b), the web alone: its CPU per durable sign-up and its p99."""
    cell = results.cell(Scenario.INGEST_ONLY, c)
    web, p99 = (cell.web_cpu_ms_per_request, cell.p99_ms) if cell else (None, None)
    return [
        _target(f"(b) web CPU per sign-up <= {WEB_CPU_MS} ms at c={c}", web,
                _at_most(web, WEB_CPU_MS)),
        _target(f"(b) p99 <= {P99_TARGET_MS:.0f} ms at c={c}", p99, _at_most(p99, P99_TARGET_MS)),
    ]  # fmt: skip


def _ratio_targets(results: Results) -> list[Target]:
    """(b)'s rate beside bare Flask's at every concurrency measured, straight at gunicorn
    and through our nginx (each pair through the same door)."""
    found = []
    for c in results.params.concurrency:
        for door, ratios in (("direct", results.ratios), ("via nginx", results.nginx_ratios)):
            ratio = (ratios or {}).get(c)
            value = ratio.median if ratio else None
            found.append(_target(f"(b)/(a) >= {RATIO_TARGET} at c={c} ({door})", value,
                                 _at_least(value, RATIO_TARGET)))  # fmt: skip
    return found


def _batch_target(results: Results) -> Target:
    """(b)'s sign-ups per message (direct) do not shrink as connections grow: at each higher
    concurrency at least SIGNUPS_PER_MESSAGE_KEPT of what they are at the lowest. Measured:
    each concurrency's median, and its share of the lowest's."""
    lowest, *higher = sorted(results.params.concurrency) or [TARGET_CONCURRENCY]
    name = (f"(b) sign-ups per message at each higher c >= {SIGNUPS_PER_MESSAGE_KEPT} x "
            f"at c={lowest}")  # fmt: skip
    base = _signups_per_message(results, lowest)
    shown, ok = [f"c={lowest}: {_shown(base)}"], base is not None and bool(higher)
    for c in higher:
        value = _signups_per_message(results, c)
        share = f" ({value / base:.2f}x)" if value is not None and base else ""
        shown.append(f"c={c}: {_shown(value)}{share}")
        ok = ok and _at_least(value, SIGNUPS_PER_MESSAGE_KEPT * (base or 0))
    if not higher:
        shown.append("no higher c measured")
    return _target(name, "; ".join(shown), ok)


def _signups_per_message(results: Results, c: int) -> float | None:
    cell = results.cell(Scenario.INGEST_ONLY, c)
    return cell.signups_per_message if cell else None


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _persisted_targets(results: Results, c: int) -> list[Target]:
    """(c), workers running: rows stored per second, and what each cost the whole stack."""
    cell = results.cell(Scenario.INGEST_AND_DRAIN, c)
    rate, cpu = (cell.persisted_rps, cell.total_cpu_ms_per_row) if cell else (None, None)
    return [
        _target(f"(c) persisted >= {PERSISTED_RPS:,.0f} rows/s at c={c}", rate,
                _at_least(rate, PERSISTED_RPS)),
        _target(f"(c) stack CPU per persisted sign-up <= {STACK_CPU_MS} ms at c={c} "
                "(all but wrk and mongo-standin)", cpu, _at_most(cpu, STACK_CPU_MS)),
    ]  # fmt: skip


def _error_targets(results: Results) -> list[Target]:
    """Not one non-2xx answer or socket error from landing, in the matrix (through nginx
    too: a 429 there is a visitor refused) or end to end."""
    ours = [cell for s in LANDING_SCENARIOS for cell in results.matrix.get(s, {}).values()]
    loads = [*ours, *(rep.wrk for rep in results.e2e_runs)]
    non2xx = sum(load.non2xx for load in loads)
    socket = sum(load.socket_errors for load in loads)
    where = "((b), (b) via nginx, (c), e2e)"
    return [
        _target(f"0 non-2xx from POST /api/register/ {where}", non2xx, non2xx == 0),
        _target(f"0 socket errors {where}", socket, socket == 0),
    ]


def _challenge_targets(results: Results) -> list[Target]:
    """With the challenge on, every request carries a valid, unused solution: any answer but
    a 202 is a refused one (or one the run had none left for), never to be hidden."""
    found = []
    for c, cost in sorted(results.challenge.items()):
        name = (f"(b) + challenge: 0 non-202 and 0 socket errors at c={c} "
                f"(of the non-202, sent without a solution: {cost.unsolved:,})")  # fmt: skip
        errors = cost.non202 + cost.socket_errors
        found.append(_target(name, f"{cost.non202}, {cost.socket_errors}", errors == 0))
    return found


def _promise_target(runs: list[MatrixRun]) -> Target:
    """A 202 is a promise: each of (b)'s (distinct phones) is a row once (d) drained it.

    Rows may exceed the 202s wrk saw: requests it abandoned at the end were still accepted.
    (b) via nginx is not drained: its 202s are the same web's as (b)'s, not a second check.
    """
    short = sum(
        max(0, r.answered_202 - (r.drain.rows if r.drain else 0))
        for r in runs
        if r.scenario is Scenario.INGEST_ONLY
    )
    name = "(b)+(d) every 202 became a row in PostgreSQL (202s without a row)"
    return _target(name, short, short == 0)


def _drain_targets(results: Results) -> list[Target]:
    """Workers alone on (b)'s backlog: fast enough to empty a spike, cheap per row."""
    found = []
    for c, drain in sorted(results.drain.items()):
        rate, cpu = drain.rows_per_s, drain.worker_cpu_ms_per_row
        found += [
            _target(f"(d) drain only >= {DRAIN_RPS:,.0f} rows/s after (b) at c={c}", rate,
                    drain.all_drained and _at_least(rate, DRAIN_RPS)),
            _target(f"(d) worker CPU <= {DRAIN_WORKER_CPU_MS} ms/row after (b) at c={c}", cpu,
                    _at_most(cpu, DRAIN_WORKER_CPU_MS)),
        ]  # fmt: skip
    return found


def _at_least(value: float | None, floor: float) -> bool:
    return value is not None and value >= floor


def _at_most(value: float | None, ceiling: float) -> bool:
    return value is not None and value <= ceiling


def _e2e_targets(e2e: E2eSummary) -> list[Target]:
    return [
        _target(
            "e2e missing rows = 0 (every run drained)",
            e2e.max_missing,
            e2e.max_missing == 0 and e2e.all_drained,
        ),
    ]


def journey_targets(journey: dict) -> list[Target]:
    """Polls cost at most POLL_CPU_SHARE of the front door's CPU, in each journey case
    measured (journey: bench.journey's section; a case's share is its runs' median)."""
    found = []
    for case in JOURNEY_CASES:
        if case not in journey:
            continue
        shares = [run["split"]["share"] for run in journey[case]]
        present = [share for share in shares if share is not None]
        share = round(statistics.median(present), 4) if present else None
        found.append(_target(f"journey ({case.replace('_', ' ')}): polls cost <= "
                             f"{POLL_CPU_SHARE:.0%} of the web's CPU", share,
                             _at_most(share, POLL_CPU_SHARE)))  # fmt: skip
        # The promise, in each case: PostgreSQL ends up holding every sign-up accepted.
        short = [run for run in journey[case] if not run.get("all_stored")]
        found.append(_target(f"journey ({case.replace('_', ' ')}): every accepted sign-up "
                             "stored (runs short of it)", len(short), not short))  # fmt: skip
    return found


def _target(name: str, measured: Any, ok: bool) -> Target:
    return Target(name, measured, "PASS" if ok else "FAIL")
