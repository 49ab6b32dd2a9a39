"""bench.instructions: its child (what valgrind counts) runs each app to the end, every
sign-up a 202, on the tests' own stores; and a count is taken per sign-up, net of the
client's."""

import subprocess

import pytest

from bench import instructions
from harness.local import ROOT
from tests.support.config import BIN, child_environment


@pytest.mark.parametrize("app", [*instructions.APPS, instructions.CLIENT])
def test_the_child_posts_every_sign_up_and_each_is_accepted(clean, app):
    command = [str(BIN / "python"), "-c", instructions._CHILD]
    env = child_environment(INSTRUCTIONS_APP=app, INSTRUCTIONS_SIGNUPS="40")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert b"MonkeyPatchWarning" not in done.stderr  # patched before anything else


def test_a_count_is_per_sign_up_and_net_of_the_client(monkeypatch, capsys):
    counted = {  # (app, sign-ups) -> what callgrind would print
        ("client", instructions.FEW): 1_000_000,
        ("client", instructions.MANY): 1_000_000 + 1_000 * 100_000,
        ("bare", instructions.FEW): 2_000_000,
        ("bare", instructions.MANY): 2_000_000 + 1_000 * 900_000,
    }
    monkeypatch.setenv("BENCH_NAMESPACE", "unused")
    monkeypatch.setenv("BENCH_REDIS_DB", "11")
    for name in ("prepare", "_empty"):
        monkeypatch.setattr(instructions, name, lambda stores: None)
    monkeypatch.setattr(instructions, "queue_state", lambda url, queue: (0, 0))
    monkeypatch.setattr(instructions, "_instructions", lambda app, n, env: counted[app, n])
    assert instructions.main(["--apps", "bare"]) == 0
    assert "bare: 800,000 instructions per sign-up" in capsys.readouterr().out


def test_an_unknown_app_is_refused_before_anything_runs():
    with pytest.raises(SystemExit, match="unknown"):
        instructions.main(["--apps", "landing,nginx"])
