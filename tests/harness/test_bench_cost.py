"""What a persisted sign-up costs the stack, the soak's verdict, the scaling table, wrk's rate,
and the benchmark's parameters."""

import pytest

from bench.config import Params, parse_params
from bench.measure import Measured
from bench.runs import stack_cpu_s
from bench.scaling_report import PreloadDrain, ScalingRun, markdown, summarise
from bench.soak_report import Sample, verdict
from harness.wrk import Phones, Wrk
from tests.support.bench_runs import drain_run, load_run, results_of

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

STACK = {"web": 1.0, "worker-registrations": 0.5, "worker-attempts": 0.25, "rabbitmq": 0.25,
         "redis": 0.5, "postgresql": 0.5, "mongo-standin": 9.0, "wrk": 3.0,
         "machine_busy_cores": 1.9}  # fmt: skip


def test_the_stack_is_every_tree_but_wrk_the_standin_and_the_machine():
    assert stack_cpu_s(STACK) == 3.0


def test_a_tree_missing_or_restarted_leaves_the_sum_unknown_rather_than_low():
    assert stack_cpu_s({**STACK, "redis": None}) is None
    assert stack_cpu_s({k: v for k, v in STACK.items() if k != "postgresql"}) is None
    assert stack_cpu_s({"worker-registrations": 2.0}, required=("worker-registrations",)) == 2.0


def test_persisted_rate_and_cpu_per_row_of_a_measured_run():
    seen = Measured(load_run(), load_run(seconds=20.0), STACK, rows=30_000)
    assert (seen.persisted_rps, seen.total_cpu_ms_per_row) == (1500.0, 0.1)
    assert Measured(load_run(), load_run(), STACK, rows=0).total_cpu_ms_per_row is None


def sample(t: float, rss: float, p99: float = 10.0, backlog: int = 0, **more) -> Sample:
    values = dict(t_s=t, window_s=5.0, requests=5000, answered=5000, non2xx=0,
                  socket_errors=0, p99_ms=p99, rss_mib={"web-landing:7": rss}, queue_ready=0,
                  rows=0, backlog=backlog)  # fmt: skip
    return Sample(**{**values, **more})


def test_a_soak_with_flat_memory_no_backlog_and_steady_p99_passes():
    samples = [sample(5.0 * i, 100.0 + i, p99=90.0 if i == 1 else 12.0) for i in range(1, 13)]
    found = verdict(samples, rate=1000.0)
    assert found.ok  # the first window (warming up) is left out of the p99 comparison
    assert found.backlog_limit == 2000
    assert found.rss_growth == {"web-landing:7": 0.047}  # 107 MiB -> 112 MiB


def test_each_soak_check_fails_on_what_it_guards():
    samples = [sample(5.0 * i, 100.0 * (1 + i / 10), p99=10.0 + i * 10) for i in range(10)]
    samples[-1].backlog = 2000
    found = verdict(samples, rate=1000.0)
    assert not (found.rss_flat or found.no_creeping_backlog or found.p99_stable or found.ok)


def test_a_process_recycled_mid_soak_is_not_judged_on_its_successor():
    samples = [sample(5.0 * i, 100.0) for i in range(6)]
    samples[-1].rss_mib = {"web-landing:8": 50.0}
    assert verdict(samples, rate=10.0).rss_growth == {}


def test_the_scaling_table_has_a_row_per_process_pair_and_per_table_size():
    runs = [ScalingRun(w, k, r, 1000.0 * w, 20.0, 0, 0, 900.0 + r, 1.5, 0.7, 0.4, STACK)
            for w in (1, 2) for k in (1, 2) for r in range(3)]  # fmt: skip
    drains = [PreloadDrain(n, 0, 0, drain_run(backlog=20_000, seconds=5.0)) for n in (1000, 10)]
    scaling = summarise(results_of([]).run, runs, drains)
    assert [(c.web_processes, c.worker_processes, c.persisted_rps) for c in scaling.loads] == [
        (1, 1, 901.0), (1, 2, 901.0), (2, 1, 901.0), (2, 2, 901.0)]  # fmt: skip
    assert scaling.drains[0].signups_per_s == 4000.0
    assert "| 2 | 2 | 2,000.0 | 901.0 | 1.50 |" in markdown(scaling)


def test_wrk_is_told_each_thread_s_share_of_the_rate():
    wrk = Wrk("http://x", 64, 2, Phones(2), rate=1500.0)
    assert wrk.env()["BENCH_RATE"] == "750.000"
    assert Wrk("http://x", 64, 2, Phones(2)).env()["BENCH_RATE"] == "0.000"


def test_flags_win_over_the_environment_which_wins_over_defaults(monkeypatch):
    for name in ("BENCH_DURATION", "BENCH_REPEAT", "BENCH_CONCURRENCY", "BENCH_SIGNUPS"):
        monkeypatch.delenv(name, raising=False)
    assert parse_params([]).concurrency == Params().concurrency == (64, 256, 1024)
    monkeypatch.setenv("BENCH_CONCURRENCY", "8, 16,")
    monkeypatch.setenv("BENCH_REPEAT", "5")
    params = parse_params(["--repeat", "1", "--duration", "5"])
    assert (params.concurrency, params.repeat, params.duration) == ((8, 16), 1, 5)
    assert params.warmup == 1  # a fifth of a short run, at least one second
    assert parse_params(["--duration", "60"]).warmup == 2
