"""harness.wrk: the Lua's summary line, the numbers taken from it, phone offsets."""

import json

import pytest

from harness.wrk import MARKER, Phones, Wrk, read_summary, summarise

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def lua_summary(**overrides) -> dict:
    """A summary as harness/post.lua's done() prints it (microseconds, per-run totals)."""
    summary = {
        "duration_us": 20_000_000,
        "requests": 50_000,
        "errors": {"connect": 1, "read": 2, "write": 0, "status": 7, "timeout": 3},
        "latency_us": {"min": 90, "mean": 1234.5678, "max": 80_000, "p50": 1_500,
                       "p90": 4_000, "p99": 12_250, "p999": 60_000},
        "sent_max": 24_999,
        "non2xx": 7,
        "status_4xx": 2,
        "status_5xx": 5,
        "non202": 9,
        "unsolved": 4,
    }  # fmt: skip
    summary.update(overrides)
    return summary


def test_the_summary_line_is_found_among_wrk_s_own_output():
    lines = ["Running 20s test @ http://x\n", MARKER + json.dumps({"requests": 3}) + "\n", "x\n"]
    assert read_summary(lines) == {"requests": 3}


def test_no_summary_line_is_an_error_quoting_wrk_s_last_words():
    with pytest.raises(RuntimeError, match="unable to connect"):
        read_summary(["unable to connect to 127.0.0.1:1\n"])


def test_summarise_converts_to_requests_per_second_and_milliseconds():
    run = summarise(lua_summary(duration_us=20_000_000, requests=50_000), wrk_cpu=1.23456)
    assert (run.seconds, run.rps) == (20.0, 2500.0)
    assert (run.p50_ms, run.p90_ms, run.p99_ms, run.max_ms) == (1.5, 4.0, 12.25, 80.0)
    assert run.mean_ms == 1.235
    assert run.wrk_cpu_s == 1.235
    assert run.answered == 50_000 - 7


def test_socket_errors_leave_out_wrk_s_status_count_which_non2xx_has_already():
    run = summarise(lua_summary(), wrk_cpu=0.0)
    assert run.socket_errors == 1 + 2 + 0 + 3
    assert (run.non2xx, run.status_4xx, run.status_5xx) == (7, 2, 5)


def test_202s_per_second_leave_out_every_other_answer_2xx_or_not():
    run = summarise(lua_summary(duration_us=20_000_000, requests=50_000), wrk_cpu=0.0)
    assert (run.non202, run.unsolved) == (9, 4)
    assert run.accepted_rps == round((50_000 - 9) / 20, 1)


def test_a_challenge_run_names_its_solutions_file_and_others_none(tmp_path):
    path = tmp_path / "solutions.txt"
    with_file = Wrk("http://x", connections=1, threads=2, phones=Phones(2), solutions=path)
    assert with_file.env()["BENCH_SOLUTIONS"] == str(path)
    assert (
        Wrk("http://x", connections=1, threads=2, phones=Phones(2)).env()["BENCH_SOLUTIONS"] == ""
    )


def test_each_run_s_phones_start_past_every_number_the_last_one_sent():
    phones = Phones(threads=2)
    assert phones.take() == 0
    phones.used(sent_max=9)  # the busiest thread's last number was 8 * 2 + 1 = 17
    assert phones.take() == 20
    phones.used(sent_max=0)
    assert phones.take() == 22


def test_wrk_command_and_environment_carry_the_run_s_settings():
    phones = Phones(threads=3, next_offset=600)
    wrk = Wrk("http://127.0.0.1:8000", connections=64, threads=3, phones=phones, limit=100)
    command = wrk.command(20)
    assert command[:4] == ["wrk", "-t3", "-c64", "-d20s"]
    assert command[-1] == "http://127.0.0.1:8000/api/register/"
    env = wrk.env()
    # 100 responses over 3 threads: each stops after 34, so all together reach 100.
    assert (env["BENCH_LIMIT"], env["BENCH_THREADS"], env["BENCH_PHONE_OFFSET"]) == (
        "34",
        "3",
        "600",
    )


def test_no_limit_lets_wrk_run_its_duration():
    wrk = Wrk("http://x", connections=1, threads=2, phones=Phones(2))
    assert wrk.env()["BENCH_LIMIT"] == "0"
