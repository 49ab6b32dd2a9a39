"""bench.matrix without running anything: which scenarios run, in what order, through which
door, and the line each prints."""

from types import SimpleNamespace

import pytest

from bench.config import Context, Params
from bench.matrix import Challenge, Doors, Matrix, _progress_line
from bench.runs import Scenario
from bench.solutions import Solutions
from harness.stores import Stores
from tests.support.bench_runs import drain_run, matrix_run

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

A, B = Scenario.BARE_FLASK, Scenario.INGEST_ONLY
A_NGINX, B_NGINX = Scenario.BARE_NGINX, Scenario.INGEST_NGINX


def groups(*names: str) -> list[SimpleNamespace]:
    """Stand-ins for harness Groups: a name, a pid, a url."""
    return [
        SimpleNamespace(name=name, pid=100 + i, url=f"http://127.0.0.1:{8000 + i}")
        for i, name in enumerate(names)
    ]


def matrix(tmp_path, doors: bool = True) -> Matrix:
    bare, landing, challenge, nginx_bare, nginx_landing = groups(
        "web-bare", "web-landing", "web-challenge", "nginx-bare", "nginx-landing"
    )
    context = Context(Params(), Stores("p://", "a://", "r://", "m://"), tmp_path)
    return Matrix(
        context, bare, landing, Challenge(challenge, Solutions()),  # type: ignore[arg-type]
        Doors(nginx_bare, nginx_landing) if doors else None,  # type: ignore[arg-type]
    )  # fmt: skip


def test_each_scenario_via_nginx_runs_right_after_its_direct_one(tmp_path):
    found = matrix(tmp_path)
    assert found.scenarios(64) == [A, A_NGINX, B, B_NGINX, Scenario.INGEST_AND_DRAIN,
                                   Scenario.INGEST_CHALLENGE]  # fmt: skip
    assert found.scenarios(1024) == [A, A_NGINX, B, B_NGINX, Scenario.INGEST_AND_DRAIN]
    without = matrix(tmp_path, doors=False)
    assert without.scenarios(256) == [A, B, Scenario.INGEST_AND_DRAIN]


def test_via_nginx_the_same_web_is_measured_behind_its_own_door(tmp_path):
    found = matrix(tmp_path)
    servers = {s: found._server(s).name for s in (A, A_NGINX, B, B_NGINX)}
    assert servers == {A: "web-bare", A_NGINX: "web-bare", B: "web-landing",
                       B_NGINX: "web-landing"}  # fmt: skip
    doors = {s: getattr(found._door(s), "name", None) for s in (A, A_NGINX, B, B_NGINX)}
    assert doors == {A: None, A_NGINX: "nginx-bare", B: None, B_NGINX: "nginx-landing"}
    assert found._door(Scenario.INGEST_CHALLENGE) is None


def test_the_progress_line_gives_nginx_s_cpu_and_the_sign_ups_per_message():
    via_nginx = matrix_run(B_NGINX, nginx_cpu_ms_per_request=0.21, answered_202=3000,
                           registrations_ready_end=200)  # fmt: skip
    line = _progress_line(via_nginx)
    assert line.startswith("bench: (b+nginx) c=64 rep=0: 50 req/s")
    assert "web 1.0 ms CPU/req, nginx 0.21 ms CPU/req, machine busy" in line
    assert line.endswith("; 15.0 sign-ups per message")
    direct = _progress_line(matrix_run(B, drain=drain_run(), answered_202=2000))
    assert "nginx" not in direct
    assert "; 2.0 sign-ups per message; (d) drained 2000 of 2000" in direct
