"""Benchmark runs made up with round numbers, for the tests of bench's summaries and report."""

from pathlib import Path

from bench.config import Context, Params
from bench.results import RunInfo
from bench.runs import DrainRun, E2eRun, MatrixRun, Scenario
from bench.summary import summarise
from harness.stores import Stores
from harness.wrk import LoadRun


def load_run(**fields) -> LoadRun:
    """A wrk run with round numbers; fields override them."""
    values = dict(seconds=20.0, requests=1000, rps=50.0, p50_ms=1.0, p90_ms=2.0, p99_ms=3.0,
                  max_ms=9.0, mean_ms=1.5, non2xx=0, status_4xx=0, status_5xx=0,
                  socket_errors=0, errors={}, wrk_cpu_s=0.5, non202=0, unsolved=0)  # fmt: skip
    return LoadRun(**{**values, **fields})


def drain_run(**fields) -> DrainRun:
    """A drain of 2,000 rows in 2 s."""
    values = dict(backlog=2000, rows=2000, drained=True, timed_rows=2000, seconds=2.0,
                  rows_per_s=1000.0, worker_cpu_ms_per_row=0.5,
                  cpu_s={"worker-registrations": 1.0, "machine_busy_cores": 1.5})  # fmt: skip
    return DrainRun(**{**values, **fields})


def matrix_run(scenario: Scenario, concurrency=64, repetition=0, drain=None, **fields):
    """A matrix run; `web` and `redis` used 1 s and 0.5 s of CPU unless cpu_s says otherwise."""
    load = {k: fields.pop(k) for k in list(fields) if k in LoadRun.__dataclass_fields__}
    extra = dict(cpu_s={"web": 1.0, "redis": 0.5, "machine_busy_cores": 1.2}, answered_202=1000,
                 registrations_ready_end=1000, web_cpu_ms_per_request=1.0)  # fmt: skip
    placed = dict(drain=drain, scenario=scenario, concurrency=concurrency, repetition=repetition)
    return MatrixRun(**vars(load_run(**load)), **placed, **{**extra, **fields})


def e2e_run(**fields) -> E2eRun:
    """An end-to-end run that kept up: 10,000 accepted, every one a row."""
    values = dict(accepted=10_000, wrk_2xx=10_000, rows=10_000, missing=0, drained=True,
                  load_s=20.0, ingest_rps=500.0, persisted_during_load_rps=500.0,
                  backlog_at_load_end=0, drain_s=None, drain_rps=None, kept_up=True,
                  worker_cpu_ms_per_row=1.0, web_cpu_ms_per_request=1.3, mongo_documents=None,
                  attempts_ready=0, mongo_docs_per_s=None, cpu_s={}, wrk=load_run(),
                  samples=[])  # fmt: skip
    return E2eRun(**{**values, **fields})


def results_of(runs, e2e_runs=(), concurrency: tuple[int, ...] | None = None):
    """Results as the benchmark assembles them at the end, of a run at these concurrencies
    (Params' default ones unless given)."""
    info = RunInfo("2026-01-01 00:00 UTC", "make bench", "2 cores", "gunicorn", 2, 3, 20, 2,
                   10_000, 64, "MONGO_URL", "0 0 0")  # fmt: skip
    context = Context(
        Params(concurrency=concurrency) if concurrency else Params(),
        Stores("postgresql://x/y", "amqp://x/y", "redis://x/0", "mongodb://x/y"),
        Path("unused"),
    )
    return summarise(info, context, list(runs), list(e2e_runs))
