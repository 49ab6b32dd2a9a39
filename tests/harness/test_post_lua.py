"""harness/post.lua under real wrk, against a small server here that records each body: the
challenge scenario's solutions are each sent once, split between the threads, and a run
that outlasts them says so (not a fast test: it starts wrk)."""

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bench.solutions import write_solutions
from harness.wrk import Phones, Wrk


class _Recorder(BaseHTTPRequestHandler):
    """202 for a body carrying `altcha`, 403 for one without, as CHALLENGE_MODE=always."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    bodies: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        self.send_response(202 if "altcha" in body else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def recorder():
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed here (make bench installs it)")
    _Recorder.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_each_solution_is_sent_once_then_requests_go_without(recorder, tmp_path: Path):
    # Solutions are opaque to the Lua: base64 lines, here made distinct and recognisable.
    payloads = [f"c29sdXRpb24{n:04d}" for n in range(41)]  # odd: thread 0 gets one more
    path = write_solutions(tmp_path / "solutions.txt", payloads)
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    run = Wrk(url, connections=2, threads=2, phones=Phones(2), solutions=path).run(1)

    sent = [body["altcha"] for body in _Recorder.bodies if "altcha" in body]
    # Every one, none twice (the threads took distinct lines), but thread 0's first: wrk
    # calls request() once before the run to check the script, and never sends that one.
    assert sorted(sent) == payloads[1:]
    assert run.requests - run.non202 == len(sent)  # the 202s: one per solution sent
    assert run.unsolved > 0 and run.non202 > 0  # ran out: visible, and refused
    assert run.non202 == run.non2xx  # the 403s
    without = [body for body in _Recorder.bodies if "altcha" not in body]
    assert run.unsolved >= len(without) - 2  # at most one in flight per connection
    assert {body["referrer"] for body in _Recorder.bodies} == {"bench"}


def test_without_a_solutions_file_no_body_carries_altcha(recorder):
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    run = Wrk(url, connections=1, threads=1, phones=Phones(1)).run(1)
    assert _Recorder.bodies and not any("altcha" in body for body in _Recorder.bodies)
    assert (run.unsolved, run.non202) == (0, run.requests)  # all 403 here, none unsolved
