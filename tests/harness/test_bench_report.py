"""The report page and results.json: numbers formatted, scenarios labelled, JSON read back."""

import json

import pytest

from bench.report import _fmt, markdown
from bench.results import Results
from bench.runs import Scenario
from tests.support.bench_runs import drain_run, e2e_run, matrix_run, results_of

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


NGINX_CPU = {"web": 1.0, "nginx": 0.4, "redis": 0.5, "machine_busy_cores": 1.9}


def sample_results() -> Results:
    runs = [
        matrix_run(Scenario.BARE_FLASK, rps=4047.0),
        matrix_run(Scenario.BARE_NGINX, rps=3000.0, nginx_cpu_ms_per_request=0.4,
                   cpu_s=NGINX_CPU),
        matrix_run(Scenario.INGEST_ONLY, rps=1181.4, drain=drain_run(rows_per_s=1523.0),
                   answered_202=1500, registrations_ready_end=100),
        matrix_run(Scenario.INGEST_NGINX, rps=1000.0, nginx_cpu_ms_per_request=0.4,
                   cpu_s=NGINX_CPU, answered_202=1200, registrations_ready_end=100),
        matrix_run(Scenario.INGEST_AND_DRAIN, rps=535.0),
    ]  # fmt: skip
    return results_of(runs, [e2e_run()])


def test_numbers_get_separators_and_small_ones_two_decimals():
    assert (_fmt(1234.56), _fmt(3.14159), _fmt(20062), _fmt(None), _fmt("kept up")) == (
        "1,234.6",
        "3.14",
        "20,062",
        "-",
        "kept up",
    )


def test_the_page_labels_each_scenario_and_quotes_the_paired_ratio():
    page = markdown(sample_results())
    assert "| (a) bare Flask | 64 | 4,047.0 |" in page
    assert "| (b) ingest only | 64 | 1,181.4 |" in page
    assert "| (c) ingest + drain | 64 | 535.0 |" in page
    assert "| **(b)/(a)** | 64 | **0.29** (runs: 0.29) |" in page
    assert "| 64 | 2,000 | 1,523.0 | 1,181.4 |" in page  # drain only beside (b)'s ingest
    assert "**End to end failed**" not in page


def test_the_page_shows_each_scenario_via_nginx_its_cpu_and_the_ratio_through_nginx():
    page = markdown(sample_results())
    assert "| (a) bare Flask via nginx | 64 | 3,000.0 |" in page
    # web and nginx CPU ms/req, busy cores, sign-ups per message
    assert "| (b) ingest only via nginx | 64 | 1,000.0 |" in page
    assert "| 0 | 0 | 1.00 | 0.40 | 1.90 | 12.0 |" in page
    assert "| 0 | 0 | 1.00 | - | 1.20 | 15.0 |" in page  # (b): direct, no nginx
    assert "| **(b)/(a) via nginx** | 64 | **0.33** (runs: 0.33) |" in page
    assert "| **(b)/(a)** | 64 | **0.29** (runs: 0.29) |" in page
    assert "Via nginx: our nginx.conf, unchanged" in page
    # CPU per request: nginx's beside the web's, per tree.
    assert "| scenario | c | web | nginx | redis | wrk |" in page
    assert "| (b) ingest only via nginx | 64 | 1.00 | 0.40 | 0.50 | 0.50 |" in page
    assert "| (b) ingest only | 64 | 1.00 | - | 0.50 | 0.50 |" in page


def test_a_results_json_from_before_nginx_still_renders():
    data = json.loads(json.dumps(sample_results().to_json()))
    del data["nginx_ratios"]
    data["runs"] = [run for run in data["runs"] if "nginx" not in run["scenario"]]
    data["matrix"] = {s: cells for s, cells in data["matrix"].items() if "nginx" not in s}
    page = markdown(Results.from_json(data))
    assert "| **(b)/(a)** | 64 | **0.29**" in page
    assert "(b)/(a) via nginx**" not in page and "Via nginx:" not in page


def test_an_e2e_failure_is_on_the_page():
    results = sample_results()
    results.run.e2e_error = "repetition 1: RuntimeError('gone')"
    assert "**End to end failed**: repetition 1: RuntimeError('gone')" in markdown(results)


def test_results_json_names_scenarios_by_letter_and_leaves_out_absent_drains():
    data = json.loads(json.dumps(sample_results().to_json()))
    assert sorted(data["matrix"]) == ["a", "a+nginx", "b", "b+nginx", "c"]
    assert [run["scenario"] for run in data["runs"]] == ["a", "a+nginx", "b", "b+nginx", "c"]
    assert ["drain" in run for run in data["runs"]] == [False, False, True, False, False]
    assert "e2e_error" not in data["run"]
    assert data["ratios"]["64"]["runs"] == [0.292]
    assert data["nginx_ratios"]["64"] == {"median": 0.333, "runs": [0.333]}
    assert data["matrix"]["b+nginx"]["64"]["nginx_cpu_ms_per_request"] == 0.4
    assert data["matrix"]["b"]["64"]["signups_per_message"] == 15.0


def test_a_results_json_read_back_renders_the_same_page():
    results = sample_results()
    again = Results.from_json(json.loads(json.dumps(results.to_json())))
    assert again.runs[2].scenario is Scenario.INGEST_ONLY
    assert again.runs[2].drain.rows_per_s == 1523.0
    assert again.runs[3].scenario is Scenario.INGEST_NGINX
    assert list(again.ratios) == list(again.nginx_ratios) == [64]
    assert again == results
    assert markdown(again) == markdown(results)
