"""The report page and results.json: numbers formatted, scenarios labelled, JSON read back."""

import json

import pytest

from bench.report import _fmt, markdown
from bench.results import Results
from bench.runs import Scenario
from tests.support.bench_runs import drain_run, e2e_run, matrix_run, results_of

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def sample_results() -> Results:
    runs = [
        matrix_run(Scenario.BARE_FLASK, rps=4047.0),
        matrix_run(Scenario.INGEST_ONLY, rps=1181.4, drain=drain_run(rows_per_s=1523.0)),
        matrix_run(Scenario.INGEST_AND_DRAIN, rps=535.0),
    ]
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


def test_an_e2e_failure_is_on_the_page():
    results = sample_results()
    results.run.e2e_error = "repetition 1: RuntimeError('gone')"
    assert "**End to end failed**: repetition 1: RuntimeError('gone')" in markdown(results)


def test_results_json_names_scenarios_by_letter_and_leaves_out_absent_drains():
    data = json.loads(json.dumps(sample_results().to_json()))
    assert sorted(data["matrix"]) == ["a", "b", "c"]
    assert [run["scenario"] for run in data["runs"]] == ["a", "b", "c"]
    assert ["drain" in run for run in data["runs"]] == [False, True, False]
    assert "e2e_error" not in data["run"]
    assert data["ratios"]["64"]["runs"] == [0.292]


def test_a_results_json_read_back_renders_the_same_page():
    results = sample_results()
    again = Results.from_json(json.loads(json.dumps(results.to_json())))
    assert again.runs[1].scenario is Scenario.INGEST_ONLY
    assert again.runs[1].drain.rows_per_s == 1523.0
    assert list(again.ratios) == [64]
    assert again == results
    assert markdown(again) == markdown(results)
