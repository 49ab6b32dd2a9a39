"""End to end's arithmetic: rates from what a repetition saw, 202s from the access log."""

import json

import pytest

from bench.e2e import MIN_BACKLOG_TO_TIME, AcceptedCount, Watch, derive
from harness.wrk import summarise

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

WRK = summarise(
    {"duration_us": 10_000_000, "requests": 4_990, "non2xx": 0, "status_4xx": 0,
     "status_5xx": 0, "non202": 0, "unsolved": 0, "errors": {"status": 0}, "sent_max": 2_495,
     "latency_us": {"mean": 1000.0, "max": 9000, "p50": 800, "p90": 2000, "p99": 5000}},
    wrk_cpu=0.4,
)  # fmt: skip
CPU = {"web": 5.0, "worker-registrations": 4.0, "machine_busy_cores": 1.9}


def watch(**fields) -> Watch:
    """10 s of load; 5,000 accepted, 3,000 of them rows when it ended; drained 2.5 s later."""
    values = dict(t0=0.0, load_s=10.0, rows_at_load_end=3_000, drain_s=2.5, rows=5_000,
                  accepted=5_000, wrk=WRK, samples=[(0.5, 100)], cpu_s=CPU)  # fmt: skip
    return Watch(**{**values, **fields})


def test_a_backlog_worth_timing_gives_the_drain_rate():
    run = derive(watch())
    assert (run.ingest_rps, run.persisted_during_load_rps) == (500.0, 300.0)
    assert (run.backlog_at_load_end, run.drain_s, run.drain_rps) == (2_000, 2.5, 800.0)
    assert (run.missing, run.drained, run.kept_up) == (0, True, False)
    assert (run.web_cpu_ms_per_request, run.worker_cpu_ms_per_row) == (1.0, 0.8)
    assert run.wrk_2xx == 4_990  # wrk saw fewer 202s than gunicorn sent


def test_a_small_backlog_means_the_workers_kept_up_and_its_drain_is_not_timed():
    rows_at_end = 5_000 - (MIN_BACKLOG_TO_TIME - 1)
    run = derive(watch(rows_at_load_end=rows_at_end, drain_s=0.3))
    assert run.kept_up
    assert (run.drain_s, run.drain_rps) == (None, None)


def test_never_drained_counts_the_missing_rows():
    run = derive(watch(drain_s=None, rows=4_200))
    assert (run.drained, run.missing, run.drain_rps) == (False, 800, None)
    assert run.worker_cpu_ms_per_row == round(4.0 * 1000 / 4_200, 3)


def test_accepted_counts_202s_on_the_register_path_and_waits_for_a_whole_line(tmp_path):
    log = tmp_path / "access.log"
    records = [
        {"status": 202, "path": "/api/register/"},
        {"status": 429, "path": "/api/register/"},
        {"status": 202, "path": "/health"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    accepted = AcceptedCount(log)
    assert accepted() == 1
    with log.open("a") as sink:
        sink.write('{"status": 202, "path": "/api/register/')  # still being written
    assert accepted() == 1
    with log.open("a") as sink:
        sink.write('"}\n')
    assert accepted() == 2
