"""The challenge scenario's pure parts: its solutions (real ones, checked by the app's own
verifier against the tests' Redis), how many a run gets, and its row on the report."""

import base64
import json
import uuid

import pytest
import redis

from bench.matrix import Challenge, Matrix
from bench.report import markdown
from bench.runs import Scenario
from bench.solutions import (
    MAX_NUMBER,
    MIN_SOLUTIONS,
    Solutions,
    server_env,
    solutions_needed,
    solved,
    write_solutions,
)
from bench.summary import challenge_costs
from landing.admission.challenge import Challenges, Verdict
from tests.support.bench_runs import matrix_run, results_of
from tests.support.config import settings

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


@pytest.fixture
def client():
    found = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
    yield found
    for key in found.scan_iter("landing:challenge-used:*"):
        found.delete(key)
    found.close()


def test_each_solution_passes_the_app_s_check_once(client, tmp_path):
    solutions = Solutions(tmp_path / "solutions.txt")
    path = solutions.write(seconds=1, ceiling_rps=0.0)
    lines = path.read_text().splitlines()
    assert len(lines) == MIN_SOLUTIONS == len(set(lines))
    server = Challenges(solutions.secret, MAX_NUMBER, 300, client)  # what the web checks with
    verdicts = {server.verify(line, str(uuid.uuid4())) for line in lines[:50]}
    assert verdicts == {Verdict.SOLVED}
    assert server.verify(lines[0], str(uuid.uuid4())) == Verdict.REPLAYED  # single-use
    assert Challenges("another-key", MAX_NUMBER, 300, client).verify(
        lines[60], str(uuid.uuid4())
    ) == Verdict.INVALID  # fmt: skip
    solutions.remove()
    assert not path.exists()


def test_the_file_holds_one_base64_payload_per_line_the_lua_takes_as_is(tmp_path):
    challenges = Challenges("k", MAX_NUMBER, 300, redis.Redis())
    payloads = solved(challenges, 3)
    path = write_solutions(tmp_path / "s.txt", payloads)
    assert path.read_text() == "".join(f"{p}\n" for p in payloads)
    for payload in payloads:  # post.lua's pattern: base64 only, no character JSON escapes
        assert set(payload) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
        )
        assert json.loads(base64.b64decode(payload))["number"] <= MAX_NUMBER


def test_the_web_under_test_requires_a_solution_signed_with_our_secret():
    env = server_env("s3cret")
    assert env == {
        "CHALLENGE_MODE": "always",
        "CHALLENGE_SECRET": "s3cret",
        "CHALLENGE_MAX_NUMBER": str(MAX_NUMBER),
    }
    assert Solutions().secret != Solutions().secret  # each run signs with its own


def test_a_run_gets_more_solutions_than_the_ceiling_lets_it_send():
    assert solutions_needed(20, 5_000.0) == 125_000  # 20 s at 1.25 x bare Flask's 5,000/s
    assert solutions_needed(2, 10.0) == MIN_SOLUTIONS


def test_the_challenge_runs_only_at_its_own_concurrency_and_only_with_its_web(tmp_path):
    from bench.config import Context, Params
    from harness.stores import Stores

    context = Context(Params(), Stores("p://", "a://", "r://", "m://"), tmp_path)
    web = object()
    with_it = Matrix(context, web, web, Challenge(web, Solutions()))  # type: ignore[arg-type]
    assert Scenario.INGEST_CHALLENGE in with_it.scenarios(64)
    assert Scenario.INGEST_CHALLENGE not in with_it.scenarios(256)
    without = Matrix(context, web, web)  # type: ignore[arg-type]
    assert Scenario.INGEST_CHALLENGE not in without.scenarios(64)


def challenge_runs():
    """Two repetitions at c=64: (b) at 2,000 and 2,500 202s/s; the challenge at 1,800 and
    2,000; web CPU 0.60 / 0.70 ms (b) and 0.66 / 0.84 ms with the challenge."""
    b, ch = Scenario.INGEST_ONLY, Scenario.INGEST_CHALLENGE
    return [
        matrix_run(b, repetition=0, requests=40_000, web_cpu_ms_per_request=0.6),
        matrix_run(ch, repetition=0, requests=36_000, web_cpu_ms_per_request=0.66),
        matrix_run(b, repetition=1, requests=50_000, web_cpu_ms_per_request=0.7),
        matrix_run(ch, repetition=1, requests=40_010, non202=10, non2xx=10, unsolved=4,
                   web_cpu_ms_per_request=0.84),
    ]  # fmt: skip


def test_the_challenge_s_cost_is_paired_with_b_of_its_repetition():
    cost = challenge_costs(challenge_runs())[64]
    assert (cost.plain_accepted_rps, cost.challenge_accepted_rps) == (2250.0, 1900.0)
    assert cost.accepted_ratio == round((0.9 + 0.8) / 2, 3)
    assert (cost.plain_web_cpu_ms, cost.challenge_web_cpu_ms) == (0.65, 0.75)
    assert cost.web_cpu_ratio == round((1.1 + 1.2) / 2, 3)
    assert cost.web_cpu_added_ms == round((0.06 + 0.14) / 2, 3)
    assert (cost.non202, cost.unsolved, cost.runs) == (10, 4, 2)


def test_without_challenge_runs_there_is_no_cost_and_no_section():
    plain = [r for r in challenge_runs() if r.scenario is Scenario.INGEST_ONLY]
    results = results_of(plain)
    assert results.challenge == {}
    assert "challenge" not in markdown(results)


def test_the_report_shows_the_row_its_ratios_and_every_refused_answer():
    results = results_of(challenge_runs())
    page = markdown(results)
    assert "| (b) + challenge | 64 |" in page
    assert (
        "| 64 | 2,250.0 | 1,900.0 | 0.85 | 0.65 | 0.75 | 1.15 | 0.10 | 10 (4 sent unsolved) | 0 |"
        in page
    )
    target = next(t for t in results.targets if t.target.startswith("(b) + challenge"))
    assert (target.measured, target.result) == ("10, 0", "FAIL")
    assert "sent without a solution: 4" in target.target
