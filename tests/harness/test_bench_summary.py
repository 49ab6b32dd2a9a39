"""bench's medians, paired ratios and targets, from runs made up here (no service, no wrk)."""

import pytest

from bench.runs import Scenario
from bench.summary import (
    drain_medians,
    e2e_medians,
    matrix_medians,
    median,
    paired_ratios,
)
from tests.support.bench_runs import drain_run, e2e_run, matrix_run, results_of

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def test_median_leaves_out_what_was_not_measured_and_rounds():
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0]) == 1.5
    assert median([1 / 3]) == 0.333
    assert median([None]) is None


def test_a_cell_is_medians_of_its_runs_but_totals_of_their_errors():
    runs = [
        matrix_run(Scenario.INGEST_ONLY, rps=100.0, p99_ms=30.0, non2xx=1, socket_errors=2),
        matrix_run(Scenario.INGEST_ONLY, rps=300.0, p99_ms=10.0, non2xx=0, socket_errors=5),
        matrix_run(Scenario.INGEST_ONLY, rps=200.0, p99_ms=20.0, non2xx=4, socket_errors=0),
    ]
    cell = matrix_medians(runs)[Scenario.INGEST_ONLY][64]
    assert (cell.rps, cell.p99_ms, cell.runs) == (200.0, 20.0, 3)
    assert (cell.non2xx, cell.socket_errors) == (5, 7)
    assert cell.machine_busy_cores == 1.2


def test_cpu_per_request_of_each_tree_and_of_wrk():
    runs = [
        matrix_run(Scenario.BARE_FLASK, requests=2000, wrk_cpu_s=0.2),
        matrix_run(
            Scenario.BARE_FLASK,
            requests=500,
            cpu_s={"web": 1.0, "redis": None, "machine_busy_cores": 1.0},
        ),
    ]
    per_request = matrix_medians(runs)[Scenario.BARE_FLASK][64].cpu_ms_per_request
    # web: 1 s over 2,000 and over 500 requests; redis restarted in the second run.
    assert per_request == {"web": 1.25, "redis": 0.25, "wrk": 0.55}


def test_ratio_pairs_each_ingest_only_run_with_the_bare_run_of_its_repetition():
    runs = [
        matrix_run(Scenario.BARE_FLASK, repetition=0, rps=1000.0),
        matrix_run(Scenario.INGEST_ONLY, repetition=0, rps=250.0),
        matrix_run(Scenario.BARE_FLASK, repetition=1, rps=400.0),
        matrix_run(Scenario.INGEST_ONLY, repetition=1, rps=300.0),
        matrix_run(Scenario.INGEST_ONLY, repetition=2, rps=900.0),  # no bare run to pair with
    ]
    ratio = paired_ratios(runs)[64]
    assert ratio.runs == [0.25, 0.75]
    assert ratio.median == 0.5


def test_drain_medians_per_concurrency_of_the_run_that_left_the_backlog():
    runs = [
        matrix_run(Scenario.INGEST_ONLY, drain=drain_run(rows_per_s=900.0, timed_rows=1000)),
        matrix_run(Scenario.INGEST_ONLY, drain=drain_run(rows_per_s=1100.0, drained=False)),
        matrix_run(Scenario.INGEST_ONLY, concurrency=256, drain=drain_run()),
        matrix_run(Scenario.INGEST_AND_DRAIN),
    ]
    drains = drain_medians(runs)
    assert sorted(drains) == [64, 256]
    assert (drains[64].rows_per_s, drains[64].runs, drains[64].all_drained) == (1000.0, 2, False)
    # 1 s of worker CPU over 1,000 and over 2,000 timed rows.
    assert drains[64].cpu_ms_per_row == {"worker-registrations": 0.75}
    assert drains[256].all_drained


def test_e2e_medians_keep_the_worst_missing_count_and_what_held_every_time():
    reps = [
        e2e_run(missing=0, rows=10_000),
        e2e_run(missing=3, rows=9_997, drained=False, kept_up=False),
        e2e_run(missing=1, rows=9_999),
    ]
    summary = e2e_medians(reps)
    assert (summary.missing, summary.max_missing, summary.rows) == (1, 3, 9_999)
    assert (summary.all_drained, summary.kept_up_runs, summary.runs) == (False, 2, 3)


def verdicts(results) -> dict[str, str]:
    return {target.target: target.result for target in results.targets}


def fast_runs(concurrency: int = 64) -> list:
    """A matrix that meets every target at concurrency: (b)/(a) 0.75 direct and 0.69 via
    nginx; 2 sign-ups per message."""
    stack = {
        "web": 0.6,
        "worker-registrations": 0.4,
        "worker-attempts": 0.1,
        "rabbitmq": 0.2,
        "redis": 0.1,
        "postgresql": 0.2,
        "mongo-standin": 5.0,
        "machine_busy_cores": 2.0,
    }
    return [
        matrix_run(Scenario.BARE_FLASK, concurrency=concurrency, rps=2000.0, p99_ms=5.0),
        matrix_run(Scenario.BARE_NGINX, concurrency=concurrency, rps=1600.0, p99_ms=8.0,
                   nginx_cpu_ms_per_request=0.2),
        matrix_run(Scenario.INGEST_ONLY, concurrency=concurrency, rps=1500.0, p99_ms=40.0,
                   web_cpu_ms_per_request=0.5, answered_202=2000,
                   drain=drain_run(rows_per_s=3500.0, worker_cpu_ms_per_row=0.3)),
        matrix_run(Scenario.INGEST_NGINX, concurrency=concurrency, rps=1100.0, p99_ms=70.0,
                   web_cpu_ms_per_request=0.7, nginx_cpu_ms_per_request=0.2, answered_202=2200),
        matrix_run(Scenario.INGEST_AND_DRAIN, concurrency=concurrency, rps=1200.0,
                   p99_ms=90.0, persisted_rps=1100.0, total_cpu_ms_per_row=1.9, cpu_s=stack),
    ]  # fmt: skip


def test_targets_pass_when_every_figure_is_within_its_bound():
    runs = fast_runs(64) + fast_runs(256)
    found = verdicts(results_of(runs, [e2e_run()], concurrency=(64, 256)))
    assert found == {
        "(b) web CPU per sign-up <= 0.55 ms at c=64": "PASS",
        "(b) p99 <= 50 ms at c=64": "PASS",
        "(b)/(a) >= 0.6 at c=64 (direct)": "PASS",
        "(b)/(a) >= 0.6 at c=64 (via nginx)": "PASS",
        "(b)/(a) >= 0.6 at c=256 (direct)": "PASS",
        "(b)/(a) >= 0.6 at c=256 (via nginx)": "PASS",
        "(b) sign-ups per message at each higher c >= 0.9 x at c=64": "PASS",
        "0 non-2xx from POST /api/register/ ((b), (b) via nginx, (c), e2e)": "PASS",
        "0 socket errors ((b), (b) via nginx, (c), e2e)": "PASS",
        "(b)+(d) every 202 became a row in PostgreSQL (202s without a row)": "PASS",
        "(c) persisted >= 1,000 rows/s at c=64": "PASS",
        "(c) stack CPU per persisted sign-up <= 2.0 ms at c=64 (all but wrk and mongo-standin)":
            "PASS",
        "(d) drain only >= 3,000 rows/s after (b) at c=64": "PASS",
        "(d) worker CPU <= 0.35 ms/row after (b) at c=64": "PASS",
        "(d) drain only >= 3,000 rows/s after (b) at c=256": "PASS",
        "(d) worker CPU <= 0.35 ms/row after (b) at c=256": "PASS",
        "e2e missing rows = 0 (every run drained)": "PASS",
    }  # fmt: skip


def test_targets_fail_on_what_each_one_guards():
    runs = [
        matrix_run(Scenario.BARE_FLASK, rps=1000.0),
        matrix_run(Scenario.BARE_NGINX, rps=1000.0),
        matrix_run(Scenario.INGEST_ONLY, rps=590.0, p99_ms=61.0, web_cpu_ms_per_request=0.81,
                   answered_202=2010, drain=drain_run(rows_per_s=2900.0,
                                                      worker_cpu_ms_per_row=0.36)),
        matrix_run(Scenario.INGEST_NGINX, rps=590.0),
        matrix_run(Scenario.INGEST_AND_DRAIN, socket_errors=1, persisted_rps=999.0,
                   total_cpu_ms_per_row=2.01),
    ]  # fmt: skip
    results = results_of(runs, [e2e_run(missing=2)], concurrency=(64,))
    passed = [name for name, result in verdicts(results).items() if result == "PASS"]
    # All else fails; sign-ups per message too: with one concurrency nothing grew.
    assert passed == ["0 non-2xx from POST /api/register/ ((b), (b) via nginx, (c), e2e)"]
    promise = next(t for t in results.targets if t.target.startswith("(b)+(d)"))
    assert promise.measured == 10  # 2,010 202s, 2,000 rows after the drain


def test_a_refusal_through_nginx_fails_the_error_targets():
    runs = fast_runs()
    runs[3].non2xx, runs[3].socket_errors = 3, 1  # (b) via nginx: e.g. 429s of its limits
    found = verdicts(results_of(runs, concurrency=(64,)))
    assert found["0 non-2xx from POST /api/register/ ((b), (b) via nginx, (c), e2e)"] == "FAIL"
    assert found["0 socket errors ((b), (b) via nginx, (c), e2e)"] == "FAIL"


def test_the_ratio_is_judged_at_every_concurrency_measured_through_each_door():
    runs = fast_runs(64) + fast_runs(1024)
    runs[3].rps = 900.0  # (b) via nginx at c=64: 900 / 1600 = 0.56
    results = results_of(runs, concurrency=(64, 256, 1024))
    ratios = {t.target: (t.measured, t.result) for t in results.targets if "(b)/(a)" in t.target}
    assert ratios == {
        "(b)/(a) >= 0.6 at c=64 (direct)": (0.75, "PASS"),
        "(b)/(a) >= 0.6 at c=64 (via nginx)": (0.562, "FAIL"),
        "(b)/(a) >= 0.6 at c=256 (direct)": (None, "FAIL"),  # not measured: never a pass
        "(b)/(a) >= 0.6 at c=256 (via nginx)": (None, "FAIL"),
        "(b)/(a) >= 0.6 at c=1024 (direct)": (0.75, "PASS"),
        "(b)/(a) >= 0.6 at c=1024 (via nginx)": (0.688, "PASS"),
    }


def with_batches(per_message: dict[int, float]) -> list:
    """(b) at each concurrency with that many sign-ups in each of 100 messages."""
    return [
        matrix_run(Scenario.INGEST_ONLY, concurrency=c, answered_202=round(size * 100),
                   registrations_ready_end=100)
        for c, size in per_message.items()
    ]  # fmt: skip


def batch_target(results):
    return next(t for t in results.targets if "sign-ups per message" in t.target)


def test_sign_ups_per_message_must_not_shrink_as_connections_grow():
    levels = (64, 256, 1024)
    kept = batch_target(results_of(with_batches({64: 16, 256: 14.4, 1024: 20}), [], levels))
    assert kept.target == "(b) sign-ups per message at each higher c >= 0.9 x at c=64"
    assert kept.measured == "c=64: 16.0; c=256: 14.4 (0.90x); c=1024: 20.0 (1.25x)"
    assert kept.result == "PASS"
    shrunk = batch_target(results_of(with_batches({64: 16, 256: 14, 1024: 20}), [], levels))
    assert shrunk.measured.startswith("c=64: 16.0; c=256: 14.0 (0.88x)")
    assert shrunk.result == "FAIL"
    missing = batch_target(results_of(with_batches({64: 16, 256: 16}), [], levels))
    assert missing.measured == "c=64: 16.0; c=256: 16.0 (1.00x); c=1024: -"
    assert missing.result == "FAIL"
    alone = batch_target(results_of(with_batches({64: 16}), [], (64,)))
    assert (alone.measured, alone.result) == ("c=64: 16.0; no higher c measured", "FAIL")


def test_sign_ups_per_message_only_where_no_worker_took_the_messages():
    b = matrix_run(Scenario.INGEST_ONLY, answered_202=3000, registrations_ready_end=200)
    assert b.signups_per_message == 15.0
    via_nginx = matrix_run(Scenario.INGEST_NGINX, answered_202=3000, registrations_ready_end=300)
    assert via_nginx.signups_per_message == 10.0
    assert matrix_run(Scenario.INGEST_AND_DRAIN).signups_per_message is None
    assert matrix_run(Scenario.BARE_FLASK, registrations_ready_end=0).signups_per_message is None
    cell = matrix_medians([b, via_nginx])
    assert cell[Scenario.INGEST_ONLY][64].signups_per_message == 15.0


def test_ratios_via_nginx_pair_the_runs_through_nginx_and_leave_the_direct_ones_alone():
    runs = [
        matrix_run(Scenario.BARE_FLASK, repetition=0, rps=1000.0),
        matrix_run(Scenario.BARE_NGINX, repetition=0, rps=800.0),
        matrix_run(Scenario.INGEST_ONLY, repetition=0, rps=700.0),
        matrix_run(Scenario.INGEST_NGINX, repetition=0, rps=600.0),
        matrix_run(Scenario.BARE_NGINX, repetition=1, rps=500.0),
        matrix_run(Scenario.INGEST_NGINX, repetition=1, rps=400.0),
        matrix_run(Scenario.INGEST_NGINX, repetition=2, rps=400.0),  # no (a) via nginx
    ]
    via_nginx = paired_ratios(runs, Scenario.INGEST_NGINX, Scenario.BARE_NGINX)[64]
    assert (via_nginx.runs, via_nginx.median) == ([0.75, 0.8], 0.775)
    assert paired_ratios(runs)[64].runs == [0.7]
    results = results_of(runs, concurrency=(64,))
    assert (results.ratios[64].runs, results.nginx_ratios[64].runs) == ([0.7], [0.75, 0.8])


def test_nginx_cpu_per_request_apart_from_the_web_s():
    runs = [
        matrix_run(Scenario.INGEST_NGINX, requests=2000, nginx_cpu_ms_per_request=0.25,
                   cpu_s={"web": 1.2, "nginx": 0.5, "machine_busy_cores": 1.9}),
        matrix_run(Scenario.INGEST_NGINX, requests=1000, nginx_cpu_ms_per_request=0.35,
                   cpu_s={"web": 0.7, "nginx": 0.3, "machine_busy_cores": 1.9}),
    ]  # fmt: skip
    cell = matrix_medians(runs)[Scenario.INGEST_NGINX][64]
    assert cell.nginx_cpu_ms_per_request == 0.3
    assert cell.cpu_ms_per_request == {"web": 0.65, "nginx": 0.275, "wrk": 0.375}


def test_a_drain_that_timed_out_fails_however_fast_it_was():
    runs = fast_runs()
    runs[2].drain.drained = False
    assert verdicts(results_of(runs))["(d) drain only >= 3,000 rows/s after (b) at c=64"] == "FAIL"


def test_without_runs_at_c64_the_targets_there_fail_instead_of_moving():
    found = verdicts(results_of(fast_runs(concurrency=256), concurrency=(64, 256)))
    assert found["(b) p99 <= 50 ms at c=64"] == "FAIL"
    assert found["(c) persisted >= 1,000 rows/s at c=64"] == "FAIL"
    assert found["(d) drain only >= 3,000 rows/s after (b) at c=256"] == "PASS"


def test_c_cells_carry_the_medians_of_persisted_rate_and_stack_cpu():
    runs = [
        matrix_run(Scenario.INGEST_AND_DRAIN, persisted_rps=r, total_cpu_ms_per_row=cpu)
        for r, cpu in ((900.0, 2.5), (1100.0, None), (1000.0, 1.5))
    ]
    cell = matrix_medians(runs)[Scenario.INGEST_AND_DRAIN][64]
    assert (cell.persisted_rps, cell.total_cpu_ms_per_row) == (1000.0, 2.0)
